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
                <link rel="icon" href=FAVICON />
                <HydrationScripts options />
                <leptos_meta::MetaTags />
            </head>
            <body>
                <App />
            </body>
        </html>
    }
}

/// The brand mark as an inline SVG, so the browser's favicon request never 404s.
const FAVICON: &str = "data:image/svg+xml,%3Csvg xmlns='http://www.w3.org/2000/svg' viewBox='0 0 32 32'%3E%3Crect width='32' height='32' rx='7' fill='%233b4fd8'/%3E%3Ctext x='16' y='23' font-family='sans-serif' font-size='20' font-weight='700' fill='white' text-anchor='middle'%3EL%3C/text%3E%3C/svg%3E";

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
                    <Route path=path!("/login") view=pages::LoginPage />
                    <Route path=path!("/audit") view=pages::AuditPage />
                    <Route path=path!("/staff") view=pages::StaffPage />
                    <Route path=path!("/account") view=pages::AccountPage />
                    <Route path=path!("/welcome") view=pages::WelcomePage />
                    <Route path=path!("/jobs") view=pages::JobsPage />
                    <Route path=path!("/jobs/:id") view=pages::JobDetailPage />
                    <Route path=path!("/webhooks") view=pages::WebhooksPage />
                    <Route path=path!("/webhooks/:id") view=pages::WebhookDetailPage />
                    <Route path=path!("/customers") view=pages::CustomersPage />
                    <Route path=path!("/customers/:id") view=pages::CustomerPage />
                    <Route path=path!("/refunds") view=pages::RefundsPage />
                    <Route path=path!("/crm") view=pages::CrmPage />
                    <Route path=path!("/api-keys") view=pages::ApiKeysPage />
                    <Route path=path!("/tickets") view=pages::TicketsPage />
                    <Route path=path!("/tickets/:id") view=pages::TicketPage />
                </Routes>
            </layout::AppLayout>
        </Router>
    }
}
