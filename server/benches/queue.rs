//! No-op job throughput on SQLite and PostgreSQL with 1, 2 and 4 workers.
//! `cargo bench -p server --bench queue` (PostgreSQL via TEST_POSTGRES_URL).

mod common;

use app::server::jobs::{self, JobError, JobHandler, NewJob, Registry, RetryPolicy};
use app::server::Db;
use async_trait::async_trait;
use std::{sync::Arc, time::Instant};

struct Noop;

#[async_trait]
impl JobHandler for Noop {
    async fn run(&self, _db: &Db, _id: &str, _p: serde_json::Value) -> Result<(), JobError> {
        Ok(())
    }
}

const JOBS: usize = 2000;

async fn run(label: &str, db: Db) {
    let registry = Arc::new(Registry::new().register("noop", Noop));
    for workers in [1usize, 2, 4] {
        let mut tx = db.begin().await.unwrap();
        for _ in 0..JOBS {
            jobs::enqueue(&mut tx, NewJob::new("noop", serde_json::json!({}), 0), 0)
                .await
                .unwrap();
        }
        tx.commit().await.unwrap();
        let t = Instant::now();
        let mut handles = Vec::new();
        for w in 0..workers {
            let (db, registry) = (db.clone(), registry.clone());
            handles.push(tokio::spawn(async move {
                let policy = RetryPolicy::default();
                let id = format!("bench-{w}");
                let now = || chrono::Utc::now().timestamp_millis();
                while jobs::run_one(&db, &registry, &id, &policy, &now, 0.5)
                    .await
                    .unwrap()
                    .is_some()
                {}
            }));
        }
        for h in handles {
            h.await.unwrap();
        }
        let rate = JOBS as f64 / t.elapsed().as_secs_f64();
        println!("| {label} | {workers} | {rate:.0} jobs/s |");
    }
}

#[tokio::main(flavor = "multi_thread", worker_threads = 4)]
async fn main() {
    println!("| backend | workers | no-op jobs |\n|---|---|---|");
    common::on_each_backend(run).await;
}
