//! Request ids: an incoming `x-request-id` is kept when it is well-formed (so a proxy's id
//! follows the request through our logs), otherwise a new UUID is made. The id is available
//! to any code running for the request through a task-local, so error bodies can carry it
//! without threading it through every signature.

use std::fmt;

pub const HEADER: &str = "x-request-id";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RequestId(String);

tokio::task_local! {
    static CURRENT: RequestId;
}

impl RequestId {
    /// Letters, digits, `-`, `_`, `.` and `:`, 1 to 128 characters: enough for UUIDs, ULIDs and
    /// the ids common proxies make, and nothing that could break a log line or a header.
    pub fn parse(raw: &str) -> Option<RequestId> {
        let ok = (1..=128).contains(&raw.len())
            && raw
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b':'));
        ok.then(|| RequestId(raw.to_string()))
    }

    pub fn generate() -> RequestId {
        RequestId(uuid::Uuid::new_v4().to_string())
    }

    /// The incoming header's id if usable, else a fresh one.
    pub fn from_header(value: Option<&str>) -> RequestId {
        value
            .and_then(RequestId::parse)
            .unwrap_or_else(RequestId::generate)
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }

    /// Runs `fut` with `self` as the current request id.
    pub async fn scope<F: std::future::Future>(self, fut: F) -> F::Output {
        CURRENT.scope(self, fut).await
    }

    /// The id of the request being served, if any.
    pub fn current() -> Option<RequestId> {
        CURRENT.try_with(|id| id.clone()).ok()
    }
}

impl fmt::Display for RequestId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn keeps_well_formed_ids_and_replaces_others() {
        assert_eq!(
            RequestId::from_header(Some("abc-123_x.y:z")).as_str(),
            "abc-123_x.y:z"
        );
        for bad in ["", "has space", "new\nline", "<script>", &"a".repeat(129)] {
            let id = RequestId::from_header(Some(bad));
            assert_ne!(id.as_str(), bad);
            assert!(uuid::Uuid::parse_str(id.as_str()).is_ok());
        }
        assert!(uuid::Uuid::parse_str(RequestId::from_header(None).as_str()).is_ok());
    }

    #[tokio::test]
    async fn current_is_visible_inside_the_scope_only() {
        assert!(RequestId::current().is_none());
        let seen = RequestId::parse("req-1")
            .unwrap()
            .scope(async { RequestId::current() })
            .await;
        assert_eq!(seen.unwrap().as_str(), "req-1");
    }
}
