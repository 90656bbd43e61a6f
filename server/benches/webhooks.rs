//! Stripe webhook ingest over HTTP on loopback: signed `invoice.paid` events posted to the
//! real server (2 job workers processing them meanwhile), on SQLite and PostgreSQL.
//! Reports acknowledgement latency at a steady 200 events/s and throughput flat out.
//! `TEST_POSTGRES_URL=postgres://postgres@127.0.0.1:5432/postgres cargo bench -p server --bench webhooks`

mod common;

use app::server::{config::Config, stripe, Db};
use server::startup::Application;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

const SECRET: &str = "whsec_bench_secret_0000000000001";

fn body(n: usize) -> String {
    serde_json::json!({
        "id": format!("evt_bench{n}"), "object": "event", "type": "invoice.paid", "created": 1_767_225_600,
        "livemode": false, "api_version": "2024-06-20",
        "data": { "object": { "id": format!("in_{n}"), "object": "invoice", "customer": format!("cus_{}", n % 500),
                  "status": "paid", "attempt_count": 1, "amount_due": 2000, "amount_paid": 2000, "amount_remaining": 0,
                  "currency": "usd", "status_transitions": { "paid_at": 1_767_225_600 } } }
    })
    .to_string()
}

async fn post(client: &reqwest::Client, url: &str, n: usize) -> Duration {
    let body = body(n);
    let t = chrono::Utc::now().timestamp();
    let header = format!(
        "t={t},v1={}",
        hex::encode(stripe::sign(SECRET, t, body.as_bytes()))
    );
    let started = Instant::now();
    let res = client
        .post(url)
        .header("stripe-signature", header)
        .body(body)
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);
    started.elapsed()
}

fn summary(mut lat: Vec<Duration>) -> String {
    lat.sort();
    let at = |q: f64| lat[((lat.len() as f64 - 1.0) * q).round() as usize].as_secs_f64() * 1000.0;
    format!(
        "p50 {:.2} ms | p99 {:.2} ms | max {:.2} ms",
        at(0.5),
        at(0.99),
        lat.last().unwrap().as_secs_f64() * 1000.0
    )
}

async fn run(label: &'static str, db: Db) {
    let vars = HashMap::from([
        ("DATABASE_URL", "sqlite://unused.db"),
        ("LEPTOS_SITE_ADDR", "127.0.0.1:0"),
        ("STRIPE_WEBHOOK_SECRET", SECRET),
        ("WORKER_COUNT", "2"),
        ("LOG_FORMAT", "json"),
    ]);
    let config = Config::from_lookup(&|k| vars.get(k).map(|v| v.to_string())).unwrap();
    let app = Application::with_db(config, db.clone()).await.unwrap();
    let url = format!("http://{}/api/webhooks/stripe", app.local_addr());
    let (stop, stopped) = tokio::sync::oneshot::channel::<()>();
    let server = tokio::spawn(app.run_until(async {
        let _ = stopped.await;
    }));
    let client = reqwest::Client::new();
    for n in 0..50 {
        post(&client, &url, 1_000_000 + n).await; // warm-up
    }

    // Steady: 200 events/s for 5 s, each request on its own schedule.
    let steady = 1000;
    let mut handles = Vec::new();
    let t0 = Instant::now();
    for n in 0..steady {
        let (client, url) = (client.clone(), url.clone());
        let due = t0 + Duration::from_millis(n as u64 * 5);
        handles.push(tokio::spawn(async move {
            tokio::time::sleep_until(due.into()).await;
            post(&client, &url, n).await
        }));
    }
    let mut lat = Vec::new();
    for h in handles {
        lat.push(h.await.unwrap());
    }
    println!(
        "| {label} | steady 200/s ({steady} events) | {} |",
        summary(lat)
    );

    // Flat out: 16 concurrent senders.
    let total = 4000;
    let next = Arc::new(AtomicUsize::new(0));
    let t0 = Instant::now();
    let mut handles = Vec::new();
    for _ in 0..16 {
        let (client, url, next) = (client.clone(), url.clone(), next.clone());
        handles.push(tokio::spawn(async move {
            let mut lat = Vec::new();
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                if n >= total {
                    break lat;
                }
                lat.push(post(&client, &url, 10_000 + n).await);
            }
        }));
    }
    let mut lat = Vec::new();
    for h in handles {
        lat.extend(h.await.unwrap());
    }
    let rate = total as f64 / t0.elapsed().as_secs_f64();
    println!(
        "| {label} | flat out, 16 senders ({total} events): {rate:.0} events/s | {} |",
        summary(lat)
    );
    let _ = stop.send(());
    server.await.unwrap().unwrap();
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    println!("| backend | load | acknowledgement latency |\n|---|---|---|");
    common::on_each_backend(run).await;
}
