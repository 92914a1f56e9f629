//! Entity tags of ticket views.
//!
//! A tag names (ticket, version, masking variant) and is opaque to clients:
//! they compare it, they never compute or parse it. The masked and clear
//! representations of one version differ, so their tags differ too
//! (RFC 9110 §8.8.3: a strong tag changes with the representation).

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use sha2::{Digest, Sha256};
use uuid::Uuid;

/// Whether personal data in the representation is masked or clear.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Variant {
    Masked,
    Clear,
}

/// The strong ETag header value (with quotes) of one representation.
pub fn etag(id: Uuid, version: u64, variant: Variant) -> String {
    let mut h = Sha256::new();
    h.update(id.as_bytes());
    h.update(version.to_be_bytes());
    h.update(match variant {
        Variant::Masked => b"m",
        Variant::Clear => b"c",
    });
    let digest = h.finalize();
    format!("\"{}\"", URL_SAFE_NO_PAD.encode(&digest[..16]))
}

/// Whether any tag of an `If-Match` list names this version in either
/// variant. `*` matches any existing ticket (RFC 9110 §13.1.1).
pub fn matches(if_match: &[String], id: Uuid, version: u64) -> bool {
    let masked = etag(id, version, Variant::Masked);
    let clear = etag(id, version, Variant::Clear);
    if_match.iter().any(|t| t == "*" || *t == masked || *t == clear)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tags_differ_by_version_and_variant() {
        let id = Uuid::now_v7();
        assert_ne!(etag(id, 1, Variant::Masked), etag(id, 1, Variant::Clear));
        assert_ne!(etag(id, 1, Variant::Clear), etag(id, 2, Variant::Clear));
        assert!(matches(&[etag(id, 3, Variant::Masked)], id, 3));
        assert!(!matches(&[etag(id, 2, Variant::Masked)], id, 3));
        assert!(!matches(&[etag(Uuid::now_v7(), 3, Variant::Masked)], id, 3));
        assert!(matches(&["*".into()], id, 3));
    }
}
