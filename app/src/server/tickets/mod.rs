//! Support tickets: the intake API's service (parse, identify, snapshot, route, store), the
//! staff inbox and the optional help-desk copy.

pub mod enrich;
pub mod helpdesk;
pub mod inbox;
pub mod intake;
pub mod limiter;
pub mod request;
pub mod store;

pub use intake::{create, Created, IntakeError};
pub use limiter::IntakeLimiter;
pub use request::{FieldErrors, TicketRequest};
