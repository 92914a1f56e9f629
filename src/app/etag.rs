//! Entity tags of ticket views.
//!
//! A tag names (ticket, version, masking variant) and is opaque to clients:
//! they compare it, they never compute or parse it. The masked and clear
//! representations of one version differ, so their tags differ too
//! (RFC 9110 §8.8.3: a strong tag changes with the representation).
//!
//! Tags are keyed (HMAC under the `etag` system key). An unkeyed hash of
//! (id, version, variant) let anyone compute the tag of every version, so a
//! tag revealed the version, and a list of guesses in `If-Match` probed for
//! it. The version is sent openly in `Ticket-Version` instead, for whoever
//! needs it (a replica router, say). Every instance reads the same key from
//! the database, so their tags agree, and a restart keeps them.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use uuid::Uuid;

use crate::privacy::crypto::{CryptoError, DataKey, TagKey};
use crate::privacy::render::Reveal;

/// The header that carries a ticket's version next to its opaque ETag.
pub const TICKET_VERSION: &str = "Ticket-Version";

/// The key ETags are made with (the `etag` system key).
#[derive(Debug, Clone)]
pub struct EtagKey(TagKey);

impl EtagKey {
    pub fn new(key: &DataKey) -> Result<EtagKey, CryptoError> {
        TagKey::new(key, "opsledger etag v1").map(EtagKey)
    }
}

/// The strong ETag header value (with quotes) of one representation.
pub fn etag(key: &EtagKey, id: Uuid, version: u64, reveal: Reveal) -> String {
    let mut message = [0u8; 25];
    message[..16].copy_from_slice(id.as_bytes());
    message[16..24].copy_from_slice(&version.to_be_bytes());
    message[24] = match reveal {
        Reveal::Masked => b'm',
        Reveal::Clear => b'c',
    };
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&key.0.tag(&message)[..16]))
}

/// Whether any tag of an `If-Match` list names this version, masked or
/// clear. `*` matches any existing ticket (RFC 9110 §13.1.1).
///
/// A plain comparison is enough: callers compare only after the read check,
/// and whoever may read the ticket may read its current tag anyway.
pub fn matches(key: &EtagKey, if_match: &[String], id: Uuid, version: u64) -> bool {
    let masked = etag(key, id, version, Reveal::Masked);
    let clear = etag(key, id, version, Reveal::Clear);
    if_match.iter().any(|t| t == "*" || *t == masked || *t == clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> EtagKey {
        EtagKey::new(&DataKey::generate().expect("random")).expect("key")
    }

    #[test]
    fn tags_differ_by_version_and_variant() {
        let key = key();
        let id = Uuid::now_v7();
        assert_ne!(etag(&key, id, 1, Reveal::Masked), etag(&key, id, 1, Reveal::Clear));
        assert_ne!(etag(&key, id, 1, Reveal::Clear), etag(&key, id, 2, Reveal::Clear));
        assert!(matches(&key, &[etag(&key, id, 3, Reveal::Masked)], id, 3));
        assert!(!matches(&key, &[etag(&key, id, 2, Reveal::Masked)], id, 3));
        assert!(!matches(&key, &[etag(&key, Uuid::now_v7(), 3, Reveal::Masked)], id, 3));
        assert!(matches(&key, &["*".into()], id, 3));
    }

    #[test]
    fn a_tag_made_under_another_key_does_not_match() {
        let (ours, theirs) = (key(), key());
        let id = Uuid::now_v7();
        let tag = etag(&theirs, id, 3, Reveal::Masked);
        assert_ne!(tag, etag(&ours, id, 3, Reveal::Masked));
        assert!(!matches(&ours, &[tag], id, 3));
    }
}
