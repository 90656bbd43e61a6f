//! Building the application: database, migrations, router, listener. `main` and the
//! integration tests both go through `Application::build`, so tests run the real server.

use crate::{middleware, routes};
use app::server::auth::{DbSessionStore, StaffBackend};
use app::server::wiring::{self, Connectors, Shared};
use app::server::{config::Config, db::Db, jobs, services, AppState};
use app::ui::{shell, App};
use axum::{
    http::StatusCode,
    routing::{get, post},
    Router,
};
use axum_login::AuthManagerLayerBuilder;
use leptos::{config::LeptosOptions, prelude::provide_context};
use leptos_axum::{generate_route_list, LeptosRoutes};
use std::{future::Future, net::SocketAddr, sync::Arc};
use tokio::net::TcpListener;
use tower_http::{
    compression::CompressionLayer, limit::RequestBodyLimitLayer, timeout::TimeoutLayer,
};
use tower_sessions::{cookie::SameSite, Expiry, SessionManagerLayer};

/// Largest request body we accept (Stripe caps webhook payloads well below this).
pub const MAX_BODY_BYTES: usize = 1024 * 1024;

pub struct Application {
    listener: TcpListener,
    router: Router,
    state: AppState,
}

/// Leptos' settings without requiring cargo-leptos' environment: the site root can still be
/// moved with LEPTOS_SITE_ROOT, the rest is fixed by our Cargo.toml metadata.
pub fn leptos_options(config: &Config) -> LeptosOptions {
    let site_root = std::env::var("LEPTOS_SITE_ROOT").unwrap_or_else(|_| "target/site".into());
    LeptosOptions::builder()
        .output_name("ledgerline")
        .site_root(site_root)
        .site_pkg_dir("pkg")
        .site_addr(config.server.site_addr)
        .build()
}

impl Application {
    /// Connects, migrates and binds. Port 0 in `config.server.site_addr` picks a free port.
    pub async fn build(config: Config) -> anyhow::Result<Application> {
        let db = Db::connect(&config.database.url).await?;
        db.migrate().await?;
        services::meta::record_installed_at(&db, chrono_now_ms()).await?;
        Application::with_db(config, db).await
    }

    pub async fn with_db(config: Config, db: Db) -> anyhow::Result<Application> {
        // Before any job runs, so the first counts are not lost.
        app::server::metrics::install();
        let listener = TcpListener::bind(config.server.site_addr).await?;
        let state = AppState::new(Shared {
            leptos_options: leptos_options(&config),
            connectors: Connectors::build(&config, &db),
            ingest: app::server::stripe::IngestQueue::start(db.clone()),
            intake_limiter: Arc::new(app::server::tickets::IntakeLimiter::per_minute(
                config.tickets.intake_rate_per_min,
            )),
            refusals: Arc::default(),
            config: Arc::new(config),
            db,
        });
        let router = router(state.clone());
        Ok(Application {
            listener,
            router,
            state,
        })
    }

    pub fn local_addr(&self) -> SocketAddr {
        self.listener
            .local_addr()
            .expect("bound listener has an address")
    }

    pub fn state(&self) -> &AppState {
        &self.state
    }

    /// Serves (and runs WORKER_COUNT job workers) until `shutdown` resolves, then lets
    /// in-flight requests and jobs finish.
    pub async fn run_until(
        self,
        shutdown: impl Future<Output = ()> + Send + 'static,
    ) -> std::io::Result<()> {
        tracing::info!(addr = %self.local_addr(), "listening");
        let (stop_workers, workers_stopped) = tokio::sync::watch::channel(false);
        let mut background = jobs::spawn_workers(
            self.state.db.clone(),
            std::sync::Arc::new(wiring::registry(&self.state.config, &self.state.connectors)),
            jobs::WorkerConfig::with_count(self.state.config.jobs.worker_count),
            workers_stopped.clone(),
        );
        if self.state.config.jobs.worker_count > 0 {
            background.push(app::server::maintenance::cleanup::schedule(
                self.state.db.clone(),
                workers_stopped.clone(),
            ));
        }
        background.push(flush_refusals(self.state.clone(), workers_stopped));
        let limits = crate::serve::Limits::for_this_process(Arc::new(
            self.state.config.server.trusted_proxies.clone(),
        ));
        let served = crate::serve::serve(self.listener, self.router, limits, shutdown).await;
        let _ = stop_workers.send(true);
        for w in background {
            let _ = w.await;
        }
        self.state.db.close().await;
        served
    }
}

/// Writes the minute's counts of refused strangers to the audit log (`refusals::Tally`), and
/// once more on the way out.
fn flush_refusals(
    state: AppState,
    mut shutdown: tokio::sync::watch::Receiver<bool>,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(std::time::Duration::from_secs(60));
        tick.tick().await;
        loop {
            let stopping = tokio::select! {
                _ = tick.tick() => false,
                _ = shutdown.changed() => true,
            };
            if let Err(e) = state.refusals.tally.flush(&state.db).await {
                tracing::warn!(error = %e, "could not audit the refusal counts; kept for the next minute");
            }
            if stopping {
                break;
            }
        }
    })
}

fn chrono_now_ms() -> i64 {
    chrono::Utc::now().timestamp_millis()
}

/// Every non-Leptos HTTP route. Kept as a list so the permission-matrix test can enumerate
/// them; each path must also appear in `access_map::ROUTES`.
pub fn rest_routes() -> Vec<(&'static str, axum::routing::MethodRouter<AppState>)> {
    vec![
        ("/api/health", get(routes::health::health)),
        ("/api/ready", get(routes::health::ready)),
        ("/metrics", get(routes::metrics::metrics)),
        (
            "/api/webhooks/stripe",
            post(routes::stripe_webhook::receive),
        ),
        ("/api/audit/export.csv", get(routes::audit_export::export)),
        (
            "/api/v1/support/tickets",
            post(routes::support_tickets::create),
        ),
    ]
}

/// Leptos' route list, generated once per process. Generating it raises a process-wide flag
/// under which any resource first polled meanwhile waits forever (leptos-rs/leptos#4773), so it
/// must not run while pages render — as it did when tests started servers side by side.
pub fn route_list() -> Vec<leptos_axum::AxumRouteListing> {
    static ROUTES: std::sync::OnceLock<Vec<leptos_axum::AxumRouteListing>> =
        std::sync::OnceLock::new();
    ROUTES.get_or_init(|| generate_route_list(App)).clone()
}

pub fn router(state: AppState) -> Router {
    assemble(state, Guard::On)
}

/// The same router without the outer permission guard. Nothing in the binary serves it: it lets
/// a test prove that every server function and REST handler refuses on its own, so a future
/// route that relied on the guard alone fails that test.
#[doc(hidden)]
pub fn router_without_guard(state: AppState) -> Router {
    assemble(state, Guard::Off)
}

#[derive(Clone, Copy, PartialEq, Eq)]
enum Guard {
    On,
    Off,
}

fn assemble(state: AppState, with_guard: Guard) -> Router {
    let routes = route_list();
    let context_state = state.clone();
    let options = state.leptos_options.clone();
    let https = middleware::security_headers::Https(state.config.server.serves_https());

    let session_layer = SessionManagerLayer::new(DbSessionStore::new(state.db.clone()))
        .with_name("ll_session")
        .with_http_only(true)
        .with_same_site(SameSite::Lax)
        .with_secure(https.0)
        .with_expiry(Expiry::OnInactivity(time::Duration::seconds(
            state.config.sessions.idle_timeout.as_secs() as i64,
        )))
        // Saving on every request is what slides the idle timeout forward.
        .with_always_save(true);
    let auth_layer =
        AuthManagerLayerBuilder::new(StaffBackend::new(state.db.clone()), session_layer).build();

    // Machine-to-machine routes (Stripe's signature, a product's bearer key) authenticate
    // without a staff cookie, so they skip the session, auth and CSRF layers: a cookie sent
    // along is neither loaded nor rewritten. The permission guard runs for them as for every
    // route.
    let guard = axum::middleware::from_fn_with_state(state.clone(), middleware::guard);
    let guard = tower::util::option_layer((with_guard == Guard::On).then_some(guard));
    let (mut router, mut machine) = (Router::new(), Router::new());
    for (path, method_router) in rest_routes() {
        if middleware::csrf::is_machine_route(path) {
            machine = machine.route(path, method_router);
        } else {
            router = router.route(path, method_router);
        }
    }
    router
        .leptos_routes_with_context(
            &state,
            routes,
            move || provide_context(context_state.clone()),
            move || shell(options.clone()),
        )
        // Every matched route passes the guard; unmatched paths fall through to the 404s.
        .route_layer(guard.clone())
        .fallback(routes::fallback::fallback)
        .layer(auth_layer)
        .layer(axum::middleware::from_fn_with_state(
            state.clone(),
            middleware::csrf,
        ))
        // Added after the layers above, so they do not wrap it; those below wrap everything.
        .merge(machine.route_layer(guard))
        // Router::layer wraps what is already there, so the last layer added runs first:
        // the request id is outermost, so even a 413 from the body limit carries it.
        .layer(RequestBodyLimitLayer::new(MAX_BODY_BYTES))
        .layer(TimeoutLayer::with_status_code(
            StatusCode::REQUEST_TIMEOUT,
            state.config.server.request_timeout,
        ))
        .layer(CompressionLayer::new())
        .layer(axum::middleware::from_fn(middleware::json_errors_for_api))
        .layer(axum::middleware::from_fn_with_state(
            https,
            middleware::security_headers,
        ))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(state.config.server.trusted_proxies.clone()),
            middleware::request_context,
        ))
        .with_state(state)
}
