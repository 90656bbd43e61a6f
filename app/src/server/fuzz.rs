//! Fuzz targets for what strangers can send us, as property tests: the Stripe-Signature header,
//! webhook bodies, the support intake body, and the audit CSV export (what staff open in a
//! spreadsheet). cargo-fuzz needs a nightly toolchain we cannot fetch here, so proptest drives
//! them: 256 cases per target in every test run, or, with `FUZZ_SECS=N`, fresh batches for N
//! seconds per target (`scripts/fuzz.sh`). A failure is shrunk to the smallest input; each one
//! found is fixed and kept below as a named regression case.

use crate::domain::{AuditEntry, Outcome};
use crate::server::secret::Secret;
use crate::server::services::audit::write_csv_rows;
use crate::server::stripe::{sign, verify, EventEnvelope, SignatureHeader};
use crate::server::tickets::{request::SUBJECT_MAX, TicketRequest};
use proptest::prelude::*;
use proptest::test_runner::{Config, RngAlgorithm, TestCaseError, TestRng, TestRunner};
use serde_json::{json, Value};
use std::time::{Duration, Instant};

/// Runs `check` over `strategy`: one reproducible batch, then more with fresh seeds while
/// FUZZ_SECS lasts.
fn fuzz<S>(name: &str, strategy: S, check: impl Fn(S::Value) -> Result<(), TestCaseError>)
where
    S: Strategy,
    S::Value: std::fmt::Debug,
{
    let secs: u64 = std::env::var("FUZZ_SECS")
        .ok()
        .and_then(|v| v.parse().ok())
        .unwrap_or(0);
    let until = Instant::now() + Duration::from_secs(secs);
    let mut batch: u64 = 0;
    loop {
        let mut seed = [0u8; 32];
        if batch > 0 {
            let noise = std::time::SystemTime::now()
                .duration_since(std::time::UNIX_EPOCH)
                .map_or(0, |d| d.as_nanos());
            seed[..16].copy_from_slice(&noise.to_le_bytes());
        }
        seed[16..24].copy_from_slice(&batch.to_le_bytes());
        let config = Config {
            cases: 256,
            failure_persistence: None,
            ..Config::default()
        };
        let mut runner =
            TestRunner::new_with_rng(config, TestRng::from_seed(RngAlgorithm::ChaCha, &seed));
        if let Err(e) = runner.run(&strategy, &check) {
            panic!("{name}: {e}");
        }
        batch += 1;
        if Instant::now() >= until {
            break;
        }
    }
    if secs > 0 {
        eprintln!("fuzz {name}: {} cases in {secs} s", batch * 256);
    }
}

/// Any JSON value, nested a few levels.
fn any_json() -> impl Strategy<Value = Value> {
    let leaf = prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::from),
        any::<i64>().prop_map(Value::from),
        any::<f64>().prop_map(|f| json!(f)),
        ".{0,40}".prop_map(Value::from),
    ];
    leaf.prop_recursive(3, 24, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..6).prop_map(Value::from),
            prop::collection::btree_map(".{0,12}", inner, 0..6)
                .prop_map(|m| Value::Object(m.into_iter().collect())),
        ]
    })
}

/// `valid` most of the time, anything else sometimes (or left out, as None).
fn mostly(valid: Value) -> impl Strategy<Value = Option<Value>> {
    prop_oneof![
        6 => Just(Some(valid)),
        2 => any_json().prop_map(Some),
        1 => Just(None),
    ]
}

fn object(fields: Vec<(&'static str, Option<Value>)>) -> Value {
    Value::Object(
        fields
            .into_iter()
            .filter_map(|(k, v)| v.map(|v| (k.to_string(), v)))
            .collect(),
    )
}

const FORMULA_STARTS: [char; 6] = ['=', '+', '-', '@', '\t', '\r'];

#[test]
fn signature_headers_never_panic_and_what_parses_is_bounded() {
    let item = prop_oneof![
        "t=[0-9]{0,14}",
        "v1=[0-9a-f]{0,70}",
        "v0=[0-9a-zA-Z]{0,20}",
        "[ =,a-z0-9]{0,6}",
        ".{0,10}",
    ];
    let header = prop_oneof![
        prop::collection::vec(item, 0..24).prop_map(|v| v.join(",")),
        ".{0,200}",
    ];
    fuzz("signature header", header, |h| {
        if let Ok(parsed) = SignatureHeader::parse(&h) {
            prop_assert!((1..=16).contains(&parsed.v1.len()), "{parsed:?}");
            prop_assert!((0..1_000_000_000_000).contains(&parsed.timestamp));
        }
        Ok(())
    });
}

#[test]
fn a_signed_payload_verifies_and_any_change_is_refused() {
    let case = (
        0i64..4_000_000_000,
        prop::collection::vec(any::<u8>(), 0..300),
        "whsec_[a-zA-Z0-9]{8,40}",
        any::<prop::sample::Index>(),
    );
    fuzz("signature round trip", case, |(t, payload, secret, at)| {
        let secrets = [Secret::new(secret.clone())];
        let header = format!("t={t},v1={}", hex::encode(sign(&secret, t, &payload)));
        prop_assert!(verify(Some(&header), &payload, &secrets, 300, t).is_ok());
        if !payload.is_empty() {
            let mut changed = payload.clone();
            changed[at.index(payload.len())] ^= 0x01;
            prop_assert!(verify(Some(&header), &changed, &secrets, 300, t).is_err());
        }
        prop_assert!(verify(Some(&header), &payload, &secrets, 300, t + 301).is_err());
        Ok(())
    });
}

#[test]
fn webhook_bodies_never_panic_and_a_parsed_event_is_what_was_sent() {
    let shaped = (
        mostly(json!("evt_1NG8Du2eZvKYlo2CUI79vXWy")),
        mostly(json!("invoice.payment_failed")),
        mostly(json!(1_700_000_000)),
        mostly(json!(false)),
        mostly(json!({ "id": "in_1", "object": "invoice", "customer": "cus_1" })),
        any_json(),
    )
        .prop_map(|(id, kind, created, livemode, object, extra)| {
            object_bytes(vec![
                ("id", id),
                ("type", kind),
                ("created", created),
                ("livemode", livemode),
                ("data", object.map(|o| json!({ "object": o }))),
                ("extra", Some(extra)),
            ])
        });
    let body = prop_oneof![shaped, prop::collection::vec(any::<u8>(), 0..400)];
    fuzz("webhook body", body, |bytes| {
        if let Ok(event) = EventEnvelope::parse(&bytes) {
            let sent: Value = serde_json::from_slice(&bytes).expect("it parsed once");
            prop_assert!(event.id.as_str().starts_with("evt_"));
            prop_assert_eq!(&event.object, &sent["data"]["object"]);
            prop_assert_eq!(Some(event.kind.as_str()), sent["type"].as_str());
        }
        Ok(())
    });
}

fn object_bytes(fields: Vec<(&'static str, Option<Value>)>) -> Vec<u8> {
    object(fields).to_string().into_bytes()
}

#[test]
fn intake_bodies_never_panic_and_what_is_accepted_is_within_limits() {
    let shaped = (
        mostly(json!("usr_42")),
        mostly(json!("ada@example.com")),
        mostly(json!("Charged twice")),
        prop_oneof![".{0,300}".prop_map(Value::from), any_json()],
        mostly(json!("billing")),
        mostly(json!({ "page": "/billing", "app_version": "4.2.0",
                        "errors": [{ "message": "E402", "at": "2026-11-27T10:00:00Z" }] })),
        prop::option::of(any_json()),
    )
        .prop_map(
            |(user, email, subject, message, category, context, unknown)| {
                object_bytes(vec![
                    ("user_id", user),
                    ("email", email),
                    ("subject", subject),
                    ("message", Some(message)),
                    ("category", category),
                    ("context", context),
                    ("surprise", unknown),
                ])
            },
        );
    let body = prop_oneof![shaped, prop::collection::vec(any::<u8>(), 0..400)];
    fuzz("intake body", body, |bytes| {
        match TicketRequest::parse(&bytes) {
            Ok(r) => {
                prop_assert!(!r.subject.trim().is_empty());
                prop_assert!(r.subject.chars().count() <= SUBJECT_MAX);
                prop_assert!(!r.subject.chars().any(char::is_control));
                prop_assert!(r.user_id.is_some() || r.email.is_some());
            }
            Err(errors) => prop_assert!(!errors.0.is_empty(), "a refusal names a field"),
        }
        Ok(())
    });
}

fn entry(cells: Vec<String>) -> AuditEntry {
    let mut c = cells.into_iter();
    let mut next = || c.next().unwrap_or_default();
    AuditEntry {
        seq: 1,
        id: next(),
        at_ms: 0,
        actor_kind: next(),
        actor_id: None,
        actor_label: next(),
        action: next(),
        target_type: Some(next()),
        target_id: Some(next()),
        customer_id: Some(next()),
        request_id: Some(next()),
        ip: Some(next()),
        user_agent: Some(next()),
        outcome: Outcome::Ok,
        details: next(),
    }
}

#[test]
fn csv_export_round_trips_any_text_and_never_starts_a_cell_with_a_formula() {
    let cell = prop_oneof![
        any::<String>(),
        "[=+@\t\r -][-=+@a-zA-Z0-9(),\"\n ]{0,20}",
        "[ \",\n]{0,5}[=+@-].{0,10}",
    ];
    let rows = prop::collection::vec(prop::collection::vec(cell, 11), 1..4);
    fuzz("csv export", rows, |rows| {
        let entries: Vec<AuditEntry> = rows.iter().cloned().map(entry).collect();
        let bytes = write_csv_rows(&entries);
        let mut reader = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let records: Vec<csv::StringRecord> = reader
            .records()
            .collect::<Result<_, _>>()
            .map_err(|e| TestCaseError::fail(format!("unreadable CSV: {e}")))?;
        prop_assert_eq!(records.len(), entries.len());
        for (record, e) in records.iter().zip(&entries) {
            prop_assert_eq!(record.len(), 14);
            for cell in record.iter() {
                prop_assert!(
                    !cell.starts_with(FORMULA_STARTS),
                    "a cell a spreadsheet would run: {cell:?}"
                );
            }
            let label = record[3].strip_prefix('\'').unwrap_or(&record[3]);
            prop_assert!(
                label == e.actor_label || record[3] == e.actor_label,
                "the text survives: {:?} vs {:?}",
                &record[3],
                e.actor_label
            );
        }
        Ok(())
    });
}
