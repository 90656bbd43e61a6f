use crate::api::{error_text, get_drift, PushToCrm};
use crate::domain::time_fmt;
use leptos::prelude::*;

/// Mapped fields where the CRM disagrees with the mirror; "Fix" re-pushes that customer.
#[component]
pub fn Drift(can_push: bool, changed: RwSignal<u32>) -> impl IntoView {
    let fix = ServerAction::<PushToCrm>::new();
    let rows = Resource::new(move || fix.version().get(), |_| get_drift());
    Effect::new(move |_| {
        if matches!(fix.value().get(), Some(Ok(_))) {
            changed.update(|c| *c += 1);
        }
    });
    view! {
        {move || fix.value().get().map(|r| match r {
            Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading drift…"</p> }>
            {move || rows.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(rows) if rows.is_empty() => view! {
                    <section class="card empty-state"><h2>"No drift"</h2><p>"As of the last import every linked contact carries the values the mirror has."</p></section>
                }.into_any(),
                Ok(rows) => {
                    let scanned = rows.first().map(|r| time_fmt::utc(r.scanned_at_ms)).unwrap_or_default();
                    view! {
                        <section class="card">
                            <p class="muted small">{format!("Scanned {scanned}. Fix pushes our values for every field of that customer.")}</p>
                            <div class="table-wrap"><table>
                                <thead><tr><th scope="col">"Customer"</th><th scope="col">"Field"</th><th scope="col">"Ours"</th><th scope="col">"In the CRM"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                                <tbody>{rows.into_iter().map(|d| {
                                    let label = format!("Fix {} for {}", d.field, d.customer_id);
                                    let id = d.customer_id.clone();
                                    view! {
                                        <tr>
                                            <td><a href=format!("/customers/{}", d.customer_id)>{d.customer_name.clone().unwrap_or_else(|| d.customer_id.clone())}</a></td>
                                            <td><code>{d.field}</code></td>
                                            <td>{if d.ours.is_empty() { "—".to_string() } else { d.ours }}</td>
                                            <td class="error-text">{if d.theirs.is_empty() { "—".to_string() } else { d.theirs }}</td>
                                            <td>{can_push.then(|| view! {
                                                <ActionForm action=fix>
                                                    <input type="hidden" name="customer_id" value=id />
                                                    <input type="hidden" name="cause" value="drift" />
                                                    <button class="button secondary small-button" type="submit" aria-label=label>"Fix"</button>
                                                </ActionForm>
                                            })}</td>
                                        </tr>
                                    }
                                }).collect_view()}</tbody>
                            </table></div>
                        </section>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
