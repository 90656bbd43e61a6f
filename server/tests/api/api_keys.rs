//! API keys: admins create them (shown once, stored hashed), list and revoke them — audited;
//! the check refuses missing, unknown, revoked and under-scoped keys and records last use.
//! The CLI creates a key that the check accepts.

use crate::both_backends;
use crate::helpers::{audit_entries, spawn_app, Backend};
use app::domain::{Role, Scope};
use app::server::services::api_keys::{self, CheckError, Refused};

both_backends!(
    admins_create_list_and_revoke_keys_shown_once_and_audited,
    the_check_refuses_what_it_must_and_records_last_use,
    the_cli_prints_a_key_the_check_accepts,
);

async fn admins_create_list_and_revoke_keys_shown_once_and_audited(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let (admin, _) = app.sign_in(Role::Admin).await;
    let (billing, _) = app.sign_in(Role::Billing).await;
    let form = [("name", "Production backend"), ("scope", "tickets:write")];
    let (status, _) = app.call_fn(&billing, "api_key_create", &form).await;
    assert_eq!(status, 403);
    let (status, _) = app.call_fn(&billing, "api_key_list", &[]).await;
    assert_eq!(status, 403);
    let (status, body) = app
        .call_fn(
            &admin,
            "api_key_create",
            &[("name", " "), ("scope", "tickets:write")],
        )
        .await;
    assert_eq!(status, 422, "{body}");
    let (status, body) = app
        .call_fn(
            &admin,
            "api_key_create",
            &[("name", "x"), ("scope", "everything")],
        )
        .await;
    assert_eq!(status, 422, "{body}");

    let (status, created) = app.call_fn(&admin, "api_key_create", &form).await;
    assert_eq!(status, 200, "{created}");
    let key = created["key"].as_str().unwrap().to_string();
    assert!(key.starts_with("llk_") && key.len() == 4 + 64, "{key}");
    let id = created["view"]["id"].as_str().unwrap().to_string();
    let (status, list) = app.call_fn(&admin, "api_key_list", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(list.as_array().unwrap().len(), 1);
    assert!(!list.to_string().contains(&key), "the key is never listed");
    assert!(key.starts_with(list[0]["prefix"].as_str().unwrap().trim_end_matches('…')));
    let stored: String = sqlx::query_scalar("SELECT key_hash FROM api_keys WHERE id = $1")
        .bind(&id)
        .fetch_one(app.state.db.pool())
        .await
        .unwrap();
    assert_ne!(stored, key);
    assert_eq!(stored.len(), 64, "a SHA-256, hex");
    let entries = audit_entries(&app.state.db, "apikey.created").await;
    assert_eq!(entries.len(), 1);
    assert!(
        !entries[0].details.contains(&key),
        "the key is not in the audit log"
    );

    let (status, _) = app
        .call_fn(&billing, "api_key_revoke", &[("id", &id)])
        .await;
    assert_eq!(status, 403);
    let (status, body) = app.call_fn(&admin, "api_key_revoke", &[("id", &id)]).await;
    assert_eq!(status, 200, "{body}");
    let (status, _) = app.call_fn(&admin, "api_key_revoke", &[("id", &id)]).await;
    assert_eq!(status, 409);
    let (status, _) = app
        .call_fn(&admin, "api_key_revoke", &[("id", "key_nope")])
        .await;
    assert_eq!(status, 404);
    assert_eq!(
        audit_entries(&app.state.db, "apikey.revoked").await.len(),
        1
    );
    let page = app.html(&admin, "/api-keys").await;
    assert!(
        page.contains("Production backend") && page.contains("Revoked"),
        "{page}"
    );
    assert!(!page.contains(&key));
}

async fn the_check_refuses_what_it_must_and_records_last_use(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let db = &app.state.db;
    let (actor, meta) = (app::server::actor::Actor::System, Default::default());
    let t0 = chrono::Utc::now().timestamp_millis();
    let k = api_keys::create(db, &actor, &meta, "backend", &["tickets:write".into()], t0)
        .await
        .unwrap();
    let refused = |r: Result<_, CheckError>| match r {
        Err(CheckError::Refused(why)) => why,
        other => panic!("{other:?}"),
    };
    let w = Scope::TicketsWrite;
    assert_eq!(
        refused(api_keys::check(db, None, w, t0).await),
        Refused::Missing
    );
    assert_eq!(
        refused(api_keys::check(db, Some("Basic abc"), w, t0).await),
        Refused::Missing
    );
    let wrong = format!("{}0", &k.key[..k.key.len() - 1]);
    let wrong = if wrong == k.key {
        format!("{}1", &k.key[..k.key.len() - 1])
    } else {
        wrong
    };
    assert_eq!(
        refused(api_keys::check(db, Some(&wrong), w, t0).await),
        Refused::Unknown
    );

    let actor = api_keys::check(db, Some(&k.key), w, t0 + 5).await.unwrap();
    assert_eq!(actor.id(), Some(k.view.id.as_str()));
    let last = || async {
        sqlx::query_scalar::<_, Option<i64>>("SELECT last_used_at FROM api_keys WHERE id = $1")
            .bind(&k.view.id)
            .fetch_one(db.pool())
            .await
            .unwrap()
    };
    assert_eq!(last().await, Some(t0 + 5));
    api_keys::check(db, Some(&k.key), w, t0 + 30_000)
        .await
        .unwrap();
    assert_eq!(last().await, Some(t0 + 5), "written at most once a minute");
    api_keys::check(db, Some(&k.key), w, t0 + 70_000)
        .await
        .unwrap();
    assert_eq!(last().await, Some(t0 + 70_000));

    sqlx::query("UPDATE api_keys SET scopes = 'reports:read' WHERE id = $1")
        .bind(&k.view.id)
        .execute(db.pool())
        .await
        .unwrap();
    assert_eq!(
        refused(api_keys::check(db, Some(&k.key), w, t0).await),
        Refused::Scope("tickets:write")
    );
    api_keys::revoke(
        db,
        &app::server::actor::Actor::System,
        &Default::default(),
        &k.view.id,
        t0,
    )
    .await
    .unwrap();
    assert_eq!(
        refused(api_keys::check(db, Some(&k.key), w, t0).await),
        Refused::Revoked
    );
}

async fn the_cli_prints_a_key_the_check_accepts(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let stdout = app.run_cli(
        &[],
        &[
            "api-key",
            "create",
            "--name",
            "From the CLI",
            "--scope",
            "tickets:write",
        ],
    );
    let key = stdout.trim();
    assert!(key.starts_with("llk_"), "{stdout}");
    let now = chrono::Utc::now().timestamp_millis();
    api_keys::check(&app.state.db, Some(key), Scope::TicketsWrite, now)
        .await
        .unwrap();
    let entries = audit_entries(&app.state.db, "apikey.created").await;
    assert_eq!(entries.len(), 1);
    assert_eq!(entries[0].actor_kind, "system");
}
