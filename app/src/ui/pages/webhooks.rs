use crate::api::{error_text, get_webhook_list, get_webhook_stats};
use crate::domain::url::with_query;
use crate::domain::{time_fmt, EventStatus, SuccessRate, WebhookEventView, WebhookStats};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Stripe deliveries: health first (success rates, alerts), then every received event with
/// its processing status. Filters live in the URL.
#[component]
pub fn WebhooksPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let stats = Resource::new(|| (), |_| get_webhook_stats());
    let page = Resource::new(
        move || {
            (
                param("status"),
                param("type"),
                param("customer"),
                param("before"),
            )
        },
        |(s, t, c, b)| get_webhook_list(s, t, c, b),
    );
    view! {
        <Title text="Webhooks" />
        <div class="page-header">
            <h1>"Webhooks"</h1>
            <p class="muted">"Every Stripe event received, verified and stored before it is applied to the billing mirror."</p>
        </div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading delivery health…"</p> }>
            {move || stats.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(s) => view! { <Health s /> }.into_any(),
            })}
        </Transition>
        <crate::ui::components::BackfillPanel />
        <form class="filters card" method="get" action="/webhooks" role="search" aria-label="Filter webhook events">
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    <option value="">"Any"</option>
                    {EventStatus::ALL.iter().map(|s| {
                        let v = s.as_str();
                        view! { <option value=v selected=move || param("status").as_deref() == Some(v)>{s.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-type">"Event type"</label>
                <input id="f-type" name="type" placeholder="invoice.paid, or invoice. for all" prop:value=move || param("type").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-customer">"Stripe customer"</label>
                <input id="f-customer" name="customer" placeholder="cus_…" prop:value=move || param("customer").unwrap_or_default() />
            </div>
            <div class="filter-actions">
                <button class="button" type="submit">"Apply"</button>
                <a class="button secondary" href="/webhooks">"Clear"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading events…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(p) if p.events.is_empty() => view! {
                    <section class="card empty-state">
                        <h2>"No events match"</h2>
                        <p>"Events appear here as Stripe delivers them to " <code>"/api/webhooks/stripe"</code> "."</p>
                    </section>
                }.into_any(),
                Ok(p) => {
                    let older = p.next_before.map(|b| with_query("/webhooks", [
                        ("status", param("status")), ("type", param("type")), ("customer", param("customer")), ("before", Some(b)),
                    ]));
                    view! {
                        <div class="table-wrap card">
                            <table>
                                <caption class="visually-hidden">"Stripe events, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Received (UTC)"</th><th scope="col">"Type"</th><th scope="col">"Object"</th>
                                    <th scope="col">"Customer"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th><th scope="col">"Problem"</th>
                                </tr></thead>
                                <tbody>{p.events.into_iter().map(|e| view! { <EventRow e /> }).collect_view()}</tbody>
                            </table>
                        </div>
                        {older.map(|href| view! { <a class="button secondary load-more" href=href>"Older events"</a> })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

fn rate_text(r: SuccessRate) -> String {
    match r.percent() {
        None => "—".into(),
        Some(p) => format!("{p:.1} %"),
    }
}

fn rate_tone(r: SuccessRate) -> &'static str {
    match r.percent() {
        None => "neutral",
        Some(p) if p >= 99.0 => "ok",
        Some(_) => "fail",
    }
}

#[component]
fn Health(s: WebhookStats) -> impl IntoView {
    let count = |st: EventStatus| {
        s.by_status
            .iter()
            .find(|(x, _)| *x == st)
            .map_or(0, |(_, n)| *n)
    };
    let alert = (s.mode_mismatches_7d > 0).then(|| view! {
        <p class="error" role="alert">
            {format!("{} events in the last 7 days came from the other Stripe mode than the API key. They were stored but not applied: check which endpoint sends them.", s.mode_mismatches_7d)}
            " " <a href="/webhooks?status=rejected">"See them"</a>
        </p>
    });
    let failed = count(EventStatus::Failed);
    view! {
        {alert}
        <section class="kpis" aria-label="Delivery health">
            <div class="card kpi">
                <p class="kpi-label">"Processed, last 24 h"</p>
                <p class=format!("kpi-value tone-{}", rate_tone(s.last_24h))>{rate_text(s.last_24h)}</p>
                <p class="muted small">{format!("{} of {} events", s.last_24h.processed, s.last_24h.considered)}</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Processed, last 7 days"</p>
                <p class=format!("kpi-value tone-{}", rate_tone(s.last_7d))>{rate_text(s.last_7d)}</p>
                <p class="muted small">{format!("{} of {} events", s.last_7d.processed, s.last_7d.considered)}</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Failed"</p>
                <p class=format!("kpi-value tone-{}", if failed > 0 { "fail" } else { "ok" })>
                    {if failed > 0 { view! { <a href="/webhooks?status=failed">{failed}</a> }.into_any() } else { view! { "0" }.into_any() }}
                </p>
                <p class="muted small">"Replay after fixing the cause"</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Duplicates dropped"</p>
                <p class="kpi-value">{s.duplicates_dropped}</p>
                <p class="muted small">{format!("{} ignored types · {} rejected", count(EventStatus::Ignored), count(EventStatus::Rejected))}</p>
            </div>
        </section>
    }
}

#[component]
fn EventRow(e: WebhookEventView) -> impl IntoView {
    let problem = e
        .job_error
        .clone()
        .filter(|_| e.status != EventStatus::Processed)
        .or(e.status_reason.clone())
        .unwrap_or_default();
    let object = match (&e.object_type, &e.object_id) {
        (Some(t), Some(id)) => format!("{t} {id}"),
        (None, Some(id)) => id.clone(),
        _ => String::new(),
    };
    view! {
        <tr>
            <td class="nowrap"><a href=format!("/webhooks/{}", e.id)>{time_fmt::utc(e.received_at_ms)}</a></td>
            <td><code>{e.event_type.clone()}</code>{(!e.livemode).then(|| view! { " " <span class="badge">"test"</span> })}</td>
            <td><code>{object}</code></td>
            <td>{e.stripe_customer.clone().map(|c| view! { <code>{c}</code> })}</td>
            <td>
                <span class=format!("badge status-{}", e.status.tone())>{e.status.label()}</span>
                {(e.duplicates > 0).then(|| view! { <span class="muted small">{format!(" +{} dup", e.duplicates)}</span> })}
            </td>
            <td>{e.attempts.map(|a| a.to_string()).unwrap_or_else(|| "—".into())}</td>
            <td class="error-text">{problem}</td>
        </tr>
    }
}
