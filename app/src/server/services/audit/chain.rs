use serde::Serialize;
use sha2::{Digest, Sha256};

/// The fields that are hashed, in a fixed order. Changing this breaks every existing chain, so
/// it is versioned by the `v` field.
#[derive(Serialize)]
pub(super) struct Canonical<'a> {
    pub v: u8,
    pub seq: i64,
    pub id: &'a str,
    pub at: i64,
    pub actor_kind: &'a str,
    pub actor_id: Option<&'a str>,
    pub actor_label: &'a str,
    pub action: &'a str,
    pub target_type: Option<&'a str>,
    pub target_id: Option<&'a str>,
    pub customer_id: Option<&'a str>,
    pub request_id: Option<&'a str>,
    pub ip: Option<&'a str>,
    pub user_agent: Option<&'a str>,
    pub outcome: &'a str,
    pub details: &'a str,
    pub prev_hash: &'a str,
}

impl Canonical<'_> {
    pub fn hash(&self) -> String {
        let json = serde_json::to_vec(self).expect("plain struct serializes");
        hex::encode(Sha256::digest(&json))
    }
}
