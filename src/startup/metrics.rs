//! Prometheus metrics. Code everywhere records through the `metrics` facade;
//! this module installs the one recorder per process, renders `/metrics`,
//! and samples what is not an event of its own (queue lag, pool usage).

use std::sync::OnceLock;
use std::time::Duration;

use metrics_exporter_prometheus::{Matcher, PrometheusBuilder, PrometheusHandle};

/// Latency buckets in seconds, from sub-millisecond reads to slow writes.
const LATENCY_BUCKETS: &[f64] = &[
    0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0,
];

static HANDLE: OnceLock<Option<PrometheusHandle>> = OnceLock::new();

/// The process-wide recorder (several servers in one test process share it).
pub fn handle() -> Option<&'static PrometheusHandle> {
    HANDLE
        .get_or_init(|| {
            let builder = PrometheusBuilder::new()
                .set_buckets_for_metric(Matcher::Suffix("_seconds".into()), LATENCY_BUCKETS)
                .ok()?;
            match builder.install_recorder() {
                Ok(handle) => {
                    describe();
                    Some(handle)
                }
                Err(e) => {
                    tracing::warn!(error = %e, "metrics recorder not installed");
                    None
                }
            }
        })
        .as_ref()
}

fn describe() {
    use metrics::{describe_counter, describe_gauge, describe_histogram};
    describe_counter!(
        "opsledger_http_requests_total",
        "HTTP requests by method, route and status"
    );
    describe_histogram!(
        "opsledger_http_request_duration_seconds",
        "HTTP request latency by method, route and status"
    );
    describe_counter!("opsledger_events_appended_total", "Events appended to the log, by type");
    describe_counter!(
        "opsledger_concurrency_conflicts_total",
        "Writes that lost a race: stale If-Match, a lost insert race, a deadlock, or SLA inputs amended since cached"
    );
    describe_counter!(
        "opsledger_sequencer_events_total",
        "Events given a global position by this instance"
    );
    describe_histogram!(
        "opsledger_commit_to_position_seconds",
        "From an event's recorded_at to its global position"
    );
    describe_gauge!("opsledger_log_head_position", "Newest position of the global log");
    describe_gauge!(
        "opsledger_sequencer_queued_events",
        "Committed events still waiting for a position"
    );
    describe_gauge!(
        "opsledger_sequencer_lag_seconds",
        "Age of the oldest event waiting for a position (0 when none waits)"
    );
    describe_gauge!(
        "opsledger_projection_lag_events",
        "Events a projection has not applied yet; the tickets view is written inline, so always 0"
    );
    describe_gauge!("opsledger_db_pool_connections", "Database pool connections by state");
    describe_counter!(
        "opsledger_pii_access_records_total",
        "Clear-text reads of personal data recorded"
    );
    describe_counter!(
        "opsledger_idempotency_keys_pruned_total",
        "Stored idempotent responses deleted after the retention period"
    );
    // Known series start at zero, so rates and alerts work before the first
    // occurrence.
    for kind in ["stale_if_match", "lost_insert_race", "sla_inputs_moved"] {
        metrics::counter!("opsledger_concurrency_conflicts_total", "kind" => kind).absolute(0);
    }
    metrics::counter!("opsledger_pii_access_records_total").absolute(0);
    metrics::counter!("opsledger_sequencer_events_total").absolute(0);
    metrics::counter!("opsledger_idempotency_keys_pruned_total").absolute(0);
}

/// The text exposition of every metric.
pub fn render() -> String {
    handle().map(PrometheusHandle::render).unwrap_or_default()
}

/// Samples gauges that no single event updates, every five seconds.
pub fn spawn_sampler(pool: deadpool_postgres::Pool) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(Duration::from_secs(5));
        loop {
            tick.tick().await;
            let status = pool.status();
            metrics::gauge!("opsledger_db_pool_connections", "state" => "max").set(status.max_size as f64);
            metrics::gauge!("opsledger_db_pool_connections", "state" => "open").set(status.size as f64);
            metrics::gauge!("opsledger_db_pool_connections", "state" => "idle").set(status.available as f64);
            metrics::gauge!("opsledger_db_pool_connections", "state" => "waiting").set(status.waiting as f64);
            metrics::gauge!("opsledger_projection_lag_events", "projection" => "tickets").set(0.0);
            let Ok(client) = pool.get().await else {
                continue;
            };
            if let Ok((queued, lag, head)) = crate::store::log::lag(&client).await {
                metrics::gauge!("opsledger_sequencer_queued_events").set(queued as f64);
                metrics::gauge!("opsledger_sequencer_lag_seconds").set(lag);
                metrics::gauge!("opsledger_log_head_position").set(head as f64);
            }
        }
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn known_series_start_at_zero() {
        assert!(super::handle().is_some(), "recorder installed");
        let text = super::render();
        assert!(
            text.contains(r#"opsledger_concurrency_conflicts_total{kind="stale_if_match"} 0"#),
            "{text}"
        );
    }
}
