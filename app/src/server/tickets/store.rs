//! Rows of `tickets` and `ticket_messages` and their shapes as the domain sees them.

use crate::domain::tickets::{
    MessageKind, Priority, Queue, TicketMessage, TicketReceipt, TicketStatus, TicketSummary,
};
use crate::server::db::Tx;
use sqlx::{any::AnyRow, AnyConnection, Row};

pub const RECEIPT_COLUMNS: &str = "id, number, status, queue, priority, sla_due_at, customer_id";

const SUMMARY_COLUMNS: &str = "t.id, t.number, t.subject, t.queue, t.priority, t.status, t.customer_id, \
     t.requester_name, t.email, t.product_user_id, t.assignee_id, s.name AS assignee, t.sla_due_at, t.created_at, \
     t.updated_at";
const FROM: &str = "FROM tickets t LEFT JOIN staff s ON s.id = t.assignee_id";

/// What `summary` reads — the ticket, its requester and the assignee's name — plus `extra`
/// columns (", t.snapshot, …") for the ticket page.
pub fn select(extra: &str) -> String {
    format!("SELECT {SUMMARY_COLUMNS}{extra} {FROM}")
}

/// Statuses still waiting for us (`TicketStatus::is_open`), for SQL.
pub const WAITING: &str = "('received', 'open')";

fn parse<T>(value: String, f: impl Fn(&str) -> Option<T>) -> Result<T, sqlx::Error> {
    f(&value).ok_or_else(|| sqlx::Error::Decode(format!("unexpected value {value:?}").into()))
}

pub fn receipt(r: &AnyRow) -> Result<TicketReceipt, sqlx::Error> {
    Ok(TicketReceipt {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        status: parse(r.try_get("status")?, TicketStatus::parse)?,
        queue: parse(r.try_get("queue")?, Queue::parse)?,
        priority: parse(r.try_get("priority")?, Priority::parse)?,
        sla_due_ms: r.try_get("sla_due_at")?,
        customer_id: r.try_get("customer_id")?,
    })
}

pub fn summary(r: &AnyRow) -> Result<TicketSummary, sqlx::Error> {
    let name: Option<String> = r.try_get("requester_name")?;
    let email: Option<String> = r.try_get("email")?;
    let user: Option<String> = r.try_get("product_user_id")?;
    Ok(TicketSummary {
        id: r.try_get("id")?,
        number: r.try_get("number")?,
        subject: r.try_get("subject")?,
        queue: parse(r.try_get("queue")?, Queue::parse)?,
        priority: parse(r.try_get("priority")?, Priority::parse)?,
        status: parse(r.try_get("status")?, TicketStatus::parse)?,
        customer_id: r.try_get("customer_id")?,
        requester: name.or(email).or(user).unwrap_or_else(|| "Unknown".into()),
        assignee_id: r.try_get("assignee_id")?,
        assignee: r.try_get("assignee")?,
        sla_due_ms: r.try_get("sla_due_at")?,
        created_ms: r.try_get("created_at")?,
        updated_ms: r.try_get("updated_at")?,
    })
}

pub async fn add_message(
    tx: &mut Tx,
    ticket_id: &str,
    kind: &str,
    author: &str,
    author_id: Option<&str>,
    body: &str,
    now_ms: i64,
) -> Result<String, sqlx::Error> {
    let id = format!("tm_{}", uuid::Uuid::new_v4().simple());
    sqlx::query(
        "INSERT INTO ticket_messages (id, ticket_id, kind, author, author_id, body, created_at) \
         VALUES ($1, $2, $3, $4, $5, $6, $7)",
    )
    .bind(&id)
    .bind(ticket_id)
    .bind(kind)
    .bind(author)
    .bind(author_id)
    .bind(body)
    .bind(now_ms)
    .execute(&mut **tx)
    .await?;
    Ok(id)
}

pub async fn messages(
    conn: &mut AnyConnection,
    ticket_id: &str,
) -> Result<Vec<TicketMessage>, sqlx::Error> {
    sqlx::query(
        "SELECT id, kind, author, body, created_at FROM ticket_messages WHERE ticket_id = $1 ORDER BY created_at, id",
    )
    .bind(ticket_id)
    .fetch_all(&mut *conn)
    .await?
    .iter()
    .map(|r| {
        Ok(TicketMessage {
            id: r.try_get("id")?,
            kind: parse(r.try_get("kind")?, MessageKind::parse)?,
            author: r.try_get("author")?,
            body: r.try_get("body")?,
            at_ms: r.try_get("created_at")?,
        })
    })
    .collect()
}
