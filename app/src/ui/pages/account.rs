use crate::api::{error_text, ChangePassword};
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn AccountPage() -> impl IntoView {
    let action = ServerAction::<ChangePassword>::new();
    view! {
        <Title text="Your account" />
        <section class="card auth-card" aria-labelledby="pw-title">
            <h1 id="pw-title">"Change your password"</h1>
            <p class="muted">"At least 12 characters. Your other sessions end when it changes."</p>
            <ActionForm action>
                <div class="field"><label for="cur">"Current password"</label><input id="cur" name="current" type="password" autocomplete="current-password" required maxlength="256" /></div>
                <div class="field"><label for="new">"New password"</label><input id="new" name="new_password" type="password" autocomplete="new-password" required minlength="12" maxlength="256" /></div>
                <button class="button" type="submit">"Change password"</button>
            </ActionForm>
            {move || action.value().get().map(|r| match r {
                Ok(()) => view! { <p class="success" role="status">"Password changed."</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
            })}
        </section>
    }
}
