use crate::api::{error_text, get_current_user, list_refunds, DecideRefund};
use crate::domain::{Permission, RefundStatus};
use crate::ui::components::RefundRequests;
use leptos::prelude::*;
use leptos_meta::Title;
use leptos_router::hooks::use_query_map;

/// Refund requests across customers; by default the approvals queue, so a second person finds
/// what waits for them.
#[component]
pub fn RefundsPage() -> impl IntoView {
    let query = use_query_map();
    let status = move || {
        query
            .read()
            .get("status")
            .unwrap_or_else(|| RefundStatus::PendingApproval.as_str().to_string())
    };
    let decide = ServerAction::<DecideRefund>::new();
    let list = Resource::new(
        move || (status(), decide.version().get()),
        |(s, _)| list_refunds(Some(s), None),
    );
    let me = Resource::new(|| (), |_| get_current_user());
    view! {
        <Title text="Refunds" />
        <div class="page-header">
            <h1>"Refunds"</h1>
            <p class="muted">"Refunds above the requester's limit wait here for a second person with approval rights."</p>
        </div>
        <nav class="tabs" aria-label="Refund status">
            <a href="/refunds" aria-current=move || (status() == "pending_approval").then_some("page")>"Waiting for approval"</a>
            {[RefundStatus::Approved, RefundStatus::Executed, RefundStatus::Failed, RefundStatus::Rejected].into_iter().map(|s| {
                let v = s.as_str();
                view! { <a href=format!("/refunds?status={v}") aria-current=move || (status() == v).then_some("page")>{s.label()}</a> }
            }).collect_view()}
        </nav>
        {move || decide.value().get().map(|r| match r {
            Ok(r) => view! { <p class="notice" role="status">{format!("Refund request {}.", r.status.label().to_lowercase())}</p> }.into_any(),
            Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
        })}
        <Transition fallback=|| view! { <p class="loading" role="status">"Loading refund requests…"</p> }>
            {move || list.get().map(|r| match r {
                Err(e) => view! { <p class="error" role="alert">{error_text(&e)}</p> }.into_any(),
                Ok(items) if items.is_empty() => view! {
                    <section class="card empty-state"><h2>"Nothing here"</h2><p>"No refund request is in this state."</p></section>
                }.into_any(),
                Ok(items) => {
                    let user = me.get().and_then(|r| r.ok()).flatten();
                    let can_approve = user.as_ref().is_some_and(|u| u.role.can(Permission::BillingRefundApprove));
                    view! {
                        <section class="card">
                            <RefundRequests requests=items can_approve viewer_email=user.map(|u| u.email) decide show_customer=true />
                        </section>
                    }.into_any()
                }
            })}
        </Transition>
    }
}
