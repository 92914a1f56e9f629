//! Wiring: configuration, start-up, the database, and command handling
//! between the HTTP layer and the domain.

pub mod auth_config;
pub mod backup;
pub mod clock;
pub mod commands;
pub mod config;
pub mod database;
pub mod embedded_pg;
pub mod etag;
pub mod maintenance;
pub mod master_key;
pub mod metrics;
pub mod retention;
pub mod secret_file;
pub mod server;
pub mod subjects;
pub mod telemetry;
