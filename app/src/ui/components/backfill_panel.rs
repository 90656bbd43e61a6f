use crate::api::{error_text, get_backfill_status, StartBackfill};
use crate::domain::time_fmt;
use leptos::prelude::*;

/// Stripe backfill: where each resource stands, and (for admins with an API key) a button to
/// start one. Checks again every few seconds while a backfill runs.
#[component]
pub fn BackfillPanel() -> impl IntoView {
    let start = ServerAction::<StartBackfill>::new();
    let (tick, set_tick) = signal(0u32);
    let status = Resource::new(
        move || (start.version().get(), tick.get()),
        |_| get_backfill_status(),
    );
    Effect::new(move |_| {
        if status.get().and_then(|r| r.ok()).is_some_and(|s| s.running) {
            set_timeout(
                move || set_tick.update(|t| *t += 1),
                std::time::Duration::from_secs(3),
            );
        }
    });
    view! {
        <section class="card backfill" aria-labelledby="backfill-title">
            <div class="card-header">
                <h2 id="backfill-title">"Backfill from Stripe"</h2>
            </div>
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{error_text(&e)}</p> })}
            <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
                {move || status.get().map(|r| match r {
                    Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                    Ok(s) => view! {
                        {if s.progress.is_empty() {
                            view! { <p class="muted">"No backfill has run. It copies customers, subscriptions, invoices, charges and refunds from Stripe; webhooks keep them current afterwards."</p> }.into_any()
                        } else {
                            view! {
                                <ul class="backfill-list">
                                    {s.progress.into_iter().map(|p| view! {
                                        <li>
                                            <span class="check-name">{p.resource.clone()}</span>
                                            <span>{format!("{} objects", p.objects)}</span>
                                            <span class=if p.done { "badge status-ok" } else { "badge status-warn" }>{if p.done { "done" } else { "in progress" }}</span>
                                            <span class="muted small">{time_fmt::utc(p.updated_at_ms)}</span>
                                        </li>
                                    }).collect_view()}
                                </ul>
                            }.into_any()
                        }}
                        {s.running.then(|| view! { <p role="status" class="muted">"Running; this updates by itself."</p> })}
                        {(s.can_start && !s.running).then(|| view! {
                            <ActionForm action=start>
                                <button class="button secondary" type="submit">"Run backfill"</button>
                            </ActionForm>
                        })}
                    }.into_any(),
                })}
            </Transition>
        </section>
    }
}
