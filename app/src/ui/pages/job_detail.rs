use crate::api::{error_text, get_job_detail, CancelJob, RetryJob};
use crate::domain::{time_fmt, JobDetail};
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// One job: what it is for (payload, secrets redacted), where it stands, every attempt with
/// its error and duration, and the actions staff with jobs.retry may take.
#[component]
pub fn JobDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let retry = ServerAction::<RetryJob>::new();
    let cancel = ServerAction::<CancelJob>::new();
    let detail = Resource::new(
        move || (id(), retry.version().get(), cancel.version().get()),
        |(id, _, _)| get_job_detail(id),
    );
    let result = move || {
        let r = retry.value().get().map(|r| r.map(|_| "Queued to run now."));
        let c = cancel.value().get().map(|r| r.map(|_| "Cancelled."));
        // The most recent action speaks (the later version wins).
        if retry.version().get() >= cancel.version().get() {
            r.or(c)
        } else {
            c.or(r)
        }
    };
    view! {
        <Title text="Job" />
        <p><a href="/jobs">"← All jobs"</a></p>
        {move || result().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the job…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! {
                    <section class="card empty-state"><h1>"Job not available"</h1><p>{error_text(&e)}</p></section>
                }.into_any(),
                Ok(d) => view! { <JobView d retry cancel /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn JobView(
    d: JobDetail,
    retry: ServerAction<RetryJob>,
    cancel: ServerAction<CancelJob>,
) -> impl IntoView {
    let j = d.job.clone();
    let id = j.id.clone();
    let actions = d.can_act.then(|| {
        let retry_form = j.status.can_retry().then(|| {
            let id = id.clone();
            view! {
                <ActionForm action=retry attr:class="inline-form">
                    <input type="hidden" name="id" value=id />
                    <ConfirmButton label="Retry now" confirm="Run it now" warning="It runs again at once, with a fresh attempt budget if it had given up.".to_string() />
                </ActionForm>
            }
        });
        let cancel_form = j.status.can_cancel().then(|| {
            let id = id.clone();
            view! {
                <ActionForm action=cancel attr:class="inline-form">
                    <input type="hidden" name="id" value=id />
                    <ConfirmButton label="Cancel job" confirm="Cancel it" warning="It will not run again unless someone retries it.".to_string() />
                </ActionForm>
            }
        });
        view! { <div class="actions">{retry_form}{cancel_form}</div> }
    });
    let customer = j
        .customer_id
        .clone()
        .map(|c| view! { <dt>"Customer"</dt><dd><code>{c}</code></dd> });
    view! {
        <div class="page-header">
            <p class="eyebrow">"Job"</p>
            <h1><code>{j.id.clone()}</code></h1>
            <p>
                <span class=format!("badge status-{}", j.status.tone())>{j.status.label()}</span>
                " "<code>{j.kind.clone()}</code>
            </p>
        </div>
        {actions}
        <div class="grid">
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title">"Where it stands"</h2>
                <dl class="facts">
                    <dt>"Attempts"</dt><dd>{format!("{} of {}", j.attempts, j.max_attempts)}</dd>
                    <dt>"Next run (UTC)"</dt><dd>{time_fmt::utc(j.run_at_ms)}</dd>
                    <dt>"Created (UTC)"</dt><dd>{time_fmt::utc(j.created_at_ms)}</dd>
                    <dt>"Updated (UTC)"</dt><dd>{time_fmt::utc(j.updated_at_ms)}</dd>
                    {customer}
                    {d.dedupe_key.clone().map(|k| view! { <dt>"Dedupe key"</dt><dd><code>{k}</code></dd> })}
                    {d.locked_by.clone().map(|w| view! { <dt>"Held by"</dt><dd><code>{w}</code>{d.lease_expires_at_ms.map(|t| format!(" until {}", time_fmt::utc(t)))}</dd> })}
                    {j.last_error.clone().map(|e| view! { <dt>"Last error"</dt><dd class="error-text">{e}</dd> })}
                </dl>
            </section>
            <section class="card" aria-labelledby="payload-title">
                <h2 id="payload-title">"Payload"</h2>
                <p class="muted small">"Values of secret-looking fields are replaced by [redacted]."</p>
                <pre class="json">{d.payload.clone()}</pre>
            </section>
        </div>
        <section class="card attempts" aria-labelledby="attempts-title">
            <h2 id="attempts-title">"Attempts"</h2>
            {if d.attempts.is_empty() {
                view! { <p class="muted">"It has not run yet."</p> }.into_any()
            } else {
                view! {
                    <div class="table-wrap">
                        <table>
                            <thead><tr><th scope="col">"#"</th><th scope="col">"Started (UTC)"</th><th scope="col">"Duration"</th><th scope="col">"Outcome"</th><th scope="col">"Worker"</th><th scope="col">"Error"</th></tr></thead>
                            <tbody>{d.attempts.into_iter().map(|a| {
                                let tone = match a.outcome.as_str() { "succeeded" => "ok", "retry" => "warn", _ => "fail" };
                                view! {
                                    <tr>
                                        <td>{a.attempt}</td>
                                        <td class="nowrap">{time_fmt::utc(a.started_at_ms)}</td>
                                        <td class="nowrap">{format!("{} ms", a.duration_ms)}</td>
                                        <td><span class=format!("badge status-{tone}")>{a.outcome}</span></td>
                                        <td><code>{a.worker_id}</code></td>
                                        <td class="error-text">{a.error.unwrap_or_default()}</td>
                                    </tr>
                                }
                            }).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any()
            }}
        </section>
    }
}
