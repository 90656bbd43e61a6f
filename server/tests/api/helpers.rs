//! Test harness: a fresh database per test on either backend, the real server on port 0.
//!
//! PostgreSQL tests need TEST_POSTGRES_URL (e.g. postgres://postgres@127.0.0.1:5432/postgres),
//! a URL to a database the test may use to CREATE and DROP its own databases. Without it they
//! are skipped locally; under CI=true they fail, because CI must test both backends.

use app::server::{config::Config, AppState};
use server::startup::Application;
use sqlx::{Connection, Executor, PgConnection};
use std::{collections::HashMap, net::SocketAddr};
use tokio::sync::oneshot;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    Postgres,
}

impl Backend {
    pub fn name(self) -> &'static str {
        match self {
            Backend::Sqlite => "sqlite",
            Backend::Postgres => "postgres",
        }
    }
}

/// Declares each listed `async fn name(backend: Backend)` as two tests: `sqlite::name` and
/// `postgres::name`.
#[macro_export]
macro_rules! both_backends {
    ($($name:ident),* $(,)?) => {
        mod sqlite {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Sqlite).await } )*
        }
        mod postgres {
            $( #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
               async fn $name() { super::$name($crate::helpers::Backend::Postgres).await } )*
        }
    };
}

/// A database that exists for one test and is removed when dropped.
pub struct TestDb {
    pub url: String,
    cleanup: Cleanup,
}

enum Cleanup {
    Sqlite(#[allow(dead_code)] tempfile::TempDir),
    Postgres { admin_url: String, name: String },
}

fn postgres_admin_url() -> Option<String> {
    match std::env::var("TEST_POSTGRES_URL") {
        Ok(url) if !url.trim().is_empty() => Some(url),
        _ if std::env::var("CI").as_deref() == Ok("true") => {
            panic!("CI=true but TEST_POSTGRES_URL is not set: PostgreSQL tests must run in CI")
        }
        _ => None,
    }
}

/// Replaces the database name in a postgres URL.
fn with_database(url: &str, name: &str) -> String {
    let (base, query) = url
        .split_once('?')
        .map_or((url, None), |(b, q)| (b, Some(q)));
    let scheme_end = base.find("://").map_or(0, |i| i + 3);
    let root = match base[scheme_end..].find('/') {
        Some(i) => &base[..scheme_end + i],
        None => base,
    };
    match query {
        Some(q) => format!("{root}/{name}?{q}"),
        None => format!("{root}/{name}"),
    }
}

impl TestDb {
    /// None when the backend is not available here (PostgreSQL without TEST_POSTGRES_URL).
    pub async fn create(backend: Backend) -> Option<TestDb> {
        match backend {
            Backend::Sqlite => {
                let dir = tempfile::tempdir().expect("temp dir");
                let url = format!("sqlite://{}/test.db", dir.path().display());
                Some(TestDb {
                    url,
                    cleanup: Cleanup::Sqlite(dir),
                })
            }
            Backend::Postgres => {
                let Some(admin_url) = postgres_admin_url() else {
                    eprintln!("skipped: TEST_POSTGRES_URL not set");
                    return None;
                };
                let name = format!("ll_test_{}", uuid::Uuid::new_v4().simple());
                let mut conn = PgConnection::connect(&admin_url)
                    .await
                    .unwrap_or_else(|e| panic!("TEST_POSTGRES_URL is set but unreachable: {e}"));
                conn.execute(format!(r#"CREATE DATABASE "{name}""#).as_str())
                    .await
                    .expect("create test database");
                conn.close().await.ok();
                Some(TestDb {
                    url: with_database(&admin_url, &name),
                    cleanup: Cleanup::Postgres { admin_url, name },
                })
            }
        }
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        if let Cleanup::Postgres { admin_url, name } = &self.cleanup {
            let (admin_url, name) = (admin_url.clone(), name.clone());
            // Drop runs inside the test's runtime, which cannot be blocked on; use a thread with
            // its own small runtime. WITH (FORCE) ends the pool connections still open.
            let _ = std::thread::spawn(move || {
                let rt = tokio::runtime::Builder::new_current_thread()
                    .enable_all()
                    .build()
                    .unwrap();
                rt.block_on(async {
                    if let Ok(mut conn) = PgConnection::connect(&admin_url).await {
                        let _ = conn
                            .execute(
                                format!(r#"DROP DATABASE IF EXISTS "{name}" WITH (FORCE)"#)
                                    .as_str(),
                            )
                            .await;
                    }
                });
            })
            .join();
        }
    }
}

pub struct TestApp {
    pub addr: SocketAddr,
    pub client: reqwest::Client,
    pub state: AppState,
    /// Dropping the sender starts the server's graceful shutdown; the database outlives it.
    _stop: oneshot::Sender<()>,
    _db: TestDb,
}

/// A request that takes this long has hung: fail the test with a reason instead of stalling
/// the whole run (no request in these tests should take a second).
const REQUEST_LIMIT: std::time::Duration = std::time::Duration::from_secs(60);

pub const TEST_PASSWORD: &str = "plum-harbor-gravel-42";

impl TestApp {
    pub fn url(&self, path: &str) -> String {
        format!("http://{}{}", self.addr, path)
    }

    /// Our own origin, as a browser would send it on a same-site POST.
    pub fn origin(&self) -> String {
        format!("http://{}", self.addr)
    }

    /// Creates a staff member with `role` and returns a cookie-keeping client signed in as them.
    pub async fn sign_in(
        &self,
        role: app::domain::Role,
    ) -> (reqwest::Client, app::server::services::staff::Staff) {
        let email = format!(
            "{}-{}@example.com",
            role.as_str(),
            uuid::Uuid::new_v4().simple()
        );
        let staff = app::server::services::staff::create_with_password(
            &self.state.db,
            &app::server::actor::Actor::System,
            &Default::default(),
            &app::domain::Email::parse(&email).unwrap(),
            "Test Person",
            role,
            TEST_PASSWORD,
        )
        .await
        .expect("create staff");
        let client = reqwest::Client::builder()
            .timeout(REQUEST_LIMIT)
            .cookie_store(true)
            .redirect(reqwest::redirect::Policy::none())
            .build()
            .unwrap();
        let res = self.post_login(&client, &email, TEST_PASSWORD).await;
        assert!(
            res.status().is_redirection() || res.status().is_success(),
            "login: {}",
            res.status()
        );
        (client, staff)
    }

    pub async fn post_login(
        &self,
        client: &reqwest::Client,
        email: &str,
        password: &str,
    ) -> reqwest::Response {
        client
            .post(self.url("/api/fn/login"))
            .header("origin", self.origin())
            .form(&[("email", email), ("password", password), ("next", "/")])
            .send()
            .await
            .unwrap()
    }

    /// Runs `ledgerline args…` on this app's database with only `env` besides (a clean
    /// environment, a scratch directory); asserts it succeeded and returns what it printed.
    pub fn run_cli(&self, env: &[(&str, &str)], args: &[&str]) -> String {
        let dir = tempfile::tempdir().unwrap();
        let out = std::process::Command::new(env!("CARGO_BIN_EXE_ledgerline"))
            .env_clear()
            .current_dir(dir.path())
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("DATABASE_URL", self.state.config.database.url.as_str())
            .envs(env.iter().copied())
            .args(args)
            .output()
            .unwrap();
        assert!(
            out.status.success(),
            "{}",
            String::from_utf8_lossy(&out.stderr)
        );
        String::from_utf8(out.stdout).unwrap()
    }

    /// The page at `path` as `client` sees it, fully streamed.
    pub async fn html(&self, client: &reqwest::Client, path: &str) -> String {
        let res = client.get(self.url(path)).send().await.expect("request");
        assert_eq!(res.status(), 200, "{path}");
        res.text().await.expect("page body")
    }

    /// `/api/ready` with its checks, as a monitor holding METRICS_TOKEN reads it.
    pub async fn ready(&self) -> reqwest::Response {
        self.client
            .get(self.url("/api/ready"))
            .bearer_auth(TEST_METRICS_TOKEN)
            .send()
            .await
            .expect("request")
    }

    pub async fn get(&self, path: &str) -> reqwest::Response {
        self.client
            .get(self.url(path))
            .send()
            .await
            .expect("request")
    }
}

/// The configuration a test server runs with: test environment, its own database, port 0.
pub fn test_vars(db: &TestDb) -> HashMap<String, String> {
    HashMap::from([
        ("APP_ENV".to_string(), "test".to_string()),
        ("DATABASE_URL".to_string(), db.url.clone()),
        ("LEPTOS_SITE_ADDR".to_string(), "127.0.0.1:0".to_string()),
        // Tests drive the queue themselves (jobs::run_one with their own clock).
        ("WORKER_COUNT".to_string(), "0".to_string()),
        // Lets `TestApp::ready` read the readiness checks, which strangers do not see.
        ("METRICS_TOKEN".to_string(), TEST_METRICS_TOKEN.to_string()),
    ])
}

pub const TEST_METRICS_TOKEN: &str = "test-metrics-token-0123456789";

pub async fn spawn_app(backend: Backend) -> Option<TestApp> {
    spawn_app_with(backend, |_| {}).await
}

/// Spawns the real server; `configure` may change the variables it starts with.
pub async fn spawn_app_with(
    backend: Backend,
    configure: impl FnOnce(&mut HashMap<String, String>),
) -> Option<TestApp> {
    let db = TestDb::create(backend).await?;
    let mut vars = test_vars(&db);
    configure(&mut vars);
    let config = Config::from_lookup(&move |k| vars.get(k).cloned()).expect("test config is valid");
    let app = Application::build(config)
        .await
        .expect("application starts");
    let addr = app.local_addr();
    let state = app.state().clone();
    let (tx, rx) = oneshot::channel::<()>();
    tokio::spawn(async move {
        app.run_until(async {
            let _ = rx.await;
        })
        .await
        .expect("server runs");
    });
    let client = reqwest::Client::builder()
        .timeout(REQUEST_LIMIT)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    Some(TestApp {
        addr,
        client,
        state,
        _stop: tx,
        _db: db,
    })
}

#[test]
fn with_database_swaps_only_the_name() {
    assert_eq!(
        with_database("postgres://postgres@127.0.0.1:5432/postgres", "x"),
        "postgres://postgres@127.0.0.1:5432/x"
    );
    assert_eq!(
        with_database("postgres://u:p@h/db?sslmode=disable", "y"),
        "postgres://u:p@h/y?sslmode=disable"
    );
    assert_eq!(
        with_database("postgres://h:5432", "z"),
        "postgres://h:5432/z"
    );
}

/// Audit entries whose action is `action` or starts with `action.`, newest first.
pub async fn audit_entries(db: &app::server::Db, action: &str) -> Vec<app::domain::AuditEntry> {
    let filter = app::domain::AuditFilter {
        action: Some(action.into()),
        ..Default::default()
    };
    app::server::services::audit::list(db, &app::server::actor::Actor::System, &filter, None, 200)
        .await
        .expect("audit list")
        .entries
}

/// A job handler that always fails with the given error.
pub struct Failing(pub app::server::jobs::JobError);

#[async_trait::async_trait]
impl app::server::jobs::JobHandler for Failing {
    async fn run(
        &self,
        _db: &app::server::Db,
        _id: &str,
        _p: serde_json::Value,
    ) -> Result<(), app::server::jobs::JobError> {
        Err(self.0.clone())
    }
}

impl TestApp {
    /// Calls a server function as `client` would from the page; returns status and JSON body
    /// (or the text as a JSON string when it is not JSON).
    pub async fn call_fn(
        &self,
        client: &reqwest::Client,
        endpoint: &str,
        form: &[(&str, &str)],
    ) -> (u16, serde_json::Value) {
        let res = client
            .post(self.url(&format!("/api/fn/{endpoint}")))
            .header("origin", self.origin())
            .header("accept", "application/json")
            .form(form)
            .send()
            .await
            .unwrap();
        let status = res.status().as_u16();
        let text = res.text().await.unwrap();
        (
            status,
            serde_json::from_str(&text).unwrap_or(serde_json::Value::String(text)),
        )
    }

    /// Posts `body` to the Stripe webhook endpoint signed with `secret` now; returns the status.
    pub async fn deliver_stripe(&self, secret: &str, body: &str) -> u16 {
        let t = chrono::Utc::now().timestamp();
        let v1 = hex::encode(app::server::stripe::sign(secret, t, body.as_bytes()));
        self.client
            .post(self.url("/api/webhooks/stripe"))
            .header("stripe-signature", format!("t={t},v1={v1}"))
            .body(body.to_string())
            .send()
            .await
            .unwrap()
            .status()
            .as_u16()
    }

    /// seed-demo as the CLI runs it, with this app's connectors and job handlers.
    pub async fn seed_demo(
        &self,
        customers: usize,
        seed: u64,
    ) -> Result<app::server::demo::SeedReport, app::server::demo::SeedError> {
        let (db, config) = (&self.state.db, &self.state.config);
        let registry = app::server::wiring::registry(config, &self.state.connectors);
        app::server::demo::seed(db, config, &registry, customers, seed, &|_| {}).await
    }

    /// Runs every due job with the real registry, as a worker would; returns the outcomes.
    pub async fn run_due_jobs(&self) -> Vec<(String, app::server::jobs::RunOutcome)> {
        use app::server::jobs;
        let registry = app::server::wiring::registry(&self.state.config, &self.state.connectors);
        let policy = jobs::RetryPolicy::default();
        let now = chrono::Utc::now().timestamp_millis() + 1;
        let mut ran = Vec::new();
        while let Some((job, outcome)) = jobs::run_one(
            &self.state.db,
            &registry,
            "test-worker",
            &policy,
            &|| now,
            0.5,
        )
        .await
        .unwrap()
        {
            ran.push((job.kind, outcome));
        }
        ran
    }
}

/// Sends a request head (no body) and returns the status of the answer.
pub async fn status_of_head(addr: std::net::SocketAddr, head: &str) -> u16 {
    use tokio::io::{AsyncReadExt, AsyncWriteExt};
    let mut stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    stream.write_all(head.as_bytes()).await.unwrap();
    let mut answer = [0u8; 12];
    stream.read_exact(&mut answer).await.unwrap();
    std::str::from_utf8(&answer[9..12])
        .unwrap()
        .parse()
        .unwrap()
}

/// GET `path` exactly as written, with hyper, which sends the path as it is (reqwest resolves
/// dot segments before sending). Returns status, Location and body.
pub async fn raw_get(
    addr: SocketAddr,
    path: &str,
    cookie: Option<&str>,
) -> (u16, Option<String>, String) {
    use http_body_util::BodyExt;
    let stream = tokio::net::TcpStream::connect(addr).await.unwrap();
    let (mut send, conn) =
        hyper::client::conn::http1::handshake(hyper_util::rt::TokioIo::new(stream))
            .await
            .unwrap();
    tokio::spawn(conn);
    let mut req = http::Request::get(path).header("host", addr.to_string());
    if let Some(c) = cookie {
        req = req.header("cookie", c);
    }
    let req = req
        .body(http_body_util::Empty::<hyper::body::Bytes>::new())
        .unwrap_or_else(|e| panic!("{path}: {e}"));
    let res = send.send_request(req).await.unwrap();
    let status = res.status().as_u16();
    let location = res
        .headers()
        .get("location")
        .and_then(|l| l.to_str().ok())
        .map(str::to_string);
    let body = res.into_body().collect().await.unwrap().to_bytes();
    (
        status,
        location,
        String::from_utf8_lossy(&body).into_owned(),
    )
}

/// The session cookie (`ll_session=…`) a fresh sign-in as `role` gets, for raw requests.
pub async fn session_cookie_for(app: &TestApp, role: app::domain::Role) -> String {
    let email = format!(
        "{}-{}@example.com",
        role.as_str(),
        uuid::Uuid::new_v4().simple()
    );
    app::server::services::staff::create_with_password(
        &app.state.db,
        &app::server::actor::Actor::System,
        &Default::default(),
        &app::domain::Email::parse(&email).unwrap(),
        "Raw Person",
        role,
        TEST_PASSWORD,
    )
    .await
    .expect("create staff");
    let res = app.post_login(&app.client, &email, TEST_PASSWORD).await;
    res.headers()
        .get_all("set-cookie")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .find_map(|c| c.split(';').next().filter(|c| c.starts_with("ll_session=")))
        .expect("a session cookie")
        .to_string()
}
