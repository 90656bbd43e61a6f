//! Session storage: records survive in the database (so a restart keeps people signed in),
//! expire on time, and are removed on delete.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use app::server::auth::DbSessionStore;
use tower_sessions::{
    session::{Id, Record},
    session_store::ExpiredDeletion,
    SessionStore,
};

both_backends!(
    sessions_round_trip_expire_and_delete,
    the_cleanup_job_removes_expired_sessions_and_stale_throttle_rows,
);

fn record(expires_in_secs: i64) -> Record {
    let mut data = std::collections::HashMap::new();
    data.insert(
        "login_at".to_string(),
        serde_json::json!(1_700_000_000_000i64),
    );
    Record {
        id: Id::default(),
        data,
        expiry_date: time::OffsetDateTime::now_utc() + time::Duration::seconds(expires_in_secs),
    }
}

async fn sessions_round_trip_expire_and_delete(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let store = DbSessionStore::new(app.state.db.clone());

    let mut live = record(600);
    store.create(&mut live).await.unwrap();
    // A second store over the same database stands in for a restarted process.
    let restarted = DbSessionStore::new(app.state.db.clone());
    let loaded = restarted
        .load(&live.id)
        .await
        .unwrap()
        .expect("session survives");
    assert_eq!(loaded.data, live.data);
    assert_eq!(
        loaded.expiry_date.unix_timestamp(),
        live.expiry_date.unix_timestamp()
    );

    live.data.insert("k".into(), serde_json::json!("v"));
    store.save(&live).await.unwrap();
    assert_eq!(store.load(&live.id).await.unwrap().unwrap().data["k"], "v");

    let mut expired = record(-1);
    store.create(&mut expired).await.unwrap();
    assert!(
        store.load(&expired.id).await.unwrap().is_none(),
        "expired sessions never load"
    );
    store.delete_expired().await.unwrap();
    let left: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_eq!(left, 1);

    store.delete(&live.id).await.unwrap();
    assert!(store.load(&live.id).await.unwrap().is_none());
}

/// What anonymous traffic leaves behind is removed by a job (`maintenance.cleanup`): expired
/// sessions, and throttle rows with no lock running and no failure for a day. One job waits at
/// a time however often it is queued.
async fn the_cleanup_job_removes_expired_sessions_and_stale_throttle_rows(backend: Backend) {
    use app::server::maintenance::cleanup;
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let store = DbSessionStore::new(db.clone());
    let mut live = record(600);
    store.create(&mut live).await.unwrap();
    let mut dead = record(600);
    store.create(&mut dead).await.unwrap();
    sqlx::query("UPDATE sessions SET expires_at = 1 WHERE id <> (SELECT MIN(id) FROM sessions)")
        .execute(db.pool())
        .await
        .unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    let day = 86_400_000;
    for (key, last, locked) in [
        ("ip:stale", now - 2 * day, 0),
        ("ip:recent", now - 60_000, 0),
        ("ip:locked", now - 2 * day, now + 60_000),
    ] {
        sqlx::query("INSERT INTO login_throttle (key, failures, last_failure_at, locked_until) VALUES ($1, 5, $2, $3)")
            .bind(key)
            .bind(last)
            .bind(locked)
            .execute(db.pool())
            .await
            .unwrap();
    }
    assert!(cleanup::enqueue(db, now).await.unwrap().is_some());
    assert!(
        cleanup::enqueue(db, now).await.unwrap().is_none(),
        "one waits at a time"
    );
    let ran = app.run_due_jobs().await;
    assert_eq!(
        ran,
        vec![(
            cleanup::CLEANUP_JOB.to_string(),
            app::server::jobs::RunOutcome::Succeeded
        )]
    );
    let sessions: i64 = sqlx::query_scalar("SELECT COUNT(*) FROM sessions")
        .fetch_one(db.pool())
        .await
        .unwrap();
    assert_eq!(sessions, 1, "the live session stays");
    let mut keys: Vec<String> = sqlx::query_scalar("SELECT key FROM login_throttle")
        .fetch_all(db.pool())
        .await
        .unwrap();
    keys.sort();
    assert_eq!(keys, ["ip:locked", "ip:recent"]);
    assert!(
        cleanup::enqueue(db, now).await.unwrap().is_some(),
        "queued again once done"
    );
}
