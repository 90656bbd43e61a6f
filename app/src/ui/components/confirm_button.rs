use leptos::prelude::*;

/// A submit button that asks first: the first click shows what will happen with "Confirm" and
/// "Cancel"; only "Confirm" submits the surrounding form. For actions that are hard to undo.
#[component]
pub fn ConfirmButton(label: &'static str, confirm: &'static str, warning: String) -> impl IntoView {
    let (armed, set_armed) = signal(false);
    view! {
        <Show
            when=move || armed.get()
            fallback=move || view! {
                <button class="button secondary small-button" type="button" on:click=move |_| set_armed.set(true)>{label}</button>
            }
        >
            <span class="confirm" role="alert">{warning.clone()}</span>
            <button class="button danger small-button" type="submit">{confirm}</button>
            <button class="button secondary small-button" type="button" on:click=move |_| set_armed.set(false)>"Cancel"</button>
        </Show>
    }
}
