//! The staff inbox: lists with filters and queue counts, one ticket with its thread and account
//! (then and now), and the changes staff make — reply, internal note, status, assignee — each
//! audited. Permissions are the caller's business (ticket.read / ticket.write).

use super::{enrich, request::MESSAGE_MAX, store};
use crate::domain::tickets::{
    Assignee, Category, Queue, QueueCount, Snapshot, TicketDetail, TicketFilter, TicketPage,
    TicketStatus, TicketSummary,
};
use crate::domain::{Outcome, Permission, Role};
use crate::server::actor::{Actor, ReadError, RequestMeta};
use crate::server::db::keyset::{next_cursor, ListQuery};
use crate::server::db::{Db, Tx};
use crate::server::services::{audit, timeline};
use sqlx::Row;

pub const PAGE_SIZE: i64 = 50;

#[derive(Debug, thiserror::Error)]
pub enum TicketError {
    #[error(transparent)]
    Denied(#[from] crate::server::actor::Denied),
    #[error("No such ticket.")]
    NotFound,
    #[error("Write something first.")]
    Empty,
    #[error("Keep it under {MESSAGE_MAX} characters.")]
    TooLong,
    #[error("Choose open, pending or solved.")]
    BadStatus,
    #[error("Choose a staff member who can work on tickets.")]
    BadAssignee,
    #[error("Nothing to change: the ticket is already like that.")]
    Unchanged,
    #[error(transparent)]
    Db(#[from] sqlx::Error),
}

crate::service_error!(TicketError {
    denied: Denied,
    internal: [Db],
    Self::NotFound => NOT_FOUND,
    Self::Unchanged => CONFLICT,
    _ => UNPROCESSABLE_ENTITY,
});

pub async fn list(
    db: &Db,
    actor: &Actor,
    filter: &TicketFilter,
    viewer_id: Option<&str>,
    now_ms: i64,
) -> Result<TicketPage, ReadError> {
    actor.require(Permission::TicketRead)?;
    Ok(list_rows(db, filter, viewer_id, now_ms).await?)
}

async fn list_rows(
    db: &Db,
    filter: &TicketFilter,
    viewer_id: Option<&str>,
    now_ms: i64,
) -> Result<TicketPage, sqlx::Error> {
    let mut q = ListQuery::new(format!("{} WHERE 1 = 1", store::select("")));
    if let Some(queue) = filter.queue {
        q.and(" AND t.queue = ?", [queue.as_str().into()]);
    }
    match filter.status {
        Some(s) => {
            q.and(" AND t.status = ?", [s.as_str().into()]);
        }
        None if filter.open_only => {
            q.and(&format!(" AND t.status IN {}", store::WAITING), []);
        }
        None => {}
    }
    if let Some(p) = filter.priority {
        q.and(" AND t.priority = ?", [p.as_str().into()]);
    }
    match filter.assignee.as_deref() {
        Some("none") => {
            q.and(" AND t.assignee_id IS NULL", []);
        }
        Some("me") => {
            q.and(" AND t.assignee_id = ?", [viewer_id.unwrap_or("-").into()]);
        }
        Some(id) if !id.is_empty() => {
            q.and(" AND t.assignee_id = ?", [id.into()]);
        }
        _ => {}
    }
    if filter.overdue {
        q.and(
            &format!(" AND t.status IN {} AND t.sla_due_at < ?", store::WAITING),
            [now_ms.into()],
        );
    }
    let rows = q
        .fetch_page(
            db,
            "t.created_at",
            "t.id",
            filter.cursor.as_deref(),
            PAGE_SIZE,
        )
        .await?;
    let mut items = rows
        .iter()
        .map(store::summary)
        .collect::<Result<Vec<_>, _>>()?;
    let next_cursor = next_cursor(&mut items, PAGE_SIZE, |t| (t.created_ms, &t.id));
    Ok(TicketPage {
        items,
        next_cursor,
        queues: queue_counts(db, now_ms).await?,
        now_ms,
    })
}

/// Tickets waiting for us per queue, and how many of them are past due.
pub async fn queue_counts(db: &Db, now_ms: i64) -> Result<Vec<QueueCount>, sqlx::Error> {
    let rows = sqlx::query(&format!(
        "SELECT queue, COUNT(*) AS open, \
           CAST(SUM(CASE WHEN sla_due_at < $1 THEN 1 ELSE 0 END) AS BIGINT) AS overdue \
         FROM tickets WHERE status IN {} GROUP BY queue",
        store::WAITING
    ))
    .bind(now_ms)
    .fetch_all(db.pool())
    .await?;
    let mut out = Vec::new();
    for queue in Queue::ALL {
        let row = rows
            .iter()
            .find(|r| r.try_get::<String, _>("queue").ok().as_deref() == Some(queue.as_str()));
        out.push(QueueCount {
            queue: *queue,
            open: row.map(|r| r.try_get("open")).transpose()?.unwrap_or(0),
            overdue: row
                .map(|r| r.try_get::<Option<i64>, _>("overdue"))
                .transpose()?
                .flatten()
                .unwrap_or(0),
        });
    }
    Ok(out)
}

/// A customer's tickets, newest first (the customer page lists them).
pub async fn for_customer(
    db: &Db,
    customer_id: &str,
    limit: i64,
) -> Result<Vec<TicketSummary>, sqlx::Error> {
    sqlx::query(&format!(
        "{} WHERE t.customer_id = $1 ORDER BY t.created_at DESC, t.id DESC LIMIT $2",
        store::select("")
    ))
    .bind(customer_id)
    .bind(limit)
    .fetch_all(db.pool())
    .await?
    .iter()
    .map(store::summary)
    .collect()
}

/// Staff a ticket may be assigned to: active, with ticket.write.
pub async fn assignees(db: &Db) -> Result<Vec<Assignee>, sqlx::Error> {
    let rows: Vec<(String, String, String)> =
        sqlx::query_as("SELECT id, name, role FROM staff WHERE active = 1 ORDER BY name, id")
            .fetch_all(db.pool())
            .await?;
    Ok(rows
        .into_iter()
        .filter(|(_, _, role)| {
            role.parse::<Role>()
                .is_ok_and(|r| r.can(Permission::TicketWrite))
        })
        .map(|(id, name, _)| Assignee { id, name })
        .collect())
}

pub async fn detail(
    db: &Db,
    actor: &Actor,
    id: &str,
    now_ms: i64,
) -> Result<Option<TicketDetail>, ReadError> {
    actor.require(Permission::TicketRead)?;
    let can_write = actor.require(Permission::TicketWrite).is_ok();
    let Some(row) = sqlx::query(&format!(
        "{} WHERE t.id = $1",
        store::select(", t.category, t.route_reasons, t.snapshot, t.helpdesk_id")
    ))
    .bind(id)
    .fetch_optional(db.pool())
    .await?
    else {
        return Ok(None);
    };
    let ticket = store::summary(&row)?;
    let reasons: String = row.try_get("route_reasons")?;
    let snapshot: String = row.try_get("snapshot")?;
    let category: Option<String> = row.try_get("category")?;
    let mut conn = db.pool().acquire().await?;
    let messages = store::messages(&mut conn, id).await?;
    let live = match &ticket.customer_id {
        Some(c) => Some(enrich::snapshot(&mut conn, c, now_ms).await?),
        None => None,
    };
    drop(conn);
    Ok(Some(TicketDetail {
        email: row.try_get("email")?,
        product_user_id: row.try_get("product_user_id")?,
        category: category.as_deref().and_then(Category::parse),
        reasons: serde_json::from_str(&reasons).unwrap_or_default(),
        snapshot: serde_json::from_str::<Snapshot>(&snapshot).unwrap_or_default(),
        helpdesk_id: row.try_get("helpdesk_id")?,
        messages,
        live,
        can_write,
        assignees: if can_write {
            assignees(db).await?
        } else {
            Vec::new()
        },
        ticket,
        now_ms,
    }))
}

/// Locks the ticket for a change: its number, status, assignee and customer.
async fn current(
    tx: &mut Tx,
    id: &str,
) -> Result<(i64, TicketStatus, Option<String>, Option<String>), TicketError> {
    let row: Option<(i64, String, Option<String>, Option<String>)> = sqlx::query_as(
        "SELECT number, status, assignee_id, customer_id FROM tickets WHERE id = $1",
    )
    .bind(id)
    .fetch_optional(&mut **tx)
    .await?;
    let (number, status, assignee, customer) = row.ok_or(TicketError::NotFound)?;
    let status = TicketStatus::parse(&status).ok_or(TicketError::NotFound)?;
    Ok((number, status, assignee, customer))
}

fn body(text: &str) -> Result<String, TicketError> {
    let text = text.replace("\r\n", "\n");
    let text = text.trim();
    if text.is_empty() {
        return Err(TicketError::Empty);
    }
    if text.chars().count() > MESSAGE_MAX {
        return Err(TicketError::TooLong);
    }
    Ok(text.to_string())
}

/// A reply to the requester (stored; outbound email is not sent) or an internal note.
/// A reply moves a new or open ticket to pending (waiting on the customer); a note opens a new one.
pub async fn add(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    note: bool,
    text: &str,
    now_ms: i64,
) -> Result<TicketStatus, TicketError> {
    actor.require(Permission::TicketWrite)?;
    let text = body(text)?;
    let mut tx = db.begin().await?;
    let (number, status, _, customer) = current(&mut tx, id).await?;
    let kind = if note { "note" } else { "reply" };
    store::add_message(&mut tx, id, kind, &actor.label(), actor.id(), &text, now_ms).await?;
    let next = match (note, status) {
        (false, TicketStatus::Received | TicketStatus::Open) => TicketStatus::Pending,
        (true, TicketStatus::Received) => TicketStatus::Open,
        (_, s) => s,
    };
    sqlx::query(
        "UPDATE tickets SET status = $1, updated_at = $2, first_response_at = COALESCE(first_response_at, $3) \
         WHERE id = $4",
    )
    .bind(next.as_str())
    .bind(now_ms)
    .bind((!note).then_some(now_ms))
    .bind(id)
    .execute(&mut *tx)
    .await?;
    if let (false, Some(customer)) = (note, &customer) {
        timeline::record(
            &mut tx,
            &timeline::Entry {
                id: format!("tl_reply_{}_{now_ms}", id),
                customer_id: customer,
                at_ms: now_ms,
                source: "ticket",
                kind: "ticket.replied",
                summary: format!("Reply on ticket #{number} by {}", actor.label()),
                ref_type: Some("ticket"),
                ref_id: Some(id),
                amount: None,
                currency: None,
            },
            now_ms,
        )
        .await?;
    }
    let action = if note {
        "ticket.noted"
    } else {
        "ticket.replied"
    };
    let entry = audit::NewEntry::new(actor, meta, action, Outcome::Ok)
        .target("ticket", id)
        .details(serde_json::json!({ "number": number, "status": next.as_str(), "chars": text.chars().count() }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(next)
}

pub async fn set_status(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    status: &str,
    now_ms: i64,
) -> Result<TicketStatus, TicketError> {
    actor.require(Permission::TicketWrite)?;
    let to = TicketStatus::parse(status)
        .filter(|s| TicketStatus::SETTABLE.contains(s))
        .ok_or(TicketError::BadStatus)?;
    let mut tx = db.begin().await?;
    let (number, from, _, _) = current(&mut tx, id).await?;
    if from == to {
        return Err(TicketError::Unchanged);
    }
    sqlx::query(
        "UPDATE tickets SET status = $1, updated_at = $2, solved_at = CASE WHEN $1 = 'solved' THEN $2 ELSE NULL END WHERE id = $3",
    )
    .bind(to.as_str())
    .bind(now_ms)
    .bind(id)
    .execute(&mut *tx)
    .await?;
    let entry = audit::NewEntry::new(actor, meta, "ticket.status_changed", Outcome::Ok)
        .target("ticket", id)
        .details(serde_json::json!({ "number": number, "from": from.as_str(), "to": to.as_str() }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(to)
}

/// Assigns to a staff member who can work on tickets, or unassigns (`None` or "").
pub async fn assign(
    db: &Db,
    actor: &Actor,
    meta: &RequestMeta,
    id: &str,
    assignee: Option<&str>,
    now_ms: i64,
) -> Result<Option<Assignee>, TicketError> {
    actor.require(Permission::TicketWrite)?;
    let assignee = assignee.map(str::trim).filter(|a| !a.is_empty());
    let chosen = match assignee {
        Some(staff_id) => Some(
            assignees(db)
                .await?
                .into_iter()
                .find(|a| a.id == staff_id)
                .ok_or(TicketError::BadAssignee)?,
        ),
        None => None,
    };
    let mut tx = db.begin().await?;
    let (number, status, before, _) = current(&mut tx, id).await?;
    if before.as_deref() == assignee {
        return Err(TicketError::Unchanged);
    }
    let status = if status == TicketStatus::Received {
        TicketStatus::Open
    } else {
        status
    };
    sqlx::query("UPDATE tickets SET assignee_id = $1, status = $2, updated_at = $3 WHERE id = $4")
        .bind(assignee)
        .bind(status.as_str())
        .bind(now_ms)
        .bind(id)
        .execute(&mut *tx)
        .await?;
    let entry = audit::NewEntry::new(actor, meta, "ticket.assigned", Outcome::Ok)
        .target("ticket", id)
        .details(serde_json::json!({
            "number": number,
            "from": before,
            "to": chosen.as_ref().map(|a| &a.id),
            "to_name": chosen.as_ref().map(|a| &a.name),
        }));
    audit::append(&mut tx, entry, now_ms).await?;
    tx.commit().await?;
    Ok(chosen)
}
