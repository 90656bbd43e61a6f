//! Stripe webhook signatures, exactly as Stripe documents them: the `Stripe-Signature` header
//! carries `t=<unix seconds>` and one or more `v1=<hex>`; each v1 is HMAC-SHA256 keyed with the
//! endpoint secret over `"{t}.{raw body}"`. Checked against the raw bytes before any parsing.
//!
//! Written here rather than taken from async-stripe's webhook crate because that one accepts a
//! single secret and only checks that a timestamp is not too old; we need several secrets at
//! once (rotation) and a window in both directions.

use crate::server::secret::Secret;
use hmac::{Hmac, Mac};
use sha2::Sha256;

/// Why a delivery was refused. The caller logs and counts the code; the sender only ever hears
/// "invalid signature".
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
pub enum SignatureError {
    #[error("missing Stripe-Signature header")]
    MissingHeader,
    #[error("malformed Stripe-Signature header")]
    Malformed,
    #[error("no v1 signature in the header")]
    NoV1,
    #[error("timestamp outside the tolerance")]
    OutsideTolerance,
    #[error("no signature matches any configured secret")]
    NoMatch,
}

impl SignatureError {
    /// A short stable code for logs and metrics.
    pub fn code(self) -> &'static str {
        match self {
            SignatureError::MissingHeader => "missing_header",
            SignatureError::Malformed => "malformed_header",
            SignatureError::NoV1 => "no_v1_signature",
            SignatureError::OutsideTolerance => "timestamp_outside_tolerance",
            SignatureError::NoMatch => "signature_mismatch",
        }
    }
}

/// The parts of a header we use. Unknown schemes (v0, future ones) are ignored, as Stripe's
/// own libraries do.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SignatureHeader {
    pub timestamp: i64,
    pub v1: Vec<[u8; 32]>,
}

impl SignatureHeader {
    pub fn parse(header: &str) -> Result<Self, SignatureError> {
        let mut timestamp = None;
        let mut v1 = Vec::new();
        for item in header.split(',') {
            let Some((key, value)) = item.trim().split_once('=') else {
                return Err(SignatureError::Malformed);
            };
            match key {
                "t" => {
                    if timestamp.is_some() || value.is_empty() || value.len() > 12 {
                        return Err(SignatureError::Malformed);
                    }
                    if !value.bytes().all(|b| b.is_ascii_digit()) {
                        return Err(SignatureError::Malformed);
                    }
                    timestamp = Some(
                        value
                            .parse::<i64>()
                            .map_err(|_| SignatureError::Malformed)?,
                    );
                }
                "v1" => {
                    let mut sig = [0u8; 32];
                    // A v1 that is not 64 hex digits can never match; skip it like a foreign
                    // scheme rather than refusing the others.
                    if hex::decode_to_slice(value, &mut sig).is_ok() {
                        v1.push(sig);
                    }
                }
                _ => {}
            }
            if v1.len() > 16 {
                return Err(SignatureError::Malformed);
            }
        }
        let timestamp = timestamp.ok_or(SignatureError::Malformed)?;
        if v1.is_empty() {
            return Err(SignatureError::NoV1);
        }
        Ok(SignatureHeader { timestamp, v1 })
    }
}

/// HMAC-SHA256 keyed with `secret`, fed `"{t}.{payload}"`.
fn mac(secret: &str, timestamp: i64, payload: &[u8]) -> Hmac<Sha256> {
    let mut mac = Hmac::<Sha256>::new_from_slice(secret.as_bytes()).expect("HMAC takes any key");
    mac.update(timestamp.to_string().as_bytes());
    mac.update(b".");
    mac.update(payload);
    mac
}

/// The v1 signature Stripe would send (used by tests, the demo and load generators).
pub fn sign(secret: &str, timestamp: i64, payload: &[u8]) -> [u8; 32] {
    mac(secret, timestamp, payload)
        .finalize()
        .into_bytes()
        .into()
}

/// Verifies `payload` against the header with any of `secrets`, the timestamp within
/// `tolerance_secs` of `now_secs` either way. Comparison is constant-time.
pub fn verify(
    header: Option<&str>,
    payload: &[u8],
    secrets: &[Secret],
    tolerance_secs: i64,
    now_secs: i64,
) -> Result<SignatureHeader, SignatureError> {
    let header = SignatureHeader::parse(header.ok_or(SignatureError::MissingHeader)?)?;
    if (now_secs - header.timestamp).abs() > tolerance_secs {
        return Err(SignatureError::OutsideTolerance);
    }
    for secret in secrets {
        let mac = mac(secret.expose(), header.timestamp, payload);
        // verify_slice compares in constant time.
        if header
            .v1
            .iter()
            .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
        {
            return Ok(header);
        }
    }
    Err(SignatureError::NoMatch)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn header(t: i64, sigs: &[[u8; 32]]) -> String {
        let mut h = format!("t={t}");
        for s in sigs {
            h += &format!(",v1={}", hex::encode(s));
        }
        h
    }

    #[test]
    fn parses_stripes_format_and_ignores_other_schemes() {
        let h = SignatureHeader::parse(&format!(
            "t=1700000000,v1={},v0=abc,v1={}",
            "a".repeat(64),
            "b".repeat(64)
        ))
        .unwrap();
        assert_eq!(h.timestamp, 1_700_000_000);
        assert_eq!(h.v1.len(), 2);
        for bad in [
            "",
            "t=",
            "t=12a,v1=00",
            "v1=00",
            "t=1,t=2,v1=00",
            "garbage",
            "t=-5,v1=00",
        ] {
            assert!(SignatureHeader::parse(bad).is_err(), "{bad:?}");
        }
        assert_eq!(
            SignatureHeader::parse("t=5,v0=ab"),
            Err(SignatureError::NoV1)
        );
    }

    #[test]
    fn checks_every_secret_and_the_window_both_ways() {
        let secrets = [Secret::new("whsec_old"), Secret::new("whsec_new")];
        let body = br#"{"id":"evt_1"}"#;
        let t = 1_700_000_000;
        let good = header(t, &[sign("whsec_new", t, body)]);
        assert!(verify(Some(&good), body, &secrets, 300, t + 300).is_ok());
        assert!(verify(Some(&good), body, &secrets, 300, t - 300).is_ok());
        assert_eq!(
            verify(Some(&good), body, &secrets, 300, t + 301),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(Some(&good), body, &secrets, 300, t - 301),
            Err(SignatureError::OutsideTolerance)
        );
        assert_eq!(
            verify(Some(&good), b"{\"id\":\"evt_2\"}", &secrets, 300, t),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(Some(&good), body, &secrets[..1], 300, t),
            Err(SignatureError::NoMatch)
        );
        assert_eq!(
            verify(None, body, &secrets, 300, t),
            Err(SignatureError::MissingHeader)
        );
        let two = header(
            t,
            &[sign("whsec_other", t, body), sign("whsec_old", t, body)],
        );
        assert!(
            verify(Some(&two), body, &secrets, 300, t).is_ok(),
            "any v1 may match"
        );
    }
}
