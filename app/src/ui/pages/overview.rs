use crate::api::{error_text, get_overview};
use crate::domain::url::enc;
use crate::domain::{time_fmt, AttentionGroup, Money, OverviewData};
use crate::ui::components::{BarChart, LineChart, StatusPanel};
use leptos::prelude::*;
use leptos_meta::Title;

fn monies(list: &[Money]) -> String {
    if list.is_empty() {
        "0".into()
    } else {
        list.iter()
            .map(Money::display)
            .collect::<Vec<_>>()
            .join(" + ")
    }
}

/// The home page: how the business is doing, what is failing, and who needs a person now.
#[component]
pub fn Overview() -> impl IntoView {
    let data = Resource::new(|| (), |_| get_overview());
    view! {
        <Title text="Overview" />
        <div class="page-header">
            <h1>"Overview"</h1>
            <p class="muted">"Billing, CRM and support at a glance. Every figure links to the list behind it."</p>
        </div>
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the overview…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(d) => view! { <Dashboard d /> }.into_any(),
            })}
        </Transition>
        <div class="grid section"><StatusPanel /></div>
    }
}

#[component]
fn Kpi(label: &'static str, value: String, detail: String, href: String) -> impl IntoView {
    view! {
        <a class="card kpi kpi-link" href=href>
            <p class="kpi-label">{label}</p>
            <p class="kpi-value">{value}</p>
            <p class="muted small">{detail}</p>
        </a>
    }
}

#[component]
fn Dashboard(d: OverviewData) -> impl IntoView {
    let currency = d.mrr_currency.clone();
    let main = |list: &[Money]| {
        currency
            .as_ref()
            .and_then(|c| list.iter().find(|m| &m.currency == c))
            .map_or(0, |m| m.amount)
    };
    let change = main(&d.mrr) - main(&d.mrr_30d_ago);
    let change_text = match &currency {
        Some(c) => {
            let sign = if change >= 0 { "+" } else { "−" };
            format!(
                "{sign}{} vs 30 days ago",
                Money::new(change.abs(), c.clone()).display()
            )
        }
        None => "No paying subscriptions".into(),
    };
    let webhooks = match d.webhooks_24h.percent() {
        Some(p) => format!("{p:.1} %"),
        None => "—".into(),
    };
    let mrr_fmt: fn(i64) -> String = |v| format!("{:.2}", v as f64 / 100.0);
    let pct_fmt: fn(i64) -> String = |v| format!("{:.1} %", v as f64 / 10.0);
    let intro = (!d.has_billing()).then(|| view! {
        <section class="card empty-state" aria-labelledby="getting-started">
            <h2 id="getting-started">"No billing data yet"</h2>
            <p>"Ledgerline mirrors Stripe. Set " <code>"STRIPE_API_KEY"</code> " and " <code>"STRIPE_WEBHOOK_SECRET"</code>
               " and point a Stripe webhook at " <code>"/api/webhooks/stripe"</code> ", or run the Stripe backfill from the Webhooks page."</p>
        </section>
    });
    view! {
        {intro}
        <section class="kpis" aria-label="Key figures">
            <Kpi label="MRR" value=monies(&d.mrr) detail=change_text href="/customers?state=active".into() />
            <Kpi label="Active subscriptions" value=d.active_subscriptions.to_string() detail="status active in Stripe".into() href="/customers?state=active".into() />
            <Kpi label="Accounts in dunning" value=d.dunning_accounts.to_string() detail="past due or unpaid".into() href="/customers?state=past_due".into() />
            <Kpi label="Failed payments today" value=d.failed_payments_today.to_string() detail="since 00:00 UTC".into() href="/webhooks?type=charge.failed".into() />
            <Kpi label="Refunds this week" value=d.refunds_7d_count.to_string() detail=if d.refunds_7d.is_empty() { "nothing refunded".to_string() } else { monies(&d.refunds_7d) } href="/refunds".into() />
            <Kpi label="Urgent billing tickets" value=d.urgent_tickets_open.to_string() detail="waiting for us".into() href="/tickets?queue=billing_urgent".into() />
            <Kpi label="Webhook success (24 h)" value=webhooks detail=format!("{} of {} events", d.webhooks_24h.processed, d.webhooks_24h.considered) href="/webhooks".into() />
            <Kpi label="Jobs" value=format!("{} waiting", d.jobs_waiting) detail=format!("{} dead", d.jobs_dead) href="/jobs?status=dead".into() />
        </section>
        <div class="grid">
            <section class="card" aria-labelledby="mrr-chart">
                <h2 id="mrr-chart">{format!("MRR, last 90 days{}", currency.as_ref().map(|c| format!(" ({})", c.to_uppercase())).unwrap_or_default())}</h2>
                <LineChart title="MRR per day, last 90 days" points=d.mrr_daily.clone() fmt=mrr_fmt />
                <p class="muted small">"From subscription start and end dates at today's prices."</p>
            </section>
            <section class="card" aria-labelledby="failed-chart">
                <h2 id="failed-chart">"Failed payments per day"</h2>
                <BarChart title="Failed payments per day, last 30 days" points=d.failed_daily.clone() />
            </section>
            <section class="card" aria-labelledby="hook-chart">
                <h2 id="hook-chart">"Webhook success per hour"</h2>
                <LineChart title="Webhook success rate per hour, last 24 hours" points=d.webhooks_hourly.clone() fmt=pct_fmt hourly=true />
            </section>
        </div>
        <section class="card section" aria-labelledby="attention-title">
            <h2 id="attention-title">"Needs attention"</h2>
            {if d.attention.iter().all(|g| g.total == 0) {
                view! { <p class="muted">"Nothing: no account in dunning, no identity conflict, no drift, no failed job."</p> }.into_any()
            } else {
                view! { <div class="grid">{d.attention.into_iter().filter(|g| g.total > 0).map(|g| view! { <Attention g now=d.now_ms /> }).collect_view()}</div> }.into_any()
            }}
        </section>
    }
}

#[component]
fn Attention(g: AttentionGroup, now: i64) -> impl IntoView {
    let more = (g.total > g.items.len() as i64).then(|| {
        view! { <a href=g.kind.list_href()>{format!("All {}", g.total)}</a> }
    });
    view! {
        <div>
            <h3>{format!("{} ({})", g.kind.label(), g.total)}</h3>
            <ul class="plain-list">
                {g.items.into_iter().map(|i| view! {
                    <li>
                        <a href=format!("/customers/{}", enc(&i.customer_id))>{i.title}</a>
                        <div class="muted small">{i.detail}" · " <time datetime=time_fmt::iso(i.at_ms) title=time_fmt::utc(i.at_ms)>{time_fmt::relative(i.at_ms, now)}</time></div>
                    </li>
                }).collect_view()}
            </ul>
            {more}
        </div>
    }
}
