//! The audit log: chained appends, verification that catches edits and deletions, the
//! database refusing UPDATE/DELETE, no forks under concurrent writers, filtered pages.

use crate::both_backends;
use crate::helpers::{spawn_app, Backend, TestApp};
use app::domain::{AuditFilter, Outcome};
use app::server::actor::{Actor, RequestMeta};
use app::server::db::Backend as DbBackend;
use app::server::services::audit;
use sqlx::Executor;

both_backends!(
    appends_form_a_chain_that_verifies,
    a_row_edited_in_the_database_breaks_the_chain_at_that_entry,
    a_deleted_row_or_truncated_tail_is_detected,
    the_database_refuses_updates_and_deletes,
    concurrent_appends_never_fork_the_chain,
    pages_filter_and_continue_by_cursor,
    ready_shows_the_last_verification,
);

fn staff(n: usize) -> Actor {
    Actor::Staff {
        id: format!("stf_{n}"),
        email: format!("person{n}@example.com"),
        role: app::domain::Role::Admin,
    }
}

async fn write(app: &TestApp, n: usize) {
    let meta = RequestMeta {
        request_id: Some(format!("req-{n}")),
        ip: Some("127.0.0.1".into()),
        user_agent: Some("tests".into()),
    };
    let actor = staff(n % 3);
    let action = if n.is_multiple_of(2) {
        "staff.role_changed"
    } else {
        "billing.refund.executed"
    };
    let outcome = if n.is_multiple_of(5) {
        Outcome::Denied
    } else {
        Outcome::Ok
    };
    audit::append_now(
        &app.state.db,
        audit::NewEntry::new(&actor, &meta, action, outcome)
            .target("staff", "stf_x")
            .customer(if n.is_multiple_of(4) {
                "cus_a"
            } else {
                "cus_b"
            })
            .details(serde_json::json!({ "n": n, "password": "must-not-be-stored" })),
    )
    .await
    .unwrap();
}

/// Lifts the append-only triggers, as someone with direct database access could.
async fn drop_guards(app: &TestApp) {
    let sql = match app.state.db.backend() {
        DbBackend::Sqlite => "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete;",
        DbBackend::Postgres => "DROP TRIGGER audit_log_append_only ON audit_log;",
    };
    app.state.db.pool().execute(sql).await.unwrap();
}

async fn appends_form_a_chain_that_verifies(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for n in 1..=25 {
        write(&app, n).await;
    }
    let v = audit::verify(&app.state.db).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.entries, 25);
    let page = audit::list(
        &app.state.db,
        &app::server::actor::Actor::System,
        &AuditFilter::default(),
        None,
        1,
    )
    .await
    .unwrap();
    let newest = &page.entries[0];
    assert_eq!(newest.seq, 25);
    assert!(
        newest.details.contains("[redacted]") && !newest.details.contains("must-not-be-stored")
    );
    assert_eq!(newest.request_id.as_deref(), Some("req-25"));
}

async fn a_row_edited_in_the_database_breaks_the_chain_at_that_entry(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for n in 1..=10 {
        write(&app, n).await;
    }
    drop_guards(&app).await;
    sqlx::query("UPDATE audit_log SET outcome = 'ok', details = '{}' WHERE seq = 5")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let v = audit::verify(&app.state.db).await.unwrap();
    assert!(!v.ok);
    assert_eq!(v.first_bad_seq, Some(5), "{v:?}");
    assert_eq!(v.entries, 4, "entries before the break");
}

async fn a_deleted_row_or_truncated_tail_is_detected(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for n in 1..=6 {
        write(&app, n).await;
    }
    drop_guards(&app).await;
    sqlx::query("DELETE FROM audit_log WHERE seq = 6")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let v = audit::verify(&app.state.db).await.unwrap();
    assert!(!v.ok, "removing the newest entry is caught by the head");
    assert_eq!(v.first_bad_seq, Some(6));
    sqlx::query("DELETE FROM audit_log WHERE seq = 3")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let v = audit::verify(&app.state.db).await.unwrap();
    assert_eq!(v.first_bad_seq, Some(3), "{v:?}");
}

async fn the_database_refuses_updates_and_deletes(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    write(&app, 1).await;
    let update = sqlx::query("UPDATE audit_log SET action = 'x' WHERE seq = 1")
        .execute(app.state.db.pool())
        .await;
    assert!(update.unwrap_err().to_string().contains("append-only"));
    let delete = sqlx::query("DELETE FROM audit_log")
        .execute(app.state.db.pool())
        .await;
    assert!(delete.unwrap_err().to_string().contains("append-only"));
    assert!(audit::verify(&app.state.db).await.unwrap().ok);
}

async fn concurrent_appends_never_fork_the_chain(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let app = std::sync::Arc::new(app);
    let mut tasks = Vec::new();
    for w in 0..8 {
        let app = app.clone();
        tasks.push(tokio::spawn(async move {
            for i in 0..10 {
                write(&app, w * 100 + i).await;
            }
        }));
    }
    for t in tasks {
        t.await.unwrap();
    }
    let v = audit::verify(&app.state.db).await.unwrap();
    assert!(v.ok, "{v:?}");
    assert_eq!(v.entries, 80);
}

async fn pages_filter_and_continue_by_cursor(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    for n in 1..=30 {
        write(&app, n).await;
    }
    let db = &app.state.db;
    let first = audit::list(
        db,
        &app::server::actor::Actor::System,
        &AuditFilter::default(),
        None,
        10,
    )
    .await
    .unwrap();
    assert_eq!(
        first.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        (21..=30).rev().collect::<Vec<_>>()
    );
    let second = audit::list(
        db,
        &app::server::actor::Actor::System,
        &AuditFilter::default(),
        first.next_before,
        10,
    )
    .await
    .unwrap();
    assert_eq!(second.entries.first().unwrap().seq, 20);
    let last = audit::list(
        db,
        &app::server::actor::Actor::System,
        &AuditFilter::default(),
        Some(11),
        10,
    )
    .await
    .unwrap();
    assert_eq!(last.entries.len(), 10);
    assert_eq!(last.next_before, None, "no more after the oldest");

    let by_actor = AuditFilter {
        actor: Some(" Person1@Example.com ".into()),
        ..Default::default()
    };
    let page = audit::list(db, &app::server::actor::Actor::System, &by_actor, None, 200)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 10);
    assert!(page
        .entries
        .iter()
        .all(|e| e.actor_label == "person1@example.com"));

    let prefix = AuditFilter {
        action: Some("billing".into()),
        ..Default::default()
    };
    let page = audit::list(db, &app::server::actor::Actor::System, &prefix, None, 200)
        .await
        .unwrap();
    assert_eq!(page.entries.len(), 15);
    assert!(page
        .entries
        .iter()
        .all(|e| e.action == "billing.refund.executed"));

    let combined = AuditFilter {
        outcome: Some(Outcome::Denied),
        customer_id: Some("cus_a".into()),
        ..Default::default()
    };
    let page = audit::list(db, &app::server::actor::Actor::System, &combined, None, 200)
        .await
        .unwrap();
    assert_eq!(
        page.entries.iter().map(|e| e.seq).collect::<Vec<_>>(),
        vec![20]
    );

    let all_at = page.entries[0].at_ms;
    let window = AuditFilter {
        from_ms: Some(all_at + 1_000_000),
        ..Default::default()
    };
    assert!(
        audit::list(db, &app::server::actor::Actor::System, &window, None, 10)
            .await
            .unwrap()
            .entries
            .is_empty()
    );
}

async fn ready_shows_the_last_verification(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    write(&app, 1).await;
    assert!(audit::verify(&app.state.db).await.unwrap().ok);
    let body: serde_json::Value = app.ready().await.json().await.unwrap();
    let check = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "audit chain")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "ok");
    drop_guards(&app).await;
    sqlx::query("UPDATE audit_log SET actor_label = 'someone-else' WHERE seq = 1")
        .execute(app.state.db.pool())
        .await
        .unwrap();
    assert!(!audit::verify(&app.state.db).await.unwrap().ok);
    let res = app.ready().await;
    assert_eq!(
        res.status(),
        200,
        "a broken chain degrades, it does not take the app down"
    );
    let body: serde_json::Value = res.json().await.unwrap();
    let check = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "audit chain")
        .unwrap()
        .clone();
    assert_eq!(check["status"], "warn");
    assert_eq!(body["status"], "warn");
}
