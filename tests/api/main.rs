//! The integration tests, one module per area, linked into one binary: the
//! library is linked once, and the support in `helpers` exists once.
//!
//! Run one area with `cargo test --test api <module>::`, e.g.
//! `cargo test --test api contracts::`.
//!
//! Two other binaries exist for a reason: `cluster_faults` (slow, starts
//! its own PostgreSQL clusters and server processes) and `process_metrics`
//! (tests that count what the process-wide metrics recorder holds, which
//! the other tests here would add to while they count).

mod helpers;

mod auth_keys;
mod backup_rebuild;
mod business_calendars;
mod changes;
mod complaints;
mod conformance;
mod console;
mod contracts;
mod corrections;
mod data_subjects;
mod embedded_default;
mod embedded_pg;
mod event_store;
mod faults;
mod feed;
mod generated_client;
mod global_log;
mod metrics;
mod personal_data;
mod pii_access_log;
mod problems;
mod read_rules;
mod readme_walkthrough;
mod routes;
mod security_review;
mod sla;
mod spec_client;
mod timeline;
