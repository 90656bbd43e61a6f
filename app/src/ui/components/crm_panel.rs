use super::ConfirmButton;
use crate::api::PushToCrm;
use crate::domain::{time_fmt, CrmPanel};
use leptos::prelude::*;

/// The customer's CRM side: the contact, how syncing goes, what drifted, the last pushes,
/// and "Push to CRM" for those allowed (crm.sync).
#[component]
pub fn CrmPanelCard(
    panel: CrmPanel,
    customer_id: String,
    push: ServerAction<PushToCrm>,
) -> impl IntoView {
    if !panel.enabled && panel.history.is_empty() {
        return view! {
            <section class="card section" aria-labelledby="crm-title">
                <h2 id="crm-title">"CRM"</h2>
                <p class="muted">"No CRM is configured (CRM_PROVIDER), so nothing is pushed."</p>
            </section>
        }
        .into_any();
    }
    let (health, tone) = panel.health();
    let contact = match (&panel.contact_id, &panel.contact_url) {
        (Some(id), Some(url)) => view! { <a href=url.clone() target="_blank" rel="noopener noreferrer">"HubSpot contact " <code>{id.clone()}</code></a> }.into_any(),
        (Some(id), None) => view! { <span>"HubSpot contact " <code>{id.clone()}</code></span> }.into_any(),
        (None, _) => view! { <span class="muted">"No CRM contact yet"</span> }.into_any(),
    };
    let button = panel.can_push.then(|| {
        view! {
            <ActionForm action=push attr:class="row-form">
                <input type="hidden" name="customer_id" value=customer_id.clone() />
                <input type="hidden" name="cause" value="manual" />
                <ConfirmButton label="Push to CRM" confirm="Push now"
                    warning="The CRM contact gets Ledgerline's billing fields now.".to_string() />
            </ActionForm>
        }
    });
    view! {
        <section class="card section" aria-labelledby="crm-title">
            <div class="card-header">
                <h2 id="crm-title">"CRM"</h2>
                {button}
            </div>
            <p>
                {contact}
                " " <span class=format!("badge status-{tone}")>{health}</span>
                {panel.lifecycle_stage.clone().map(|s| view! { " · lifecycle " <code>{s}</code> })}
                {panel.synced_at_ms.map(|t| view! { <span class="muted small">{format!(" · last pushed {}", time_fmt::utc(t))}</span> })}
            </p>
            {panel.open_conflict.then(|| view! {
                <p class="warning">"The identity rules could not pick this customer's contact safely. " <a href="/crm?tab=conflicts">"Decide in Identity conflicts"</a></p>
            })}
            {(!panel.drifted_fields.is_empty()).then(|| view! {
                <p class="warning">{format!("The CRM differs on: {}. Pushing puts our values back.", panel.drifted_fields.join(", "))}</p>
            })}
            {if panel.history.is_empty() {
                view! { <p class="muted">"Never pushed."</p> }.into_any()
            } else {
                view! { <div class="table-wrap"><table>
                    <caption class="visually-hidden">"Recent CRM syncs"</caption>
                    <thead><tr><th scope="col">"When (UTC)"</th><th scope="col">"Why"</th><th scope="col">"Result"</th><th scope="col">"Fields changed"</th></tr></thead>
                    <tbody>{panel.history.into_iter().map(|s| {
                        let tone = match s.result.as_str() { "failed" => "fail", "conflict" => "warn", "unchanged" => "neutral", _ => "ok" };
                        view! {
                            <tr>
                                <td class="nowrap">{time_fmt::utc(s.at_ms)}</td>
                                <td>{s.cause}</td>
                                <td><span class=format!("badge status-{tone}")>{s.result}</span>{s.error.map(|e| view! { <div class="error-text small">{e}</div> })}</td>
                                <td class="small">{if s.fields.is_empty() { "—".to_string() } else { s.fields.join(", ") }}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table></div> }.into_any()
            }}
        </section>
    }
    .into_any()
}
