use super::ConfirmButton;
use crate::api::{error_text, get_customer_compare, PushToCrm, ResyncCustomer};
use crate::domain::{FieldComparison, SystemsComparison};
use leptos::prelude::*;

/// Ledgerline's mirror, Stripe and the CRM side by side; what differs is marked and can be
/// fixed from here (re-sync from Stripe, push to the CRM), each after a confirmation.
#[component]
pub fn DriftPanel(
    customer_id: String,
    resync: ServerAction<ResyncCustomer>,
    push: ServerAction<PushToCrm>,
) -> impl IntoView {
    let id = customer_id.clone();
    let data = Resource::new(
        move || (id.clone(), resync.version().get(), push.version().get()),
        |(id, ..)| get_customer_compare(id),
    );
    view! {
        <section class="card section" aria-labelledby="drift-title">
            <h2 id="drift-title">"Ledgerline, Stripe and CRM side by side"</h2>
            <Suspense fallback=|| view! { <p class="loading" role="status">"Comparing with Stripe and the CRM…"</p> }>
                {move || data.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(c) => view! { <Comparison c customer_id=customer_id.clone() resync push /> }.into_any(),
                })}
            </Suspense>
        </section>
    }
}

fn cell(value: Option<String>, differs: bool) -> impl IntoView {
    match value {
        None => view! { <td class="muted">"—"</td> }.into_any(),
        Some(v) => view! {
            <td class:differs=differs>
                {if v.is_empty() { "(empty)".to_string() } else { v }}
                {differs.then(|| view! { " " <span class="badge status-warn">"differs"</span> })}
            </td>
        }
        .into_any(),
    }
}

#[component]
fn Comparison(
    c: SystemsComparison,
    customer_id: String,
    resync: ServerAction<ResyncCustomer>,
    push: ServerAction<PushToCrm>,
) -> impl IntoView {
    let (stripe_drift, crm_drift) = (c.stripe_drift(), c.crm_drift());
    let summary = match (stripe_drift, crm_drift) {
        (0, 0) => "Everything that was read agrees with Ledgerline.".to_string(),
        (s, c) => format!("{s} field(s) differ from Stripe, {c} from the CRM."),
    };
    let fix_stripe = (stripe_drift > 0 && c.can_resync).then(|| {
        let id = customer_id.clone();
        view! {
            <ActionForm action=resync attr:class="row-form">
                <input type="hidden" name="customer_id" value=id />
                <ConfirmButton label="Fix from Stripe (re-sync)" confirm="Re-sync now"
                    warning="Ledgerline's mirror will take Stripe's values.".to_string() />
            </ActionForm>
        }
    });
    let fix_crm = (crm_drift > 0 && c.can_push).then(|| {
        let id = customer_id.clone();
        view! {
            <ActionForm action=push attr:class="row-form">
                <input type="hidden" name="customer_id" value=id />
                <input type="hidden" name="cause" value="manual" />
                <ConfirmButton label="Fix the CRM (push)" confirm="Push now"
                    warning="The CRM contact will get Ledgerline's values.".to_string() />
            </ActionForm>
        }
    });
    view! {
        <p class="muted small">{summary}</p>
        <div class="table-wrap"><table class="compare">
            <caption class="visually-hidden">"Each field in Ledgerline, Stripe and the CRM"</caption>
            <thead><tr><th scope="col">"Field"</th><th scope="col">"Ledgerline"</th><th scope="col">"Stripe"</th><th scope="col">"CRM"</th></tr></thead>
            <tbody>{c.fields.into_iter().map(|f: FieldComparison| view! {
                <tr>
                    <th scope="row">{f.label}</th>
                    <td>{if f.ours.is_empty() { "(empty)".to_string() } else { f.ours }}</td>
                    {cell(f.stripe, f.stripe_differs)}
                    {cell(f.crm, f.crm_differs)}
                </tr>
            }).collect_view()}</tbody>
        </table></div>
        <p class="muted small">"Stripe: " {c.stripe_note}" CRM: " {c.crm_note}</p>
        <div class="actions">{fix_stripe}{fix_crm}</div>
    }
}
