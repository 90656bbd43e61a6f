use crate::api::DecideRefund;
use crate::domain::url::enc;
use crate::domain::{refunds::reason_label, time_fmt, Money, RefundRequestView, RefundStatus};
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;

/// Refund requests with their state and, for approvers, Approve / Reject on those waiting.
/// The requester never sees those buttons on their own request (four eyes; the server
/// refuses it anyway).
#[component]
pub fn RefundRequests(
    requests: Vec<RefundRequestView>,
    can_approve: bool,
    viewer_email: Option<String>,
    decide: ServerAction<DecideRefund>,
    #[prop(default = false)] show_customer: bool,
) -> impl IntoView {
    view! {
        <div class="table-wrap">
            <table>
                <caption class="visually-hidden">"Refund requests, newest first"</caption>
                <thead><tr>
                    <th scope="col">"Requested (UTC)"</th>
                    {show_customer.then(|| view! { <th scope="col">"Customer"</th> })}
                    <th scope="col">"Payment"</th><th scope="col">"Amount"</th><th scope="col">"Reason and note"</th>
                    <th scope="col">"By"</th><th scope="col">"Status"</th>
                </tr></thead>
                <tbody>{requests.into_iter().map(|r| {
                    let own = viewer_email.as_deref() == Some(r.requested_by.as_str());
                    let actions = (can_approve && r.status == RefundStatus::PendingApproval).then(|| {
                        if own {
                            view! { <p class="muted small">"Another approver must decide your own request."</p> }.into_any()
                        } else {
                            let (a, b) = (r.id.clone(), r.id.clone());
                            view! {
                                <ActionForm action=decide attr:class="row-form">
                                    <input type="hidden" name="id" value=a />
                                    <input type="hidden" name="approve" value="true" />
                                    <ConfirmButton label="Approve" confirm="Refund now" warning="Stripe refunds the customer at once.".to_string() />
                                </ActionForm>
                                <ActionForm action=decide attr:class="row-form">
                                    <input type="hidden" name="id" value=b />
                                    <input type="hidden" name="approve" value="false" />
                                    <button class="button secondary small-button" type="submit">"Reject"</button>
                                </ActionForm>
                            }.into_any()
                        }
                    });
                    let customer = show_customer.then(|| view! {
                        <td>{r.customer_id.clone().map(|c| { let href = format!("/customers/{}", enc(&c)); view! { <a href=href><code>{c}</code></a> } })}</td>
                    });
                    view! {
                        <tr>
                            <td class="nowrap">{time_fmt::utc(r.created_at_ms)}</td>
                            {customer}
                            <td><code>{r.charge_id}</code></td>
                            <td class="nowrap">{Money::new(r.amount, r.currency).display()}</td>
                            <td>{reason_label(&r.reason).to_string()}<div class="muted small">{r.note}</div></td>
                            <td class="actor">{r.requested_by}{r.decided_by.map(|d| view! { <div class="muted small">{format!("decided by {d}")}</div> })}</td>
                            <td>
                                <span class=format!("badge status-{}", r.status.tone())>{r.status.label()}</span>
                                {r.error.map(|e| view! { <div class="error-text small">{e}</div> })}
                                {actions}
                            </td>
                        </tr>
                    }
                }).collect_view()}</tbody>
            </table>
        </div>
    }
}
