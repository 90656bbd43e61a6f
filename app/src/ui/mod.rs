//! Pages and components. Compiled for the server (rendering) and the browser (hydration); they
//! reach data only through server functions in `crate::api`.

mod components;
mod layout;
mod pages;

use leptos::prelude::*;
use leptos_meta::{provide_meta_context, Stylesheet, Title};
use leptos_router::{
    components::{Route, Router, Routes},
    path,
};

/// The HTML document around the app. On the server it also sets the Content-Security-Policy
/// with this response's nonce, so only our own hydration script may run inline.
pub fn shell(options: LeptosOptions) -> impl IntoView {
    #[cfg(feature = "ssr")]
    set_csp_header();
    view! {
        <!DOCTYPE html>
        <html lang="en">
            <head>
                <meta charset="utf-8" />
                <meta name="viewport" content="width=device-width, initial-scale=1" />
                <meta name="color-scheme" content="light dark" />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

#[cfg(feature = "ssr")]
fn set_csp_header() {
    use crate::server::http::security::content_security_policy;
    if let (Some(nonce), Some(response)) = (
        leptos::nonce::use_nonce(),
        use_context::<leptos_axum::ResponseOptions>(),
    ) {
        if let Ok(value) =
            http::HeaderValue::from_str(&content_security_policy(Some(&nonce.to_string())))
        {
            response.insert_header(http::header::CONTENT_SECURITY_POLICY, value);
        }
    }
}

#[component]
pub fn App() -> impl IntoView {
    provide_meta_context();
    view! {
        <Stylesheet id="leptos" href="/pkg/ledgerline.css" />
        <Title formatter=|page: String| if page.is_empty() { "Ledgerline".to_string() } else { format!("{page} · Ledgerline") } />
        <Router>
            <layout::AppLayout>
                <Routes fallback=pages::NotFound>
                    <Route path=path!("/") view=pages::Overview />
                </Routes>
            </layout::AppLayout>
        </Router>
    }
}
