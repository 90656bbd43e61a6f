use std::fmt;

/// A configuration secret (API key, webhook secret, token). Its `Debug` and `Display` never
/// show the value, so a stray `{:?}` in a log line cannot leak it; `hint()` gives operators
/// enough to recognise which key is loaded (`sk_test_…abcd`).
#[derive(Clone, PartialEq, Eq)]
pub struct Secret(String);

impl Secret {
    pub fn new(value: impl Into<String>) -> Self {
        Secret(value.into())
    }

    /// The value itself, for the one place that must send it (an HTTP header, an HMAC key).
    pub fn expose(&self) -> &str {
        &self.0
    }

    /// The known prefix (up to the last `_` in the first 8 characters) and the last four
    /// characters, for values long enough that four characters reveal nothing useful.
    pub fn hint(&self) -> String {
        let v = &self.0;
        let prefix_end = v
            .char_indices()
            .take(9)
            .filter(|(_, c)| *c == '_')
            .map(|(i, _)| i + 1)
            .last()
            .unwrap_or(0);
        let chars: Vec<char> = v.chars().collect();
        if chars.len() < 16 {
            return format!("{}…", &v[..prefix_end]);
        }
        let tail: String = chars[chars.len() - 4..].iter().collect();
        format!("{}…{}", &v[..prefix_end], tail)
    }
}

impl fmt::Debug for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "Secret({})", self.hint())
    }
}

impl fmt::Display for Secret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.hint())
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hint_keeps_prefix_and_last_four_only() {
        let s = Secret::new("sk_test_51Habcdefghijklmnopqrstuvwxyz1234");
        assert_eq!(s.hint(), "sk_test_…1234");
        assert_eq!(format!("{s:?}"), "Secret(sk_test_…1234)");
        assert_eq!(format!("{s}"), "sk_test_…1234");
        assert!(!format!("{s:?}{s}").contains("51Habcdef"));
    }

    #[test]
    fn short_secrets_show_no_tail() {
        assert_eq!(Secret::new("whsec_short").hint(), "whsec_…");
        assert_eq!(Secret::new("abc").hint(), "…");
    }
}
