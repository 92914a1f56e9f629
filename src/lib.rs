//! OpsLedger: an event-sourced incident and change-management server.
//!
//! A request travels http → app → domain → store → projections:
//! - [`domain`] is pure: commands in, events out.
//! - [`store`] appends events to PostgreSQL and reads them back.
//! - [`projections`] builds the views clients read.
//! - [`http`] authenticates, validates and documents the API.
//! - [`app`] holds the use-case services: ticket commands, data subjects.
//! - [`privacy`] seals personal data per data subject.
//! - [`startup`] builds the server from configuration and runs the CLI;
//!   [`infra`] connects to PostgreSQL (or starts an embedded one).

pub mod app;
pub mod domain;
pub mod http;
pub mod infra;
pub mod privacy;
pub mod projections;
pub mod startup;
pub mod store;
