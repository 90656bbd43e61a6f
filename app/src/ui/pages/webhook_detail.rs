use crate::api::{error_text, get_webhook_detail, ReplayWebhook};
use crate::domain::{time_fmt, WebhookDetail};
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_params_map;

/// One Stripe event: what arrived (payload, secrets redacted), what became of it, and replay
/// for staff with webhooks.replay.
#[component]
pub fn WebhookDetailPage() -> impl IntoView {
    let params = use_params_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let replay = ServerAction::<ReplayWebhook>::new();
    let detail = Resource::new(
        move || (id(), replay.version().get()),
        |(id, _)| get_webhook_detail(id),
    );
    view! {
        <Title text="Stripe event" />
        <p><a href="/webhooks">"← All events"</a></p>
        {move || replay.value().get().map(|r| match r {
            Ok(job) => view! { <p class="notice" role="status">"Queued for processing as " <a href=format!("/jobs/{job}")><code>{job.clone()}</code></a> "."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the event…"</p> }>
            {move || detail.get().map(|r| match r {
                Err(e) => view! { <section class="card empty-state"><h1>"Event not available"</h1><p>{error_text(&e)}</p></section> }.into_any(),
                Ok(d) => view! { <EventView d replay /> }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn EventView(d: WebhookDetail, replay: ServerAction<ReplayWebhook>) -> impl IntoView {
    let e = d.event.clone();
    let action = d.can_replay.then(|| {
        let id = e.id.clone();
        view! {
            <div class="actions">
                <ActionForm action=replay attr:class="inline-form">
                    <input type="hidden" name="id" value=id />
                    <ConfirmButton label="Replay" confirm="Process it again" warning="The event is applied to the mirror again; an older snapshot never overwrites newer data.".to_string() />
                </ActionForm>
            </div>
        }
    });
    view! {
        <div class="page-header">
            <p class="eyebrow">"Stripe event"</p>
            <h1><code>{e.id.clone()}</code></h1>
            <p>
                <span class=format!("badge status-{}", e.status.tone())>{e.status.label()}</span>
                " " <code>{e.event_type.clone()}</code>
                {(!e.livemode).then(|| view! { " " <span class="badge">"test mode"</span> })}
            </p>
        </div>
        {action}
        <div class="grid">
            <section class="card" aria-labelledby="facts-title">
                <h2 id="facts-title">"What happened"</h2>
                <dl class="facts">
                    <dt>"Received (UTC)"</dt><dd>{time_fmt::utc(e.received_at_ms)}</dd>
                    {e.processed_at_ms.map(|t| view! { <dt>"Processed (UTC)"</dt><dd>{time_fmt::utc(t)}</dd> })}
                    <dt>"Redeliveries dropped"</dt><dd>{e.duplicates}</dd>
                    {e.object_id.clone().map(|o| view! { <dt>"Object"</dt><dd><code>{format!("{} {o}", e.object_type.clone().unwrap_or_default())}</code></dd> })}
                    {e.stripe_customer.clone().map(|c| view! { <dt>"Stripe customer"</dt><dd><a href=format!("/webhooks?customer={c}")><code>{c.clone()}</code></a></dd> })}
                    {d.api_version.clone().map(|v| view! { <dt>"API version"</dt><dd>{v}</dd> })}
                    {e.job_id.clone().map(|j| view! { <dt>"Processing job"</dt><dd><a href=format!("/jobs/{j}")><code>{j.clone()}</code></a>{e.attempts.map(|a| format!(" · {a} attempts"))}</dd> })}
                    {e.status_reason.clone().or(e.job_error.clone()).map(|r| view! { <dt>"Problem"</dt><dd class="error-text">{r}</dd> })}
                </dl>
            </section>
            <section class="card" aria-labelledby="payload-title">
                <h2 id="payload-title">"Payload"</h2>
                <p class="muted small">"As received; values of secret-looking fields are replaced by [redacted]."</p>
                <pre class="json">{d.payload.clone()}</pre>
            </section>
        </div>
    }
}
