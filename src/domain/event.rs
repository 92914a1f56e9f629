//! What the domain needs to know about an event beyond its payload.

use chrono::{DateTime, Utc};

/// The envelope facts that a fold needs: when an event was recorded, by
/// whom, and which version of its stream it is.
#[derive(Debug, Clone, Copy)]
pub struct EventMeta<'a> {
    pub recorded_at: DateTime<Utc>,
    pub actor: &'a str,
    pub version: u64,
    /// The event's stored hash (see the store's chain). It identifies the
    /// exact bytes that were recorded, so a later event can refer to them
    /// (an approval names the plan it approved) in a way no upgrade of the
    /// server, no upcaster and no change of serialisation can alter.
    pub hash: &'a [u8; 32],
}

/// A stored stream that cannot be folded: an event type this build does not
/// know, a schema version newer than it understands, or events in an order
/// the aggregate could never have produced. Always a bug or tampering, never
/// a client's mistake.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("stream cannot be folded: {0}")]
pub struct StreamCorrupt(pub String);

/// What every aggregate's event enum offers the store: its stored type
/// name, the schema version this build writes, its payload as JSON, and
/// the way back from stored parts (where upcasters go).
pub trait DomainEvent {
    fn event_type(&self) -> &'static str;
    fn schema_version(&self) -> u32;
    fn payload_json(&self) -> serde_json::Value;
    fn from_stored(event_type: &str, schema_version: u32, payload: impl StoredPayload) -> Result<Self, StreamCorrupt>
    where
        Self: Sized;
}

/// A stored payload on its way into an event struct: either a parsed JSON
/// tree (as-of reads, the timeline, which keep the tree for other uses) or
/// the stored JSON text itself, which decodes without building a tree (a
/// rebuild decodes every event of the log, and building the tree first
/// was a large share of its time, docs/performance.md).
pub trait StoredPayload {
    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T>;
}

impl StoredPayload for serde_json::Value {
    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_value(self)
    }
}

/// Decoded in place, without copying the tree (the timeline keeps it).
impl StoredPayload for &serde_json::Value {
    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        T::deserialize(self)
    }
}

impl StoredPayload for &serde_json::value::RawValue {
    fn decode<T: serde::de::DeserializeOwned>(self) -> serde_json::Result<T> {
        serde_json::from_str(self.get())
    }
}

/// Decodes a stored payload into its event struct.
pub(crate) fn decode<T: serde::de::DeserializeOwned>(
    event_type: &str,
    payload: impl StoredPayload,
) -> Result<T, StreamCorrupt> {
    payload
        .decode()
        .map_err(|e| StreamCorrupt(format!("{event_type} payload does not decode: {e}")))
}
