//! Which address a request came from. Throttling, rate limits and the audit log key on it, so a
//! header anyone can send must not decide it: `X-Forwarded-For` is believed only when the
//! connection itself comes from a proxy named in `TRUSTED_PROXIES`, and then only as far back as
//! the chain runs through trusted proxies. `Forwarded` is never read (see `forwarded_chain`).

use ipnet::IpNet;
use std::net::{IpAddr, SocketAddr};

/// The request's client address, worked out once per request by the request-context layer.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ClientAddr(pub IpAddr);

/// `TRUSTED_PROXIES`: the networks whose forwarding headers are believed.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct TrustedProxies(Vec<IpNet>);

impl TrustedProxies {
    /// Comma-separated CIDRs or single addresses (`10.0.0.0/8, 127.0.0.1`); empty trusts none.
    pub fn parse(raw: &str) -> Result<Self, String> {
        let mut nets = Vec::new();
        for part in raw.split(',').map(str::trim).filter(|p| !p.is_empty()) {
            let net = part
                .parse::<IpNet>()
                .or_else(|_| part.parse::<IpAddr>().map(IpNet::from))
                .map_err(|_| format!("{part:?} is not a CIDR such as 10.0.0.0/8 or an address"))?;
            nets.push(net);
        }
        Ok(TrustedProxies(nets))
    }

    pub fn is_empty(&self) -> bool {
        self.0.is_empty()
    }

    pub fn trusts(&self, ip: IpAddr) -> bool {
        let ip = canonical_ip(ip);
        self.0.iter().any(|n| n.contains(&ip))
    }

    /// The client behind `peer`: the nearest address in the forwarding chain that is not a
    /// trusted proxy.
    pub fn client(&self, peer: SocketAddr, headers: &http::HeaderMap) -> IpAddr {
        let peer = canonical_ip(peer.ip());
        if !self.trusts(peer) {
            return peer;
        }
        let chain = forwarded_chain(headers);
        let mut nearest = peer;
        for hop in chain.iter().rev() {
            match hop {
                // A hop we cannot read ("unknown", an obfuscated name): the proxy that wrote it
                // is the last address we know.
                None => return nearest,
                Some(ip) if self.trusts(*ip) => nearest = *ip,
                Some(ip) => return *ip,
            }
        }
        nearest
    }
}

/// IPv4 addresses arrive mapped into IPv6 on a dual-stack socket; compare them as IPv4.
fn canonical_ip(ip: IpAddr) -> IpAddr {
    match ip {
        IpAddr::V6(v6) => v6
            .to_ipv4_mapped()
            .map(IpAddr::V4)
            .unwrap_or(IpAddr::V6(v6)),
        v4 => v4,
    }
}

/// The hops, client first, from every `X-Forwarded-For` line. Only this one header is read:
/// with two (`Forwarded` too), a proxy that sets one passes the client's own copy of the other
/// straight through, and the client would pick its address.
fn forwarded_chain(headers: &http::HeaderMap) -> Vec<Option<IpAddr>> {
    headers
        .get_all("x-forwarded-for")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .map(str::trim)
        .filter(|s| !s.is_empty())
        .map(parse_node)
        .collect()
}

/// `1.2.3.4`, `1.2.3.4:80`, `2001:db8::1`, `[2001:db8::1]:443`.
fn parse_node(s: &str) -> Option<IpAddr> {
    if let Ok(ip) = s.parse::<IpAddr>() {
        return Some(canonical_ip(ip));
    }
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Some(canonical_ip(sa.ip()));
    }
    s.strip_prefix('[')
        .and_then(|rest| rest.split_once(']'))
        .and_then(|(ip, _)| ip.parse::<IpAddr>().ok())
        .map(canonical_ip)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn headers(pairs: &[(&str, &str)]) -> http::HeaderMap {
        let mut h = http::HeaderMap::new();
        for (k, v) in pairs {
            h.append(
                http::HeaderName::from_bytes(k.as_bytes()).unwrap(),
                v.parse().unwrap(),
            );
        }
        h
    }

    fn peer(s: &str) -> SocketAddr {
        SocketAddr::new(s.parse().unwrap(), 5555)
    }

    #[test]
    fn headers_from_an_untrusted_peer_are_ignored() {
        let none = TrustedProxies::default();
        let h = headers(&[("x-forwarded-for", "1.1.1.1")]);
        assert_eq!(
            none.client(peer("9.9.9.9"), &h),
            "9.9.9.9".parse::<IpAddr>().unwrap()
        );
        let some = TrustedProxies::parse("10.0.0.0/8").unwrap();
        assert_eq!(
            some.client(peer("9.9.9.9"), &h),
            "9.9.9.9".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn a_trusted_proxy_names_the_client_and_spoofed_hops_are_skipped() {
        let t = TrustedProxies::parse("10.0.0.0/8, 127.0.0.1").unwrap();
        // The client sent "6.6.6.6" itself; the proxy appended the address it saw.
        let h = headers(&[("x-forwarded-for", "6.6.6.6, 203.0.113.7")]);
        assert_eq!(
            t.client(peer("127.0.0.1"), &h),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Two trusted proxies in a row.
        let h = headers(&[("x-forwarded-for", "203.0.113.7, 10.1.2.3")]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "203.0.113.7".parse::<IpAddr>().unwrap()
        );
        // Several header lines are one list.
        let h = headers(&[
            ("x-forwarded-for", "6.6.6.6"),
            ("x-forwarded-for", "198.51.100.2"),
        ]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "198.51.100.2".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn ports_and_ipv6_are_read_and_forwarded_is_ignored() {
        let t = TrustedProxies::parse("10.0.0.1").unwrap();
        let h = headers(&[("x-forwarded-for", "6.6.6.6, [2001:db8:cafe::17]:4711")]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "2001:db8:cafe::17".parse::<IpAddr>().unwrap()
        );
        // The proxy wrote X-Forwarded-For; the client added its own Forwarded, which a proxy
        // that does not know the header passes on.
        let h = headers(&[
            ("forwarded", "for=198.51.100.77"),
            ("x-forwarded-for", "203.0.113.50"),
        ]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "203.0.113.50".parse::<IpAddr>().unwrap()
        );
        let h = headers(&[("x-forwarded-for", "unknown, 7.7.7.7")]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "7.7.7.7".parse::<IpAddr>().unwrap()
        );
        let h = headers(&[("x-forwarded-for", "7.7.7.7, unknown")]);
        assert_eq!(
            t.client(peer("10.0.0.1"), &h),
            "10.0.0.1".parse::<IpAddr>().unwrap(),
            "an unreadable hop stops the walk at the proxy that wrote it"
        );
    }

    #[test]
    fn no_header_or_mapped_addresses_fall_back_to_the_peer() {
        let t = TrustedProxies::parse("127.0.0.1").unwrap();
        assert_eq!(
            t.client(peer("::ffff:127.0.0.1"), &http::HeaderMap::new()),
            "127.0.0.1".parse::<IpAddr>().unwrap()
        );
    }

    #[test]
    fn bad_settings_are_named() {
        assert!(TrustedProxies::parse("10.0.0.0/33").is_err());
        assert!(TrustedProxies::parse("proxy.local").is_err());
        assert!(TrustedProxies::parse(" ").unwrap().is_empty());
    }
}
