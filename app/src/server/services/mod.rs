//! The service layer: plain async functions over the database and typed inputs. HTTP routes,
//! server functions, the CLI and the job worker all call these, so a rule lives in one place.

pub mod api_keys;
pub mod audit;
pub mod auth;
pub mod meta;
pub mod refusals;
pub mod staff;
pub mod timeline;
