//! The command line. Every subcommand reads the same configuration and calls the same
//! services as the web app.

use crate::{startup::Application, telemetry};
use app::domain::{CheckStatus, Email, Role};
use app::server::actor::{Actor, RequestMeta};
use app::server::services::staff::StaffError;
use app::server::{config::Config, services, Db};
use clap::{Parser, Subcommand};
use std::process::ExitCode;

#[derive(Parser, Debug)]
#[command(
    name = "ledgerline",
    version,
    about = "Back-office for subscription businesses"
)]
pub struct Cli {
    #[command(subcommand)]
    pub command: Option<Command>,
}

#[derive(Subcommand, Debug)]
pub enum Command {
    /// Run the web app (the default).
    Serve,
    /// Apply pending database migrations and exit.
    Migrate,
    /// Check configuration and connectivity; exits 1 if any check fails.
    Doctor,
    /// Create an admin account. The password is read from standard input (a prompt on a
    /// terminal), never from the command line, where other users could see it.
    CreateAdmin {
        #[arg(long)]
        email: String,
        #[arg(long, default_value = "Administrator")]
        name: String,
    },
    /// Create a staff account with any role (password from standard input, as for
    /// create-admin). Day-to-day, admins invite staff from the web UI instead.
    CreateStaff {
        #[arg(long)]
        email: String,
        #[arg(long)]
        role: String,
        #[arg(long, default_value = "Staff member")]
        name: String,
    },
    /// Deactivate every account that still signs in with the demo's published password, so a
    /// database that once ran the demo can be served for real.
    DeactivateDemoAccounts,
    /// Run job workers only (no web server), e.g. extra processes sharing one PostgreSQL.
    Worker {
        /// Number of worker loops in this process.
        #[arg(long, default_value_t = 2)]
        count: usize,
    },
    /// Copy customers, subscriptions, invoices, charges and refunds from Stripe into the
    /// mirror. Resumes an interrupted run where it stopped; running it again changes nothing.
    StripeBackfill {
        /// Forget saved positions and start from the first page.
        #[arg(long)]
        restart: bool,
        /// Objects per list request (Stripe allows 1 to 100).
        #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u8).range(1..=100))]
        page_size: u8,
    },
    /// Import every CRM contact, link them to customers by the identity rules, then find
    /// duplicates and drift. Resumes an interrupted run unless --restart.
    CrmImport {
        /// Start from the first page.
        #[arg(long)]
        restart: bool,
    },
    /// Fill the database with a deterministic demo history (Stripe events through the webhook
    /// path, tickets through the intake service). Running it again adds nothing.
    SeedDemo {
        #[arg(long, default_value_t = 500, value_parser = clap::value_parser!(u32).range(1..=100_000))]
        customers: u32,
        #[arg(long, default_value_t = 1)]
        seed: u64,
    },
    /// Audit log tools.
    Audit {
        #[command(subcommand)]
        command: AuditCommand,
    },
    /// API keys for the product's backend (audited like the admin page).
    ApiKey {
        #[command(subcommand)]
        command: ApiKeyCommand,
    },
}

#[derive(Subcommand, Debug)]
pub enum ApiKeyCommand {
    /// Create a key and print it once; only its hash is kept.
    Create {
        #[arg(long)]
        name: String,
        /// What the key may do (repeatable): tickets:write.
        #[arg(long = "scope", required = true)]
        scopes: Vec<String>,
    },
    /// List keys (never the keys themselves).
    List,
    /// Revoke a key by id; its next call is refused.
    Revoke { id: String },
}

#[derive(Subcommand, Debug)]
pub enum AuditCommand {
    /// Walk the hash chain and report the first broken link; exits 1 if the chain is broken.
    Verify,
}

/// Exit code for configuration errors, distinct from runtime failures (1).
const EXIT_CONFIG: u8 = 2;

pub fn main() -> ExitCode {
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Builder::new_multi_thread()
        .enable_all()
        .build()
    {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    runtime.block_on(async {
        match cli.command.unwrap_or(Command::Serve) {
            Command::Serve => serve().await,
            Command::Migrate => migrate().await,
            Command::Doctor => doctor().await,
            Command::CreateAdmin { email, name } => create_staff(&email, &name, "admin").await,
            Command::CreateStaff { email, role, name } => create_staff(&email, &name, &role).await,
            Command::DeactivateDemoAccounts => deactivate_demo_accounts().await,
            Command::Worker { count } => worker(count).await,
            Command::StripeBackfill { restart, page_size } => {
                stripe_backfill(restart, page_size).await
            }
            Command::CrmImport { restart } => crm_import(restart).await,
            Command::SeedDemo { customers, seed } => seed_demo(customers as usize, seed).await,
            Command::Audit {
                command: AuditCommand::Verify,
            } => audit_verify().await,
            Command::ApiKey { command } => api_key(command).await,
        }
    })
}

/// Loads configuration or prints one line per bad variable.
fn load_config() -> Result<Config, ExitCode> {
    Config::from_env().map_err(|errors| {
        for e in &errors.0 {
            eprintln!("error: {e}");
        }
        ExitCode::from(EXIT_CONFIG)
    })
}

async fn serve() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.server.log_format);
    tracing::info!(env = %config.app_env, database = %config.database.url.redacted(), "starting");
    let demo_mode = config.demo_mode;
    let app = match Application::build(config).await {
        Ok(app) => app,
        Err(e) => {
            tracing::error!("cannot start: {e:#}");
            eprintln!("error: cannot start: {e:#}");
            return ExitCode::FAILURE;
        }
    };
    if !demo_mode {
        if let Err(code) = refuse_published_password(&app.state().db).await {
            return code;
        }
    }
    match app.run_until(shutdown_signal()).await {
        Ok(()) => {
            tracing::info!("stopped");
            ExitCode::SUCCESS
        }
        Err(e) => {
            tracing::error!("server error: {e}");
            ExitCode::FAILURE
        }
    }
}

/// Outside DEMO_MODE, accounts that still sign in with the demo's published password would let
/// anyone who read the README in: refuse to serve until they are removed or re-passworded.
async fn refuse_published_password(db: &Db) -> Result<(), ExitCode> {
    let found = match app::server::demo::accounts_with_published_password(db).await {
        Ok(found) => found,
        Err(e) => {
            eprintln!("error: cannot check staff passwords: {e}");
            return Err(ExitCode::FAILURE);
        }
    };
    if found.is_empty() {
        return Ok(());
    }
    tracing::error!(
        accounts = found.len(),
        "refusing to serve: demo password in use"
    );
    eprintln!(
        "error: refusing to serve outside DEMO_MODE: {} account(s) still use the demo's published password:",
        found.len()
    );
    for email in &found {
        eprintln!("  {email}");
    }
    eprintln!(
        "Run `ledgerline deactivate-demo-accounts` to deactivate them (create a real admin first\n\
         with `ledgerline create-admin` if they are the only admins). If this is a demo, start it\n\
         with DEMO_MODE=true instead."
    );
    Err(ExitCode::FAILURE)
}

async fn deactivate_demo_accounts() -> ExitCode {
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = async {
        let mut done = Vec::new();
        for email in app::server::demo::accounts_with_published_password(&db).await? {
            let parsed = Email::parse(&email).map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
            let Some(staff) = services::staff::find_by_email(&db, &parsed).await? else {
                continue;
            };
            services::staff::set_active(
                &db,
                &Actor::System,
                &RequestMeta::default(),
                &staff.id,
                false,
            )
            .await
            .map_err(|e| anyhow::anyhow!("{email}: {e}"))?;
            done.push(email);
        }
        anyhow::Ok(done)
    }
    .await;
    db.close().await;
    match result {
        Ok(done) => {
            for email in &done {
                println!("deactivated {email}");
            }
            println!("{} account(s) deactivated", done.len());
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn migrate() -> ExitCode {
    let config = match load_config() {
        Ok(c) => c,
        Err(code) => return code,
    };
    telemetry::init(config.server.log_format);
    let result = async {
        let db = Db::connect(&config.database.url).await?;
        db.migrate().await?;
        let state = db.migration_state().await?;
        db.close().await;
        anyhow::Ok(state)
    }
    .await;
    match result {
        Ok(state) => {
            println!(
                "migrations: {state:?} on {}",
                config.database.url.redacted()
            );
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
    }
}

async fn doctor() -> ExitCode {
    app::server::config::load_dotenv();
    let checks = app::server::views::doctor::run(&|var| std::env::var(var).ok()).await;
    let width = checks.iter().map(|c| c.name.len()).max().unwrap_or(0);
    for c in &checks {
        println!("{:<5} {:<width$}  {}", c.status.as_str(), c.name, c.detail);
    }
    let fails = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Fail)
        .count();
    let warns = checks
        .iter()
        .filter(|c| c.status == CheckStatus::Warn)
        .count();
    println!(
        "{} checks: {} ok, {warns} warn, {fails} fail",
        checks.len(),
        checks.len() - fails - warns
    );
    if fails > 0 {
        ExitCode::FAILURE
    } else {
        ExitCode::SUCCESS
    }
}

/// Connects and migrates, for commands that work on the database.
async fn open_db() -> Result<(Config, Db), ExitCode> {
    let config = load_config()?;
    telemetry::init(config.server.log_format);
    let db = async {
        let db = Db::connect(&config.database.url).await?;
        db.migrate().await?;
        anyhow::Ok(db)
    }
    .await
    .map_err(|e| {
        eprintln!("error: {e:#}");
        ExitCode::FAILURE
    })?;
    Ok((config, db))
}

fn read_password() -> std::io::Result<String> {
    use std::io::{BufRead, IsTerminal};
    if std::io::stdin().is_terminal() {
        let first = rpassword::prompt_password("Password (12+ characters): ")?;
        let again = rpassword::prompt_password("Repeat password: ")?;
        if first != again {
            return Err(std::io::Error::other("the passwords do not match"));
        }
        Ok(first)
    } else {
        let mut line = String::new();
        std::io::stdin().lock().read_line(&mut line)?;
        Ok(line.trim_end_matches(['\n', '\r']).to_string())
    }
}

async fn create_staff(email: &str, name: &str, role: &str) -> ExitCode {
    let email = match Email::parse(email) {
        Ok(e) => e,
        Err(e) => {
            eprintln!("error: --email: {e}");
            return ExitCode::from(EXIT_CONFIG);
        }
    };
    let Ok(role) = role.parse::<Role>() else {
        eprintln!("error: --role: expected one of viewer, support, billing, admin");
        return ExitCode::from(EXIT_CONFIG);
    };
    let password = match read_password() {
        Ok(p) => p,
        Err(e) => {
            eprintln!("error: cannot read the password: {e}");
            return ExitCode::FAILURE;
        }
    };
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = services::staff::create_with_password(
        &db,
        &Actor::System,
        &RequestMeta::default(),
        &email,
        name,
        role,
        &password,
    )
    .await;
    db.close().await;
    match result {
        Ok(staff) => {
            println!("created {} {} ({})", staff.role, staff.email, staff.id);
            ExitCode::SUCCESS
        }
        Err(e @ (StaffError::Db(_) | StaffError::Internal(_))) => {
            eprintln!("error: {e:#}");
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::from(EXIT_CONFIG)
        }
    }
}

async fn audit_verify() -> ExitCode {
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let result = services::audit::verify(&db).await;
    db.close().await;
    match result {
        Ok(v) if v.ok => {
            println!("ok: {}", v.detail);
            ExitCode::SUCCESS
        }
        Ok(v) => {
            println!(
                "broken: {} (first bad entry: {})",
                v.detail,
                v.first_bad_seq.map(|s| s.to_string()).unwrap_or_default()
            );
            ExitCode::FAILURE
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn worker(count: usize) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (stop, stopped) = tokio::sync::watch::channel(false);
    let mut handles = app::server::jobs::spawn_workers(
        db.clone(),
        std::sync::Arc::new(app::server::wiring::registry(
            &config,
            &app::server::wiring::Connectors::build(&config, &db),
        )),
        app::server::jobs::WorkerConfig::with_count(count.max(1)),
        stopped.clone(),
    );
    handles.push(app::server::maintenance::cleanup::schedule(
        db.clone(),
        stopped,
    ));
    shutdown_signal().await;
    let _ = stop.send(true);
    for h in handles {
        let _ = h.await;
    }
    db.close().await;
    ExitCode::SUCCESS
}

/// Resolves on Ctrl-C or SIGTERM.
pub async fn shutdown_signal() {
    let ctrl_c = async {
        let _ = tokio::signal::ctrl_c().await;
    };
    #[cfg(unix)]
    let terminate = async {
        match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
            Ok(mut s) => {
                s.recv().await;
            }
            Err(_) => std::future::pending::<()>().await,
        }
    };
    #[cfg(not(unix))]
    let terminate = std::future::pending::<()>();
    tokio::select! {
        _ = ctrl_c => {},
        _ = terminate => {},
    }
    tracing::info!("shutdown signal received; finishing in-flight requests");
}

async fn stripe_backfill(restart: bool, page_size: u8) -> ExitCode {
    use app::server::stripe::backfill;
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    if config.stripe.api_key.is_none() {
        eprintln!("error: STRIPE_API_KEY is not set; the backfill reads from Stripe's API");
        return ExitCode::from(EXIT_CONFIG);
    }
    let Some(api) = app::server::wiring::Connectors::build(&config, &db).stripe else {
        eprintln!("error: the Stripe API client could not be built (see the log)");
        return ExitCode::FAILURE;
    };
    let options = app::server::stripe::mirror::Options::from_config(&config);
    if restart {
        if let Err(e) = backfill::reset(&db).await {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let bar = spinner();
    // Rate limits and outages pause and resume from the saved cursor; other errors stop.
    let mut pause = std::time::Duration::from_secs(1);
    for _ in 0..8 {
        let result = backfill::run(&db, &api, &options, page_size, None, |p| {
            bar.set_message(format!(
                "{}: page {}, {} objects{}",
                p.resource,
                p.pages,
                p.objects,
                if p.done { " — done" } else { "" }
            ));
        })
        .await;
        match result {
            Ok(all) => {
                bar.finish_and_clear();
                if let Err(e) = backfill::audit_run(&db, &Actor::System, Ok(&all)).await {
                    eprintln!("warning: the run is not in the audit log: {e}");
                }
                for p in all {
                    println!("{:<13} {} objects", p.resource, p.objects);
                }
                return ExitCode::SUCCESS;
            }
            Err(backfill::BackfillError::Api(e)) if e.is_transient() => {
                bar.println(format!("{e}; resuming in {} s", pause.as_secs()));
                tokio::time::sleep(pause).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(60));
            }
            Err(e) => {
                bar.finish_and_clear();
                let _ = backfill::audit_run(&db, &Actor::System, Err(&e.to_string())).await;
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    bar.finish_and_clear();
    let _ = backfill::audit_run(&db, &Actor::System, Err("Stripe kept refusing")).await;
    eprintln!("error: Stripe kept refusing; run again later to resume");
    ExitCode::FAILURE
}

async fn seed_demo(customers: usize, seed: u64) -> ExitCode {
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let started = std::time::Instant::now();
    let progress = |line: &str| eprintln!("  {line}");
    let registry = app::server::wiring::registry(
        &config,
        &app::server::wiring::Connectors::build(&config, &db),
    );
    match app::server::demo::seed(&db, &config, &registry, customers, seed, &progress).await {
        Ok(r) => {
            println!(
                "Seeded {} customers ({} Stripe events), {} tickets, {} replies, {} failed jobs in {:.0} s",
                r.customers,
                r.events,
                r.tickets,
                r.replies,
                r.dead_jobs,
                started.elapsed().as_secs_f64()
            );
            if config.demo_mode && r.crm_leads + r.planted.drifted > 0 {
                println!(
                    "Simulated CRM: {} hand-made leads, {} people entered twice, {} hand edits (drift), {} duplicated contacts, {} refused emails; {} Stripe changes whose webhook never came",
                    r.crm_leads,
                    r.crm_ambiguous,
                    r.planted.drifted,
                    r.planted.duplicated,
                    r.planted.refused_emails,
                    r.planted.missed_webhooks
                );
            }
            ExitCode::SUCCESS
        }
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn crm_import(restart: bool) -> ExitCode {
    use app::server::crm::import::{self, ImportError};
    use app::server::crm::CrmError;
    let (config, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let Some(crm) = app::server::wiring::Connectors::build(&config, &db).crm else {
        eprintln!("error: no CRM is configured (CRM_PROVIDER=hubspot and HUBSPOT_TOKEN)");
        return ExitCode::from(EXIT_CONFIG);
    };
    let now = chrono::Utc::now().timestamp_millis();
    let status = match import::status(&db, &Actor::System).await {
        Ok(s) => s,
        Err(e) => {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    };
    // A finished run is not resumed: "run it again" means a fresh scan.
    if restart || status.phase == "done" {
        if let Err(e) = import::reset(&db, now).await {
            eprintln!("error: {e}");
            return ExitCode::FAILURE;
        }
    }
    let bar = spinner();
    let mut pause = std::time::Duration::from_secs(1);
    for _ in 0..8 {
        let result = import::run(&db, crm.as_ref(), &config, 100, None, |p| {
            bar.set_message(format!(
                "page {}, {} contacts{}",
                p.pages,
                p.contacts,
                if p.done {
                    " — linking and scanning"
                } else {
                    ""
                }
            ));
        })
        .await;
        match result {
            Ok(_) => {
                bar.finish_and_clear();
                let s = import::status(&db, &Actor::System)
                    .await
                    .unwrap_or_default();
                // The page's "start" is audited; a run from the command line is too.
                let meta = RequestMeta::default();
                let entry = services::audit::NewEntry::new(
                    &Actor::System,
                    &meta,
                    "crm.import_run",
                    app::domain::Outcome::Ok,
                )
                .details(serde_json::json!({
                    "contacts": s.contacts, "linked": s.linked, "conflicts": s.conflicts,
                    "duplicates": s.duplicates, "drifted": s.drifted,
                }));
                if let Err(e) = services::audit::append_now(&db, entry).await {
                    eprintln!("warning: the run is not in the audit log: {e}");
                }
                println!(
                    "{} contacts read, {} linked, {} new identity conflicts, {} duplicate groups, {} customers drifted",
                    s.contacts, s.linked, s.conflicts, s.duplicates, s.drifted
                );
                return ExitCode::SUCCESS;
            }
            Err(ImportError::Crm(CrmError::Transient {
                message,
                retry_after,
            })) => {
                let wait = retry_after.unwrap_or(pause).max(pause);
                bar.println(format!("{message}; resuming in {} s", wait.as_secs()));
                tokio::time::sleep(wait).await;
                pause = (pause * 2).min(std::time::Duration::from_secs(60));
            }
            Err(e) => {
                bar.finish_and_clear();
                eprintln!("error: {e}");
                return ExitCode::FAILURE;
            }
        }
    }
    bar.finish_and_clear();
    eprintln!("error: the CRM kept refusing; run again later to resume");
    ExitCode::FAILURE
}

/// A progress line for long runs (backfills, imports).
fn spinner() -> indicatif::ProgressBar {
    let bar = indicatif::ProgressBar::new_spinner();
    bar.set_style(
        indicatif::ProgressStyle::with_template("{spinner} {elapsed} {msg}")
            .expect("static template"),
    );
    bar.enable_steady_tick(std::time::Duration::from_millis(120));
    bar
}

async fn api_key(command: ApiKeyCommand) -> ExitCode {
    use app::server::services::api_keys;
    let (_, db) = match open_db().await {
        Ok(v) => v,
        Err(code) => return code,
    };
    let (actor, meta) = (Actor::System, app::server::actor::RequestMeta::default());
    let now = chrono::Utc::now().timestamp_millis();
    let result = match command {
        ApiKeyCommand::Create { name, scopes } => {
            api_keys::create(&db, &actor, &meta, &name, &scopes, now)
                .await
                .map(|k| {
                    eprintln!(
                        "Created {} ({}). Store it now; it is not shown again:",
                        k.view.name, k.view.id
                    );
                    println!("{}", k.key);
                })
        }
        ApiKeyCommand::List => api_keys::list(&db, &Actor::System)
            .await
            .map_err(|e| match e {
                app::server::actor::ReadError::Denied(d) => api_keys::KeyError::Denied(d),
                app::server::actor::ReadError::Db(e) => api_keys::KeyError::Db(e),
            })
            .map(|keys| {
                for k in keys {
                    println!(
                        "{}  {:<24} {:<16} {:<14} last used {}{}",
                        k.id,
                        k.name,
                        k.prefix,
                        k.scopes.join(","),
                        k.last_used_at_ms
                            .map(app::domain::time_fmt::utc)
                            .unwrap_or_else(|| "never".into()),
                        if k.revoked_at_ms.is_some() {
                            "  REVOKED"
                        } else {
                            ""
                        }
                    );
                }
            }),
        ApiKeyCommand::Revoke { id } => api_keys::revoke(&db, &actor, &meta, &id, now)
            .await
            .map(|k| println!("revoked {} ({})", k.id, k.name)),
    };
    db.close().await;
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}
