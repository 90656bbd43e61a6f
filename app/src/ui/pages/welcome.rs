use crate::api::{error_text, RedeemLink};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Where invite and reset links land: choose a password, then you are signed in.
#[component]
pub fn WelcomePage() -> impl IntoView {
    let action = ServerAction::<RedeemLink>::new();
    let query = use_query_map();
    let token = move || query.read().get("token").unwrap_or_default();
    view! {
        <Title text="Set your password" />
        <section class="card auth-card" aria-labelledby="welcome-title">
            <h1 id="welcome-title">"Set your password"</h1>
            <p class="muted">"At least 12 characters; common passwords are refused."</p>
            <ActionForm action>
                <input type="hidden" name="token" value=token />
                <div class="field"><label for="pw">"New password"</label><input id="pw" name="password" type="password" autocomplete="new-password" required minlength="12" maxlength="256" /></div>
                <button class="button" type="submit">"Set password and sign in"</button>
            </ActionForm>
            {move || action.value().get().and_then(|r| r.err()).map(|e| view! { <p class="error" role="alert">{error_text(&e)}</p> })}
        </section>
    }
}
