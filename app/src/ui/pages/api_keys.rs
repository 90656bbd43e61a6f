use crate::api::{error_text, list_api_keys, CreateApiKey, RevokeApiKey};
use crate::domain::{time_fmt, ApiKeyView, NewApiKey, Scope};
use crate::ui::components::ConfirmButton;
use leptos::prelude::*;
use leptos_meta::Title;

/// Keys for the product's backend: create (shown once), see when each was last used, revoke.
#[component]
pub fn ApiKeysPage() -> impl IntoView {
    let create = ServerAction::<CreateApiKey>::new();
    let revoke = ServerAction::<RevokeApiKey>::new();
    let keys = Resource::new(
        move || (create.version().get(), revoke.version().get()),
        |_| list_api_keys(),
    );
    let failure = move || {
        [
            create.value().get().and_then(|r| r.err()),
            revoke.value().get().and_then(|r| r.err()),
        ]
        .into_iter()
        .flatten()
        .next()
        .map(|e| error_text(&e))
    };
    view! {
        <Title text="API keys" />
        <div class="page-header">
            <h1>"API keys"</h1>
            <p class="muted">"Your product's backend sends one of these as a bearer token, e.g. to open support tickets. Each use is recorded."</p>
        </div>
        {move || failure().map(|e| view! { <p class="error" role="alert">{e}</p> })}
        {move || create.value().get().and_then(|r| r.ok()).map(|k| view! { <KeyCallout k /> })}
        <section class="card" aria-labelledby="new-key-title">
            <h2 id="new-key-title">"Create a key"</h2>
            <ActionForm action=create attr:class="inline-form">
                <div class="field"><label for="key-name">"Name"</label><input id="key-name" name="name" required maxlength="80" placeholder="Production backend" /></div>
                <div class="field"><label for="key-scope">"Allowed to"</label>
                    <select id="key-scope" name="scope">
                        {Scope::ALL.into_iter().map(|s| view! { <option value=s.as_str()>{s.label()}</option> }).collect_view()}
                    </select>
                </div>
                <button class="button" type="submit">"Create key"</button>
            </ActionForm>
        </section>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading keys…"</p> }>
            {move || keys.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(list) if list.is_empty() => view! {
                    <section class="card empty-state"><h2>"No keys yet"</h2><p>"Create one for each system that calls Ledgerline, so each can be revoked alone."</p></section>
                }.into_any(),
                Ok(list) => view! {
                    <div class="table-wrap card">
                        <table>
                            <caption class="visually-hidden">"API keys"</caption>
                            <thead><tr><th scope="col">"Name"</th><th scope="col">"Key"</th><th scope="col">"Scopes"</th><th scope="col">"Created"</th><th scope="col">"Last used"</th><th scope="col">"Status"</th></tr></thead>
                            <tbody>{list.into_iter().map(|k| view! { <KeyRow k revoke /> }).collect_view()}</tbody>
                        </table>
                    </div>
                }.into_any(),
            })}
        </Transition>
    }
}

#[component]
fn KeyRow(k: ApiKeyView, revoke: ServerAction<RevokeApiKey>) -> impl IntoView {
    let warning = format!("Calls with “{}” will be refused from now on.", k.name);
    view! {
        <tr>
            <td>{k.name.clone()}</td>
            <td><code>{k.prefix.clone()}</code></td>
            <td>{k.scopes.join(", ")}</td>
            <td class="nowrap">{time_fmt::utc(k.created_at_ms)}<div class="muted small">{k.created_by.clone()}</div></td>
            <td class="nowrap">{k.last_used_at_ms.map(time_fmt::utc).unwrap_or_else(|| "Never".into())}</td>
            <td>{match k.revoked_at_ms {
                Some(t) => view! { <span class="badge status-fail">"Revoked"</span><div class="muted small">{time_fmt::utc(t)}</div> }.into_any(),
                None => view! {
                    <span class="badge status-ok">"Active"</span>
                    <ActionForm action=revoke attr:class="row-form">
                        <input type="hidden" name="id" value=k.id.clone() />
                        <ConfirmButton label="Revoke" confirm="Revoke now" warning />
                    </ActionForm>
                }.into_any(),
            }}</td>
        </tr>
    }
}

#[component]
fn KeyCallout(k: NewApiKey) -> impl IntoView {
    view! {
        <section class="card callout" role="status" aria-labelledby="key-title">
            <h2 id="key-title">{format!("Key “{}” created", k.view.name)}</h2>
            <p>"Copy it now into your backend's secrets. It is shown only this once; Ledgerline keeps only a hash."</p>
            <input class="link-field" readonly value=k.key.clone() aria-label="The new API key" />
        </section>
    }
}
