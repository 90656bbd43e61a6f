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

both_backends!(sessions_round_trip_expire_and_delete);

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
