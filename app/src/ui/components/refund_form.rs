use crate::api::{error_text, RequestRefund};
use crate::domain::{refunds::reason_label, ChargeView, Money, REFUND_REASONS};
use leptos::{html, prelude::*};

/// Asks for a refund of one payment: amount (prefilled with what is left), Stripe's reason and
/// a required internal note. Says up front when the amount needs a second person's approval.
#[component]
pub fn RefundForm(
    charge: ChargeView,
    /// The viewer's single-refund limit in minor units; None = no limit.
    limit: Option<i64>,
    request: ServerAction<RequestRefund>,
    on_close: Callback<()>,
) -> impl IntoView {
    let currency = charge.amount.currency.clone();
    let left = Money::new(charge.refundable, currency.clone());
    let (amount, set_amount) = signal(left.major().replace(',', ""));
    // One key per opened form: however often it is submitted, one request is made.
    let request_key = fresh_key();
    let amount_input = NodeRef::<html::Input>::new();
    // Keyboard users land in the form they just opened.
    Effect::new(move |_| {
        if let Some(input) = amount_input.get() {
            let _ = input.focus();
        }
    });
    let over_limit = {
        let currency = currency.clone();
        move || {
            let wanted = Money::parse_major(&amount.get(), &currency).ok()?.amount;
            let limit = limit?;
            (wanted > limit).then(|| Money::new(limit, currency.clone()).display())
        }
    };
    let error = move || {
        request
            .value()
            .get()
            .and_then(|r| r.err())
            .map(|e| view! { <p class="error" role="alert">{error_text(&e)}</p> })
    };
    view! {
        <section class="card refund-form" aria-labelledby="refund-title">
            <h2 id="refund-title">"Refund a payment"</h2>
            <p class="muted">
                <code>{charge.id.clone()}</code>
                {format!(" · paid {} · {} can still be refunded", charge.amount.display(), left.display())}
            </p>
            {error}
            <ActionForm action=request>
                <input type="hidden" name="charge_id" value=charge.id.clone() />
                <input type="hidden" name="request_key" value=request_key />
                <div class="inline-form">
                    <div class="field">
                        <label for="refund-amount">{format!("Amount ({})", currency.to_uppercase())}</label>
                        <input id="refund-amount" name="amount" inputmode="decimal" required autocomplete="off"
                            node_ref=amount_input
                            prop:value=amount on:input=move |ev| set_amount.set(event_target_value(&ev))
                            aria-describedby="refund-amount-hint" />
                        <span id="refund-amount-hint" class="muted small">{format!("At most {}.", left.display())}</span>
                    </div>
                    <div class="field">
                        <label for="refund-reason">"Reason (sent to Stripe)"</label>
                        <select id="refund-reason" name="reason" required>
                            {REFUND_REASONS.iter().map(|r| view! { <option value=*r>{reason_label(r).to_string()}</option> }).collect_view()}
                        </select>
                    </div>
                </div>
                <div class="field">
                    <label for="refund-note">"Internal note (why; kept in the audit log)"</label>
                    <textarea id="refund-note" name="note" required maxlength="500" rows="2"></textarea>
                </div>
                {move || over_limit().map(|l| view! {
                    <p class="confirm-note" role="status">{format!("Above your limit of {l}: a second person with approval rights must approve it before Stripe is asked.")}</p>
                })}
                <div class="actions">
                    <button class="button" type="submit" disabled=move || request.pending().get()>
                        {move || if request.pending().get() { "Sending…" } else { "Request refund" }}
                    </button>
                    <button class="button secondary" type="button" on:click=move |_| on_close.run(())>"Cancel"</button>
                </div>
            </ActionForm>
        </section>
    }
}

/// A random one-time key for the form (it only ever opens in the browser).
fn fresh_key() -> String {
    #[cfg(target_arch = "wasm32")]
    {
        use leptos::web_sys::js_sys::{Date, Math};
        let random = (Math::random() * 9_007_199_254_740_991.0) as u64;
        format!("{:x}-{random:x}", Date::now() as u64)
    }
    #[cfg(not(target_arch = "wasm32"))]
    {
        String::new()
    }
}
