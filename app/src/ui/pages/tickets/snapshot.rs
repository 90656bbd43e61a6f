use crate::domain::tickets::{AppContext, Snapshot};
use crate::domain::time_fmt;
use leptos::prelude::*;

fn yes_no(b: bool) -> String {
    (if b { "Yes" } else { "No" }).to_string()
}

/// The rows staff compare: (label, at intake, now).
fn rows(s: &Snapshot) -> Vec<(&'static str, String)> {
    let or_dash = |v: Option<String>| v.unwrap_or_else(|| "—".into());
    vec![
        ("Account state", or_dash(s.account_state.clone())),
        (
            "Plan",
            or_dash(s.plan.clone().map(|p| match &s.price {
                Some(price) => format!("{p} · {}", price.display()),
                None => p,
            })),
        ),
        ("Subscription", or_dash(s.subscription_status.clone())),
        (
            "Last payment",
            or_dash(s.last_payment.as_ref().map(|p| {
                let when = p.at_ms.map(time_fmt::utc).unwrap_or_default();
                format!("{} {} {when}", p.amount.display(), p.status)
            })),
        ),
        ("In dunning", yes_no(s.dunning)),
        ("Failed payment (30 days)", yes_no(s.failed_payment_recent)),
        ("Open disputes", s.open_disputes.to_string()),
        ("Open refunds", s.open_refunds.to_string()),
    ]
}

/// The account at intake beside the account now; rows that changed are marked.
#[component]
pub fn SnapshotCard(then: Snapshot, now: Option<Snapshot>) -> impl IntoView {
    let before = rows(&then);
    let after = now.as_ref().map(rows);
    let events = then.recent_events.clone();
    view! {
        <section class="card section" aria-labelledby="acct-title">
            <h2 id="acct-title">"Account"</h2>
            <p class="muted small">{then.identity.clone()}</p>
            {match then.customer_id.clone() {
                None => view! { <p class="muted">"This ticket is not linked to a customer, so there are no billing facts."</p> }.into_any(),
                Some(_) => view! {
                    <div class="table-wrap"><table class="compare">
                        <caption class="visually-hidden">"Billing facts when the ticket arrived and now"</caption>
                        <thead><tr><th scope="col">"Fact"</th><th scope="col">"At intake"</th><th scope="col">"Now"</th></tr></thead>
                        <tbody>{before.into_iter().enumerate().map(|(i, (label, was))| {
                            let is = after.as_ref().map(|a| a[i].1.clone());
                            let changed = is.as_ref().is_some_and(|n| *n != was);
                            view! {
                                <tr class:changed=changed>
                                    <th scope="row">{label}</th>
                                    <td>{was}</td>
                                    <td>{is.unwrap_or_else(|| "—".into())}{changed.then(|| view! { " " <span class="badge status-warn">"changed"</span> })}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table></div>
                    <h3>"Last billing events at intake"</h3>
                    {if events.is_empty() {
                        view! { <p class="muted">"None."</p> }.into_any()
                    } else {
                        view! { <ul class="plain-list">{events.into_iter().map(|e| view! {
                            <li>{e.summary}<div class="muted small">{time_fmt::utc(e.at_ms)}" · " <code>{e.kind}</code></div></li>
                        }).collect_view()}</ul> }.into_any()
                    }}
                }.into_any(),
            }}
        </section>
    }
}

/// Where the user was in the product and what went wrong there.
#[component]
pub fn AppContextCard(ctx: AppContext) -> impl IntoView {
    let empty = ctx.page.is_none() && ctx.app_version.is_none() && ctx.errors.is_empty();
    view! {
        <section class="card section" aria-labelledby="ctx-title">
            <h2 id="ctx-title">"In the product"</h2>
            {if empty {
                view! { <p class="muted">"The product sent no page, version or errors."</p> }.into_any()
            } else {
                view! {
                    <dl class="facts">
                        <dt>"Page"</dt><dd>{ctx.page.clone().unwrap_or_else(|| "—".into())}</dd>
                        <dt>"App version"</dt><dd>{ctx.app_version.clone().unwrap_or_else(|| "—".into())}</dd>
                    </dl>
                    <h3>{format!("Recent errors ({})", ctx.errors.len())}</h3>
                    <ul class="plain-list">{ctx.errors.into_iter().map(|e| view! {
                        <li><code>{e.message}</code>
                            <div class="muted small">{e.code.unwrap_or_default()}" " {e.at_ms.map(time_fmt::utc).unwrap_or_default()}</div>
                        </li>
                    }).collect_view()}</ul>
                }.into_any()
            }}
        </section>
    }
}
