//! OpsLedger: an event-sourced incident and change-management server.
//!
//! A request travels http → app → domain → store → projections:
//! - [`domain`] is pure: commands in, events out.
//! - [`store`] appends events to PostgreSQL and reads them back.
//! - [`projections`] builds the views clients read.
//! - [`http`] authenticates, validates and documents the API.
//! - [`app`] wires it together.

pub mod app;
pub mod domain;
pub mod http;
pub mod privacy;
pub mod projections;
pub mod store;
