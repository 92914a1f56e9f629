//! Tests that count what the process-wide metrics recorder holds: the
//! request series (`metric_labels`) and the feed reads of an idle follower
//! (`read_rules`). Every server started in a test process records into
//! the one recorder, so in the `api` binary the tests running beside these
//! would add to what they count. Here they are the only tests, and each
//! holds [`RECORDER`] while it runs.

#[allow(dead_code)]
#[path = "../api/helpers.rs"]
mod helpers;

mod metric_labels;
mod read_rules;

/// Held by each test of this binary for its whole run, so that no other
/// test's requests reach the recorder while it counts.
static RECORDER: tokio::sync::Mutex<()> = tokio::sync::Mutex::const_new(());
