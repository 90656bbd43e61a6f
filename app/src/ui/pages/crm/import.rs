use crate::api::{error_text, StartCrmImport};
use crate::domain::{time_fmt, CrmImportView};
use leptos::prelude::*;

/// Where the import stands; admins start one. Reloads itself while it runs.
#[component]
pub fn Import(status: CrmImportView, changed: RwSignal<u32>) -> impl IntoView {
    let start = ServerAction::<StartCrmImport>::new();
    Effect::new(move |_| {
        if matches!(start.value().get(), Some(Ok(_))) {
            changed.update(|c| *c += 1);
        }
    });
    // In an effect: it runs in the browser only, never during server rendering.
    let running = status.running;
    Effect::new(move |_| {
        if running {
            set_timeout(
                move || changed.update(|c| *c += 1),
                std::time::Duration::from_secs(3),
            );
        }
    });
    let s = status;
    let phase = match (s.running, s.phase.as_str()) {
        (true, _) => "Running",
        (_, "done") => "Finished",
        (_, "importing") => "Stopped part-way (resumes where it left off)",
        _ => "Never run",
    };
    view! {
        <section class="card" aria-labelledby="import-title">
            <div class="card-header"><h2 id="import-title">"Import contacts and scan"</h2></div>
            <p class="muted">"Reads every CRM contact, links it to a customer by the identity rules (our id, then a safe email match), then lists duplicates and drift. Safe to run again; an interrupted run resumes."</p>
            {move || start.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{error_text(&e)}</p> })}
            <dl class="facts">
                <dt>"State"</dt><dd role="status">{phase}</dd>
                <dt>"Contacts read"</dt><dd>{s.contacts}</dd>
                <dt>"Linked to customers"</dt><dd>{s.linked}</dd>
                <dt>"New identity conflicts"</dt><dd><a href="/crm?tab=conflicts">{s.conflicts}</a></dd>
                <dt>"Duplicate groups"</dt><dd><a href="/crm?tab=duplicates">{s.duplicates}</a></dd>
                <dt>"Customers drifted"</dt><dd><a href="/crm?tab=drift">{s.drifted}</a></dd>
                <dt>"Started"</dt><dd>{s.started_at_ms.map(time_fmt::utc).unwrap_or_else(|| "—".into())}</dd>
                <dt>"Finished"</dt><dd>{s.finished_at_ms.map(time_fmt::utc).unwrap_or_else(|| "—".into())}</dd>
            </dl>
            {s.running.then(|| view! { <progress aria-label="Import running"></progress> })}
            {(s.can_start && !s.running).then(|| view! {
                <ActionForm action=start attr:class="row-form">
                    <button class="button secondary" type="submit">{if s.phase == "never" { "Import from the CRM" } else { "Import and scan again" }}</button>
                </ActionForm>
            })}
            {(!s.can_start).then(|| view! { <p class="muted small">"Starting an import needs the admin role."</p> })}
        </section>
    }
}
