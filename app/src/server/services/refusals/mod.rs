//! What strangers may try before they are turned away without a write, and how their refusals
//! reach the audit log (as counts). One `Refusals` lives in the app state; sign-in, invite
//! links and the intake API consult it before touching the database.

mod strikes;
mod tally;

pub use strikes::{Strikes, Wait};
pub use tally::Tally;

/// Sign-in attempts per address per minute (a correct password gives its attempt back). Ten
/// colleagues behind one office address can all sign in at nine without waiting; a guesser
/// gets 20 tries a minute here before the database throttle (per account and address) has its
/// say.
pub const SIGN_IN_PER_MINUTE: u32 = 20;
/// Refused intake calls per address per minute before that address is answered 429 outright.
pub const INTAKE_REFUSALS_PER_MINUTE: u32 = 30;

#[derive(Debug)]
pub struct Refusals {
    pub sign_in: Strikes,
    pub intake: Strikes,
    pub tally: Tally,
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals {
            sign_in: Strikes::per_minute(SIGN_IN_PER_MINUTE),
            intake: Strikes::per_minute(INTAKE_REFUSALS_PER_MINUTE),
            tally: Tally::default(),
        }
    }
}
