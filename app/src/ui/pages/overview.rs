use crate::ui::components::StatusPanel;
use leptos::prelude::*;
use leptos_meta::Title;

#[component]
pub fn Overview() -> impl IntoView {
    view! {
        <Title text="Overview" />
        <div class="page-header">
            <h1>"Overview"</h1>
            <p class="muted">"Billing, CRM and support at a glance."</p>
        </div>
        <div class="grid">
            <section class="card empty-state" aria-labelledby="getting-started">
                <h2 id="getting-started">"No billing data yet"</h2>
                <p>
                    "Ledgerline mirrors Stripe. Set " <code>"STRIPE_API_KEY"</code> " and "
                    <code>"STRIPE_WEBHOOK_SECRET"</code>
                    " and point a Stripe webhook at " <code>"/api/webhooks/stripe"</code>
                    " to start filling this page."
                </p>
            </section>
            <StatusPanel />
        </div>
    }
}
