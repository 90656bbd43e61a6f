use crate::api::{error_text, get_conflicts, ResolveConflict};
use crate::domain::time_fmt;
use leptos::prelude::*;

/// Links the identity rules would not make alone. Each decision is audited.
#[component]
pub fn Conflicts(can_decide: bool, changed: RwSignal<u32>) -> impl IntoView {
    let resolve = ServerAction::<ResolveConflict>::new();
    let list = Resource::new(move || resolve.version().get(), |_| get_conflicts());
    Effect::new(move |_| {
        if matches!(resolve.value().get(), Some(Ok(_))) {
            changed.update(|c| *c += 1);
        }
    });
    view! {
        {move || resolve.value().get().map(|r| match r {
            Ok(()) => view! { <p class="notice" role="status">"Decided. A sync is queued for the customer."</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading conflicts…"</p> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(items) if items.is_empty() => view! {
                    <section class="card empty-state"><h2>"Nothing to decide"</h2><p>"Every customer found its CRM contact by the rules, or has its own."</p></section>
                }.into_any(),
                Ok(items) => view! {
                    <section class="card" aria-label="Identity conflicts">
                        {items.into_iter().map(|c| {
                            let explain = c.explain();
                            let title = c.customer_name.clone().or_else(|| c.email.clone()).unwrap_or_else(|| c.customer_id.clone());
                            let id = c.id.clone();
                            view! {
                                <div class="group">
                                    <h2><a href=format!("/customers/{}", c.customer_id)>{title}</a></h2>
                                    <p class="muted small">{c.email.clone()}" · since "{time_fmt::utc(c.created_at_ms)}</p>
                                    <p>{explain}</p>
                                    {if can_decide {
                                        view! {
                                            <ActionForm action=resolve>
                                                <input type="hidden" name="id" value=id />
                                                <fieldset>
                                                    <legend>"Which CRM contact is this customer?"</legend>
                                                    {c.candidates.iter().map(|k| {
                                                        let label = format!("Contact {}{}{}", k.id,
                                                            k.email.as_ref().map(|e| format!(" · {e}")).unwrap_or_default(),
                                                            k.ledgerline_id.as_ref().map(|l| format!(" · carries customer id {l}")).unwrap_or_default());
                                                        view! { <label class="radio"><input type="radio" name="decision" value=format!("link:{}", k.id) required /> {label}</label> }
                                                    }).collect_view()}
                                                    <label class="radio"><input type="radio" name="decision" value="separate" /> "None of them: keep separate (the customer gets its own contact, without the shared email)"</label>
                                                </fieldset>
                                                <button class="button secondary" type="submit">"Decide"</button>
                                            </ActionForm>
                                        }.into_any()
                                    } else {
                                        view! { <p class="muted small">"Deciding needs the admin role (crm.merge)."</p> }.into_any()
                                    }}
                                </div>
                            }
                        }).collect_view()}
                    </section>
                }.into_any(),
            })}
        </Transition>
    }
}
