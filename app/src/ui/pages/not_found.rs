use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn NotFound() -> impl IntoView {
    #[cfg(feature = "ssr")]
    if let Some(response) = use_context::<leptos_axum::ResponseOptions>() {
        response.set_status(http::StatusCode::NOT_FOUND);
    }
    view! {
        <Title text="Page not found" />
        <section class="empty-state not-found" aria-labelledby="nf-title">
            <p class="eyebrow">"404"</p>
            <h1 id="nf-title">"Page not found"</h1>
            <p>"The page you asked for does not exist or has moved."</p>
            <a class="button" href="/">"Back to the overview"</a>
        </section>
    }
}
