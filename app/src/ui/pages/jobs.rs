use crate::api::{get_job_counts, get_job_list};
use crate::domain::url::with_query;
use crate::domain::{time_fmt, JobCount, JobStatus, JobSummary};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// The job queue at a glance: counts per kind and status (each a link to the filtered list),
/// then the jobs themselves, newest first. Filters live in the URL so links can be shared.
#[component]
pub fn JobsPage() -> impl IntoView {
    let query = use_query_map();
    let param = move |k: &str| query.read().get(k).filter(|v| !v.is_empty());
    let counts = Resource::new(|| (), |_| get_job_counts());
    let page = Resource::new(
        move || {
            (
                param("status"),
                param("kind"),
                param("customer"),
                param("before"),
            )
        },
        |(s, k, c, b)| get_job_list(s, k, c, b),
    );
    view! {
        <Title text="Jobs" />
        <div class="page-header">
            <h1>"Jobs"</h1>
            <p class="muted">"Background work: webhook processing, CRM syncs, enrichment and refunds. Dead jobs need a person."</p>
        </div>
        <section class="card counts-card" aria-labelledby="counts-title">
            <h2 id="counts-title">"By kind and status"</h2>
            <Transition fallback=|| view! { <p class="loading" role="status">"Counting…"</p> }>
                {move || counts.get().map(|r| match r {
                    Err(_) => view! { <p class="error" role="alert">"The counts could not be loaded. Try again in a moment."</p> }.into_any(),
                    Ok(c) if c.is_empty() => view! { <p class="muted">"No jobs yet. They appear here as webhooks arrive and syncs run."</p> }.into_any(),
                    Ok(c) => view! { <CountsTable counts=c /> }.into_any(),
                })}
            </Transition>
        </section>
        <form class="filters card" method="get" action="/jobs" role="search" aria-label="Filter jobs">
            <div class="field">
                <label for="f-status">"Status"</label>
                <select id="f-status" name="status">
                    <option value="">"Any"</option>
                    {JobStatus::ALL.iter().map(|s| {
                        let v = s.as_str();
                        view! { <option value=v selected=move || param("status").as_deref() == Some(v)>{s.label()}</option> }
                    }).collect_view()}
                </select>
            </div>
            <div class="field">
                <label for="f-kind">"Kind"</label>
                <input id="f-kind" name="kind" placeholder="e.g. stripe.process_event" prop:value=move || param("kind").unwrap_or_default() />
            </div>
            <div class="field">
                <label for="f-customer">"Customer id"</label>
                <input id="f-customer" name="customer" prop:value=move || param("customer").unwrap_or_default() />
            </div>
            <div class="filter-actions">
                <button class="button" type="submit">"Apply"</button>
                <a class="button secondary" href="/jobs">"Clear"</a>
            </div>
        </form>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading jobs…"</p> }>
            {move || page.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{crate::api::error_text(&e)}</p> }.into_any(),
                Ok(p) if p.jobs.is_empty() => view! {
                    <section class="card empty-state"><h2>"No jobs match"</h2><p>"Try fewer filters."</p></section>
                }.into_any(),
                Ok(p) => {
                    let older = p.next_before.map(|b| with_query("/jobs", [
                        ("status", param("status")), ("kind", param("kind")), ("customer", param("customer")), ("before", Some(b)),
                    ]));
                    view! {
                        <div class="table-wrap card">
                            <table>
                                <caption class="visually-hidden">"Jobs, newest first"</caption>
                                <thead><tr>
                                    <th scope="col">"Job"</th><th scope="col">"Kind"</th><th scope="col">"Status"</th>
                                    <th scope="col">"Attempts"</th><th scope="col">"Next run / updated (UTC)"</th><th scope="col">"Last error"</th>
                                </tr></thead>
                                <tbody>{p.jobs.into_iter().map(|j| view! { <JobRow j /> }).collect_view()}</tbody>
                            </table>
                        </div>
                        {older.map(|href| view! { <a class="button secondary load-more" href=href>"Older jobs"</a> })}
                    }.into_any()
                }
            })}
        </Transition>
    }
}

#[component]
fn CountsTable(counts: Vec<JobCount>) -> impl IntoView {
    let mut kinds: Vec<String> = counts.iter().map(|c| c.kind.clone()).collect();
    kinds.dedup();
    let cell = move |kind: &str, status: JobStatus| {
        counts
            .iter()
            .find(|c| c.kind == kind && c.status == status)
            .map_or(0, |c| c.count)
    };
    let rows = kinds
        .iter()
        .map(|kind| {
            let cells = JobStatus::ALL
                .iter()
                .map(|s| {
                    let n = cell(kind, *s);
                    let href = with_query(
                        "/jobs",
                        [("kind", Some(kind.clone())), ("status", Some(s.as_str().into()))],
                    );
                    let class = if n > 0 && *s == JobStatus::Dead { "count count-alert" } else { "count" };
                    view! { <td class=class>{if n == 0 { view! { <span class="muted">"0"</span> }.into_any() } else { view! { <a href=href>{n}</a> }.into_any() }}</td> }
                })
                .collect_view();
            view! { <tr><th scope="row"><code>{kind.clone()}</code></th>{cells}</tr> }
        })
        .collect_view();
    view! {
        <div class="table-wrap">
            <table class="counts-table">
                <thead><tr><th scope="col">"Kind"</th>{JobStatus::ALL.iter().map(|s| view! { <th scope="col">{s.label()}</th> }).collect_view()}</tr></thead>
                <tbody>{rows}</tbody>
            </table>
        </div>
    }
}

#[component]
fn JobRow(j: JobSummary) -> impl IntoView {
    let when = match j.status {
        JobStatus::Queued | JobStatus::FailedRetrying => time_fmt::utc(j.run_at_ms),
        _ => time_fmt::utc(j.updated_at_ms),
    };
    view! {
        <tr>
            <td><a href=format!("/jobs/{}", j.id)><code>{j.id.clone()}</code></a></td>
            <td><code>{j.kind}</code></td>
            <td><span class=format!("badge status-{}", j.status.tone())>{j.status.label()}</span></td>
            <td>{format!("{} / {}", j.attempts, j.max_attempts)}</td>
            <td class="nowrap">{when}</td>
            <td class="error-text">{j.last_error.unwrap_or_default()}</td>
        </tr>
    }
}
