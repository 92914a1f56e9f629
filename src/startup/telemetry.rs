//! Logging setup, done once at start-up. Every line inside a request carries
//! its request id through the `request` span.

use tracing_subscriber::EnvFilter;

use super::config::LogFormat;

/// Installs the global subscriber. `RUST_LOG` overrides the default level.
/// Safe to call twice (tests build several servers in one process).
pub fn init(format: LogFormat) {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr);
    let _ = match format {
        LogFormat::Json => builder.json().flatten_event(true).with_current_span(true).try_init(),
        LogFormat::Text => builder.try_init(),
    };
}
