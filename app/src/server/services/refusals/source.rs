//! Who counts as one source of traffic. An IPv6 client controls at least a /64 (a home line
//! often a /56, a data centre a /48), so counting its addresses one by one would hand it
//! unlimited fresh budgets and audit rows; IPv4 addresses are scarce enough to count singly.
//! Every per-address budget, throttle key and audit count goes through `Source`, so they all
//! agree on what "one address" is.

use std::fmt;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

/// How wide a net one source is.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Reach {
    /// One IPv4 address, or one IPv6 /64.
    Address,
    /// An IPv4 /24 or an IPv6 /48: many addresses one party is likely to hold together.
    Network,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub struct Source {
    net: IpAddr,
    prefix: u8,
}

impl Source {
    pub fn of(ip: IpAddr, reach: Reach) -> Source {
        let ip = match ip {
            IpAddr::V6(v6) => v6
                .to_ipv4_mapped()
                .map(IpAddr::V4)
                .unwrap_or(IpAddr::V6(v6)),
            v4 => v4,
        };
        match (ip, reach) {
            (IpAddr::V4(v4), Reach::Address) => Source {
                net: IpAddr::V4(v4),
                prefix: 32,
            },
            (IpAddr::V4(v4), Reach::Network) => Source {
                net: IpAddr::V4(Ipv4Addr::from(u32::from(v4) & 0xffff_ff00)),
                prefix: 24,
            },
            (IpAddr::V6(v6), reach) => {
                let prefix = if reach == Reach::Address { 64 } else { 48 };
                let bits = u128::from(v6) & (u128::MAX << (128 - prefix));
                Source {
                    net: IpAddr::V6(Ipv6Addr::from(bits)),
                    prefix,
                }
            }
        }
    }

    /// One address (IPv4) or one /64 (IPv6): the unit of sign-in budgets and audit counts.
    pub fn address(ip: IpAddr) -> Source {
        Source::of(ip, Reach::Address)
    }
}

impl fmt::Display for Source {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self.net {
            IpAddr::V4(v4) if self.prefix == 32 => write!(f, "{v4}"),
            net => write!(f, "{net}/{}", self.prefix),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn s(ip: &str, reach: Reach) -> String {
        Source::of(ip.parse().unwrap(), reach).to_string()
    }

    #[test]
    fn addresses_and_networks_are_named_by_their_prefix() {
        assert_eq!(s("203.0.113.7", Reach::Address), "203.0.113.7");
        assert_eq!(s("203.0.113.7", Reach::Network), "203.0.113.0/24");
        assert_eq!(
            s("2001:db8:1:2:3:4:5:6", Reach::Address),
            "2001:db8:1:2::/64"
        );
        assert_eq!(s("2001:db8:1:2:3:4:5:6", Reach::Network), "2001:db8:1::/48");
        assert_eq!(s("::ffff:198.51.100.9", Reach::Address), "198.51.100.9");
        assert_eq!(
            Source::address("2001:db8:1:2::1".parse().unwrap()),
            Source::address("2001:db8:1:2:ffff::9".parse().unwrap()),
        );
    }
}
