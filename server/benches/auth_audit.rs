//! Login latency (argon2id cost) and audit-log append rate, on SQLite and PostgreSQL.
//! `cargo bench -p server --bench auth_audit` (PostgreSQL via TEST_POSTGRES_URL). Figures go to
//! BENCHMARKS.md; nothing here asserts on time.

mod common;

use app::domain::{Email, Outcome, Role};
use app::server::actor::{Actor, RequestMeta};
use app::server::services::{audit, auth::login, auth::password, staff};
use app::server::Db;
use std::time::Instant;

fn pct(samples: &mut [f64], p: f64) -> f64 {
    samples.sort_by(|a, b| a.partial_cmp(b).unwrap());
    samples[((samples.len() as f64 - 1.0) * p).round() as usize]
}

async fn run(label: &str, db: Db) {
    let email = Email::parse("bench@example.com").unwrap();
    staff::create_with_password(
        &db,
        &Actor::System,
        &RequestMeta::default(),
        &email,
        "Bench",
        Role::Admin,
        "plum-harbor-gravel-42",
    )
    .await
    .unwrap();

    let mut hash_ms = Vec::new();
    for _ in 0..15 {
        let t = Instant::now();
        password::hash("plum-harbor-gravel-42".into())
            .await
            .unwrap();
        hash_ms.push(t.elapsed().as_secs_f64() * 1000.0);
    }
    let mut ok_ms = Vec::new();
    let mut unknown_ms = Vec::new();
    let mut wrong_ms = Vec::new();
    for i in 0..25 {
        let meta = RequestMeta {
            ip: Some(format!("10.9.{}.{}", i / 250, i % 250)),
            ..Default::default()
        };
        let t = Instant::now();
        login::attempt(
            &db,
            &Default::default(),
            &meta,
            "bench@example.com",
            "plum-harbor-gravel-42",
            None,
            i,
        )
        .await
        .unwrap();
        ok_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = login::attempt(
            &db,
            &Default::default(),
            &meta,
            &format!("nobody{i}@example.com"),
            "plum-harbor-gravel-42",
            None,
            i,
        )
        .await;
        unknown_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        let t = Instant::now();
        let _ = login::attempt(
            &db,
            &Default::default(),
            &meta,
            "bench@example.com",
            "wrong-password-here",
            None,
            i,
        )
        .await;
        wrong_ms.push(t.elapsed().as_secs_f64() * 1000.0);
        // Keep every key under its free tries so each attempt does the full work.
        sqlx::query("DELETE FROM login_throttle")
            .execute(db.pool())
            .await
            .unwrap();
    }

    let actor = Actor::System;
    let meta = RequestMeta::default();
    let n = 2000;
    let t = Instant::now();
    for i in 0..n {
        audit::append_now(
            &db,
            audit::NewEntry::new(&actor, &meta, "bench.append", Outcome::Ok)
                .details(serde_json::json!({ "i": i })),
        )
        .await
        .unwrap();
    }
    let seq_rate = n as f64 / t.elapsed().as_secs_f64();
    let writers = 4;
    let per = 500;
    let t = Instant::now();
    let mut tasks = Vec::new();
    for w in 0..writers {
        let db = db.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..per {
                audit::append_now(
                    &db,
                    audit::NewEntry::new(
                        &Actor::System,
                        &RequestMeta::default(),
                        "bench.append",
                        Outcome::Ok,
                    )
                    .details(serde_json::json!({ "w": w, "i": i })),
                )
                .await
                .unwrap();
            }
        }));
    }
    for task in tasks {
        task.await.unwrap();
    }
    let conc_rate = (writers * per) as f64 / t.elapsed().as_secs_f64();
    let t = Instant::now();
    let v = audit::verify(&db).await.unwrap();
    let verify_rate = v.entries as f64 / t.elapsed().as_secs_f64();
    assert!(v.ok);

    println!(
        "| {label} | argon2id hash p50 | {:.1} ms |",
        pct(&mut hash_ms, 0.5)
    );
    println!(
        "| {label} | sign-in, right password p50 / p95 | {:.1} / {:.1} ms |",
        pct(&mut ok_ms, 0.5),
        pct(&mut ok_ms, 0.95)
    );
    println!(
        "| {label} | sign-in, wrong password p50 / p95 | {:.1} / {:.1} ms |",
        pct(&mut wrong_ms, 0.5),
        pct(&mut wrong_ms, 0.95)
    );
    println!(
        "| {label} | sign-in, unknown email p50 / p95 | {:.1} / {:.1} ms |",
        pct(&mut unknown_ms, 0.5),
        pct(&mut unknown_ms, 0.95)
    );
    println!("| {label} | audit append, 1 writer | {seq_rate:.0} entries/s |");
    println!("| {label} | audit append, {writers} writers | {conc_rate:.0} entries/s |");
    println!(
        "| {label} | audit verify | {verify_rate:.0} entries/s ({} entries) |",
        v.entries
    );
}

#[tokio::main]
async fn main() {
    println!("| backend | measure | result |\n|---|---|---|");
    common::on_each_backend(run).await;
}
