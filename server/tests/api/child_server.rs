//! The real binary as a child process, for tests that kill it or pull its database away, and
//! a webhook sender that behaves like Stripe: 16 deliveries in flight, a 2xx is an
//! acknowledgement, anything else means "send again later".

use crate::helpers::{test_vars, TestDb};
use app::server::{config::Config, db::Db, jobs, stripe};
use std::collections::HashSet;
use std::process::{Child, Command, Stdio};
use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const SECRET: &str = "whsec_child_server_tests_0001";

pub fn free_port() -> u16 {
    std::net::TcpListener::bind("127.0.0.1:0")
        .unwrap()
        .local_addr()
        .unwrap()
        .port()
}

pub fn config_for(db: &TestDb) -> Config {
    let vars = test_vars(db);
    Config::from_lookup(&move |k| vars.get(k).cloned()).expect("test config is valid")
}

/// A running `ledgerline serve`; killed when dropped, so a failed assertion leaves no server
/// behind.
pub struct Server(Child);

impl Server {
    /// SIGKILL, and wait for the process to be gone.
    pub fn kill(&mut self) {
        let _ = self.0.kill();
        let _ = self.0.wait();
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        self.kill();
    }
}

/// `ledgerline serve` on `database_url` with two job workers.
pub fn start_server(database_url: &str, port: u16) -> Server {
    let child = Command::new(env!("CARGO_BIN_EXE_ledgerline"))
        .arg("serve")
        .env("APP_ENV", "test")
        .env("DATABASE_URL", database_url)
        .env("LEPTOS_SITE_ADDR", format!("127.0.0.1:{port}"))
        .env("STRIPE_WEBHOOK_SECRET", SECRET)
        .env("METRICS_TOKEN", crate::helpers::TEST_METRICS_TOKEN)
        .env("WORKER_COUNT", "2")
        .env("RUST_LOG", "error")
        .stdout(Stdio::null())
        .stderr(Stdio::null())
        .spawn()
        .expect("the server binary starts");
    Server(child)
}

pub async fn wait_for(client: &reqwest::Client, url: &str, want: u16) {
    for _ in 0..300 {
        let res = client.get(url).send().await;
        if res.is_ok_and(|r| r.status().as_u16() == want) {
            return;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    panic!("{url} never answered {want}");
}

pub fn event_id(raw: &str) -> String {
    let v: serde_json::Value = serde_json::from_str(raw).unwrap();
    v["id"].as_str().unwrap().to_string()
}

async fn post(client: &reqwest::Client, port: u16, raw: &str) -> bool {
    let t = chrono::Utc::now().timestamp();
    let v1 = hex::encode(stripe::sign(SECRET, t, raw.as_bytes()));
    client
        .post(format!("http://127.0.0.1:{port}/api/webhooks/stripe"))
        .header("stripe-signature", format!("t={t},v1={v1}"))
        .body(raw.to_string())
        .send()
        .await
        .is_ok_and(|r| r.status().is_success())
}

/// Posts every delivery once, 16 at a time; returns the ids that got a 2xx. `at_ack` fires
/// once, when that many deliveries have been acknowledged. After a failed delivery a sender
/// waits `pause`, so a run outlasts a short outage instead of racing through the list.
pub async fn deliver(
    client: &reqwest::Client,
    port: u16,
    deliveries: Arc<Vec<String>>,
    at_ack: Option<(usize, tokio::sync::oneshot::Sender<()>)>,
    pause: Duration,
) -> HashSet<String> {
    let next = Arc::new(AtomicUsize::new(0));
    let acked = Arc::new(Mutex::new(Vec::new()));
    let (trigger_at, trigger) = match at_ack {
        Some((n, tx)) => (n, Arc::new(Mutex::new(Some(tx)))),
        None => (0, Arc::new(Mutex::new(None))),
    };
    let mut senders = Vec::new();
    for _ in 0..16 {
        let (client, deliveries, next, acked, trigger) = (
            client.clone(),
            deliveries.clone(),
            next.clone(),
            acked.clone(),
            trigger.clone(),
        );
        senders.push(tokio::spawn(async move {
            loop {
                let n = next.fetch_add(1, Ordering::Relaxed);
                let Some(raw) = deliveries.get(n) else { break };
                if post(&client, port, raw).await {
                    let mut acked = acked.lock().unwrap();
                    acked.push(event_id(raw));
                    if acked.len() == trigger_at {
                        if let Some(tx) = trigger.lock().unwrap().take() {
                            let _ = tx.send(());
                        }
                    }
                } else {
                    tokio::time::sleep(pause).await;
                }
            }
        }));
    }
    for s in senders {
        s.await.unwrap();
    }
    let acked = acked.lock().unwrap();
    acked.iter().cloned().collect()
}

/// Stripe's retry: sends again, once each, every delivery whose event was not acknowledged.
/// Returns what was sent and the ids acknowledged this time.
pub async fn redeliver_unacknowledged(
    client: &reqwest::Client,
    port: u16,
    deliveries: &[String],
    acked: &HashSet<String>,
) -> (Vec<String>, HashSet<String>) {
    let retries: Vec<String> = deliveries
        .iter()
        .filter(|raw| !acked.contains(&event_id(raw)))
        .cloned()
        .collect();
    let acked_now = deliver(
        client,
        port,
        Arc::new(retries.clone()),
        None,
        Duration::ZERO,
    )
    .await;
    (retries, acked_now)
}

/// Runs every job still pending with the real handlers, on a clock far enough ahead that the
/// leases a killed worker held have expired.
pub async fn drain(db: &Db, config: &Config) {
    let registry =
        app::server::wiring::registry(config, &app::server::wiring::Connectors::build(config, db));
    let policy = jobs::RetryPolicy::default();
    let later = chrono::Utc::now().timestamp_millis() + 10 * 60_000;
    while let Some((job, outcome)) = jobs::run_one(db, &registry, "test", &policy, &|| later, 0.0)
        .await
        .unwrap()
    {
        assert_eq!(outcome, jobs::RunOutcome::Succeeded, "{job:?}");
    }
}

pub async fn stored_ids(db: &Db) -> HashSet<String> {
    sqlx::query_scalar("SELECT id FROM stripe_events")
        .fetch_all(db.pool())
        .await
        .unwrap()
        .into_iter()
        .collect()
}

pub async fn unprocessed(db: &Db) -> i64 {
    sqlx::query_scalar(
        "SELECT COUNT(*) FROM stripe_events WHERE status NOT IN ('processed', 'ignored')",
    )
    .fetch_one(db.pool())
    .await
    .unwrap()
}
