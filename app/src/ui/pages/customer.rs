use super::TicketBadges;
use crate::api::{
    error_text, get_current_user, get_customer_view, DecideRefund, PushToCrm, RequestRefund,
    ResyncCustomer, RetryJob,
};
use crate::domain::{time_fmt, ChargeView, CustomerView, Money};
use crate::ui::components::{
    ConfirmButton, CrmPanelCard, CustomerTimeline, DriftPanel, RefundForm, RefundRequests,
};
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::{use_params_map, use_query_map};

/// One customer: who they are in each system, their billing as Stripe last told us, refunds,
/// and everything that happened to them, newest first. Actions follow the viewer's role.
#[component]
pub fn CustomerPage() -> impl IntoView {
    let params = use_params_map();
    let query = use_query_map();
    let id = move || params.read().get("id").unwrap_or_default();
    let source = move || query.read().get("tl").filter(|s| !s.is_empty());
    let resync = ServerAction::<ResyncCustomer>::new();
    let request = ServerAction::<RequestRefund>::new();
    let decide = ServerAction::<DecideRefund>::new();
    let push = ServerAction::<PushToCrm>::new();
    let retry = ServerAction::<RetryJob>::new();
    let refund_for = RwSignal::new(None::<ChargeView>);
    let data = Resource::new(
        move || {
            (
                id(),
                source(),
                resync.version().get(),
                request.version().get(),
                decide.version().get(),
                push.version().get(),
                retry.version().get(),
            )
        },
        |(id, source, ..)| get_customer_view(id, source),
    );
    let me = Resource::new(|| (), |_| get_current_user());
    // A request that went through closes the form; a refused one keeps it open with the reason.
    Effect::new(move |_| {
        if matches!(request.value().get(), Some(Ok(_))) {
            refund_for.set(None);
        }
    });
    let notice = move || {
        let made = request.value().get().and_then(|r| r.ok()).map(|r| {
            format!(
                "Refund of {} requested: {}.",
                Money::new(r.amount, r.currency).display(),
                r.status.label().to_lowercase()
            )
        });
        let decided = decide
            .value()
            .get()
            .map(|r| r.map(|r| format!("Refund request {}.", r.status.label().to_lowercase())));
        let synced = resync
            .value()
            .get()
            .map(|r| r.map(|changes| resync_text(&changes)));
        let mut out = Vec::new();
        if let Some(m) = made {
            out.push(view! { <p class="notice" role="status">{m}</p> }.into_any());
        }
        let pushed = push.value().get();
        let retried = retry
            .value()
            .get()
            .map(|r| r.map(|j| format!("Job {} queued to run again now.", j.kind)));
        for r in [decided, synced, pushed, retried].into_iter().flatten() {
            out.push(match r {
                Ok(m) => view! { <p class="notice" role="status">{m}</p> }.into_any(),
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
            });
        }
        out
    };
    view! {
        <Title text="Customer" />
        <p><a href="/customers">"← All customers"</a></p>
        {notice}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading the customer…"</p> }>
            {move || data.get().map(|r| match r {
                Err(e) => view! {
                    <section class="card empty-state"><h1>"Customer not available"</h1><p>{error_text(&e)}</p></section>
                }.into_any(),
                Ok(v) => {
                    let viewer = me.get().and_then(|r| r.ok()).flatten().map(|u| u.email);
                    view! { <CustomerBody v viewer resync decide push retry refund_for /> }.into_any()
                }
            })}
        </Transition>
        {move || refund_for.get().map(|charge| {
            let limit = data.get().and_then(|r| r.ok()).and_then(|v| v.actions.refund_limit);
            view! { <RefundForm charge limit request on_close=Callback::new(move |_| refund_for.set(None)) /> }
        })}
    }
}

/// "table:id" → {before, after} from the re-sync, as one sentence.
fn resync_text(changes: &str) -> String {
    let n = serde_json::from_str::<serde_json::Map<String, serde_json::Value>>(changes)
        .map(|m| m.len())
        .unwrap_or(0);
    match n {
        0 => "Re-synced from Stripe: the mirror already matched.".into(),
        1 => "Re-synced from Stripe: 1 record changed (see the audit log for the diff).".into(),
        n => {
            format!("Re-synced from Stripe: {n} records changed (see the audit log for the diff).")
        }
    }
}

fn date(ms: Option<i64>) -> String {
    ms.map(time_fmt::utc).unwrap_or_else(|| "—".into())
}

#[component]
fn CustomerBody(
    v: CustomerView,
    viewer: Option<String>,
    resync: ServerAction<ResyncCustomer>,
    decide: ServerAction<DecideRefund>,
    push: ServerAction<PushToCrm>,
    retry: ServerAction<RetryJob>,
    refund_for: RwSignal<Option<ChargeView>>,
) -> impl IntoView {
    let c = v.customer.clone();
    let crm = view! { <CrmPanelCard panel=v.crm.clone() customer_id=c.id.clone() push /> };
    let plan = v.subscriptions.first().map(|s| {
        let price = s.price.as_ref().map(|p| {
            format!(
                " · {}{}",
                p.display(),
                s.interval
                    .as_ref()
                    .map(|i| format!(" per {i}"))
                    .unwrap_or_default()
            )
        });
        format!(
            "{}{}",
            s.plan_name.clone().unwrap_or_else(|| "Unnamed plan".into()),
            price.unwrap_or_default()
        )
    });
    let lifetime = if v.lifetime_paid.is_empty() {
        "—".to_string()
    } else {
        v.lifetime_paid
            .iter()
            .map(Money::display)
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let now = v.timeline.now_ms;
    let mrr = if v.mrr.is_empty() {
        "—".to_string()
    } else {
        v.mrr
            .iter()
            .map(Money::display)
            .collect::<Vec<_>>()
            .join(" + ")
    };
    let last_payment = v.charges.first().map(|ch| {
        let status = ch.status.clone().unwrap_or_else(|| "unknown".into());
        let tone = match status.as_str() {
            "succeeded" => "ok",
            "failed" => "fail",
            _ => "neutral",
        };
        let at = ch
            .created_ms
            .map(|t| time_fmt::relative(t, now))
            .unwrap_or_default();
        (ch.amount.display(), status, tone, at)
    });
    let open_tickets = match v
        .tickets
        .iter()
        .filter(|t| t.status != crate::domain::TicketStatus::Solved)
        .count()
    {
        0 => "No open tickets".to_string(),
        1 => "1 open ticket".to_string(),
        n => format!("{n} open tickets"),
    };
    let crm_health = v.crm.health();
    let crm_line = if !v.crm.enabled {
        "No CRM configured".to_string()
    } else {
        let stage = v
            .crm
            .lifecycle_stage
            .clone()
            .unwrap_or_else(|| "no stage".into());
        let synced = v
            .crm
            .synced_at_ms
            .map(|t| format!("synced {}", time_fmt::relative(t, now)))
            .unwrap_or_else(|| "never synced".into());
        format!("{stage} · {synced}")
    };
    let resync_form = v.actions.can_resync.then(|| {
        let id = c.id.clone();
        view! {
            <ActionForm action=resync attr:class="row-form">
                <input type="hidden" name="customer_id" value=id />
                <ConfirmButton label="Re-sync from Stripe" confirm="Re-sync now"
                    warning="Fetches this customer's subscriptions, invoices and payments from Stripe and updates the mirror (audited).".to_string() />
                {move || resync.pending().get().then(|| view! { <span class="muted small" role="status">"Re-syncing…"</span> })}
            </ActionForm>
        }
    });
    let can_refund = v.actions.can_refund && v.actions.stripe_configured;
    view! {
        <div class="page-header">
            <p class="eyebrow">"Customer"</p>
            <h1>{c.title()}</h1>
            <p>
                <span class=format!("badge status-{}", c.state.tone())>{c.state.label()}</span>
                " " <code>{c.id.clone()}</code>
                {c.email.clone().filter(|e| Some(e) != c.name.as_ref()).map(|e| view! { " · " {e} })}
            </p>
        </div>
        <div class="actions">{resync_form}</div>
        <section class="kpis" aria-label="Account at a glance">
            <div class="card kpi">
                <p class="kpi-label">"Plan"</p>
                <p class="kpi-text">{plan.unwrap_or_else(|| "No subscription".into())}</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"MRR"</p>
                <p class="kpi-text">{mrr}</p>
                <p class="muted small">"Lifetime paid " {lifetime}</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Last payment"</p>
                {match last_payment {
                    Some((amount, status, tone, at)) => view! {
                        <p class="kpi-text">{amount}" " <span class=format!("badge status-{tone}")>{status}</span></p>
                        <p class="muted small">{at}</p>
                    }.into_any(),
                    None => view! { <p class="kpi-text">"None yet"</p> }.into_any(),
                }}
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Support"</p>
                <p class="kpi-text"><a href="#tickets-title">{open_tickets}</a></p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"CRM"</p>
                <p class="kpi-text"><span class=format!("badge status-{}", crm_health.1)>{crm_health.0}</span></p>
                <p class="muted small">{crm_line}</p>
            </div>
            <div class="card kpi">
                <p class="kpi-label">"Identities"</p>
                <ul class="plain-list">
                    {c.product_user_id.clone().map(|u| view! { <li>"Product user " <code>{u}</code></li> })}
                    {v.stripe.iter().map(|s| view! {
                        <li>
                            <a href=s.dashboard_url() target="_blank" rel="noopener noreferrer">"Stripe " <code>{s.id.clone()}</code></a>
                            {(!s.livemode).then_some(" (test mode)")}
                            {s.deleted.then_some(" (deleted in Stripe)")}
                        </li>
                    }).collect_view()}
                    {v.crm.contact_id.clone().map(|id| match v.crm.contact_url.clone() {
                        Some(url) => view! { <li><a href=url target="_blank" rel="noopener noreferrer">"CRM contact " <code>{id}</code></a></li> }.into_any(),
                        None => view! { <li>"CRM contact " <code>{id}</code></li> }.into_any(),
                    })}
                </ul>
            </div>
        </section>
        <div class="grid">
            <section class="card" aria-labelledby="subs-title">
                <h2 id="subs-title">"Subscriptions"</h2>
                {if v.subscriptions.is_empty() {
                    view! { <p class="muted">"None in the mirror."</p> }.into_any()
                } else {
                    view! { <ul class="plain-list">{v.subscriptions.into_iter().map(|s| {
                        let when = if let Some(t) = s.trial_end_ms.filter(|_| s.status == "trialing") {
                            format!("trial ends {}", time_fmt::utc(t))
                        } else if s.cancel_at_period_end {
                            format!("cancels {}", date(s.current_period_end_ms))
                        } else if let Some(t) = s.canceled_at_ms {
                            format!("canceled {}", time_fmt::utc(t))
                        } else {
                            format!("renews {}", date(s.current_period_end_ms))
                        };
                        view! {
                            <li>
                                <strong>{s.plan_name.unwrap_or_else(|| "Unnamed plan".into())}</strong>
                                " " <span class="badge">{s.status}</span>
                                <div class="muted small">
                                    {s.price.map(|p| p.display())}
                                    {s.quantity.filter(|q| *q > 1).map(|q| format!(" × {q}"))}
                                    {format!(" · {when}")}
                                </div>
                                <div class="muted small"><code>{s.id}</code></div>
                            </li>
                        }
                    }).collect_view()}</ul> }.into_any()
                }}
            </section>
            <section class="card" aria-labelledby="inv-title">
                <h2 id="inv-title">"Recent invoices"</h2>
                {if v.invoices.is_empty() {
                    view! { <p class="muted">"None in the mirror."</p> }.into_any()
                } else {
                    view! { <div class="table-wrap"><table>
                        <thead><tr><th scope="col">"Invoice"</th><th scope="col">"Total"</th><th scope="col">"Status"</th><th scope="col">"Attempts"</th></tr></thead>
                        <tbody>{v.invoices.into_iter().map(|i| {
                            let failing = i.status.as_deref() == Some("open") && i.attempt_count > 0;
                            let label = i.number.clone().unwrap_or_else(|| i.id.clone());
                            let tone = if failing { "fail" } else if i.status.as_deref() == Some("paid") { "ok" } else { "neutral" };
                            let status = if failing { "payment failed".to_string() } else { i.status.clone().unwrap_or_default() };
                            view! {
                                <tr>
                                    <td>
                                        {match i.hosted_url {
                                            Some(u) => view! { <a href=u target="_blank" rel="noopener noreferrer">{label}</a> }.into_any(),
                                            None => view! { <code>{label}</code> }.into_any(),
                                        }}
                                        <div class="muted small">{date(i.created_ms)}</div>
                                    </td>
                                    <td class="nowrap">{i.total.map(|t| t.display())}</td>
                                    <td>
                                        <span class=format!("badge status-{tone}")>{status}</span>
                                        {i.next_payment_attempt_ms.filter(|_| failing).map(|t| view! { <div class="muted small">{format!("next try {}", time_fmt::utc(t))}</div> })}
                                    </td>
                                    <td>{i.attempt_count}</td>
                                </tr>
                            }
                        }).collect_view()}</tbody>
                    </table></div> }.into_any()
                }}
            </section>
        </div>
        <section class="card section" aria-labelledby="pay-title">
            <h2 id="pay-title">"Payments"</h2>
            {(v.actions.can_refund && !v.actions.stripe_configured).then(|| view! {
                <p class="muted small">"Refunds need the Stripe API key (STRIPE_API_KEY)."</p>
            })}
            {if v.charges.is_empty() {
                view! { <p class="muted">"No payments in the mirror."</p> }.into_any()
            } else {
                view! { <div class="table-wrap"><table>
                    <thead><tr><th scope="col">"Date (UTC)"</th><th scope="col">"Payment"</th><th scope="col">"Amount"</th><th scope="col">"Status"</th><th scope="col"><span class="visually-hidden">"Actions"</span></th></tr></thead>
                    <tbody>{v.charges.into_iter().map(|ch| {
                        let refunded = (ch.refunded > 0).then(|| format!("{} refunded", Money::new(ch.refunded, ch.amount.currency.clone()).display()));
                        let tone = match ch.status.as_deref() { Some("succeeded") => "ok", Some("failed") => "fail", _ => "neutral" };
                        let button = (can_refund && ch.refundable > 0).then(|| {
                            let charge = ch.clone();
                            let label = format!("Refund payment {}", ch.id);
                            view! {
                                <button class="button secondary small-button" type="button" aria-label=label
                                    on:click=move |_| refund_for.set(Some(charge.clone()))>"Refund…"</button>
                            }
                        });
                        view! {
                            <tr>
                                <td class="nowrap">{date(ch.created_ms)}</td>
                                <td><code>{ch.id.clone()}</code></td>
                                <td class="nowrap">{ch.amount.display()}{refunded.map(|r| view! { <div class="muted small">{r}</div> })}</td>
                                <td>
                                    <span class=format!("badge status-{tone}")>{ch.status.clone().unwrap_or_default()}</span>
                                    {ch.disputed.then(|| view! { " " <span class="badge status-fail">"disputed"</span> })}
                                    {ch.failure_message.clone().map(|m| view! { <div class="error-text small">{m}</div> })}
                                </td>
                                <td>{button}</td>
                            </tr>
                        }
                    }).collect_view()}</tbody>
                </table></div> }.into_any()
            }}
        </section>
        {(!v.refunds.is_empty()).then(|| view! {
            <section class="card section" aria-labelledby="refunds-title">
                <h2 id="refunds-title">"Refund requests"</h2>
                <RefundRequests requests=v.refunds can_approve=v.actions.can_approve viewer_email=viewer decide />
            </section>
        })}
        {crm}
        <DriftPanel customer_id=c.id.clone() resync push />
        <FailedJobs jobs=v.dead_jobs.clone() can_retry=v.actions.can_retry_jobs retry />
        <CustomerTickets tickets=v.tickets />
        <section class="card section" aria-labelledby="timeline-title">
            <h2 id="timeline-title">"Timeline"</h2>
            <CustomerTimeline customer_id=c.id.clone() first=v.timeline />
        </section>
    }
}

/// Jobs for this customer that gave up, with why, and Retry for those who may.
#[component]
fn FailedJobs(
    jobs: Vec<crate::domain::JobSummary>,
    can_retry: bool,
    retry: ServerAction<RetryJob>,
) -> impl IntoView {
    (!jobs.is_empty()).then(|| view! {
        <section class="card section" aria-labelledby="dead-title">
            <h2 id="dead-title">"Failed jobs"</h2>
            <ul class="plain-list">{jobs.into_iter().map(|j| {
                let form = can_retry.then(|| {
                    let id = j.id.clone();
                    view! {
                        <ActionForm action=retry attr:class="row-form">
                            <input type="hidden" name="id" value=id />
                            <ConfirmButton label="Retry" confirm="Retry now"
                                warning="Runs the job again now; it is idempotent.".to_string() />
                        </ActionForm>
                    }
                });
                view! {
                    <li>
                        <a href=format!("/jobs/{}", crate::domain::url::enc(&j.id))><code>{j.kind.clone()}</code></a>
                        " gave up after " {j.attempts} " attempts"
                        <div class="error-text small">{j.last_error.clone().unwrap_or_default()}</div>
                        {form}
                    </li>
                }
            }).collect_view()}</ul>
        </section>
    })
}

/// The customer's newest tickets, each linking to the inbox page.
#[component]
fn CustomerTickets(tickets: Vec<crate::domain::TicketSummary>) -> impl IntoView {
    view! {
        <section class="card section" aria-labelledby="tickets-title">
            <h2 id="tickets-title">"Support tickets"</h2>
            {if tickets.is_empty() {
                view! { <p class="muted">"No tickets from this customer."</p> }.into_any()
            } else {
                view! { <ul class="plain-list">{tickets.into_iter().map(|t| view! {
                    <li>
                        <a href=format!("/tickets/{}", crate::domain::url::enc(&t.id))>{format!("#{} ", t.number)}{t.subject}</a>" "
                        <TicketBadges queue=t.queue priority=t.priority status=t.status />
                        <div class="muted small">{time_fmt::utc(t.created_ms)}</div>
                    </li>
                }).collect_view()}</ul> }.into_any()
            }}
        </section>
    }
}
