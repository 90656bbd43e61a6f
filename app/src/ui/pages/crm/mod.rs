//! The CRM page: the import (backfill and scan), duplicates with merge plans, drift with a fix
//! per customer, and identity conflicts for a person to decide.

mod conflicts;
mod drift;
mod duplicates;
mod import;

use crate::api::{error_text, get_crm_status};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

const TABS: [(&str, &str); 4] = [
    ("import", "Import & scan"),
    ("duplicates", "Duplicates"),
    ("drift", "Drift"),
    ("conflicts", "Identity conflicts"),
];

#[component]
pub fn CrmPage() -> impl IntoView {
    let query = use_query_map();
    let tab = move || {
        let t = query.read().get("tab").unwrap_or_default();
        TABS.iter()
            .find(|(k, _)| *k == t)
            .map_or("import", |(k, _)| k)
    };
    // Changes whenever an action on any tab went through, so counts and lists reload.
    let changed = RwSignal::new(0u32);
    let status = Resource::new(move || changed.get(), |_| get_crm_status());
    view! {
        <Title text="CRM" />
        <div class="page-header">
            <h1>"CRM"</h1>
            <p class="muted">"Ledgerline is the only writer of billing facts into the CRM. Here you import its contacts, merge duplicates, fix drift and settle who is who."</p>
        </div>
        <nav class="tabs" aria-label="CRM sections">
            {TABS.into_iter().map(|(k, label)| view! {
                <a href=format!("/crm?tab={k}") aria-current=move || (tab() == k).then_some("page")>{label}</a>
            }).collect_view()}
        </nav>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading…"</p> }>
            {move || status.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(s) if !s.enabled && s.phase == "never" => view! {
                    <section class="card empty-state">
                        <h2>"No CRM configured"</h2>
                        <p>"Set CRM_PROVIDER=hubspot and HUBSPOT_TOKEN to push billing facts to HubSpot contacts."</p>
                    </section>
                }.into_any(),
                Ok(s) => match tab() {
                    "duplicates" => view! { <duplicates::Duplicates can_merge=s.can_merge changed /> }.into_any(),
                    "drift" => view! { <drift::Drift can_push=s.can_push changed /> }.into_any(),
                    "conflicts" => view! { <conflicts::Conflicts can_decide=s.can_merge changed /> }.into_any(),
                    _ => view! { <import::Import status=s changed /> }.into_any(),
                },
            })}
        </Transition>
    }
}
