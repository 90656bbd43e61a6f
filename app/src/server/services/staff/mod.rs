//! Staff accounts: the store (`auth::accounts`, re-exported here) and the changes an admin
//! makes. Every change is audited in the same transaction.

pub mod admin;
pub use super::auth::accounts::*;
pub use admin::{
    change_own_password, change_role, force_password_reset, invite, list, redeem_link, set_active,
    IssuedToken,
};
