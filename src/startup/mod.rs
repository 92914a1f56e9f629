//! Start-up and the command line: configuration, building and running the
//! server, telemetry and metrics, the background retention task, and the
//! maintenance commands (`verify`, `rebuild`, `export`, `import`, keys and
//! subjects). Nothing but this module imports `http`.

pub mod auth_config;
pub mod backup;
pub mod config;
pub mod maintenance;
pub mod master_key;
pub mod metrics;
pub mod retention;
pub mod secret_file;
pub mod server;
pub mod telemetry;
