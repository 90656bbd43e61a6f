//! Accepting connections. axum's own `serve` waits forever for a request's headers and takes
//! every connection it is offered, so one host holding 20,000 half-sent requests used up the
//! process's file descriptors and took the whole back office offline (webhooks included). Here:
//! - a request's headers must arrive within `HEADER_READ_TIMEOUT`, which also closes a
//!   keep-alive connection left idle that long;
//! - at most `PER_ADDRESS` connections per client address (not for `TRUSTED_PROXIES`, which
//!   carry everyone's traffic), and at most `Limits::total` in all, sized below the process's
//!   file-descriptor limit so the database and the SQLite files always have descriptors left.
//!
//! A connection over either cap is closed at once, before a byte is read.

use app::server::http::client_addr::TrustedProxies;
use axum::{extract::ConnectInfo, Router};
use hyper::body::Incoming;
use hyper_util::{
    rt::{TokioIo, TokioTimer},
    server::graceful::GracefulShutdown,
    service::TowerToHyperService,
};
use std::{
    collections::HashMap,
    future::Future,
    net::IpAddr,
    sync::{Arc, Mutex},
    time::Duration,
};
use tokio::net::TcpListener;
use tower::ServiceExt;

/// Long enough for a slow mobile link to send its headers, short enough that a descriptor held
/// by a silent client comes back quickly.
pub const HEADER_READ_TIMEOUT: Duration = Duration::from_secs(10);
/// Connections one address may hold: a browser opens about six, an office behind one NAT a few
/// hundred, the ingest benchmark's load process 256.
pub const PER_ADDRESS: usize = 512;
/// Descriptors kept back for the database pool, SQLite's files and the process itself.
const RESERVED_FDS: u64 = 512;
/// How long in-flight requests may run on after shutdown begins.
const DRAIN: Duration = Duration::from_secs(30);

#[derive(Debug, Clone)]
pub struct Limits {
    pub per_address: usize,
    pub total: usize,
    pub trusted: Arc<TrustedProxies>,
}

impl Limits {
    /// Raises the soft descriptor limit to the hard one (unprivileged processes may), then
    /// leaves `RESERVED_FDS` of it for everything that is not a connection.
    pub fn for_this_process(trusted: Arc<TrustedProxies>) -> Limits {
        Limits {
            per_address: PER_ADDRESS,
            total: (raise_fd_limit().saturating_sub(RESERVED_FDS)).max(64) as usize,
            trusted,
        }
    }
}

#[cfg(unix)]
fn raise_fd_limit() -> u64 {
    // SAFETY: getrlimit/setrlimit only read and write the struct passed to them.
    unsafe {
        let mut lim = libc::rlimit {
            rlim_cur: 0,
            rlim_max: 0,
        };
        if libc::getrlimit(libc::RLIMIT_NOFILE, &mut lim) != 0 {
            return 1024;
        }
        if lim.rlim_cur < lim.rlim_max {
            let raised = libc::rlimit {
                rlim_cur: lim.rlim_max,
                rlim_max: lim.rlim_max,
            };
            if libc::setrlimit(libc::RLIMIT_NOFILE, &raised) == 0 {
                lim.rlim_cur = lim.rlim_max;
            }
        }
        lim.rlim_cur
    }
}

#[cfg(not(unix))]
fn raise_fd_limit() -> u64 {
    1024
}

/// Open connections, by address and in all.
#[derive(Default)]
struct Open {
    by_addr: HashMap<IpAddr, usize>,
    total: usize,
}

/// One admitted connection; gives its place back when dropped.
struct Admitted {
    open: Arc<Mutex<Open>>,
    addr: IpAddr,
}

impl Drop for Admitted {
    fn drop(&mut self) {
        let mut open = self.open.lock().unwrap_or_else(|p| p.into_inner());
        open.total -= 1;
        if let Some(n) = open.by_addr.get_mut(&self.addr) {
            *n -= 1;
            if *n == 0 {
                open.by_addr.remove(&self.addr);
            }
        }
    }
}

fn admit(open: &Arc<Mutex<Open>>, limits: &Limits, addr: IpAddr) -> Option<Admitted> {
    let mut o = open.lock().unwrap_or_else(|p| p.into_inner());
    let here = o.by_addr.get(&addr).copied().unwrap_or(0);
    if o.total >= limits.total || (here >= limits.per_address && !limits.trusted.trusts(addr)) {
        return None;
    }
    o.total += 1;
    *o.by_addr.entry(addr).or_default() += 1;
    Some(Admitted {
        open: open.clone(),
        addr,
    })
}

/// Serves `router` on `listener` until `shutdown` resolves, then lets in-flight requests finish
/// (up to `DRAIN`).
pub async fn serve(
    listener: TcpListener,
    router: Router,
    limits: Limits,
    shutdown: impl Future<Output = ()> + Send + 'static,
) -> std::io::Result<()> {
    // HTTP/1.1 only: browsers speak HTTP/2 only over TLS, which a proxy in front ends, and
    // hyper's protocol sniffing would wait for a first byte with no timeout at all.
    let mut builder = hyper::server::conn::http1::Builder::new();
    builder
        .timer(TokioTimer::new())
        .header_read_timeout(HEADER_READ_TIMEOUT);
    let graceful = GracefulShutdown::new();
    let open = Arc::new(Mutex::new(Open::default()));
    let mut refused_logged_at = None::<std::time::Instant>;
    tokio::pin!(shutdown);
    loop {
        let (stream, peer) = tokio::select! {
            accepted = listener.accept() => match accepted {
                Ok(accepted) => accepted,
                Err(e) => {
                    // Out of descriptors or a connection reset before accept: wait a moment
                    // instead of spinning.
                    tracing::warn!(error = %e, "accept failed");
                    tokio::time::sleep(Duration::from_millis(20)).await;
                    continue;
                }
            },
            _ = &mut shutdown => break,
        };
        let Some(admitted) = admit(&open, &limits, peer.ip()) else {
            if refused_logged_at.is_none_or(|t| t.elapsed() > Duration::from_secs(10)) {
                tracing::warn!(peer = %peer.ip(), "connection refused: too many open");
                refused_logged_at = Some(std::time::Instant::now());
            }
            drop(stream);
            continue;
        };
        let _ = stream.set_nodelay(true);
        let service = router
            .clone()
            .map_request(move |mut req: http::Request<Incoming>| {
                req.extensions_mut().insert(ConnectInfo(peer));
                req
            });
        let conn =
            builder.serve_connection(TokioIo::new(stream), TowerToHyperService::new(service));
        let conn = graceful.watch(conn);
        tokio::spawn(async move {
            let _ = conn.await;
            drop(admitted);
        });
    }
    drop(listener);
    tokio::select! {
        _ = graceful.shutdown() => {}
        _ = tokio::time::sleep(DRAIN) => tracing::warn!("connections still open after the drain time"),
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn limits(per_address: usize, total: usize, trusted: &str) -> Limits {
        Limits {
            per_address,
            total,
            trusted: Arc::new(TrustedProxies::parse(trusted).unwrap()),
        }
    }

    #[test]
    fn caps_per_address_and_in_all_and_frees_places_on_drop() {
        let open = Arc::new(Mutex::new(Open::default()));
        let l = limits(2, 3, "10.0.0.1");
        let a: IpAddr = "1.1.1.1".parse().unwrap();
        let b: IpAddr = "2.2.2.2".parse().unwrap();
        let first = admit(&open, &l, a).unwrap();
        let _second = admit(&open, &l, a).unwrap();
        assert!(admit(&open, &l, a).is_none(), "third from one address");
        let _third = admit(&open, &l, b).unwrap();
        assert!(admit(&open, &l, b).is_none(), "total reached");
        drop(first);
        assert!(admit(&open, &l, a).is_some(), "a place came back");
    }

    #[test]
    fn a_trusted_proxy_is_not_capped_per_address() {
        let open = Arc::new(Mutex::new(Open::default()));
        let l = limits(1, 10, "10.0.0.1");
        let proxy: IpAddr = "10.0.0.1".parse().unwrap();
        let held: Vec<_> = (0..5).map(|_| admit(&open, &l, proxy).unwrap()).collect();
        assert_eq!(held.len(), 5);
    }
}
