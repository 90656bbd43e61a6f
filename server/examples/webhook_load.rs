//! A separate load process for webhook receivers (scripts/bench-ingest.sh): posts signed
//! Stripe `invoice.paid` events, signed by Stripe's documented scheme, at a fixed rate or flat
//! out, and prints one Markdown table row: events/s, acknowledgement latency p50/p99/max and
//! errors. Latency is measured from each request's scheduled time at fixed rates, so a
//! receiver that falls behind is charged for the queue it builds (no coordinated omission).
//!
//! webhook_load URL SECRET LABEL RATE SECONDS [SENDERS]   (RATE 0 = flat out with SENDERS)
//!
//! It shares the machine's two cores with the receiver, so it is built to cost little per
//! event: one thread, one kept-alive HTTP/1.1 connection per sender (hyper's client without a
//! pool), and a body written from a template. Each event is still built and signed at send time.

use axum::body::Bytes;
use http::{header, HeaderValue, Request, Uri};
use http_body_util::{BodyExt, Full};
use hyper::client::conn::http1::{self, SendRequest};
use hyper_util::rt::TokioIo;
use std::cell::Cell;
use std::rc::Rc;
use std::time::{Duration, Instant};

/// Senders (connections) used at fixed rates: enough that a receiver slower than the rate
/// builds a queue, which the latency from the scheduled time then shows.
const FIXED_RATE_SENDERS: usize = 64;
const REQUEST_TIMEOUT: Duration = Duration::from_secs(30);

#[derive(Clone)]
struct Target {
    addr: String,
    host: HeaderValue,
    path: String,
    secret: String,
    run: u64,
}

fn body(run: u64, n: usize) -> String {
    let customer = n % 500;
    format!(
        r#"{{"id":"evt_load{run}_{n}","object":"event","type":"invoice.paid","created":1767225600,"livemode":false,"api_version":"2024-06-20","data":{{"object":{{"id":"in_load{run}_{n}","object":"invoice","customer":"cus_load{customer}","status":"paid","attempt_count":1,"amount_due":2000,"amount_paid":2000,"amount_remaining":0,"currency":"usd","status_transitions":{{"paid_at":1767225600}}}}}}}}"#
    )
}

/// One sender: one connection, one request at a time, reconnecting after an error.
struct Sender {
    target: Rc<Target>,
    conn: Option<SendRequest<Full<Bytes>>>,
}

impl Sender {
    fn new(target: Rc<Target>) -> Sender {
        Sender { target, conn: None }
    }

    async fn connect(&mut self) -> bool {
        let Ok(stream) = tokio::net::TcpStream::connect(&self.target.addr).await else {
            return false;
        };
        let _ = stream.set_nodelay(true);
        let Ok((send, conn)) = http1::handshake(TokioIo::new(stream)).await else {
            return false;
        };
        tokio::task::spawn_local(conn);
        self.conn = Some(send);
        true
    }

    /// Sends event `n`; true when the receiver acknowledged it with a 2xx.
    async fn post(&mut self, n: usize) -> bool {
        match tokio::time::timeout(REQUEST_TIMEOUT, self.try_post(n)).await {
            Ok(true) => true,
            _ => {
                self.conn = None;
                false
            }
        }
    }

    async fn try_post(&mut self, n: usize) -> bool {
        let t = &self.target;
        let body = body(t.run, n);
        let now = chrono::Utc::now().timestamp();
        let signature = format!(
            "t={now},v1={}",
            hex::encode(app::server::stripe::sign(&t.secret, now, body.as_bytes()))
        );
        let request = Request::post(t.path.as_str())
            .header(header::HOST, t.host.clone())
            .header("stripe-signature", signature)
            .header(header::CONTENT_TYPE, "application/json")
            .body(Full::new(Bytes::from(body)))
            .expect("a well-formed request");
        let ready = match self.conn.as_mut() {
            Some(conn) => conn.ready().await.is_ok(),
            None => false,
        };
        if !ready && !self.connect().await {
            return false;
        }
        let Some(conn) = self.conn.as_mut() else {
            return false;
        };
        match conn.send_request(request).await {
            Ok(res) => {
                let ok = res.status().is_success();
                ok && res.into_body().collect().await.is_ok()
            }
            Err(_) => false,
        }
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

/// At `rate` per second for `seconds`: event n is due at start + n/rate, and whichever sender
/// is free takes the next due event, so latency counts from the due time.
async fn fixed_rate(target: Rc<Target>, rate: u64, seconds: u64) -> (Vec<Duration>, usize) {
    let total = (rate * seconds) as usize;
    let gap = Duration::from_secs_f64(1.0 / rate as f64);
    let started = Instant::now();
    run_senders(target, FIXED_RATE_SENDERS, move |n| {
        (n < total).then(|| started + gap * n as u32)
    })
    .await
}

/// `senders` connections, each posting its next event as soon as the last one is answered.
async fn flat_out(target: Rc<Target>, senders: usize, seconds: u64) -> (Vec<Duration>, usize) {
    let deadline = Instant::now() + Duration::from_secs(seconds);
    run_senders(target, senders, move |_| {
        let now = Instant::now();
        (now < deadline).then_some(now)
    })
    .await
}

/// `count` senders share one event counter. `due(n)` says when event n goes (None: the run is
/// over); a sender waits for that moment, posts, and records the latency from it.
async fn run_senders(
    target: Rc<Target>,
    count: usize,
    due: impl Fn(usize) -> Option<Instant> + Clone + 'static,
) -> (Vec<Duration>, usize) {
    let next = Rc::new(Cell::new(0usize));
    let mut handles = Vec::new();
    for _ in 0..count {
        let (mut sender, next, due) = (Sender::new(target.clone()), next.clone(), due.clone());
        handles.push(tokio::task::spawn_local(async move {
            let (mut lat, mut errors) = (Vec::new(), 0usize);
            loop {
                let n = next.get();
                let Some(at) = due(n) else { break };
                next.set(n + 1);
                if at > Instant::now() {
                    tokio::time::sleep_until(at.into()).await;
                }
                let ok = sender.post(n).await;
                lat.push(at.elapsed());
                errors += usize::from(!ok);
            }
            (lat, errors)
        }));
    }
    let (mut lat, mut errors) = (Vec::new(), 0);
    for h in handles {
        let (l, e) = h.await.expect("a sender panicked");
        lat.extend(l);
        errors += e;
    }
    (lat, errors)
}

fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: webhook_load URL SECRET LABEL RATE SECONDS [SENDERS]");
        std::process::exit(2);
    }
    let uri: Uri = args[1].parse().expect("URL");
    let authority = uri.authority().expect("URL with host:port").to_string();
    let target = Rc::new(Target {
        addr: authority.clone(),
        host: HeaderValue::from_str(&authority).expect("host"),
        path: uri.path().to_string(),
        secret: args[2].clone(),
        run: chrono::Utc::now().timestamp_micros() as u64,
    });
    let label = args[3].clone();
    let rate: u64 = args[4].parse().expect("RATE");
    let seconds: u64 = args[5].parse().expect("SECONDS");
    let senders: usize = args.get(6).map_or(16, |s| s.parse().expect("SENDERS"));

    // One thread: every sender and connection task runs on it, so no event costs a wake-up
    // across threads on the load side.
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .expect("a runtime");
    let local = tokio::task::LocalSet::new();
    let (mut latencies, errors, elapsed) = local.block_on(&runtime, async move {
        // Warm-up, not counted, with event ids of its own.
        let warm = Rc::new(Target {
            run: target.run + 1,
            ..(*target).clone()
        });
        let mut sender = Sender::new(warm);
        for n in 0..50 {
            sender.post(n).await;
        }
        let started = Instant::now();
        let (lat, errors) = if rate > 0 {
            fixed_rate(target, rate, seconds).await
        } else {
            flat_out(target, senders, seconds).await
        };
        (lat, errors, started.elapsed())
    });
    latencies.sort();
    let at = |q: f64| ms(latencies[((latencies.len() as f64 - 1.0) * q).round() as usize]);
    let load = if rate > 0 {
        format!("{rate}/s for {seconds} s")
    } else {
        format!("flat out, {senders} senders, {seconds} s")
    };
    println!(
        "| {label} | {load} | {:.0} | {:.2} ms | {:.2} ms | {:.2} ms | {errors} |",
        latencies.len() as f64 / elapsed.as_secs_f64(),
        at(0.5),
        at(0.99),
        ms(*latencies.last().expect("at least one event")),
    );
}
