//! Accepting a verified event: store it raw and enqueue its processing in one transaction, then
//! acknowledge. Nothing slow happens here, so Stripe hears back in milliseconds.

use super::event::EventEnvelope;
use super::handled::is_handled;
use crate::server::config::stripe::StripeMode;
use crate::server::db::batch::{Arg, BatchTx};
use crate::server::db::Db;
use crate::server::jobs::{self, NewJob};
use std::collections::{BTreeMap, HashSet};

pub const PROCESS_EVENT: &str = "stripe.process_event";

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Received {
    /// New and handled: stored, processing job enqueued.
    Queued,
    /// New but of a type we do not mirror: stored and marked ignored.
    Ignored,
    /// New but from the other Stripe mode than our API key: stored, marked rejected, alerted.
    ModeMismatch,
    /// Seen before: counted, nothing else.
    Duplicate,
}

impl Received {
    pub fn as_str(self) -> &'static str {
        match self {
            Received::Queued => "queued",
            Received::Ignored => "ignored",
            Received::ModeMismatch => "rejected",
            Received::Duplicate => "duplicate",
        }
    }
}

/// One verified event waiting to be stored.
#[derive(Debug, Clone)]
pub struct Incoming {
    pub event: EventEnvelope,
    /// The raw body, stored as Stripe sent it.
    pub raw: String,
    /// The mode of the configured API key; None accepts either mode.
    pub key_mode: Option<StripeMode>,
    pub now_ms: i64,
}

impl Incoming {
    fn outcome(&self) -> Received {
        let event_mode = if self.event.livemode {
            StripeMode::Live
        } else {
            StripeMode::Test
        };
        if self.key_mode.is_some_and(|m| m != event_mode) {
            Received::ModeMismatch
        } else if is_handled(&self.event.kind) {
            Received::Queued
        } else {
            Received::Ignored
        }
    }
}

/// Stores `event` (whose raw body is `raw`) unless its id is already stored.
pub async fn receive(
    db: &Db,
    event: &EventEnvelope,
    raw: &str,
    key_mode: Option<StripeMode>,
    now_ms: i64,
) -> Result<Received, sqlx::Error> {
    let incoming = Incoming {
        event: event.clone(),
        raw: raw.to_string(),
        key_mode,
        now_ms,
    };
    let outcomes = receive_batch(db, std::slice::from_ref(&incoming)).await?;
    Ok(outcomes[0])
}

/// Stores a batch of events in one transaction: new ones are inserted and their processing
/// enqueued, repeats (already stored, or earlier in the same batch) are counted. The cost is a
/// handful of statements per batch rather than per event, which is what lets group commit
/// (`IngestQueue`) take many deliveries per commit. Returns one outcome per input, in order.
pub async fn receive_batch(db: &Db, batch: &[Incoming]) -> Result<Vec<Received>, sqlx::Error> {
    if batch.is_empty() {
        return Ok(Vec::new());
    }
    let mut tx = db.begin().await?;
    let outcomes = store_batch(&mut tx, batch).await?;
    tx.commit().await?;
    Ok(outcomes)
}

/// `receive_batch`'s writes inside the caller's transaction, on either kind of connection
/// (group commit on SQLite drives its own; see `SqliteWriter`).
pub async fn store_batch<T: BatchTx>(
    tx: &mut T,
    batch: &[Incoming],
) -> Result<Vec<Received>, T::Error> {
    // The processing job of each id's first delivery in the batch, chosen before the insert so
    // the event row names its job from the start (no second write of the rows). A repeat in the
    // batch gets none: its insert is a no-op anyway.
    let mut first_seen: HashSet<&str> = HashSet::new();
    let planned: Vec<Option<NewJob>> = batch
        .iter()
        .map(|item| {
            let id = item.event.id.as_str();
            (first_seen.insert(id) && item.outcome() == Received::Queued).then(|| {
                let mut job = NewJob::new(
                    PROCESS_EVENT,
                    serde_json::json!({ "event_id": id }),
                    item.now_ms,
                );
                job.dedupe_key = Some(format!("stripe_event:{id}"));
                job
            })
        })
        .collect();

    let inserted = insert_events(tx, batch, &planned).await?;

    // The first occurrence of an inserted id is new; everything else is a repeat.
    let mut claimed: HashSet<&str> = HashSet::new();
    let mut outcomes = Vec::with_capacity(batch.len());
    let mut repeats: BTreeMap<&str, (i64, i64)> = BTreeMap::new();
    for item in batch {
        let id = item.event.id.as_str();
        if inserted.contains(id) && claimed.insert(id) {
            outcomes.push(item.outcome());
        } else {
            let seen = repeats.entry(id).or_insert((0, item.now_ms));
            seen.0 += 1;
            seen.1 = seen.1.max(item.now_ms);
            outcomes.push(Received::Duplicate);
        }
    }
    for (id, &(count, now_ms)) in &repeats {
        tx.execute(
            "UPDATE stripe_events SET duplicate_count = duplicate_count + $1, updated_at = $2 WHERE id = $3",
            &[Arg::Int(count), Arg::Int(now_ms), Arg::Text(id)],
        )
        .await?;
    }

    let (queued, jobs): (Vec<&Incoming>, Vec<NewJob>) = batch
        .iter()
        .zip(&outcomes)
        .zip(planned)
        .filter_map(|((item, outcome), job)| match (outcome, job) {
            (Received::Queued, Some(job)) => Some((item, job)),
            _ => None,
        })
        .unzip();
    let now_ms = batch.iter().map(|i| i.now_ms).max().unwrap_or_default();
    let job_ids = jobs::enqueue_many(tx, &jobs, now_ms).await?;
    unlink_skipped_jobs(tx, &queued, &job_ids).await?;
    Ok(outcomes)
}

/// One multi-row insert; returns the ids it actually inserted. ON CONFLICT DO NOTHING: a
/// concurrent delivery of the same event cannot make both insert, nor abort this transaction.
/// Rows go in id order, so two PostgreSQL batches that share ids lock them in the same order
/// and cannot deadlock.
async fn insert_events<T: BatchTx>(
    tx: &mut T,
    batch: &[Incoming],
    jobs: &[Option<NewJob<'_>>],
) -> Result<HashSet<String>, T::Error> {
    let mut sql = String::from(
        "INSERT INTO stripe_events (id, event_type, created, livemode, api_version, account, object_type, object_id, \
         stripe_customer_id, payload, status, status_reason, job_id, duplicate_count, received_at, updated_at) VALUES ",
    );
    let mut p = tx.placeholders();
    for i in 0..batch.len() {
        if i > 0 {
            sql.push(',');
        }
        sql.push('(');
        p.push_list(&mut sql, 13);
        sql.push_str(", 0, ");
        p.push_list(&mut sql, 2);
        sql.push(')');
    }
    sql.push_str(" ON CONFLICT (id) DO NOTHING RETURNING id");
    let mut sorted: Vec<(&Incoming, &Option<NewJob>)> = batch.iter().zip(jobs).collect();
    // Stable: of two deliveries of one id, the first (the one with the job) is inserted.
    sorted.sort_by(|a, b| a.0.event.id.as_str().cmp(b.0.event.id.as_str()));
    let mut args = Vec::with_capacity(batch.len() * 15);
    for (item, job) in sorted {
        let event = &item.event;
        let (status, reason) = match item.outcome() {
            Received::Queued => ("received", None),
            Received::Ignored => ("ignored", Some("type not mirrored")),
            _ => ("rejected", Some("mode mismatch")),
        };
        args.extend([
            Arg::Text(event.id.as_str()),
            Arg::Text(&event.kind),
            Arg::Int(event.created),
            Arg::Int(event.livemode as i64),
            Arg::OptText(event.api_version.as_deref()),
            Arg::OptText(event.account.as_deref()),
            Arg::OptText(event.object_type.as_deref()),
            Arg::OptText(event.object_id.as_deref()),
            Arg::OptText(event.stripe_customer.as_deref()),
            Arg::Text(&item.raw),
            Arg::Text(status),
            Arg::OptText(reason),
            Arg::OptText(job.as_ref().map(|j| j.id.as_str())),
            Arg::Int(item.now_ms),
            Arg::Int(item.now_ms),
        ]);
    }
    Ok(tx.fetch_strings(&sql, &args).await?.into_iter().collect())
}

/// A new event whose job was not enqueued (a pending job with its dedupe key already existed)
/// must not name the job it was given: that job does not exist. Rare, so one statement each.
async fn unlink_skipped_jobs<T: BatchTx>(
    tx: &mut T,
    queued: &[&Incoming],
    job_ids: &[Option<String>],
) -> Result<(), T::Error> {
    for (item, _) in queued.iter().zip(job_ids).filter(|(_, id)| id.is_none()) {
        tx.execute(
            "UPDATE stripe_events SET job_id = NULL WHERE id = $1",
            &[Arg::Text(item.event.id.as_str())],
        )
        .await?;
    }
    Ok(())
}
