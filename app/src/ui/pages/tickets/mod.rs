//! The support inbox: queues with their open and overdue counts, filters in the URL, and the
//! ticket list; each ticket opens on its own page.

mod badges;
mod detail;
mod snapshot;

pub use badges::TicketBadges;
pub use detail::TicketPage;

use crate::api::{error_text, get_ticket_list};
use crate::domain::tickets::{Priority, Queue, TicketStatus, TicketSummary};
use crate::domain::time_fmt;
use crate::domain::url::{enc, with_query};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const KEYS: [&str; 6] = [
    "queue", "status", "assignee", "priority", "overdue", "cursor",
];

#[component]
pub fn TicketsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let page = Resource::new(
        move || KEYS.map(param),
        |[q, s, a, p, o, c]| get_ticket_list(q, s, a, p, o, c),
    );
    // Links keep the other filters and drop the cursor.
    let link = move |key: &'static str, value: Option<String>| {
        let pairs = KEYS[..5]
            .iter()
            .map(|k| (*k, if *k == key { value.clone() } else { param(k) }))
            .collect::<Vec<_>>();
        with_query("/tickets", pairs)
    };
    view! {
        <Title text="Tickets" />
        <div class="page-header">
            <h1>"Support tickets"</h1>
            <p class="muted">"Requests from your product, with the account's billing facts attached. Billing-urgent tickets are those where money is at stake."</p>
        </div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading tickets…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(p) => {
                    let now = p.now_ms;
                    let current = param("queue");
                    let tabs = std::iter::once((None, "All queues".to_string()))
                        .chain(p.queues.iter().map(|q| {
                            let overdue = if q.overdue > 0 { format!(", {} overdue", q.overdue) } else { String::new() };
                            (Some(q.queue.as_str().to_string()), format!("{} ({} waiting{overdue})", q.queue.label(), q.open))
                        }))
                        .map(|(value, label)| {
                            let here = value == current;
                            view! { <a href=link("queue", value) aria-current=here.then_some("page")>{label}</a> }
                        })
                        .collect_view();
                    let more = p.next_cursor.clone().map(|c| {
                        let mut pairs: Vec<(&str, Option<String>)> = KEYS[..5].iter().map(|k| (*k, param(k))).collect();
                        pairs.push(("cursor", Some(c)));
                        with_query("/tickets", pairs)
                    });
                    let filtered = KEYS[..5].iter().any(|k| param(k).is_some());
                    view! {
                        <nav class="tabs" aria-label="Queues">{tabs}</nav>
                        <Filters param />
                        {if p.items.is_empty() {
                            view! { <section class="card empty-state">{if filtered {
                                view! { <h2>"No ticket matches"</h2><p>"Widen the filters, or "<a href="/tickets?status=all">"show every status"</a>"."</p> }.into_any()
                            } else {
                                view! { <h2>"Nothing waiting"</h2><p>"New tickets arrive from your product through POST /api/v1/support/tickets with an API key (admins create keys on the API keys page)."</p> }.into_any()
                            }}</section> }.into_any()
                        } else {
                            view! {
                                <div class="table-wrap card">
                                    <table>
                                        <caption class="visually-hidden">"Tickets, newest first"</caption>
                                        <thead><tr>
                                            <th scope="col">"Ticket"</th><th scope="col">"From"</th><th scope="col">"State"</th>
                                            <th scope="col">"Assignee"</th><th scope="col">"Due"</th><th scope="col">"Received (UTC)"</th>
                                        </tr></thead>
                                        <tbody>{p.items.into_iter().map(|t| view! { <TicketRow t now /> }).collect_view()}</tbody>
                                    </table>
                                </div>
                                {more.map(|href| view! { <a class="button secondary load-more" href=href>"More tickets"</a> })}
                            }.into_any()
                        }}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn Filters(param: impl Fn(&str) -> Option<String> + Copy + Send + Sync + 'static) -> impl IntoView {
    let status = move || param("status").unwrap_or_else(|| "open".into());
    view! {
        <form class="filters card" method="get" action="/tickets" aria-label="Filter tickets">
            {param("queue").map(|q| view! { <input type="hidden" name="queue" value=q /> })}
            <div class="field">
                <label for="t-status">"Status"</label>
                <select id="t-status" name="status">
                    <option value="open" selected=move || status() == "open">"Waiting for us (new or open)"</option>
                    {TicketStatus::ALL.iter().map(|s| {
                        let v = s.as_str();
                        view! { <option value=v selected=move || status() == v>{s.label()}</option> }
                    }).collect_view()}
                    <option value="all" selected=move || status() == "all">"Any status"</option>
                </select>
            </div>
            <div class="field">
                <label for="t-priority">"Priority"</label>
                <select id="t-priority" name="priority">
                    <option value="">"Any"</option>
                    {Priority::ALL.iter().rev().map(|p| {
                        let v = p.as_str();
                        view! { <option value=v selected=move || param("priority").as_deref() == Some(v)>{p.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="t-assignee">"Assignee"</label>
                <select id="t-assignee" name="assignee">
                    <option value="">"Anyone"</option>
                    <option value="me" selected=move || param("assignee").as_deref() == Some("me")>"Me"</option>
                    <option value="none" selected=move || param("assignee").as_deref() == Some("none")>"Unassigned"</option>
                </select>
            </div>
            <div class="field checkbox-field">
                <input id="t-overdue" type="checkbox" name="overdue" value="1" checked=move || param("overdue").is_some() />
                <label for="t-overdue">"Overdue only"</label>
            </div>
            <div class="filter-actions">
                <button class="button" type="submit">"Filter"</button>
                <a class="button secondary" href="/tickets">"Clear"</a>
            </div>
        </form>
    }
}

#[component]
fn TicketRow(t: TicketSummary, now: i64) -> impl IntoView {
    let href = format!("/tickets/{}", enc(&t.id));
    let due = if !t.status.is_open() {
        view! { <span class="muted">"—"</span> }.into_any()
    } else if t.overdue(now) {
        view! { <span class="badge status-fail">{format!("overdue {}", time_fmt::span(now - t.sla_due_ms))}</span> }.into_any()
    } else {
        view! { <span>{format!("in {}", time_fmt::span(t.sla_due_ms - now))}</span> }.into_any()
    };
    view! {
        <tr>
            <td><a href=href>{format!("#{} ", t.number)}{t.subject.clone()}</a></td>
            <td>{match t.customer_id.clone() {
                Some(c) => view! { <a href=format!("/customers/{}", enc(&c))>{t.requester.clone()}</a> }.into_any(),
                None => view! { <span>{t.requester.clone()}</span> }.into_any(),
            }}</td>
            <td><TicketBadges queue=t.queue priority=t.priority status=t.status /></td>
            <td>{t.assignee.clone().unwrap_or_else(|| "—".into())}</td>
            <td class="nowrap">{due}</td>
            <td class="nowrap">{time_fmt::utc(t.created_ms)}</td>
        </tr>
    }
}

/// "Billing — urgent" in the fail tone, "General" plain.
pub fn queue_tone(q: Queue) -> &'static str {
    match q {
        Queue::BillingUrgent => "fail",
        Queue::General => "neutral",
    }
}
