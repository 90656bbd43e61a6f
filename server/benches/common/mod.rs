//! Shared by the benchmarks: a fresh, migrated database per backend, removed afterwards.

use app::server::config::database::DatabaseUrl;
use app::server::Db;
use sqlx::{Connection, Executor, PgConnection};
use std::future::Future;

/// Runs `bench` on a new SQLite file, then on a new PostgreSQL database when
/// TEST_POSTGRES_URL is set.
pub async fn on_each_backend<F, Fut>(bench: F)
where
    F: Fn(&'static str, Db) -> Fut,
    Fut: Future<Output = ()>,
{
    let dir = std::env::temp_dir().join(format!("ll-bench-{}", std::process::id()));
    let url = DatabaseUrl::parse(&format!("sqlite://{}/bench.db", dir.display())).unwrap();
    let db = Db::connect(&url).await.unwrap();
    db.migrate().await.unwrap();
    bench("sqlite", db.clone()).await;
    db.close().await;
    std::fs::remove_dir_all(&dir).ok();

    let Ok(admin) = std::env::var("TEST_POSTGRES_URL") else {
        return;
    };
    let name = format!("ll_bench_{}", std::process::id());
    let mut conn = PgConnection::connect(&admin).await.unwrap();
    conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
        .await
        .unwrap();
    let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap();
    let db = Db::connect(&DatabaseUrl::parse(&format!("{base}/{name}")).unwrap())
        .await
        .unwrap();
    db.migrate().await.unwrap();
    bench("postgres", db.clone()).await;
    db.close().await;
    conn.execute(format!(r#"DROP DATABASE "{name}" WITH (FORCE)"#).as_str())
        .await
        .unwrap();
}
