//! CSV for the audit export. Cells that a spreadsheet would run as a formula are prefixed with
//! a quote (CSV injection), and the csv crate handles quoting of commas, quotes and newlines.

use crate::domain::AuditEntry;

/// Rows fetched per round trip while streaming.
pub const EXPORT_BATCH: i64 = 1000;

pub fn csv_header() -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::new());
    w.write_record([
        "seq",
        "id",
        "time_utc",
        "actor",
        "actor_kind",
        "action",
        "target_type",
        "target_id",
        "customer_id",
        "outcome",
        "request_id",
        "ip",
        "user_agent",
        "details",
    ])
    .expect("writing to a Vec cannot fail");
    w.into_inner().expect("flush to Vec")
}

fn neutralize(cell: &str) -> String {
    match cell.chars().next() {
        Some('=' | '+' | '-' | '@' | '\t' | '\r') => format!("'{cell}"),
        _ => cell.to_string(),
    }
}

pub fn write_csv_rows(entries: &[AuditEntry]) -> Vec<u8> {
    let mut w = csv::Writer::from_writer(Vec::with_capacity(entries.len() * 256));
    for e in entries {
        let time = chrono::DateTime::from_timestamp_millis(e.at_ms)
            .map(|t| t.to_rfc3339_opts(chrono::SecondsFormat::Millis, true))
            .unwrap_or_default();
        let opt = |v: &Option<String>| neutralize(v.as_deref().unwrap_or(""));
        w.write_record([
            e.seq.to_string(),
            neutralize(&e.id),
            time,
            neutralize(&e.actor_label),
            neutralize(&e.actor_kind),
            neutralize(&e.action),
            opt(&e.target_type),
            opt(&e.target_id),
            opt(&e.customer_id),
            e.outcome.as_str().to_string(),
            opt(&e.request_id),
            opt(&e.ip),
            opt(&e.user_agent),
            neutralize(&e.details),
        ])
        .expect("writing to a Vec cannot fail");
    }
    w.into_inner().expect("flush to Vec")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::domain::Outcome;

    fn entry(label: &str, details: &str) -> AuditEntry {
        AuditEntry {
            seq: 7,
            id: "aud_1".into(),
            at_ms: 0,
            actor_kind: "staff".into(),
            actor_id: None,
            actor_label: label.into(),
            action: "staff.invited".into(),
            target_type: None,
            target_id: None,
            customer_id: None,
            request_id: None,
            ip: None,
            user_agent: Some("Mozilla, \"quoted\"\nnext".into()),
            outcome: Outcome::Ok,
            details: details.into(),
        }
    }

    #[test]
    fn formulas_are_neutralized_and_quoting_round_trips() {
        let bytes = write_csv_rows(&[entry("=HYPERLINK(\"x\")", r#"{"a":"b,c"}"#)]);
        let mut r = csv::ReaderBuilder::new()
            .has_headers(false)
            .from_reader(bytes.as_slice());
        let rec = r.records().next().unwrap().unwrap();
        assert_eq!(&rec[3], "'=HYPERLINK(\"x\")");
        assert_eq!(&rec[12], "Mozilla, \"quoted\"\nnext");
        assert_eq!(&rec[13], r#"{"a":"b,c"}"#);
        assert_eq!(&rec[2], "1970-01-01T00:00:00.000Z");
    }
}
