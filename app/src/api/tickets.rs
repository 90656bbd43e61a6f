//! The staff inbox (ticket.read to view, ticket.write to change).

use crate::domain::{Assignee, TicketDetail, TicketPage, TicketStatus};
use leptos::prelude::*;

#[cfg(feature = "ssr")]
fn parsed<T>(
    value: Option<String>,
    parse: impl Fn(&str) -> Option<T>,
    what: &str,
) -> Result<Option<T>, ServerFnError> {
    match value.filter(|v| !v.is_empty()) {
        None => Ok(None),
        Some(v) => parse(&v)
            .map(Some)
            .ok_or_else(|| crate::api::ctx::bad_input(format!("Unknown {what}."))),
    }
}

#[server(prefix = "/api/fn", endpoint = "ticket_list")]
pub async fn get_ticket_list(
    queue: Option<String>,
    status: Option<String>,
    assignee: Option<String>,
    priority: Option<String>,
    overdue: Option<String>,
    cursor: Option<String>,
) -> Result<TicketPage, ServerFnError> {
    use crate::domain::{Permission, Priority, Queue, TicketFilter};
    let c = crate::api::ctx::require(Permission::TicketRead).await?;
    // "open" means waiting for us (new or open), the inbox's default; "all" means any status.
    let (status, open_only) = match status.as_deref().unwrap_or("open") {
        "open" | "" => (None, true),
        "all" => (None, false),
        s => (
            parsed(Some(s.to_string()), TicketStatus::parse, "status")?,
            false,
        ),
    };
    let filter = TicketFilter {
        queue: parsed(queue, Queue::parse, "queue")?,
        status,
        open_only,
        assignee: assignee.filter(|a| !a.is_empty() && a.len() <= 64),
        priority: parsed(priority, Priority::parse, "priority")?,
        overdue: overdue.is_some_and(|o| o == "1" || o == "true"),
        cursor: cursor.filter(|c| !c.is_empty()),
    };
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::tickets::inbox::list(&c.state.db, &c.actor, &filter, c.actor.id(), now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "ticket_detail")]
pub async fn get_ticket_detail(id: String) -> Result<TicketDetail, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::TicketRead).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::tickets::inbox::detail(&c.state.db, &c.actor, &id, now)
        .await
        .map_err(crate::api::ctx::fail)?
        .ok_or_else(|| crate::api::ctx::refuse(http::StatusCode::NOT_FOUND, "No such ticket."))
}

/// A reply to the requester (`note` = false) or an internal note; returns the new status.
#[server(prefix = "/api/fn", endpoint = "ticket_message")]
pub async fn add_ticket_message(
    id: String,
    body: String,
    note: Option<String>,
) -> Result<TicketStatus, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::TicketWrite).await?;
    let now = chrono::Utc::now().timestamp_millis();
    let note = note.is_some_and(|n| n == "true" || n == "1");
    crate::server::tickets::inbox::add(&c.state.db, &c.actor, &c.meta, &id, note, &body, now)
        .await
        .map_err(crate::api::ctx::fail)
}

#[server(prefix = "/api/fn", endpoint = "ticket_status")]
pub async fn set_ticket_status(id: String, status: String) -> Result<TicketStatus, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::TicketWrite).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::tickets::inbox::set_status(&c.state.db, &c.actor, &c.meta, &id, &status, now)
        .await
        .map_err(crate::api::ctx::fail)
}

/// Assigns the ticket; an empty `assignee` unassigns it.
#[server(prefix = "/api/fn", endpoint = "ticket_assign")]
pub async fn assign_ticket(
    id: String,
    assignee: Option<String>,
) -> Result<Option<Assignee>, ServerFnError> {
    let c = crate::api::ctx::require(crate::domain::Permission::TicketWrite).await?;
    let now = chrono::Utc::now().timestamp_millis();
    crate::server::tickets::inbox::assign(
        &c.state.db,
        &c.actor,
        &c.meta,
        &id,
        assignee.as_deref(),
        now,
    )
    .await
    .map_err(crate::api::ctx::fail)
}
