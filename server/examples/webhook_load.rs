//! A separate load process for webhook receivers (scripts/bench-ingest.sh): posts signed
//! Stripe `invoice.paid` events, signed by Stripe's documented scheme, at a fixed rate or flat
//! out, and prints one Markdown table row: events/s, acknowledgement latency p50/p99/max and
//! errors. Latency is measured from each request's scheduled time at fixed rates, so a
//! receiver that falls behind is charged for the queue it builds (no coordinated omission).
//!
//! webhook_load URL SECRET LABEL RATE SECONDS [SENDERS]   (RATE 0 = flat out with SENDERS)

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

fn body(run: u64, n: usize) -> String {
    serde_json::json!({
        "id": format!("evt_load{run}_{n}"), "object": "event", "type": "invoice.paid", "created": 1_767_225_600,
        "livemode": false, "api_version": "2024-06-20",
        "data": { "object": { "id": format!("in_load{run}_{n}"), "object": "invoice", "customer": format!("cus_load{}", n % 500),
                  "status": "paid", "attempt_count": 1, "amount_due": 2000, "amount_paid": 2000, "amount_remaining": 0,
                  "currency": "usd", "status_transitions": { "paid_at": 1_767_225_600 } } }
    })
    .to_string()
}

/// Sends one event; true when the receiver acknowledged it with a 2xx.
async fn post(client: &reqwest::Client, url: &str, secret: &str, run: u64, n: usize) -> bool {
    let body = body(run, n);
    let t = chrono::Utc::now().timestamp();
    let header = format!(
        "t={t},v1={}",
        hex::encode(app::server::stripe::sign(secret, t, body.as_bytes()))
    );
    match client
        .post(url)
        .header("stripe-signature", header)
        .header("content-type", "application/json")
        .body(body)
        .send()
        .await
    {
        Ok(res) => res.status().is_success(),
        Err(_) => false,
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main(flavor = "multi_thread", worker_threads = 1)]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    if args.len() < 6 {
        eprintln!("usage: webhook_load URL SECRET LABEL RATE SECONDS [SENDERS]");
        std::process::exit(2);
    }
    let (url, secret, label) = (args[1].clone(), args[2].clone(), args[3].clone());
    let rate: u64 = args[4].parse().expect("RATE");
    let seconds: u64 = args[5].parse().expect("SECONDS");
    let senders: usize = args.get(6).map_or(16, |s| s.parse().expect("SENDERS"));
    let run = chrono::Utc::now().timestamp_micros() as u64;
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(256)
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    for n in 0..50 {
        post(&client, &url, &secret, run + 1, n).await; // warm-up, not counted
    }

    let started = Instant::now();
    let (mut latencies, errors) = if rate > 0 {
        let total = (rate * seconds) as usize;
        let gap = Duration::from_secs_f64(1.0 / rate as f64);
        let mut handles = Vec::with_capacity(total);
        for n in 0..total {
            let (client, url, secret) = (client.clone(), url.clone(), secret.clone());
            let due = started + gap * n as u32;
            handles.push(tokio::spawn(async move {
                tokio::time::sleep_until(due.into()).await;
                let ok = post(&client, &url, &secret, run, n).await;
                (due.elapsed(), ok)
            }));
        }
        let mut lat = Vec::with_capacity(total);
        let mut errors = 0;
        for h in handles {
            let (d, ok) = h.await.unwrap();
            lat.push(d);
            errors += usize::from(!ok);
        }
        (lat, errors)
    } else {
        let deadline = started + Duration::from_secs(seconds);
        let next = Arc::new(AtomicUsize::new(0));
        let mut handles = Vec::new();
        for _ in 0..senders {
            let (client, url, secret, next) =
                (client.clone(), url.clone(), secret.clone(), next.clone());
            handles.push(tokio::spawn(async move {
                let (mut lat, mut errors) = (Vec::new(), 0usize);
                while Instant::now() < deadline {
                    let n = next.fetch_add(1, Ordering::Relaxed);
                    let t = Instant::now();
                    let ok = post(&client, &url, &secret, run, n).await;
                    lat.push(t.elapsed());
                    errors += usize::from(!ok);
                }
                (lat, errors)
            }));
        }
        let mut lat = Vec::new();
        let mut errors = 0;
        for h in handles {
            let (l, e) = h.await.unwrap();
            lat.extend(l);
            errors += e;
        }
        (lat, errors)
    };
    let elapsed = started.elapsed();
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
        ms(*latencies.last().unwrap()),
    );
}
