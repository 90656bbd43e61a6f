//! UTC formatting without a clock or time-zone database, so it works the same on the server
//! and in the browser bundle.

/// `2026-11-27 01:40:12 UTC` for milliseconds since the Unix epoch.
pub fn utc(ms: i64) -> String {
    let secs = ms.div_euclid(1000);
    let (days, rem) = (secs.div_euclid(86_400), secs.rem_euclid(86_400));
    let (y, m, d) = civil_from_days(days);
    format!(
        "{y:04}-{m:02}-{d:02} {:02}:{:02}:{:02} UTC",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

/// Midnight UTC of a `YYYY-MM-DD` day, in ms; None unless it is a real calendar date.
pub fn parse_day_ms(day: &str) -> Option<i64> {
    let mut parts = day.trim().splitn(3, '-');
    let y: i64 = parts.next()?.parse().ok()?;
    let m: i64 = parts.next()?.parse().ok()?;
    let d: i64 = parts.next()?.parse().ok()?;
    if !(1..=12).contains(&m) || !(1..=31).contains(&d) || !(1970..=9999).contains(&y) {
        return None;
    }
    // Days-from-civil, the inverse of the function below.
    let y2 = if m <= 2 { y - 1 } else { y };
    let era = y2.div_euclid(400);
    let yoe = y2 - era * 400;
    let mp = (m + 9) % 12;
    let doy = (153 * mp + 2) / 5 + d - 1;
    let doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    let days = era * 146_097 + doe - 719_468;
    let ms = days * 86_400_000;
    // Reject dates like 2026-02-31 that roll over into the next month.
    (utc(ms).get(..10)? == format!("{y:04}-{m:02}-{d:02}")).then_some(ms)
}

/// Howard Hinnant's days-to-civil algorithm.
fn civil_from_days(z: i64) -> (i64, u32, u32) {
    let z = z + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let d = (doy - (153 * mp + 2) / 5 + 1) as u32;
    let m = if mp < 10 { mp + 3 } else { mp - 9 } as u32;
    let y = yoe + era * 400 + i64::from(m <= 2);
    (y, m, d)
}

#[cfg(test)]
mod tests {
    use super::utc;

    #[test]
    fn formats_known_instants() {
        assert_eq!(utc(0), "1970-01-01 00:00:00 UTC");
        assert_eq!(utc(951_782_400_000), "2000-02-29 00:00:00 UTC");
        assert_eq!(utc(1_795_742_412_999), "2026-11-27 01:20:12 UTC");
        assert_eq!(utc(-1000), "1969-12-31 23:59:59 UTC");
    }

    #[test]
    fn parses_real_days_only() {
        use super::parse_day_ms;
        assert_eq!(parse_day_ms("1970-01-02"), Some(86_400_000));
        assert_eq!(parse_day_ms("2000-02-29"), Some(951_782_400_000));
        for bad in ["2026-02-31", "2026-13-01", "2026-1", "yesterday", ""] {
            assert_eq!(parse_day_ms(bad), None, "{bad}");
        }
    }
}

/// A duration for people: "45 min", "3 h 20 min", "2 d 4 h" (never negative; under a minute
/// reads "under a minute").
pub fn span(ms: i64) -> String {
    let mins = ms.max(0) / 60_000;
    match (mins / 1440, mins % 1440 / 60, mins % 60) {
        (0, 0, 0) => "under a minute".into(),
        (0, 0, m) => format!("{m} min"),
        (0, h, 0) => format!("{h} h"),
        (0, h, m) => format!("{h} h {m} min"),
        (d, 0, _) => format!("{d} d"),
        (d, h, _) => format!("{d} d {h} h"),
    }
}

#[cfg(test)]
mod span_tests {
    use super::span;

    #[test]
    fn spans_read_naturally() {
        assert_eq!(span(-5), "under a minute");
        assert_eq!(span(59_999), "under a minute");
        assert_eq!(span(45 * 60_000), "45 min");
        assert_eq!(span(3 * 3_600_000), "3 h");
        assert_eq!(span(200 * 60_000), "3 h 20 min");
        assert_eq!(span(52 * 3_600_000 + 5 * 60_000), "2 d 4 h");
        assert_eq!(span(48 * 3_600_000), "2 d");
    }
}
