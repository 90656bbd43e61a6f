use app::server::config::server::LogFormat;
use tracing_subscriber::{fmt, prelude::*, EnvFilter};

/// Human-readable logs by default, one JSON object per line with `LOG_FORMAT=json`. Every line
/// logged while serving a request carries that request's id through the `http` span.
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_env("RUST_LOG")
        .unwrap_or_else(|_| EnvFilter::new("info,sqlx=warn,leptos=warn,tower_http=warn"));
    let registry = tracing_subscriber::registry().with(filter);
    // try_init: tests build several apps in one process and only the first may install.
    let _ = match format {
        LogFormat::Text => registry.with(fmt::layer().with_target(false)).try_init(),
        LogFormat::Json => registry
            .with(
                fmt::layer()
                    .json()
                    .with_current_span(true)
                    .with_span_list(false),
            )
            .try_init(),
    };
}
