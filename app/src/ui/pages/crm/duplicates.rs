use crate::api::{error_text, get_duplicates, MergeDuplicates};
use crate::domain::ContactRef;
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;

fn who(c: &ContactRef) -> String {
    let mut parts = vec![format!("contact {}", c.id)];
    if let Some(n) = &c.name {
        parts.push(n.clone());
    }
    if let Some(e) = &c.email {
        parts.push(e.clone());
    }
    parts.join(" · ")
}

/// Groups of contacts sharing an email or our id, each with its survivor and merge plan.
#[component]
pub fn Duplicates(can_merge: bool, changed: RwSignal<u32>) -> impl IntoView {
    let merge = ServerAction::<MergeDuplicates>::new();
    let groups = Resource::new(move || merge.version().get(), |_| get_duplicates());
    Effect::new(move |_| {
        if matches!(merge.value().get(), Some(Ok(_))) {
            changed.update(|c| *c += 1);
        }
    });
    view! {
        {move || merge.value().get().map(|r| match r {
            Ok(ids) => view! { <p class="notice" role="status">{format!("Merged {} contact(s) into the survivor.", ids.len())}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading duplicates…"</p> }>
            {move || groups.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(gs) if gs.is_empty() => view! {
                    <section class="card empty-state"><h2>"No duplicates"</h2><p>"As of the last import no two contacts share an email or a customer id."</p></section>
                }.into_any(),
                Ok(gs) => view! {
                    <section class="card" aria-label="Duplicate groups">
                        {gs.into_iter().map(|g| {
                            let (kind, value) = g.key.split_once(':').map(|(k, v)| (k.to_string(), v.to_string())).unwrap_or_default();
                            let heading = if kind == "email" { format!("Same email: {value}") } else { format!("Same customer id: {value}") };
                            let key = g.key.clone();
                            let warning = format!("Merges {} contact(s) into contact {} in the CRM. This cannot be undone there.", g.merge.len(), g.survivor.id);
                            view! {
                                <div class="group">
                                    <h2>{heading}</h2>
                                    <p>"Keeps " <strong>{who(&g.survivor)}</strong>
                                        {g.survivor.customer_id.clone().map(|c| view! { " (customer " <a href=format!("/customers/{c}")>{c.clone()}</a> ")" })}
                                    </p>
                                    <ul class="merge-plan">
                                        {g.merge.iter().map(|c| view! { <li>{format!("Merge {} into it", who(c))}</li> }).collect_view()}
                                        {g.kept.iter().map(|(c, why)| view! { <li class="muted">{format!("Leave {}: {why}", who(c))}</li> }).collect_view()}
                                    </ul>
                                    {(can_merge && !g.merge.is_empty()).then(|| view! {
                                        <ActionForm action=merge attr:class="row-form">
                                            <input type="hidden" name="key" value=key />
                                            <ConfirmButton label="Merge…" confirm="Merge in the CRM" warning />
                                        </ActionForm>
                                    })}
                                </div>
                            }
                        }).collect_view()}
                        {(!can_merge).then(|| view! { <p class="muted small">"Merging needs the admin role (crm.merge)."</p> })}
                    </section>
                }.into_any(),
            })}
        </Transition>
    }
}
