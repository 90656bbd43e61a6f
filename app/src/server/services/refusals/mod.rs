//! What strangers may try before they are turned away without a write, and how their refusals
//! reach the audit log (as counts). One `Refusals` lives in the app state; sign-in, invite
//! links, password changes and the intake API consult it before touching the database.

mod source;
mod strikes;
mod tally;

pub use source::{Reach, Source};
pub use strikes::{Strikes, Wait};
pub use tally::Tally;

use std::net::IpAddr;

/// Sign-in attempts per address (an IPv6 /64) per minute; a correct password gives its attempt
/// back. Ten colleagues behind one office address can all sign in at nine without waiting; a
/// guesser gets 20 tries a minute before the database throttle has its say.
pub const SIGN_IN_PER_MINUTE: u32 = 20;
/// Sign-in attempts per network (an IPv4 /24, an IPv6 /48) per minute: a /56 is 256 /64s, and
/// 256 budgets of 20 would be more guesses (and argon2 work) than the address budget means.
pub const SIGN_IN_PER_NETWORK_PER_MINUTE: u32 = 100;
/// Refused intake calls per address per minute before that address is answered 429 outright.
pub const INTAKE_REFUSALS_PER_MINUTE: u32 = 30;

#[derive(Debug)]
pub struct Refusals {
    sign_in: Strikes,
    sign_in_network: Strikes,
    pub intake: Strikes,
    pub tally: Tally,
}

impl Default for Refusals {
    fn default() -> Self {
        Refusals {
            sign_in: Strikes::per_minute(SIGN_IN_PER_MINUTE, Reach::Address),
            sign_in_network: Strikes::per_minute(SIGN_IN_PER_NETWORK_PER_MINUTE, Reach::Network),
            intake: Strikes::per_minute(INTAKE_REFUSALS_PER_MINUTE, Reach::Address),
            tally: Tally::default(),
        }
    }
}

impl Refusals {
    /// Spends one password attempt (sign-in, an invite link, a password change) of the
    /// address's and its network's budgets, or says how long to wait.
    pub fn password_attempt(&self, ip: IpAddr, now_ms: i64) -> Result<(), Wait> {
        self.sign_in.attempt(ip, now_ms)?;
        if let Err(wait) = self.sign_in_network.attempt(ip, now_ms) {
            self.sign_in.refund(ip, now_ms);
            return Err(wait);
        }
        Ok(())
    }

    /// Gives an attempt back (the password was right, or the link real).
    pub fn password_refund(&self, ip: IpAddr, now_ms: i64) {
        self.sign_in.refund(ip, now_ms);
        self.sign_in_network.refund(ip, now_ms);
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_network_of_addresses_shares_a_larger_budget() {
        let r = Refusals::default();
        let mut admitted = 0;
        for host in 0..=255u32 {
            let ip = IpAddr::V6(std::net::Ipv6Addr::from(
                (0x2001_0db8_0078_0000u128 + host as u128) << 64,
            ));
            admitted += (0..SIGN_IN_PER_MINUTE)
                .filter(|_| r.password_attempt(ip, 0).is_ok())
                .count();
        }
        assert_eq!(
            admitted, SIGN_IN_PER_NETWORK_PER_MINUTE as usize,
            "a /56's 256 /64s"
        );
        assert!(r
            .password_attempt("198.51.100.1".parse().unwrap(), 0)
            .is_ok());
    }
}
