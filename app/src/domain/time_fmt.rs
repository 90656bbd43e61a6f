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

/// `2026-11-27T01:40:12Z`, for `<time datetime=…>`.
pub fn iso(ms: i64) -> String {
    let u = utc(ms);
    format!("{}T{}Z", &u[..10], &u[11..19])
}

/// "just now", "5 min ago", "3 h ago", "2 d ago"; older than 30 days, the date. Future times
/// read "in 5 min".
pub fn relative(ms: i64, now_ms: i64) -> String {
    let d = now_ms - ms;
    if d.abs() < 60_000 {
        return "just now".into();
    }
    if d > 30 * 86_400_000 {
        return utc(ms)[..10].to_string();
    }
    let whole = |ms: i64| match ms.abs() / 60_000 {
        m if m < 60 => format!("{m} min"),
        m if m < 1440 => format!("{} h", m / 60),
        m => format!("{} d", m / 1440),
    };
    if d > 0 {
        format!("{} ago", whole(d))
    } else {
        format!("in {}", whole(d))
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
    fn relative_times_and_iso() {
        use super::{iso, relative};
        let now = 1_795_773_600_000; // 2026-11-27 10:00 UTC
        assert_eq!(iso(now), "2026-11-27T10:00:00Z");
        assert_eq!(relative(now - 30_000, now), "just now");
        assert_eq!(relative(now - 5 * 60_000, now), "5 min ago");
        assert_eq!(relative(now - 3 * 3_600_000 - 1, now), "3 h ago");
        assert_eq!(relative(now - 49 * 3_600_000, now), "2 d ago");
        assert_eq!(relative(now + 10 * 60_000, now), "in 10 min");
        assert_eq!(relative(now - 40 * 86_400_000, now), "2026-10-18");
    }

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
