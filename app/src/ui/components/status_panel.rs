use crate::api::get_system_status;
use crate::domain::{CheckStatus, Readiness};
use leptos::prelude::*;

/// The instance's readiness checks with a "Check again" button. The first report is rendered
/// on the server; the button needs the hydrated app.
#[component]
pub fn StatusPanel() -> impl IntoView {
    let (round, set_round) = signal(0u32);
    let (pending, set_pending) = signal(false);
    let report = Resource::new(move || round.get(), |_| get_system_status());
    // Only the browser reads `pending`. On the server the Transition writes it from one thread
    // while the streamed attributes read it from another, and reactive_graph 0.2 reads with a
    // non-blocking `try_read`: a read that meets the write fails and panics as "already
    // disposed", killing the page (seen twice in CI; `try_get` did not help, since the panic is
    // inside it). The server renders the panel idle, which is what a first load shows anyway.
    let busy = move || cfg!(feature = "hydrate") && pending.get();

    view! {
        <section class="card status-panel" aria-labelledby="status-title" aria-busy=move || busy().to_string()>
            <div class="card-header">
                <h2 id="status-title">"System status"</h2>
                <button
                    class="button secondary"
                    type="button"
                    disabled=busy
                    on:click=move |_| set_round.update(|n| *n += 1)
                >
                    {move || if busy() { "Checking…" } else { "Check again" }}
                </button>
            </div>
            <Transition
                fallback=|| view! { <p class="loading" role="status">"Checking…"</p> }
                set_pending
            >
                {move || report.get().map(|r| match r {
                    Ok(report) => view! { <StatusReport report /> }.into_any(),
                    Err(_) => view! {
                        <p class="error" role="alert">"The status could not be loaded. Try again in a moment."</p>
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}

#[component]
fn StatusReport(report: Readiness) -> impl IntoView {
    let summary = match report.status {
        CheckStatus::Ok => "All systems ready",
        CheckStatus::Warn => "Running, with warnings",
        CheckStatus::Fail => "Not ready",
    };
    view! {
        <p class=format!("summary status-{}", report.status.as_str()) role="status">
            {summary}
        </p>
        <ul class="checks">
            {report
                .checks
                .into_iter()
                .map(|c| {
                    view! {
                        <li>
                            <span class=format!("badge status-{}", c.status.as_str())>{c.status.as_str()}</span>
                            <span class="check-name">{c.name}</span>
                            <span class="check-detail">{c.detail}</span>
                        </li>
                    }
                })
                .collect_view()}
        </ul>
        <p class="muted small">
            "Last checked " <time datetime=report.checked_at.clone() data-testid="checked-at">{report.checked_at.clone()}</time>
        </p>
    }
}
