//! Money as Stripe keeps it: an integer count of the currency's minor units, with the
//! currency. Formatting and parsing follow Stripe's decimal rules per currency.

use serde::{Deserialize, Serialize};

/// Currencies Stripe charges in whole units (stripe.com/docs/currencies#zero-decimal).
const ZERO_DECIMAL: [&str; 16] = [
    "bif", "clp", "djf", "gnf", "jpy", "kmf", "krw", "mga", "pyg", "rwf", "ugx", "vnd", "vuv",
    "xaf", "xof", "xpf",
];
/// Currencies Stripe counts in thousandths (stripe.com/docs/currencies#three-decimal).
const THREE_DECIMAL: [&str; 5] = ["bhd", "jod", "kwd", "omr", "tnd"];

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Money {
    /// Minor units (cents for USD, yen for JPY).
    pub amount: i64,
    /// ISO 4217, lower case as Stripe sends it.
    pub currency: String,
}

#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum MoneyError {
    #[error("Enter an amount such as 12.50.")]
    NotANumber,
    #[error("{currency} has at most {digits} digits after the decimal point.")]
    TooPrecise { currency: String, digits: u32 },
    #[error("That amount is too large.")]
    TooLarge,
}

/// How many minor-unit digits the currency has.
pub fn decimals(currency: &str) -> u32 {
    let c = currency.to_ascii_lowercase();
    if ZERO_DECIMAL.contains(&c.as_str()) {
        0
    } else if THREE_DECIMAL.contains(&c.as_str()) {
        3
    } else {
        2
    }
}

impl Money {
    pub fn new(amount: i64, currency: impl Into<String>) -> Money {
        Money {
            amount,
            currency: currency.into().to_ascii_lowercase(),
        }
    }

    /// Parses what a person types ("12.5", "1,200.00", "1200") in major units.
    pub fn parse_major(input: &str, currency: &str) -> Result<Money, MoneyError> {
        let digits = decimals(currency);
        let cleaned: String = input.trim().chars().filter(|c| *c != ',').collect();
        let (whole, frac) = cleaned.split_once('.').unwrap_or((&cleaned, ""));
        let all_digits = |s: &str| s.chars().all(|c| c.is_ascii_digit());
        if whole.is_empty() && frac.is_empty() || !all_digits(whole) || !all_digits(frac) {
            return Err(MoneyError::NotANumber);
        }
        if frac.len() > digits as usize {
            return Err(MoneyError::TooPrecise {
                currency: currency.to_ascii_uppercase(),
                digits,
            });
        }
        let scale = 10i64.pow(digits);
        let whole: i64 = if whole.is_empty() {
            0
        } else {
            whole.parse().map_err(|_| MoneyError::TooLarge)?
        };
        let frac: i64 = if frac.is_empty() {
            0
        } else {
            format!("{frac:0<width$}", width = digits as usize)
                .parse()
                .map_err(|_| MoneyError::NotANumber)?
        };
        let amount = whole
            .checked_mul(scale)
            .and_then(|w| w.checked_add(frac))
            .ok_or(MoneyError::TooLarge)?;
        Ok(Money::new(amount, currency))
    }

    /// The amount in major units without the currency, e.g. "1,234.50".
    pub fn major(&self) -> String {
        let digits = decimals(&self.currency);
        let scale = 10u64.pow(digits);
        let abs = self.amount.unsigned_abs();
        let whole = group_thousands(abs / scale);
        let sign = if self.amount < 0 { "-" } else { "" };
        if digits == 0 {
            format!("{sign}{whole}")
        } else {
            format!(
                "{sign}{whole}.{:0width$}",
                abs % scale,
                width = digits as usize
            )
        }
    }

    /// For people: "1,234.50 USD".
    pub fn display(&self) -> String {
        format!("{} {}", self.major(), self.currency.to_ascii_uppercase())
    }
}

impl std::fmt::Display for Money {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&self.display())
    }
}

fn group_thousands(n: u64) -> String {
    let s = n.to_string();
    let mut out = String::with_capacity(s.len() + s.len() / 3);
    for (i, c) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_by_the_currency_decimals() {
        assert_eq!(Money::new(123_450, "usd").display(), "1,234.50 USD");
        assert_eq!(Money::new(5, "eur").display(), "0.05 EUR");
        assert_eq!(Money::new(1500, "JPY").display(), "1,500 JPY");
        assert_eq!(Money::new(1_234, "kwd").display(), "1.234 KWD");
        assert_eq!(Money::new(-2_000, "usd").display(), "-20.00 USD");
        assert_eq!(Money::new(100_000_000, "usd").major(), "1,000,000.00");
    }

    #[test]
    fn parses_what_people_type() {
        let usd = |s| Money::parse_major(s, "usd").map(|m| m.amount);
        assert_eq!(usd("12.5"), Ok(1250));
        assert_eq!(usd("1,200.00"), Ok(120_000));
        assert_eq!(usd(" 7 "), Ok(700));
        assert_eq!(usd(".99"), Ok(99));
        assert_eq!(Money::parse_major("1500", "jpy").unwrap().amount, 1500);
        assert_eq!(Money::parse_major("1.5", "kwd").unwrap().amount, 1500);
    }

    #[test]
    fn refuses_what_is_not_an_amount() {
        let usd = |s| Money::parse_major(s, "usd");
        assert_eq!(usd(""), Err(MoneyError::NotANumber));
        assert_eq!(usd("."), Err(MoneyError::NotANumber));
        assert_eq!(usd("-5"), Err(MoneyError::NotANumber));
        assert_eq!(usd("1e3"), Err(MoneyError::NotANumber));
        assert_eq!(usd("1.2.3"), Err(MoneyError::NotANumber));
        assert!(matches!(
            usd("1.005"),
            Err(MoneyError::TooPrecise { digits: 2, .. })
        ));
        assert!(matches!(
            Money::parse_major("10.5", "jpy"),
            Err(MoneyError::TooPrecise { digits: 0, .. })
        ));
        assert_eq!(usd("99999999999999999999"), Err(MoneyError::TooLarge));
    }
}
