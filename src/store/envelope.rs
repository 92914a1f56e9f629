//! The one envelope every event is stored in.
//!
//! An envelope is serialised exactly once, canonically, and those bytes are
//! what the database keeps and what the hash chain covers. Readers parse the
//! stored bytes; nothing is ever re-serialised to be verified.

use chrono::{DateTime, SecondsFormat, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use sha2::{Digest, Sha256};
use uuid::Uuid;

use std::fmt::Write;

use super::canonical::{CanonicalError, write_member_value, write_string};

/// Who caused an event and in answer to what.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Metadata {
    /// Token issuer and subject, joined by `|`.
    pub actor: String,
    pub roles: Vec<String>,
    /// The server's id of the request that caused the event.
    pub request_id: String,
    /// The id the client sent for that request, for correlation only (a
    /// client may send any id). Absent from events written before it was
    /// recorded, and when the client sent none: omitted rather than null,
    /// so those events' stored bytes are exactly what they were.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub client_request_id: Option<String>,
    pub correlation_id: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub causation_id: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub idempotency_key: Option<String>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Envelope {
    pub event_id: Uuid,
    pub stream_id: Uuid,
    pub version: u64,
    #[serde(rename = "type")]
    pub event_type: String,
    pub schema_version: u32,
    /// RFC 3339 in UTC with exactly six fractional digits.
    pub recorded_at: String,
    pub metadata: Metadata,
    pub payload: Value,
}

/// The hash that precedes version 1 of every stream.
pub const GENESIS_HASH: [u8; 32] = [0; 32];

/// `SHA-256(previous hash as 32 raw bytes ‖ stored bytes)`.
pub fn chain_hash(previous: &[u8; 32], stored: &[u8]) -> [u8; 32] {
    let mut hasher = Sha256::new();
    hasher.update(previous);
    hasher.update(stored);
    hasher.finalize().into()
}

/// Truncates to whole microseconds: PostgreSQL keeps no more, and the stored
/// text and the `recorded_at` column must agree exactly.
pub fn to_micros(t: DateTime<Utc>) -> DateTime<Utc> {
    DateTime::from_timestamp_micros(t.timestamp_micros()).unwrap_or(t)
}

pub fn format_recorded_at(t: DateTime<Utc>) -> String {
    to_micros(t).to_rfc3339_opts(SecondsFormat::Micros, true)
}

impl Envelope {
    /// The envelope as canonical JSON (RFC 8785): its members, and the
    /// metadata's, written in sorted order by hand, so the payload is
    /// written from where it is rather than copied into a tree of the whole
    /// envelope first. The destructuring names every field, so a field
    /// added to either struct does not compile until it is written here;
    /// `the_envelope_is_written_as_its_canonical_tree_would_be` holds the
    /// bytes to the generic path's.
    pub fn to_stored_bytes(&self) -> Result<Vec<u8>, CanonicalError> {
        let Envelope {
            event_id,
            stream_id,
            version,
            event_type,
            schema_version,
            recorded_at,
            metadata,
            payload,
        } = self;
        let Metadata {
            actor,
            roles,
            request_id,
            client_request_id,
            correlation_id,
            causation_id,
            idempotency_key,
        } = metadata;
        let mut uuid = Uuid::encode_buffer();
        let mut out = String::with_capacity(512);
        out.push_str("{\"event_id\":");
        write_string(&mut out, event_id.hyphenated().encode_lower(&mut uuid));
        out.push_str(",\"metadata\":{\"actor\":");
        write_string(&mut out, actor);
        // In canonical order; an absent one is omitted, never null.
        let strings = [
            ("causation_id", causation_id.as_deref()),
            ("client_request_id", client_request_id.as_deref()),
            ("correlation_id", Some(correlation_id.as_str())),
            ("idempotency_key", idempotency_key.as_deref()),
            ("request_id", Some(request_id.as_str())),
        ];
        for (name, value) in strings {
            if let Some(value) = value {
                out.push_str(",\"");
                out.push_str(name);
                out.push_str("\":");
                write_string(&mut out, value);
            }
        }
        out.push_str(",\"roles\":[");
        for (i, role) in roles.iter().enumerate() {
            if i > 0 {
                out.push(',');
            }
            write_string(&mut out, role);
        }
        out.push_str("]},\"payload\":");
        write_member_value(&mut out, "payload", payload)?;
        out.push_str(",\"recorded_at\":");
        write_string(&mut out, recorded_at);
        let _ = write!(out, ",\"schema_version\":{schema_version},\"stream_id\":");
        write_string(&mut out, stream_id.hyphenated().encode_lower(&mut uuid));
        out.push_str(",\"type\":");
        write_string(&mut out, event_type);
        let _ = write!(out, ",\"version\":{version}}}");
        Ok(out.into_bytes())
    }

    pub fn recorded_at(&self) -> Option<DateTime<Utc>> {
        DateTime::parse_from_rfc3339(&self.recorded_at)
            .ok()
            .map(|t| t.with_timezone(&Utc))
    }
}

/// The metadata and the payload of stored envelope bytes, as JSON text,
/// found without parsing the payload: for readers that pass payloads
/// through (a ticket's history), where parsing them was most of the work.
/// `None` when the bytes are not a canonical envelope.
///
/// Stored bytes are canonical JSON (RFC 8785): members sorted by key, so
/// `event_id`, `metadata`, `payload`, `recorded_at`, ... in that order, and
/// no whitespace. Inside a string every `"` is escaped, so `,"` occurs only
/// between members. `metadata` has no member called `payload` at any depth,
/// so the first `,"payload":` after `,"metadata":` starts the payload. The
/// payload may itself hold a `recorded_at` member, but nothing after it can
/// (the envelope's tail is its own timestamps, numbers, ids and type), so
/// the last `,"recorded_at":` ends it.
pub fn split_canonical(stored: &str) -> Option<(&str, &str)> {
    const METADATA: &str = ",\"metadata\":";
    const PAYLOAD: &str = ",\"payload\":";
    const RECORDED_AT: &str = ",\"recorded_at\":";
    if !stored.starts_with("{\"event_id\":") {
        return None;
    }
    let metadata_start = stored.find(METADATA)? + METADATA.len();
    let metadata_end = metadata_start + stored[metadata_start..].find(PAYLOAD)?;
    let payload_start = metadata_end + PAYLOAD.len();
    let payload_end = stored.rfind(RECORDED_AT)?;
    (payload_start < payload_end).then(|| {
        (
            &stored[metadata_start..metadata_end],
            &stored[payload_start..payload_end],
        )
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::canonical::to_canonical_bytes;
    use serde_json::json;

    #[test]
    fn split_finds_the_metadata_and_payload_serde_finds() {
        let tricky = [
            json!({"title": "宽带断线"}),
            json!({"recorded_at": "a payload member", "payload": {"payload": 1}, "metadata": {}}),
            json!({"body": ",\"payload\":{},\"recorded_at\":\"x\"", "list": [",\"metadata\":", "}"]}),
            json!("a string payload"),
            json!([1, {"recorded_at": 2}]),
            json!(null),
        ];
        for payload in tricky {
            let mut e = sample();
            e.payload = payload.clone();
            e.metadata.actor = "https://idp|x\",\"payload\":{\"recorded_at\":1}".into();
            e.metadata.causation_id = Some(",\"payload\":".into());
            e.metadata.client_request_id = Some(",\"payload\":{\"recorded_at\":\"".into());
            e.metadata.idempotency_key = Some("}\",\"recorded_at\":\"".into());
            let bytes = e.to_stored_bytes().expect("canonical");
            let text = std::str::from_utf8(&bytes).expect("utf-8");
            let (metadata, found) = split_canonical(text).expect("canonical envelope");
            assert_eq!(
                serde_json::from_str::<Value>(found).expect("payload JSON"),
                payload,
                "{text}"
            );
            assert_eq!(
                serde_json::from_str::<Metadata>(metadata).expect("metadata JSON"),
                e.metadata
            );
        }
        assert_eq!(split_canonical("{\"a\":1}"), None);
        assert_eq!(split_canonical(""), None);
        assert_eq!(
            split_canonical("{\"event_id\":\"x\",\"metadata\":{},\"payload\":"),
            None
        );
    }

    fn sample() -> Envelope {
        Envelope {
            event_id: Uuid::nil(),
            stream_id: Uuid::nil(),
            version: 1,
            event_type: "complaint.filed".into(),
            schema_version: 1,
            recorded_at: format_recorded_at(
                DateTime::parse_from_rfc3339("2026-11-22T08:00:00.123456789Z")
                    .expect("valid")
                    .with_timezone(&Utc),
            ),
            metadata: Metadata {
                actor: "iss|agent-1".into(),
                roles: vec!["agent".into()],
                request_id: "r".into(),
                client_request_id: None,
                correlation_id: "c".into(),
                causation_id: None,
                idempotency_key: None,
            },
            payload: json!({"title": "宽带断线"}),
        }
    }

    #[test]
    fn the_envelope_is_written_as_its_canonical_tree_would_be() {
        let payloads = [
            json!({"title": "宽带断线", "b": [1, -2, {"z": null, "a": true}], "a": "q\" \\ \u{1}\n"}),
            json!({"\u{FB33}": 1, "\u{1F600}": 2}),
            json!([]),
            json!(null),
        ];
        let some = |s: &str| Some(s.to_owned());
        let metadata = [
            (None, None, None, vec![]),
            (
                some("cause"),
                some("client-1"),
                some("key-1"),
                vec!["agent".to_owned(), "manager".to_owned()],
            ),
            (None, some("客户"), None, vec!["auditor".to_owned()]),
        ];
        for payload in payloads {
            for (causation, client_request, idempotency, roles) in &metadata {
                let mut e = sample();
                e.event_id = Uuid::now_v7();
                e.stream_id = Uuid::now_v7();
                e.payload = payload.clone();
                e.metadata.causation_id = causation.clone();
                e.metadata.client_request_id = client_request.clone();
                e.metadata.idempotency_key = idempotency.clone();
                e.metadata.roles = roles.clone();
                let tree = serde_json::to_value(&e).expect("a tree");
                assert_eq!(
                    String::from_utf8(e.to_stored_bytes().expect("canonical")),
                    String::from_utf8(to_canonical_bytes(&tree).expect("canonical")),
                );
            }
        }
        let mut float = sample();
        for (payload, at) in [
            (json!({"minutes": [1, {"a/b": 1.5}]}), "/payload/minutes/1/a~1b"),
            (json!(1.5), "/payload"),
        ] {
            float.payload = payload.clone();
            let tree = serde_json::to_value(&float).expect("a tree");
            assert_eq!(float.to_stored_bytes(), Err(CanonicalError::Float(at.to_owned())));
            assert_eq!(to_canonical_bytes(&tree), Err(CanonicalError::Float(at.to_owned())));
        }
    }

    #[test]
    fn recorded_at_has_whole_microseconds() {
        assert_eq!(sample().recorded_at, "2026-11-22T08:00:00.123456Z");
    }

    #[test]
    fn stored_bytes_parse_back_to_the_same_envelope() {
        let e = sample();
        let bytes = e.to_stored_bytes().expect("canonical");
        let back: Envelope = serde_json::from_slice(&bytes).expect("parse");
        assert_eq!(back, e);
        assert!(!bytes.contains(&b' '), "no insignificant whitespace");
    }

    #[test]
    fn a_client_request_id_is_recorded_beside_the_request_id_and_omitted_when_absent() {
        let without = sample();
        let bytes = without.to_stored_bytes().expect("canonical");
        // The bytes an event without one has always had: stored events keep
        // their hashes.
        assert!(
            bytes.starts_with(
                br#"{"event_id":"00000000-0000-0000-0000-000000000000","metadata":{"actor":"iss|agent-1","correlation_id":"c","request_id":"r","roles":["agent"]},"#
            ),
            "{}",
            String::from_utf8_lossy(&bytes)
        );

        let mut with = sample();
        with.metadata.client_request_id = Some("victim-id".into());
        let bytes = with.to_stored_bytes().expect("canonical");
        let text = std::str::from_utf8(&bytes).expect("utf-8");
        assert!(
            text.contains(r#""metadata":{"actor":"iss|agent-1","client_request_id":"victim-id","correlation_id":"c","request_id":"r","#),
            "{text}"
        );
        let (metadata, _) = split_canonical(text).expect("canonical envelope");
        assert_eq!(
            serde_json::from_str::<Metadata>(metadata).expect("metadata"),
            with.metadata
        );
    }

    #[test]
    fn chain_depends_on_previous_hash_and_every_byte() {
        let a = chain_hash(&GENESIS_HASH, b"{\"a\":1}");
        let b = chain_hash(&a, b"{\"a\":1}");
        assert_ne!(a, b);
        assert_ne!(a, chain_hash(&GENESIS_HASH, b"{\"a\":2}"));
    }
}
