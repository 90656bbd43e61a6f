//! The optional copy of each new ticket in an external help desk, run as the `helpdesk.copy`
//! job so a slow or failing help desk never delays intake. Zendesk is the one implementation:
//! the copy carries `external_id` = our ticket number, and the job looks that up before
//! creating, so a retry after a lost answer finds the first copy instead of making a second.

use super::intake::HELPDESK_COPY_JOB;
use crate::server::config::tickets::ZendeskConfig;
use crate::server::db::Db;
use crate::server::jobs::{JobError, JobHandler};
use async_trait::async_trait;
use serde_json::{json, Value};
use std::{sync::Arc, time::Duration};

/// What the help desk receives.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct OutboundTicket {
    pub external_id: String,
    pub subject: String,
    pub body: String,
    pub requester_email: Option<String>,
    pub requester_name: Option<String>,
    /// urgent | high | normal
    pub priority: String,
    pub tags: Vec<String>,
}

#[async_trait]
pub trait Helpdesk: Send + Sync + std::fmt::Debug {
    /// The help desk's id for the ticket with this external id, if it has one.
    async fn find(&self, external_id: &str) -> Result<Option<String>, JobError>;
    /// Creates the ticket; returns the help desk's id.
    async fn create(&self, ticket: &OutboundTicket) -> Result<String, JobError>;
}

#[derive(Debug)]
pub struct Zendesk {
    client: reqwest::Client,
    config: ZendeskConfig,
}

/// When a 429 carries no Retry-After.
const DEFAULT_RETRY_AFTER: Duration = Duration::from_secs(60);

impl Zendesk {
    pub fn new(config: ZendeskConfig) -> Result<Zendesk, reqwest::Error> {
        Ok(Zendesk {
            client: reqwest::Client::builder().timeout(config.timeout).build()?,
            config,
        })
    }

    async fn call(&self, req: reqwest::RequestBuilder) -> Result<Value, JobError> {
        let res = req
            .basic_auth(
                format!("{}/token", self.config.email),
                Some(self.config.token.expose()),
            )
            .send()
            .await
            .map_err(|e| {
                JobError::transient(if e.is_timeout() {
                    format!(
                        "Zendesk did not answer within {} ms",
                        self.config.timeout.as_millis()
                    )
                } else {
                    "Zendesk could not be reached".into()
                })
            })?;
        let status = res.status();
        let retry_after = crate::server::http::retry_after(&res);
        let text = res
            .text()
            .await
            .map_err(|_| JobError::transient("Zendesk's answer was cut off"))?;
        if status.is_success() {
            return serde_json::from_str(&text).map_err(|_| {
                JobError::Permanent("Zendesk answered with something that is not JSON".into())
            });
        }
        // Zendesk errors: {"error": "RecordInvalid", "description": "...", "details": {...}}.
        let vendor = serde_json::from_str::<Value>(&text)
            .ok()
            .and_then(|v| {
                let d = v.get("description").and_then(Value::as_str);
                let e = v.get("error").and_then(Value::as_str);
                d.or(e).map(str::to_string)
            })
            .unwrap_or_else(|| text.chars().take(200).collect());
        let message = format!("Zendesk {}: {vendor}", status.as_u16());
        Err(match status.as_u16() {
            429 => JobError::Transient {
                message,
                retry_after: Some(retry_after.unwrap_or(DEFAULT_RETRY_AFTER)),
            },
            408 | 500..=599 => JobError::Transient {
                message,
                retry_after,
            },
            _ => JobError::Permanent(message),
        })
    }

    fn url(&self, path: &str) -> String {
        format!("{}{path}", self.config.api_base)
    }
}

fn id_of(ticket: Option<&Value>) -> Option<String> {
    match ticket?.get("id")? {
        Value::Number(n) => Some(n.to_string()),
        Value::String(s) => Some(s.clone()),
        _ => None,
    }
}

#[async_trait]
impl Helpdesk for Zendesk {
    async fn find(&self, external_id: &str) -> Result<Option<String>, JobError> {
        let v = self
            .call(
                self.client
                    .get(self.url("/api/v2/tickets.json"))
                    .query(&[("external_id", external_id)]),
            )
            .await?;
        Ok(id_of(v.get("tickets").and_then(|t| t.get(0))))
    }

    async fn create(&self, t: &OutboundTicket) -> Result<String, JobError> {
        let mut ticket = json!({
            "subject": t.subject,
            "comment": { "body": t.body },
            "priority": t.priority,
            "tags": t.tags,
            "external_id": t.external_id,
        });
        // Without an email Zendesk cannot find or make the requester; the agent files it.
        if let Some(email) = &t.requester_email {
            ticket["requester"] = json!({
                "email": email,
                "name": t.requester_name.clone().unwrap_or_else(|| email.clone()),
            });
        }
        let v = self
            .call(
                self.client
                    .post(self.url("/api/v2/tickets.json"))
                    .json(&json!({ "ticket": ticket })),
            )
            .await?;
        id_of(v.get("ticket"))
            .ok_or_else(|| JobError::Permanent("Zendesk's answer has no ticket id".into()))
    }
}

pub struct HelpdeskCopy {
    helpdesk: Arc<dyn Helpdesk>,
}

impl HelpdeskCopy {
    pub fn new(helpdesk: Arc<dyn Helpdesk>) -> HelpdeskCopy {
        HelpdeskCopy { helpdesk }
    }
}

/// Our ticket as the help desk should see it: the customer's words, then the routing facts.
async fn outbound(db: &Db, ticket_id: &str) -> Result<Option<(OutboundTicket, bool)>, sqlx::Error> {
    type Row = (
        i64,
        String,
        Option<String>,
        Option<String>,
        Option<String>,
        String,
        String,
        Option<String>,
    );
    let row: Option<Row> = sqlx::query_as(
        "SELECT number, subject, email, requester_name, product_user_id, queue, priority, helpdesk_id \
         FROM tickets WHERE id = $1",
    )
    .bind(ticket_id)
    .fetch_optional(db.pool())
    .await?;
    let Some((number, subject, email, name, user, queue, priority, helpdesk_id)) = row else {
        return Ok(None);
    };
    let message: String = sqlx::query_scalar(
        "SELECT body FROM ticket_messages WHERE ticket_id = $1 AND kind = 'customer' ORDER BY created_at, id LIMIT 1",
    )
    .bind(ticket_id)
    .fetch_optional(db.pool())
    .await?
    .unwrap_or_default();
    let body = format!(
        "{message}\n\n—\nLedgerline ticket #{number} · queue {queue} · priority {priority}{}",
        user.map(|u| format!(" · user {u}")).unwrap_or_default()
    );
    Ok(Some((
        OutboundTicket {
            external_id: format!("ledgerline-{number}"),
            subject,
            body,
            requester_email: email,
            requester_name: name,
            priority,
            tags: vec!["ledgerline".into(), queue],
        },
        helpdesk_id.is_some(),
    )))
}

#[async_trait]
impl JobHandler for HelpdeskCopy {
    async fn run(&self, db: &Db, _job_id: &str, payload: Value) -> Result<(), JobError> {
        let ticket_id = payload
            .get("ticket_id")
            .and_then(Value::as_str)
            .ok_or_else(|| JobError::Permanent(format!("{HELPDESK_COPY_JOB}: no ticket_id")))?;
        let db_error = |e: sqlx::Error| JobError::transient(format!("database: {e}"));
        let Some((ticket, copied)) = outbound(db, ticket_id).await.map_err(db_error)? else {
            return Err(JobError::Permanent(format!("no ticket {ticket_id}")));
        };
        if copied {
            return Ok(());
        }
        let id = match self.helpdesk.find(&ticket.external_id).await? {
            Some(id) => id,
            None => self.helpdesk.create(&ticket).await?,
        };
        sqlx::query("UPDATE tickets SET helpdesk_id = $1 WHERE id = $2")
            .bind(&id)
            .bind(ticket_id)
            .execute(&mut *db.write().await.map_err(db_error)?)
            .await
            .map_err(db_error)?;
        Ok(())
    }
}
