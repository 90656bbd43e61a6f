//! The binary itself: configuration errors, `migrate`, `doctor`, logs and graceful shutdown.

use crate::both_backends;
use crate::helpers::{Backend, TestDb};
use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};
use std::time::{Duration, Instant};

both_backends!(
    migrate_then_doctor_reports_a_healthy_database,
    serve_logs_request_ids_and_stops_on_sigterm,
    serve_refuses_accounts_with_the_published_demo_password,
);

const BIN: &str = env!("CARGO_BIN_EXE_ledgerline");

/// The binary with a clean environment and a scratch working directory, so neither the
/// developer's shell nor a `.env` in the repository leaks in.
fn ledgerline(dir: &std::path::Path) -> Command {
    let mut cmd = Command::new(BIN);
    cmd.env_clear()
        .current_dir(dir)
        .env("PATH", std::env::var("PATH").unwrap_or_default());
    cmd
}

#[test]
fn bad_config_stops_with_one_line_per_variable() {
    let dir = tempfile::tempdir().unwrap();
    let out = ledgerline(dir.path())
        .args(["serve"])
        .env("LOG_FORMAT", "yaml")
        .env("STRIPE_API_KEY", "sk_nope_supersecretvalue123")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(2));
    let stderr = String::from_utf8(out.stderr).unwrap();
    let lines: Vec<&str> = stderr.lines().collect();
    assert_eq!(lines.len(), 2, "{stderr}");
    assert!(lines
        .iter()
        .any(|l| l.starts_with("error: LOG_FORMAT: expected text or json")));
    assert!(lines
        .iter()
        .any(|l| l.starts_with("error: STRIPE_API_KEY: expected")));
    assert!(!stderr.contains("supersecret"), "secret echoed: {stderr}");
    assert!(
        !dir.path().join("data").exists(),
        "nothing created on bad config"
    );
}

#[test]
fn doctor_fails_a_production_setup_with_a_test_key_and_hides_it() {
    let dir = tempfile::tempdir().unwrap();
    let out = ledgerline(dir.path())
        .arg("doctor")
        .env("APP_ENV", "production")
        .env("STRIPE_API_KEY", "sk_test_51HsecretsecretsecretWXYZ")
        .env("STRIPE_WEBHOOK_SECRET", "whsec_topsecretvalue0000")
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    let line = |name: &str| {
        stdout
            .lines()
            .find(|l| {
                l.split_whitespace()
                    .skip(1)
                    .collect::<Vec<_>>()
                    .join(" ")
                    .starts_with(name)
            })
            .unwrap_or_else(|| panic!("no {name} line in:\n{stdout}"))
            .to_string()
    };
    assert!(line("stripe mode").starts_with("fail"));
    assert!(line("stripe key").contains("sk_test_…WXYZ"));
    assert!(line("stripe webhook secret").starts_with("ok"));
    assert!(line("crm token").starts_with("warn"));
    assert!(
        line("public url").starts_with("warn"),
        "production over http"
    );
    assert!(line("database").starts_with("warn"), "file not created yet");
    assert!(
        !stdout.contains("secretsecret") && !stdout.contains("topsecret"),
        "{stdout}"
    );
    assert!(
        !dir.path().join("data/ledgerline.db").exists(),
        "doctor creates nothing"
    );
}

#[test]
fn doctor_reports_an_unreachable_postgres_as_a_failure() {
    let dir = tempfile::tempdir().unwrap();
    let out = ledgerline(dir.path())
        .arg("doctor")
        .env(
            "DATABASE_URL",
            "postgres://ledgerline:pw0rd@127.0.0.1:1/ledgerline",
        )
        .output()
        .unwrap();
    assert_eq!(out.status.code(), Some(1));
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("fail") && l.contains("database")),
        "{stdout}"
    );
    assert!(!stdout.contains("pw0rd"), "password shown: {stdout}");
}

async fn migrate_then_doctor_reports_a_healthy_database(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let out = ledgerline(dir.path())
        .arg("migrate")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    assert!(
        out.status.success(),
        "{}",
        String::from_utf8_lossy(&out.stderr)
    );
    let out = ledgerline(dir.path())
        .arg("doctor")
        .env("DATABASE_URL", &db.url)
        .output()
        .unwrap();
    let stdout = String::from_utf8(out.stdout).unwrap();
    assert_eq!(out.status.code(), Some(0), "{stdout}");
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("database")),
        "{stdout}"
    );
    assert!(
        stdout
            .lines()
            .any(|l| l.starts_with("ok") && l.contains("migrations") && l.contains("current")),
        "{stdout}"
    );
}

async fn serve_logs_request_ids_and_stops_on_sigterm(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let mut child = ledgerline(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        // The request below comes as if through our proxy, which may pass on its request id.
        .env("TRUSTED_PROXIES", "127.0.0.1")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let addr = loop {
        let line = lines.next().expect("server printed nothing").unwrap();
        let v: serde_json::Value = serde_json::from_str(&line).expect("every log line is JSON");
        if v["fields"]["message"] == "listening" {
            break v["fields"]["addr"].as_str().unwrap().to_string();
        }
    };
    let res = reqwest::Client::new()
        .get(format!("http://{addr}/api/ready"))
        .header("x-request-id", "trace-me-123")
        .send()
        .await
        .unwrap();
    assert_eq!(res.status(), 200);

    let pid = child.id().to_string();
    assert!(Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap()
        .success());
    let started = Instant::now();
    let status = loop {
        if let Some(status) = child.try_wait().unwrap() {
            break status;
        }
        assert!(
            started.elapsed() < Duration::from_secs(10),
            "server did not stop on SIGTERM"
        );
        tokio::time::sleep(Duration::from_millis(50)).await;
    };
    assert!(status.success(), "graceful exit, got {status:?}");
    let rest: Vec<serde_json::Value> = lines
        .map_while(Result::ok)
        .filter_map(|l| serde_json::from_str(&l).ok())
        .collect();
    let served = rest
        .iter()
        .find(|v| v["fields"]["message"] == "served")
        .expect("request was logged");
    assert_eq!(served["span"]["request_id"], "trace-me-123");
    assert_eq!(served["fields"]["status"], 200);
    assert!(rest.iter().any(|v| v["fields"]["message"] == "stopped"));
}

#[test]
fn create_admin_reads_the_password_from_stdin_and_enforces_the_policy() {
    use std::io::Write;
    let dir = tempfile::tempdir().unwrap();
    let run = |password: &str| {
        let mut child = ledgerline(dir.path())
            .args([
                "create-admin",
                "--email",
                "Root@Example.com",
                "--name",
                "Root",
            ])
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap();
        writeln!(child.stdin.take().unwrap(), "{password}").unwrap();
        child.wait_with_output().unwrap()
    };
    let weak = run("short");
    assert_eq!(weak.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&weak.stderr).contains("at least 12 characters"));
    let ok = run("plum-harbor-gravel-42");
    assert!(
        ok.status.success(),
        "{}",
        String::from_utf8_lossy(&ok.stderr)
    );
    assert!(String::from_utf8_lossy(&ok.stdout).starts_with("created admin root@example.com"));
    let again = run("plum-harbor-gravel-42");
    assert_eq!(again.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&again.stderr).contains("already exists"));
    let verify = ledgerline(dir.path())
        .args(["audit", "verify"])
        .output()
        .unwrap();
    assert!(verify.status.success());
    assert_eq!(
        String::from_utf8_lossy(&verify.stdout).trim(),
        "ok: 1 entries, chain intact"
    );
}

/// Runs `ledgerline args…` on `db` with `stdin` as its input; returns (exit code, stdout, stderr).
fn run(
    dir: &std::path::Path,
    db: &str,
    args: &[&str],
    stdin: &str,
) -> (Option<i32>, String, String) {
    use std::io::Write;
    let mut child = ledgerline(dir)
        .env("DATABASE_URL", db)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .args(args)
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    child
        .stdin
        .take()
        .unwrap()
        .write_all(stdin.as_bytes())
        .unwrap();
    let out = child.wait_with_output().unwrap();
    (
        out.status.code(),
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
    )
}

/// A database that ran the demo keeps accounts whose password the README prints. Served for
/// real (no DEMO_MODE), anyone could sign in with it: `serve` refuses to start and says how to
/// fix it, and starts once they are deactivated.
async fn serve_refuses_accounts_with_the_published_demo_password(backend: Backend) {
    let Some(db) = TestDb::create(backend).await else {
        return;
    };
    let dir = tempfile::tempdir().unwrap();
    let published = app::server::demo::PUBLISHED_PASSWORD;
    let (code, _, err) = run(
        dir.path(),
        &db.url,
        &["create-admin", "--email", "owner@example.com"],
        "a-real-admin-password-9\n",
    );
    assert_eq!(code, Some(0), "{err}");
    let (code, _, err) = run(
        dir.path(),
        &db.url,
        &[
            "create-staff",
            "--role",
            "billing",
            "--email",
            "billing@demo.example.com",
        ],
        &format!("{published}\n"),
    );
    assert_eq!(code, Some(0), "{err}");

    let (code, _, err) = run(dir.path(), &db.url, &["serve"], "");
    assert_eq!(code, Some(1), "{err}");
    assert!(err.contains("billing@demo.example.com"), "{err}");
    assert!(
        !err.contains("owner@example.com"),
        "only the affected accounts: {err}"
    );
    assert!(err.contains("deactivate-demo-accounts"), "{err}");
    assert!(
        !err.contains(published),
        "the password itself is not printed: {err}"
    );

    let (code, out, err) = run(dir.path(), &db.url, &["deactivate-demo-accounts"], "");
    assert_eq!(code, Some(0), "{err}");
    assert!(
        out.contains("deactivated billing@demo.example.com"),
        "{out}"
    );

    let mut child = ledgerline(dir.path())
        .env("DATABASE_URL", &db.url)
        .env("LEPTOS_SITE_ADDR", "127.0.0.1:0")
        .env("LOG_FORMAT", "json")
        .stdout(Stdio::piped())
        .spawn()
        .unwrap();
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let listening = lines.any(|l| l.is_ok_and(|l| l.contains("listening")));
    let _ = child.kill();
    let _ = child.wait();
    assert!(
        listening,
        "serves once no account has the published password"
    );
}
