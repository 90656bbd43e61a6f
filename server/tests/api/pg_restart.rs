//! PostgreSQL restarted under webhook load. The shared server on 5432 serves every other test,
//! so this one runs its own throwaway cluster (initdb + pg_ctl from the machine's PostgreSQL)
//! on a free port, stops it while events are arriving, and starts it again. Then:
//! - /api/ready says 503 while the database is down and 200 once it is back, without a restart
//!   of Ledgerline (the pool reconnects);
//! - every event acknowledged at any point is stored, and redeliveries fill in the rest;
//! - the job workers picked up again after the restart.

use crate::child_server::{
    deliver, drain, event_id, free_port, redeliver_unacknowledged, start_server, stored_ids,
    unprocessed, wait_for,
};
use app::server::{config::Config, db::Db};
use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::sync::Arc;
use std::time::Duration;

/// A PostgreSQL cluster of our own, removed on drop.
struct Cluster {
    dir: PathBuf,
    bin: PathBuf,
    port: u16,
}

/// Runs a PostgreSQL tool; as root it must run as the `postgres` user, which initdb demands.
fn pg(bin: &Path, tool: &str, args: &[&str]) -> std::process::Output {
    let exe = bin.join(tool);
    let is_root = Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|o| o.stdout.starts_with(b"0\n"));
    let mut cmd = if is_root {
        let mut c = Command::new("runuser");
        c.args(["-u", "postgres", "--"]).arg(exe);
        c
    } else {
        Command::new(exe)
    };
    cmd.args(args).output().expect("PostgreSQL tool runs")
}

fn pg_bindir() -> Option<PathBuf> {
    if let Ok(out) = Command::new("pg_config").arg("--bindir").output() {
        let dir = PathBuf::from(String::from_utf8_lossy(&out.stdout).trim());
        if dir.join("pg_ctl").exists() {
            return Some(dir);
        }
    }
    // Debian puts the server tools beside, not in, pg_config's bindir.
    std::fs::read_dir("/usr/lib/postgresql")
        .ok()?
        .filter_map(|e| e.ok())
        .map(|e| e.path().join("bin"))
        .find(|b| b.join("pg_ctl").exists())
}

impl Cluster {
    fn start() -> Option<Cluster> {
        let Some(bin) = pg_bindir() else {
            assert!(
                std::env::var("CI").as_deref() != Ok("true"),
                "CI=true but PostgreSQL's server tools (pg_ctl, initdb) are not installed"
            );
            eprintln!("skipped: PostgreSQL's server tools are not installed");
            return None;
        };
        let port = free_port();
        let dir = std::env::temp_dir().join(format!("ll-pg-{}", uuid::Uuid::new_v4().simple()));
        std::fs::create_dir(&dir).unwrap();
        // initdb refuses a folder it does not own; as root, hand it to postgres.
        let _ = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .output();
        let d = dir.to_str().unwrap();
        let init = pg(
            &bin,
            "initdb",
            &["-D", d, "-A", "trust", "-U", "postgres", "--no-sync"],
        );
        assert!(
            init.status.success(),
            "initdb: {}",
            String::from_utf8_lossy(&init.stderr)
        );
        let cluster = Cluster { dir, bin, port };
        cluster.ctl(&["start"]);
        Some(cluster)
    }

    fn ctl(&self, action: &[&str]) {
        let d = self.dir.to_str().unwrap();
        let opts = format!(
            "-p {} -k {d} -c listen_addresses=127.0.0.1 -c fsync=off",
            self.port
        );
        let log = format!("{d}/log");
        let mut args = vec!["-D", d, "-w", "-t", "30", "-l", &log, "-o", &opts];
        args.extend(action);
        let out = pg(&self.bin, "pg_ctl", &args);
        assert!(
            out.status.success(),
            "pg_ctl {action:?}: {}{}",
            String::from_utf8_lossy(&out.stdout),
            std::fs::read_to_string(&log).unwrap_or_default()
        );
    }

    fn url(&self) -> String {
        format!("postgres://postgres@127.0.0.1:{}/postgres", self.port)
    }
}

impl Drop for Cluster {
    fn drop(&mut self) {
        let d = self.dir.to_str().unwrap().to_string();
        let _ = pg(&self.bin, "pg_ctl", &["-D", &d, "-m", "immediate", "stop"]);
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

fn invoice_paid(n: usize) -> String {
    serde_json::json!({
        "id": format!("evt_pgr_{n:05}"), "object": "event", "type": "invoice.paid", "created": 1_767_225_600 + n as i64,
        "livemode": false, "api_version": "2024-06-20",
        "data": { "object": { "id": format!("in_pgr_{n:05}"), "object": "invoice", "customer": format!("cus_pgr{}", n % 50),
                  "status": "paid", "attempt_count": 1, "amount_due": 2000, "amount_paid": 2000, "amount_remaining": 0,
                  "currency": "usd", "status_transitions": { "paid_at": 1_767_225_600 + n as i64 } } }
    })
    .to_string()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_restarted_under_load_loses_no_acknowledged_event() {
    let Some(cluster) = tokio::task::spawn_blocking(Cluster::start).await.unwrap() else {
        return;
    };
    let client = reqwest::Client::builder()
        .timeout(Duration::from_secs(30))
        .build()
        .unwrap();
    let port = free_port();
    let ready = format!("http://127.0.0.1:{port}/api/ready");
    let mut child = start_server(&cluster.url(), port);
    wait_for(&client, &ready, 200).await;

    let deliveries: Arc<Vec<String>> = Arc::new((0..3_000).map(invoice_paid).collect());
    let (restart, restarting) = tokio::sync::oneshot::channel();
    let cluster = Arc::new(cluster);
    let (c, probe, ready_url) = (cluster.clone(), client.clone(), ready.clone());
    let outage = tokio::spawn(async move {
        restarting.await.unwrap();
        let stopper = c.clone();
        tokio::task::spawn_blocking(move || stopper.ctl(&["-m", "fast", "stop"]))
            .await
            .unwrap();
        wait_for(&probe, &ready_url, 503).await;
        let body = probe
            .get(&ready_url)
            .bearer_auth(crate::helpers::TEST_METRICS_TOKEN)
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        tokio::time::sleep(Duration::from_secs(2)).await;
        tokio::task::spawn_blocking(move || c.ctl(&["start"]))
            .await
            .unwrap();
        wait_for(&probe, &ready_url, 200).await;
        body
    });
    let acked = deliver(
        &client,
        port,
        deliveries.clone(),
        Some((1_000, restart)),
        Duration::from_millis(20),
    )
    .await;
    let down_report = outage.await.unwrap();
    assert!(
        down_report.contains("database") && down_report.contains("fail"),
        "readiness names the database while it is down: {down_report}"
    );
    assert!(
        acked.len() < deliveries.len(),
        "some deliveries met the outage ({} of {} acknowledged)",
        acked.len(),
        deliveries.len()
    );

    let vars = std::collections::HashMap::from([
        ("APP_ENV".to_string(), "test".to_string()),
        ("DATABASE_URL".to_string(), cluster.url()),
    ]);
    let config = Config::from_lookup(&move |k| vars.get(k).cloned()).unwrap();
    let db = Db::connect(&config.database.url).await.unwrap();
    let lost: Vec<_> = acked.difference(&stored_ids(&db).await).cloned().collect();
    assert!(lost.is_empty(), "acknowledged but not stored: {lost:?}");

    // The workers came back with the database: events acknowledged after the restart get
    // processed without any help.
    let processed_by_server = async {
        for _ in 0..100 {
            let n: i64 =
                sqlx::query_scalar("SELECT COUNT(*) FROM stripe_events WHERE status = 'processed'")
                    .fetch_one(db.pool())
                    .await
                    .unwrap();
            if n as usize >= acked.len() * 9 / 10 {
                return n;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("the workers did not resume after the restart");
    }
    .await;

    let (missing, acked_again) = redeliver_unacknowledged(&client, port, &deliveries, &acked).await;
    assert_eq!(
        acked_again.len(),
        missing.len(),
        "redeliveries are acknowledged"
    );
    child.kill();
    drain(&db, &config).await;
    let all: HashSet<String> = deliveries.iter().map(|r| event_id(r)).collect();
    assert_eq!(stored_ids(&db).await, all, "every event stored once");
    assert_eq!(unprocessed(&db).await, 0);
    eprintln!(
        "postgres restart: {} of {} acknowledged around the outage, {processed_by_server} processed by the server's own workers, {} sent again",
        acked.len(),
        deliveries.len(),
        missing.len()
    );
    db.close().await;
}
