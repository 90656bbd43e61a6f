use crate::both_backends;
use crate::helpers::{spawn_app, Backend};
use serde_json::Value;

both_backends!(
    health_answers_without_touching_the_database,
    ready_reports_each_check,
    ready_and_instance_info_tell_strangers_only_the_status,
    ready_is_503_once_the_database_is_gone,
    ready_is_503_when_a_migration_is_pending,
    first_start_records_the_installation,
);

async fn health_answers_without_touching_the_database(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.state.db.close().await;
    let res = app.get("/api/health").await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok");
}

async fn ready_and_instance_info_tell_strangers_only_the_status(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let anonymous: Value = app.get("/api/ready").await.json().await.unwrap();
    assert_eq!(anonymous["status"], "ok");
    assert!(anonymous.get("checks").is_none(), "{anonymous}");
    let wrong = app
        .client
        .get(app.url("/api/ready"))
        .bearer_auth("not-the-metrics-token-at-all")
        .send()
        .await
        .unwrap();
    let wrong: Value = wrong.json().await.unwrap();
    assert!(wrong.get("checks").is_none(), "a wrong token is no token");
    let (staff, _) = app.sign_in(app::domain::Role::Viewer).await;
    let signed_in: Value = staff
        .get(app.url("/api/ready"))
        .send()
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    assert!(signed_in["checks"]
        .as_array()
        .is_some_and(|c| !c.is_empty()));
    let health: Value = app.get("/api/health").await.json().await.unwrap();
    assert_eq!(
        health,
        serde_json::json!({ "status": "ok" }),
        "no version to strangers"
    );

    let (status, info) = app.call_fn(&app.client, "instance_info", &[]).await;
    assert_eq!(status, 200);
    assert_eq!(info["env"], "test");
    assert!(
        info["version"].is_null() && info["database"].is_null(),
        "{info}"
    );
    let (_, info) = app.call_fn(&staff, "instance_info", &[]).await;
    assert!(
        info["version"].is_string() && info["database"].is_string(),
        "{info}"
    );
}

async fn ready_reports_each_check(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let res = app.ready().await;
    assert_eq!(res.status(), 200);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "ok", "{body}");
    let checks = body["checks"].as_array().unwrap();
    let by_name = |n: &str| {
        checks
            .iter()
            .find(|c| c["name"] == n)
            .unwrap_or_else(|| panic!("{n} missing"))
    };
    assert_eq!(by_name("database")["status"], "ok");
    let expected_backend = match backend {
        Backend::Sqlite => "sqlite",
        Backend::Postgres => "postgres",
    };
    assert!(by_name("database")["detail"]
        .as_str()
        .unwrap()
        .starts_with(expected_backend));
    assert_eq!(by_name("migrations")["status"], "ok");
    assert!(body["checked_at"].as_str().unwrap().ends_with('Z'));
}

async fn ready_is_503_once_the_database_is_gone(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    app.state.db.close().await;
    let res = app.ready().await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    assert_eq!(body["status"], "fail");
    let text = body.to_string();
    assert!(
        !text.contains("sqlx") && !text.contains("PoolClosed"),
        "internals leaked: {text}"
    );
}

async fn ready_is_503_when_a_migration_is_pending(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let latest = app::server::db::MIGRATOR
        .iter()
        .map(|m| m.version)
        .max()
        .unwrap();
    sqlx::query("DELETE FROM _sqlx_migrations WHERE version = $1")
        .bind(latest)
        .execute(app.state.db.pool())
        .await
        .unwrap();
    let res = app.ready().await;
    assert_eq!(res.status(), 503);
    let body: Value = res.json().await.unwrap();
    let migrations = body["checks"]
        .as_array()
        .unwrap()
        .iter()
        .find(|c| c["name"] == "migrations")
        .unwrap();
    assert_eq!(migrations["status"], "fail");
    assert!(migrations["detail"]
        .as_str()
        .unwrap()
        .contains(&latest.to_string()));
}

async fn first_start_records_the_installation(backend: Backend) {
    let Some(app) = spawn_app(backend).await else {
        return;
    };
    let installed = app::server::services::meta::get(&app.state.db, "installed_at")
        .await
        .unwrap();
    let ms: i64 = installed.expect("installed_at recorded").parse().unwrap();
    let now = chrono::Utc::now().timestamp_millis();
    assert!(
        (now - ms).abs() < 60_000,
        "installed_at {ms} not near now {now}"
    );
}
