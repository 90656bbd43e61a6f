//! The append-only, hash-chained audit log.
//!
//! Each entry stores SHA-256 over its canonical content, which includes the previous entry's
//! hash, so editing, deleting or reordering any entry breaks every link after it. Appends run
//! inside the caller's transaction (an action and its audit entry commit together) and first
//! lock the single `audit_head` row, which serializes concurrent writers.

mod append;
mod chain;
mod export;
mod query;
mod verify;

pub use append::{append, append_now, permission_denied, NewEntry};
pub use export::{csv_header, write_csv_rows, EXPORT_BATCH};
pub use query::{list, page_after, ListError};
pub use verify::{last_verification, verify, Verification};

pub const GENESIS_HASH: &str = "0000000000000000000000000000000000000000000000000000000000000000";
