use crate::api::get_audit_page;
use crate::domain::url::enc;
use crate::domain::{time_fmt, AuditEntry, AuditFilter, Outcome};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The audit log: filters live in the URL (a plain GET form, so links can be shared and it
/// works before the WASM loads), newest first, "Older entries" continues by cursor.
#[component]
pub fn AuditPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let filter = move || AuditFilter {
        actor: param("actor"),
        action: param("action"),
        customer_id: param("customer"),
        outcome: param("outcome").and_then(|o| Outcome::parse(&o)),
        from_ms: None,
        to_ms: None,
    };
    let before = move || param("before").and_then(|b| b.parse::<i64>().ok());
    let page = Resource::new(
        move || (filter(), param("from"), param("to"), before()),
        |(f, from, to, b)| {
            get_audit_page(
                f.actor,
                f.action,
                f.customer_id,
                f.outcome.map(|o| o.as_str().to_string()),
                from,
                to,
                b,
            )
        },
    );
    let export_href = move || {
        let from_ms = param("from").as_deref().and_then(time_fmt::parse_day_ms);
        let to_ms = param("to")
            .as_deref()
            .and_then(time_fmt::parse_day_ms)
            .map(|d| d + 86_400_000);
        let dates = [("from_ms", from_ms), ("to_ms", to_ms)]
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| format!("{k}={v}")));
        let q = ["actor", "action", "customer", "outcome"]
            .iter()
            .filter_map(|k| {
                param(k).map(|v| {
                    format!(
                        "{}={}",
                        if *k == "customer" { "customer_id" } else { k },
                        enc(&v)
                    )
                })
            })
            .chain(dates)
            .collect::<Vec<_>>()
            .join("&");
        format!("/api/audit/export.csv?{q}")
    };

    view! {
        <Title text="Audit log" />
        <div class="page-header">
            <h1>"Audit log"</h1>
            <p class="muted">"Every sign-in, permission denial and staff action, in a tamper-evident chain."</p>
        </div>
        <form class="filters card" method="get" action="/audit" role="search" aria-label="Filter the audit log">
            <div class="field">
                <label for="f-actor">"Actor"</label>
                <input id="f-actor" name="actor" placeholder="email, system, api-key:NAME" prop:value=move || param("actor").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-action">"Action"</label>
                <input id="f-action" name="action" placeholder="auth.login or billing" prop:value=move || param("action").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-customer">"Customer id"</label>
                <input id="f-customer" name="customer" prop:value=move || param("customer").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-outcome">"Outcome"</label>
                <select id="f-outcome" name="outcome">
                    <option value="">"Any"</option>
                    {Outcome::ALL.iter().map(|o| {
                        let v = o.as_str();
                        view! { <option value=v selected=move || param("outcome").as_deref() == Some(v)>{v}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-from">"From (UTC day)"</label>
                <input id="f-from" name="from" type="date" prop:value=move || param("from").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-to">"To (UTC day, inclusive)"</label>
                <input id="f-to" name="to" type="date" prop:value=move || param("to").unwrap_or_default() />
            </div>
            <div class="filter-actions">
                <button class="button" type="submit">"Apply"</button>
                <a class="button secondary" href="/audit">"Clear"</a>
                <a class="button secondary" href=export_href download rel="external">"Export CSV"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading entries…"</p> }>
            {move || page.get().map(|r| match r {
                Err(_) => view! { <p class="error" role="alert">"The audit log could not be loaded. Try again in a moment."</p> }.into_any(),
                Ok(p) if p.entries.is_empty() => view! {
                    <section class="card empty-state"><h2>"No entries match"</h2><p>"Try fewer filters."</p></section>
                }.into_any(),
                Ok(p) => {
                    let older = p.next_before.map(|b| {
                        let mut q: Vec<String> = ["actor", "action", "customer", "outcome", "from", "to"].iter()
                            .filter_map(|k| param(k).map(|v| format!("{k}={}", enc(&v)))).collect();
                        q.push(format!("before={b}"));
                        format!("/audit?{}", q.join("&"))
                    });
                    view! {
                        <div class="table-wrap card">
                            <table class="audit-table">
                                <caption class="visually-hidden">"Audit entries, newest first"</caption>
                                <thead><tr><th scope="col">"#"</th><th scope="col">"Time (UTC)"</th><th scope="col">"Actor"</th><th scope="col">"Action"</th><th scope="col">"Target"</th><th scope="col">"Outcome"</th><th scope="col">"Details"</th></tr></thead>
                                <tbody>{p.entries.into_iter().map(|e| view! { <AuditRow e /> }).collect_view()}</tbody>
                            </table>
                        </div>
                        {older.map(|href| view! { <a class="button secondary load-more" href=href>"Older entries"</a> })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn AuditRow(e: AuditEntry) -> impl IntoView {
    let target = match (&e.target_type, &e.target_id) {
        (Some(t), Some(id)) => format!("{t} {id}"),
        _ => String::new(),
    };
    let outcome_class = format!(
        "badge status-{}",
        match e.outcome {
            Outcome::Ok => "ok",
            Outcome::Denied => "warn",
            Outcome::Failed => "fail",
        }
    );
    let meta = format!(
        "request {} · ip {} · {}",
        e.request_id.clone().unwrap_or_else(|| "-".into()),
        e.ip.clone().unwrap_or_else(|| "-".into()),
        e.user_agent.clone().unwrap_or_default()
    );
    view! {
        <tr>
            <td>{e.seq}</td>
            <td class="nowrap">{time_fmt::utc(e.at_ms)}</td>
            <td class="actor">{e.actor_label}</td>
            <td><code>{e.action}</code></td>
            <td>{target}</td>
            <td><span class=outcome_class>{e.outcome.as_str()}</span></td>
            <td>
                <details>
                    <summary>"View"</summary>
                    <pre class="json">{pretty(&e.details)}</pre>
                    <p class="muted small">{meta}</p>
                </details>
            </td>
        </tr>
    }
}

fn pretty(json: &str) -> String {
    serde_json::from_str::<serde_json::Value>(json)
        .and_then(|v| serde_json::to_string_pretty(&v))
        .unwrap_or_else(|_| json.to_string())
}
