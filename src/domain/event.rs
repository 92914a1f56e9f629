//! What the domain needs to know about an event beyond its payload.

use chrono::{DateTime, Utc};

/// The envelope facts that a fold needs: when an event was recorded, by
/// whom, and which version of its stream it is.
#[derive(Debug, Clone, Copy)]
pub struct EventMeta<'a> {
    pub recorded_at: DateTime<Utc>,
    pub actor: &'a str,
    pub version: u64,
}

/// A stored stream that cannot be folded: an event type this build does not
/// know, a schema version newer than it understands, or events in an order
/// the aggregate could never have produced. Always a bug or tampering, never
/// a client's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stream cannot be folded: {0}")]
pub struct StreamCorrupt(pub String);

/// What every aggregate's event enum offers the store: its stored type
/// name, the schema version this build writes, and its payload as JSON.
pub trait DomainEvent {
    fn event_type(&self) -> &'static str;
    fn schema_version(&self) -> u32;
    fn payload_json(&self) -> serde_json::Value;
}
