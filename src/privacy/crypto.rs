//! Pure cryptographic core for personal-data protection.
//!
//! Complaint events never carry personal data (names, phone numbers, e-mail addresses, customer references,
//! free text) in clear. Each such value is [`seal`]ed under the key of its *data subject* (one customer = one
//! subject). Subject keys ([`DataKey`]) are stored only in wrapped form, encrypted under the [`MasterKey`] that
//! comes from configuration and is never written to the database. Erasing a subject means deleting its wrapped key:
//! every [`Sealed`] value of that subject then becomes permanently unreadable (crypto-shredding), while the events
//! that carry them stay intact.
//!
//! Exact-match lookup of a caller by phone, e-mail or customer reference goes through a keyed [`blind_index`]
//! (HMAC-SHA256 under its own [`DataKey`], itself stored wrapped by the master key), so the database holds neither
//! the clear value nor an unkeyed hash that could be brute-forced over the small space of phone numbers.
//!
//! Everything here is pure (no I/O besides the OS random source) and never panics on database- or
//! attacker-controlled input: malformed data yields a [`CryptoError`].
//!
//! # Wire formats
//!
//! * Wrapped key ([`MasterKey::wrap`]): `nonce (12 bytes) || ciphertext (32 bytes) || GCM tag (16 bytes)`,
//!   exactly [`WRAPPED_KEY_LEN`] = 60 bytes, AES-256-GCM under the master key, AAD = the caller's `aad` verbatim.
//! * [`Sealed`]: JSON object `{"subject", "key_id", "nonce", "ciphertext"}`; `nonce` is the 12-byte GCM nonce and
//!   `ciphertext` is the encrypted UTF-8 text followed by the 16-byte tag, both base64url without padding.
//!   AAD = `"opsledger sealed v1" || subject (16 bytes) || key_id (16 bytes)`.

use std::fmt;

use aes_gcm::aead::{Aead, KeyInit, Payload};
use aes_gcm::{Aes256Gcm, Key, Nonce};
use base64::Engine as _;
use base64::engine::general_purpose::{STANDARD, STANDARD_NO_PAD, URL_SAFE, URL_SAFE_NO_PAD};
use hmac::{Hmac, Mac};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use uuid::Uuid;
use zeroize::Zeroizing;

/// Length of every key handled here (AES-256 / HMAC-SHA256 key), in bytes.
pub const KEY_LEN: usize = 32;
/// Length of an AES-GCM nonce, in bytes (96 bits, the size GCM is designed for).
pub const NONCE_LEN: usize = 12;
/// Length of an AES-GCM authentication tag, in bytes.
pub const TAG_LEN: usize = 16;
/// Length of a wrapped [`DataKey`]: nonce || encrypted key || tag.
pub const WRAPPED_KEY_LEN: usize = NONCE_LEN + KEY_LEN + TAG_LEN;

/// Domain-separation label hashed in front of the master key to derive [`MasterKey::id`].
const MASTER_KEY_ID_LABEL: &[u8] = b"opsledger master key id";
/// Domain-separation label in front of the AAD of every [`Sealed`] value; bump the version if the format changes.
const SEALED_AAD_LABEL: &[u8] = b"opsledger sealed v1";

/// Errors of the cryptographic core. Messages never contain key material or clear personal data.
#[derive(Debug, thiserror::Error)]
pub enum CryptoError {
    /// A key given in configuration (or elsewhere) has the wrong form or length.
    #[error("invalid key: {0}")]
    InvalidKey(String),
    /// The operating system's random source failed.
    #[error("the operating system's random number generator failed")]
    Random,
    /// Authentication failed: wrong key, tampered data, wrong binding (subject, key id, aad), or the subject was
    /// erased and another key is being tried. Deliberately carries no detail.
    #[error("decryption failed (wrong key, tampered data, or erased subject)")]
    Decrypt,
    /// Stored data is malformed (bad base64, wrong length, not UTF-8).
    #[error("malformed encrypted data: {0}")]
    Encoding(String),
}

/// Fills a fixed-size array from the operating system's random source.
fn random_array<const N: usize>() -> Result<[u8; N], CryptoError> {
    let mut bytes = [0u8; N];
    getrandom::fill(&mut bytes).map_err(|_| CryptoError::Random)?;
    Ok(bytes)
}

/// A nonce from a slice already split to [`NONCE_LEN`].
fn nonce_of(bytes: &[u8]) -> Result<Nonce<aes_gcm::aead::consts::U12>, CryptoError> {
    let array: [u8; NONCE_LEN] = bytes
        .try_into()
        .map_err(|_| CryptoError::Encoding(format!("nonce of {} bytes", bytes.len())))?;
    Ok(Nonce::from(array))
}

/// Builds the AES-256-GCM cipher for a 32-byte key.
fn cipher(key: &[u8; KEY_LEN]) -> Aes256Gcm {
    Aes256Gcm::new(&Key::<Aes256Gcm>::from(*key))
}

/// 32-byte AES-256 key from configuration; Debug never prints it.
///
/// It wraps (encrypts) the [`DataKey`]s stored in the database and is itself never stored there, so a copy of the
/// database alone reveals no personal data. The bytes are zeroized when the value is dropped (best effort: the
/// configuration text it was parsed from is the caller's to wipe).
#[derive(Clone)]
pub struct MasterKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl MasterKey {
    /// Accepts 64 hex chars or standard/URL-safe base64 of exactly 32 bytes (surrounding whitespace ignored).
    ///
    /// Base64 may be padded or not. A 64-character hex string is always read as hex (it would also be valid
    /// base64, but of 48 bytes). Error messages describe the form only, never the text given.
    pub fn parse(text: &str) -> Result<MasterKey, CryptoError> {
        let text = text.trim();
        if text.len() == 2 * KEY_LEN && text.bytes().all(|b| b.is_ascii_hexdigit()) {
            let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
            hex::decode_to_slice(text, &mut bytes[..])
                .map_err(|_| CryptoError::InvalidKey("malformed hex".to_owned()))?;
            return Ok(MasterKey { bytes });
        }
        for engine in [&STANDARD, &STANDARD_NO_PAD, &URL_SAFE, &URL_SAFE_NO_PAD] {
            if let Ok(decoded) = engine.decode(text) {
                let decoded = Zeroizing::new(decoded);
                if decoded.len() == KEY_LEN {
                    let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
                    bytes.copy_from_slice(&decoded);
                    return Ok(MasterKey { bytes });
                }
                return Err(CryptoError::InvalidKey(format!(
                    "base64 decodes to {} bytes, expected {KEY_LEN}",
                    decoded.len()
                )));
            }
        }
        Err(CryptoError::InvalidKey(format!(
            "expected {} hex characters or base64 of {KEY_LEN} bytes (got {} characters)",
            2 * KEY_LEN,
            text.chars().count()
        )))
    }

    /// Generates a fresh random master key (for writing a new key file).
    pub fn generate() -> Result<MasterKey, CryptoError> {
        Ok(MasterKey {
            bytes: Zeroizing::new(random_array()?),
        })
    }

    /// Hex text form (for writing a new key file). The returned text is key material: handle with care.
    pub fn to_text(&self) -> String {
        hex::encode(&self.bytes[..])
    }

    /// Stable identifier that does not reveal the key: first 16 hex chars of SHA-256("opsledger master key id" || key).
    ///
    /// Stored next to wrapped keys so a server started with the wrong master key can say so plainly instead of
    /// failing every decryption.
    pub fn id(&self) -> String {
        let mut hasher = Sha256::new();
        hasher.update(MASTER_KEY_ID_LABEL);
        hasher.update(&self.bytes[..]);
        let digest = hasher.finalize();
        hex::encode(&digest[..8])
    }

    /// AES-256-GCM wrap of a data key; random 96-bit nonce; AAD = `aad` (callers pass e.g. the subject id bytes) — output nonce||ciphertext||tag.
    ///
    /// The output is always [`WRAPPED_KEY_LEN`] (60) bytes. The AAD binds the wrapped key to its owner: a wrapped
    /// key copied onto another subject's row does not unwrap there.
    pub fn wrap(&self, key: &DataKey, aad: &[u8]) -> Result<Vec<u8>, CryptoError> {
        let nonce: [u8; NONCE_LEN] = random_array()?;
        let sealed = cipher(&self.bytes)
            .encrypt(
                &Nonce::from(nonce),
                Payload {
                    msg: &key.bytes[..],
                    aad,
                },
            )
            .map_err(|_| CryptoError::Encoding("key wrapping failed".to_owned()))?;
        let mut out = Vec::with_capacity(WRAPPED_KEY_LEN);
        out.extend_from_slice(&nonce);
        out.extend_from_slice(&sealed);
        Ok(out)
    }

    /// Reverses [`MasterKey::wrap`]. Wrong length → [`CryptoError::Encoding`]; wrong master key, wrong `aad` or
    /// tampered bytes → [`CryptoError::Decrypt`].
    pub fn unwrap(&self, wrapped: &[u8], aad: &[u8]) -> Result<DataKey, CryptoError> {
        if wrapped.len() != WRAPPED_KEY_LEN {
            return Err(CryptoError::Encoding(format!(
                "wrapped key is {} bytes, expected {WRAPPED_KEY_LEN}",
                wrapped.len()
            )));
        }
        let (nonce, sealed) = wrapped.split_at(NONCE_LEN);
        let clear = Zeroizing::new(
            cipher(&self.bytes)
                .decrypt(&nonce_of(nonce)?, Payload { msg: sealed, aad })
                .map_err(|_| CryptoError::Decrypt)?,
        );
        if clear.len() != KEY_LEN {
            return Err(CryptoError::Decrypt);
        }
        let mut bytes = Zeroizing::new([0u8; KEY_LEN]);
        bytes.copy_from_slice(&clear);
        Ok(DataKey { bytes })
    }
}

impl fmt::Debug for MasterKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_struct("MasterKey")
            .field("id", &self.id())
            .finish_non_exhaustive()
    }
}

/// A 32-byte data key (a subject's key, or a system key such as the blind-index key). Zeroized on drop; Debug redacted.
///
/// Its bytes never leave this module except encrypted by [`MasterKey::wrap`]: the only ways to obtain one are
/// [`DataKey::generate`] and [`MasterKey::unwrap`].
#[derive(Clone)]
pub struct DataKey {
    bytes: Zeroizing<[u8; KEY_LEN]>,
}

impl DataKey {
    /// Generates a fresh random key from the operating system's random source.
    pub fn generate() -> Result<DataKey, CryptoError> {
        Ok(DataKey {
            bytes: Zeroizing::new(random_array()?),
        })
    }
}

impl fmt::Debug for DataKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("DataKey(<redacted>)")
    }
}

/// A personal value sealed under a subject's key; exactly what goes into events and views.
///
/// `subject` and `key_id` are in clear (they identify which key opens it); `nonce` and `ciphertext` are base64url
/// without padding, `ciphertext` including the 16-byte GCM tag. Once the subject's key is deleted, the value can no
/// longer be opened by anyone.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Sealed {
    /// The data subject (customer) the value belongs to.
    pub subject: Uuid,
    /// Identifier of the subject key it was sealed under (allows key rotation).
    pub key_id: Uuid,
    /// 12-byte AES-GCM nonce, base64url without padding.
    pub nonce: String,
    /// Encrypted UTF-8 text followed by the 16-byte tag, base64url without padding.
    pub ciphertext: String,
}

/// AAD of a sealed value: label || subject || key_id (both UUIDs are fixed-length, so the encoding is unambiguous).
fn sealed_aad(subject: Uuid, key_id: Uuid) -> Vec<u8> {
    let mut aad = Vec::with_capacity(SEALED_AAD_LABEL.len() + 32);
    aad.extend_from_slice(SEALED_AAD_LABEL);
    aad.extend_from_slice(subject.as_bytes());
    aad.extend_from_slice(key_id.as_bytes());
    aad
}

/// Seals UTF-8 text. AAD binds the ciphertext to (subject, key_id) so it can't be moved to another subject.
///
/// A fresh random 96-bit nonce is drawn each time, so sealing the same text twice gives different ciphertexts
/// (the sealed form reveals nothing about equality; use [`blind_index`] for lookups). Random nonces are safe for
/// far more values per key than a subject will ever have (the usual bound is 2^32 per key).
/// The length of the clear text is not hidden.
pub fn seal(key: &DataKey, subject: Uuid, key_id: Uuid, clear: &str) -> Result<Sealed, CryptoError> {
    let nonce: [u8; NONCE_LEN] = random_array()?;
    let aad = sealed_aad(subject, key_id);
    let ciphertext = cipher(&key.bytes)
        .encrypt(
            &Nonce::from(nonce),
            Payload {
                msg: clear.as_bytes(),
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Encoding("encryption failed".to_owned()))?;
    Ok(Sealed {
        subject,
        key_id,
        nonce: URL_SAFE_NO_PAD.encode(nonce),
        ciphertext: URL_SAFE_NO_PAD.encode(ciphertext),
    })
}

/// Opens a [`Sealed`] value with its subject's key.
///
/// Malformed base64 or lengths → [`CryptoError::Encoding`]; wrong key, tampering, or a value moved to another
/// subject or key id → [`CryptoError::Decrypt`].
pub fn open(key: &DataKey, sealed: &Sealed) -> Result<String, CryptoError> {
    let nonce = URL_SAFE_NO_PAD
        .decode(&sealed.nonce)
        .map_err(|_| CryptoError::Encoding("nonce is not base64url without padding".to_owned()))?;
    if nonce.len() != NONCE_LEN {
        return Err(CryptoError::Encoding(format!(
            "nonce is {} bytes, expected {NONCE_LEN}",
            nonce.len()
        )));
    }
    let ciphertext = URL_SAFE_NO_PAD
        .decode(&sealed.ciphertext)
        .map_err(|_| CryptoError::Encoding("ciphertext is not base64url without padding".to_owned()))?;
    if ciphertext.len() < TAG_LEN {
        return Err(CryptoError::Encoding(format!(
            "ciphertext is {} bytes, shorter than the {TAG_LEN}-byte tag",
            ciphertext.len()
        )));
    }
    let aad = sealed_aad(sealed.subject, sealed.key_id);
    let clear = cipher(&key.bytes)
        .decrypt(
            &nonce_of(&nonce)?,
            Payload {
                msg: &ciphertext,
                aad: &aad,
            },
        )
        .map_err(|_| CryptoError::Decrypt)?;
    String::from_utf8(clear).map_err(|err| {
        // Authentic but not UTF-8: cannot come from `seal`. Wipe the bytes before reporting.
        drop(Zeroizing::new(err.into_bytes()));
        CryptoError::Encoding("sealed value is not UTF-8".to_owned())
    })
}

/// What a blind index is computed over; part of the HMAC input so equal text of different kinds never matches.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum IndexKind {
    /// A telephone number.
    Phone,
    /// An e-mail address.
    Email,
    /// A customer reference (account or contract number).
    CustomerRef,
}

impl IndexKind {
    /// Stable name, fed into the HMAC: `"phone"`, `"email"`, `"customer_ref"`. Never change these.
    pub fn as_str(self) -> &'static str {
        match self {
            IndexKind::Phone => "phone",
            IndexKind::Email => "email",
            IndexKind::CustomerRef => "customer_ref",
        }
    }
}

impl fmt::Display for IndexKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Blind index: HMAC-SHA256(index_key, kind || 0x00 || normalised value). Returns 32 bytes.
///
/// Deterministic under one index key, so equal (normalised) values give equal digests and can be matched with an
/// ordinary database equality lookup; without the index key the digests cannot be reversed or brute-forced.
/// `None` when the value is empty after [`normalise`] (nothing to look up, and no shared "empty" digest).
pub fn blind_index(index_key: &DataKey, kind: IndexKind, value: &str) -> Option<[u8; 32]> {
    let normalised = Zeroizing::new(normalise(kind, value));
    if normalised.is_empty() {
        return None;
    }
    // HMAC accepts keys of any length, so this cannot fail; `ok()?` only avoids an unwrap.
    let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&index_key.bytes[..]).ok()?;
    mac.update(kind.as_str().as_bytes());
    mac.update(&[0x00]);
    mac.update(normalised.as_bytes());
    Some(mac.finalize().into_bytes().into())
}

/// A key for the tags the server hands out and later checks (ETags, list cursors): HMAC-SHA256 under a system
/// key, with what the tag is for bound in as a label, so a tag made for one purpose never passes for another.
///
/// Keyed, because a tag anyone can compute is an oracle: a client could search for the input that gives a tag it
/// saw, or forge a tag the server would accept. The keyed state is kept (not the key bytes), so making a tag
/// costs two SHA-256 compressions. Debug is redacted.
#[derive(Clone)]
pub struct TagKey {
    mac: Hmac<Sha256>,
}

impl TagKey {
    pub fn new(key: &DataKey, label: &str) -> Result<TagKey, CryptoError> {
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&key.bytes[..])
            .map_err(|_| CryptoError::InvalidKey("not an HMAC key".to_owned()))?;
        mac.update(label.as_bytes());
        mac.update(&[0x00]);
        Ok(TagKey { mac })
    }

    /// The full 32-byte tag of `message`; callers may keep a prefix of it.
    pub fn tag(&self, message: &[u8]) -> [u8; 32] {
        let mut mac = self.mac.clone();
        mac.update(message);
        mac.finalize().into_bytes().into()
    }

    /// Whether `tag` is a prefix of at least 16 bytes of the tag of `message`, compared in constant time (a
    /// comparison that stops at the first wrong byte would let a client forge a tag byte by byte).
    pub fn verify(&self, message: &[u8], tag: &[u8]) -> bool {
        if tag.len() < 16 {
            return false;
        }
        let mut mac = self.mac.clone();
        mac.update(message);
        mac.verify_truncated_left(tag).is_ok()
    }
}

impl fmt::Debug for TagKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("TagKey(<redacted>)")
    }
}

/// Normalisation so the same contact matches however it was typed.
///
/// * `Phone`: decimal digits only, everything else dropped (`+`, spaces, dashes, dots, brackets, letters).
///   Full-width digits `０`–`９` (common with Chinese input methods) count as their ASCII digits. No country-code
///   logic: `+86 138-0013-8000` and `8613800138000` match, but `13800138000` and `008613800138000` are different
///   values — callers that want those to match must index every form they accept.
/// * `Email`: surrounding whitespace trimmed, then full Unicode lower-casing.
/// * `CustomerRef`: all whitespace removed (surrounding and internal), ASCII letters upper-cased.
pub fn normalise(kind: IndexKind, value: &str) -> String {
    match kind {
        IndexKind::Phone => value
            .chars()
            .filter_map(|c| match c {
                '0'..='9' => Some(c),
                '\u{FF10}'..='\u{FF19}' => char::from_u32(u32::from(c) - 0xFF10 + u32::from('0')),
                _ => None,
            })
            .collect(),
        IndexKind::Email => value.trim().to_lowercase(),
        IndexKind::CustomerRef => value
            .chars()
            .filter(|c| !c.is_whitespace())
            .map(|c| c.to_ascii_uppercase())
            .collect(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn key() -> DataKey {
        DataKey::generate().expect("random")
    }

    fn ids() -> (Uuid, Uuid) {
        (Uuid::now_v7(), Uuid::now_v7())
    }

    fn data_key_hex(key: &DataKey) -> String {
        hex::encode(&key.bytes[..])
    }

    /// Re-encodes a base64url field with one bit flipped at `index`.
    fn flip(field: &str, index: usize) -> String {
        let mut bytes = URL_SAFE_NO_PAD.decode(field).expect("valid base64");
        bytes[index] ^= 0x01;
        URL_SAFE_NO_PAD.encode(bytes)
    }

    // ---- seal / open ----

    #[test]
    fn seal_open_round_trip() {
        let key = key();
        let (subject, key_id) = ids();
        for clear in [
            "张伟",
            "投诉：网络连续三天中断，客服电话无人接听。",
            "Zhang Wei <zhang.wei@example.cn>",
            "+86 138-0013-8000",
            "",
            " ",
            "\n",
            "\0",
            "a",
            "😀 emoji and combining e\u{301}",
        ] {
            let sealed = seal(&key, subject, key_id, clear).expect("seal");
            assert_eq!(sealed.subject, subject);
            assert_eq!(sealed.key_id, key_id);
            assert_eq!(open(&key, &sealed).expect("open"), clear);
        }
    }

    #[test]
    fn long_text_round_trip() {
        let key = key();
        let (subject, key_id) = ids();
        let clear = "进展更新 progress update ".repeat(2000);
        let sealed = seal(&key, subject, key_id, &clear).expect("seal");
        assert_eq!(open(&key, &sealed).expect("open"), clear);
    }

    #[test]
    fn sealed_format() {
        let key = key();
        let (subject, key_id) = ids();
        let sealed = seal(&key, subject, key_id, "abc").expect("seal");
        assert_eq!(URL_SAFE_NO_PAD.decode(&sealed.nonce).expect("nonce").len(), NONCE_LEN);
        assert_eq!(
            URL_SAFE_NO_PAD.decode(&sealed.ciphertext).expect("ct").len(),
            3 + TAG_LEN
        );
        let empty = seal(&key, subject, key_id, "").expect("seal");
        assert_eq!(URL_SAFE_NO_PAD.decode(&empty.ciphertext).expect("ct").len(), TAG_LEN);
        for field in [&sealed.nonce, &sealed.ciphertext] {
            assert!(!field.contains('=') && !field.contains('+') && !field.contains('/'));
        }
    }

    #[test]
    fn same_clear_text_seals_differently() {
        let key = key();
        let (subject, key_id) = ids();
        let a = seal(&key, subject, key_id, "张伟").expect("seal");
        let b = seal(&key, subject, key_id, "张伟").expect("seal");
        assert_ne!(a.nonce, b.nonce);
        assert_ne!(a.ciphertext, b.ciphertext);
        assert_ne!(a, b);
    }

    #[test]
    fn open_with_another_key_fails() {
        let (subject, key_id) = ids();
        let sealed = seal(&key(), subject, key_id, "secret").expect("seal");
        assert!(matches!(open(&key(), &sealed), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn aad_binds_subject_and_key_id() {
        let key = key();
        let (subject, key_id) = ids();
        let sealed = seal(&key, subject, key_id, "13800138000").expect("seal");

        let moved = Sealed {
            subject: Uuid::now_v7(),
            ..sealed.clone()
        };
        assert!(matches!(open(&key, &moved), Err(CryptoError::Decrypt)));

        let rekeyed = Sealed {
            key_id: Uuid::now_v7(),
            ..sealed.clone()
        };
        assert!(matches!(open(&key, &rekeyed), Err(CryptoError::Decrypt)));

        let swapped = Sealed {
            subject: key_id,
            key_id: subject,
            ..sealed.clone()
        };
        assert!(matches!(open(&key, &swapped), Err(CryptoError::Decrypt)));

        assert_eq!(open(&key, &sealed).expect("open"), "13800138000");
    }

    #[test]
    fn tampering_is_detected() {
        let key = key();
        let (subject, key_id) = ids();
        let sealed = seal(&key, subject, key_id, "description of the complaint").expect("seal");
        let ct_len = URL_SAFE_NO_PAD.decode(&sealed.ciphertext).expect("ct").len();

        for index in [0, ct_len / 2, ct_len - 1] {
            let tampered = Sealed {
                ciphertext: flip(&sealed.ciphertext, index),
                ..sealed.clone()
            };
            assert!(
                matches!(open(&key, &tampered), Err(CryptoError::Decrypt)),
                "ciphertext byte {index}"
            );
        }
        for index in [0, NONCE_LEN - 1] {
            let tampered = Sealed {
                nonce: flip(&sealed.nonce, index),
                ..sealed.clone()
            };
            assert!(
                matches!(open(&key, &tampered), Err(CryptoError::Decrypt)),
                "nonce byte {index}"
            );
        }
        // Truncating the ciphertext (dropping part of the tag, or text) is detected too.
        let mut bytes = URL_SAFE_NO_PAD.decode(&sealed.ciphertext).expect("ct");
        bytes.pop();
        let truncated = Sealed {
            ciphertext: URL_SAFE_NO_PAD.encode(&bytes),
            ..sealed.clone()
        };
        assert!(matches!(open(&key, &truncated), Err(CryptoError::Decrypt)));
        // A ciphertext from another value of the same subject under the nonce of this one.
        let other = seal(&key, subject, key_id, "description of the complaint").expect("seal");
        let spliced = Sealed {
            ciphertext: other.ciphertext,
            ..sealed.clone()
        };
        assert!(matches!(open(&key, &spliced), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn malformed_sealed_values_are_errors_not_panics() {
        let key = key();
        let (subject, key_id) = ids();
        let good = seal(&key, subject, key_id, "x").expect("seal");
        let garbage = [
            "",
            "!!!",
            "%%%%",
            "a",
            "abc=",
            "AAAAAAAAAAAAAAAA==",
            "AAAAAAAAAAAAAAAA+/",
            "张伟",
            "AAAA AAAA",
            "\0",
        ];
        for bad in garbage {
            let bad_nonce = Sealed {
                nonce: bad.to_owned(),
                ..good.clone()
            };
            assert!(open(&key, &bad_nonce).is_err(), "nonce {bad:?}");
            let bad_ct = Sealed {
                ciphertext: bad.to_owned(),
                ..good.clone()
            };
            assert!(open(&key, &bad_ct).is_err(), "ciphertext {bad:?}");
        }
        // Wrong nonce lengths and a ciphertext shorter than a tag: encoding errors.
        for len in [0, 1, 11, 13, 32] {
            let nonce = Sealed {
                nonce: URL_SAFE_NO_PAD.encode(vec![0u8; len]),
                ..good.clone()
            };
            assert!(
                matches!(open(&key, &nonce), Err(CryptoError::Encoding(_))),
                "nonce len {len}"
            );
        }
        for len in [0, 1, 15] {
            let ct = Sealed {
                ciphertext: URL_SAFE_NO_PAD.encode(vec![0u8; len]),
                ..good.clone()
            };
            assert!(
                matches!(open(&key, &ct), Err(CryptoError::Encoding(_))),
                "ciphertext len {len}"
            );
        }
        // Padded or standard-alphabet base64 is not the wire format, even when the bytes would be right.
        let nonce_bytes = [0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe, 0xfb, 0xff, 0xfe];
        let standard = Sealed {
            nonce: STANDARD.encode(nonce_bytes),
            ..good.clone()
        };
        assert!(standard.nonce.contains(['+', '/']));
        assert!(matches!(open(&key, &standard), Err(CryptoError::Encoding(_))));
        let padded = Sealed {
            ciphertext: format!("{}=", good.ciphertext),
            ..good
        };
        assert!(matches!(open(&key, &padded), Err(CryptoError::Encoding(_))));
    }

    #[test]
    fn sealed_json_shape() {
        let key = key();
        let (subject, key_id) = ids();
        let sealed = seal(&key, subject, key_id, "zhang.wei@example.cn").expect("seal");
        let json = serde_json::to_value(&sealed).expect("json");
        let object = json.as_object().expect("object");
        let mut fields: Vec<&str> = object.keys().map(String::as_str).collect();
        fields.sort_unstable();
        assert_eq!(fields, ["ciphertext", "key_id", "nonce", "subject"]);
        assert_eq!(object["subject"], subject.to_string());
        assert!(!json.to_string().contains("zhang"));
        let back: Sealed = serde_json::from_value(json.clone()).expect("from json");
        assert_eq!(back, sealed);

        let mut extra = json;
        extra["clear"] = serde_json::Value::from("zhang.wei@example.cn");
        assert!(
            serde_json::from_value::<Sealed>(extra).is_err(),
            "unknown fields are rejected"
        );
    }

    // ---- wrap / unwrap ----

    #[test]
    fn wrap_unwrap_round_trip() {
        let master = MasterKey::generate().expect("random");
        let data = key();
        let subject = Uuid::now_v7();
        let wrapped = master.wrap(&data, subject.as_bytes()).expect("wrap");
        assert_eq!(wrapped.len(), WRAPPED_KEY_LEN);
        let again = master.wrap(&data, subject.as_bytes()).expect("wrap");
        assert_ne!(wrapped, again, "fresh nonce every time");

        let unwrapped = master.unwrap(&wrapped, subject.as_bytes()).expect("unwrap");
        assert_eq!(unwrapped.bytes[..], data.bytes[..]);
        // The unwrapped key opens what the original sealed.
        let (s, k) = ids();
        let sealed = seal(&data, s, k, "李娜").expect("seal");
        assert_eq!(open(&unwrapped, &sealed).expect("open"), "李娜");
        // Empty AAD works too (e.g. a key with no owner).
        let w = master.wrap(&data, b"").expect("wrap");
        assert_eq!(master.unwrap(&w, b"").expect("unwrap").bytes[..], data.bytes[..]);
        // The wrapped bytes do not contain the key.
        let hex_wrapped = hex::encode(&wrapped);
        assert!(!hex_wrapped.contains(&data_key_hex(&data)));
    }

    #[test]
    fn unwrap_with_another_master_key_fails() {
        let master = MasterKey::generate().expect("random");
        let other = MasterKey::generate().expect("random");
        let wrapped = master.wrap(&key(), b"subject").expect("wrap");
        assert!(matches!(other.unwrap(&wrapped, b"subject"), Err(CryptoError::Decrypt)));
    }

    #[test]
    fn unwrap_with_different_aad_fails() {
        let master = MasterKey::generate().expect("random");
        let a = Uuid::now_v7();
        let b = Uuid::now_v7();
        let wrapped = master.wrap(&key(), a.as_bytes()).expect("wrap");
        assert!(matches!(
            master.unwrap(&wrapped, b.as_bytes()),
            Err(CryptoError::Decrypt)
        ));
        assert!(matches!(master.unwrap(&wrapped, b""), Err(CryptoError::Decrypt)));
        assert!(master.unwrap(&wrapped, a.as_bytes()).is_ok());
    }

    #[test]
    fn truncated_or_tampered_wrapped_keys_fail() {
        let master = MasterKey::generate().expect("random");
        let wrapped = master.wrap(&key(), b"aad").expect("wrap");
        for len in [0, 1, NONCE_LEN, NONCE_LEN + TAG_LEN, WRAPPED_KEY_LEN - 1] {
            assert!(
                matches!(master.unwrap(&wrapped[..len], b"aad"), Err(CryptoError::Encoding(_))),
                "len {len}"
            );
        }
        let mut longer = wrapped.clone();
        longer.push(0);
        assert!(matches!(master.unwrap(&longer, b"aad"), Err(CryptoError::Encoding(_))));
        for index in [0, NONCE_LEN, WRAPPED_KEY_LEN - 1] {
            let mut tampered = wrapped.clone();
            tampered[index] ^= 0x80;
            assert!(
                matches!(master.unwrap(&tampered, b"aad"), Err(CryptoError::Decrypt)),
                "byte {index}"
            );
        }
    }

    // ---- MasterKey parsing, identity, redaction ----

    const KEY_BYTES: [u8; 32] = [
        0x00, 0x11, 0x22, 0x33, 0x44, 0x55, 0x66, 0x77, 0x88, 0x99, 0xaa, 0xbb, 0xcc, 0xdd, 0xee, 0xff, 0xfb, 0xff,
        0xfe, 0x3e, 0x3f, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a, 0x0b,
    ];

    #[test]
    fn parse_accepts_hex_and_base64() {
        let hex_text = hex::encode(KEY_BYTES);
        let forms = [
            hex_text.clone(),
            hex_text.to_uppercase(),
            format!("  {hex_text}\n"),
            STANDARD.encode(KEY_BYTES),
            STANDARD_NO_PAD.encode(KEY_BYTES),
            URL_SAFE.encode(KEY_BYTES),
            URL_SAFE_NO_PAD.encode(KEY_BYTES),
            format!("\t{}\r\n", STANDARD.encode(KEY_BYTES)),
        ];
        // The sample key has bytes that make standard and URL-safe base64 differ.
        assert_ne!(STANDARD.encode(KEY_BYTES), URL_SAFE.encode(KEY_BYTES));
        for form in forms {
            let key = MasterKey::parse(&form).unwrap_or_else(|e| panic!("{form:?}: {e}"));
            assert_eq!(*key.bytes, KEY_BYTES, "{form:?}");
            assert_eq!(key.to_text(), hex_text);
        }
    }

    #[test]
    fn parse_rejects_wrong_lengths_and_garbage() {
        let bad = [
            String::new(),
            "   ".to_owned(),
            hex::encode([7u8; 31]),
            hex::encode([7u8; 33]),
            hex::encode([7u8; 16]),
            format!("{}g", &hex::encode([7u8; 32])[1..]),
            STANDARD.encode([7u8; 31]),
            STANDARD.encode([7u8; 33]),
            STANDARD.encode([7u8; 48]),
            URL_SAFE_NO_PAD.encode([7u8; 16]),
            "not a key at all".to_owned(),
            "!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!!".to_owned(),
            "张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟张伟".to_owned(),
            format!("{} {}", hex::encode([7u8; 16]), hex::encode([7u8; 16])),
        ];
        for text in bad {
            assert!(
                matches!(MasterKey::parse(&text), Err(CryptoError::InvalidKey(_))),
                "{text:?}"
            );
        }
    }

    #[test]
    fn parse_errors_do_not_echo_the_input() {
        let text = format!("{}zz", hex::encode([0x5au8; 31]));
        let err = MasterKey::parse(&text).expect_err("invalid");
        assert!(!err.to_string().contains("5a5a"), "{err}");
    }

    #[test]
    fn generated_key_round_trips_through_text() {
        let key = MasterKey::generate().expect("random");
        let text = key.to_text();
        assert_eq!(text.len(), 64);
        let parsed = MasterKey::parse(&text).expect("parse");
        assert_eq!(*parsed.bytes, *key.bytes);
        assert_eq!(parsed.id(), key.id());
        assert_ne!(key.to_text(), MasterKey::generate().expect("random").to_text());
    }

    #[test]
    fn debug_never_shows_key_bytes() {
        let master = MasterKey::parse(&hex::encode(KEY_BYTES)).expect("parse");
        let data = key();
        let secrets = [
            (format!("{master:?}"), hex::encode(KEY_BYTES), format!("{KEY_BYTES:?}")),
            (format!("{data:?}"), data_key_hex(&data), format!("{:?}", *data.bytes)),
            (format!("{master:#?}"), hex::encode(KEY_BYTES), format!("{KEY_BYTES:?}")),
        ];
        for (debug, hex_key, array) in secrets {
            assert!(!debug.contains(&hex_key), "{debug}");
            assert!(!debug.to_lowercase().contains(&hex_key[..16]), "{debug}");
            assert!(!debug.contains(&array), "{debug}");
            assert!(
                !debug.contains(&STANDARD_NO_PAD.encode(hex::decode(&hex_key).expect("hex"))),
                "{debug}"
            );
        }
        assert_eq!(format!("{data:?}"), "DataKey(<redacted>)");
        assert!(format!("{master:?}").contains(&master.id()));
    }

    #[test]
    fn id_is_stable_distinct_and_not_the_key() {
        let master = MasterKey::parse(&hex::encode(KEY_BYTES)).expect("parse");
        let id = master.id();
        assert_eq!(id.len(), 16);
        assert!(id.bytes().all(|b| b.is_ascii_hexdigit() && !b.is_ascii_uppercase()));
        assert_eq!(id, master.id());
        assert_eq!(id, MasterKey::parse(&STANDARD.encode(KEY_BYTES)).expect("parse").id());
        assert_ne!(id, master.to_text()[..16]);
        assert!(!master.to_text().contains(&id));
        assert_ne!(id, MasterKey::generate().expect("random").id());

        // Pinned value: SHA-256("opsledger master key id" || key), first 8 bytes in hex.
        let mut hasher = Sha256::new();
        hasher.update(b"opsledger master key id");
        hasher.update(KEY_BYTES);
        assert_eq!(id, hex::encode(&hasher.finalize()[..8]));
    }

    // ---- blind index ----

    #[test]
    fn blind_index_matches_however_typed() {
        let index_key = key();
        let phone = |v: &str| blind_index(&index_key, IndexKind::Phone, v);
        let email = |v: &str| blind_index(&index_key, IndexKind::Email, v);
        let cref = |v: &str| blind_index(&index_key, IndexKind::CustomerRef, v);

        assert!(phone("8613800138000").is_some());
        assert_eq!(phone("+86 138-0013-8000"), phone("8613800138000"));
        assert_eq!(phone("(+86) 138 0013 8000"), phone("8613800138000"));
        assert_eq!(phone("＋８６ １３８００１３８０００"), phone("8613800138000"));
        assert_ne!(phone("13800138000"), phone("8613800138000"));

        assert!(email("zhang.wei@example.cn").is_some());
        assert_eq!(email("Zhang.Wei@Example.CN "), email("zhang.wei@example.cn"));
        assert_eq!(email("\u{3000}ZHANG.WEI@EXAMPLE.CN\t"), email("zhang.wei@example.cn"));
        assert_eq!(email("ÉLODIE@Example.fr"), email("élodie@example.fr"));
        assert_ne!(email("zhang.wei@example.cn"), email("zhang.wei2@example.cn"));

        assert!(cref("AB-12345").is_some());
        assert_eq!(cref(" ab-123 45 "), cref("AB-12345"));
        assert_ne!(cref("AB-12345"), cref("AB12345"));
    }

    #[test]
    fn blind_index_depends_on_key_and_kind() {
        let a = key();
        let b = key();
        assert_ne!(
            blind_index(&a, IndexKind::Phone, "8613800138000"),
            blind_index(&b, IndexKind::Phone, "8613800138000")
        );
        // Same text that normalises identically under each kind still gives distinct digests.
        let text = "12345";
        let digests = [IndexKind::Phone, IndexKind::Email, IndexKind::CustomerRef]
            .map(|kind| blind_index(&a, kind, text).expect("non-empty"));
        assert_ne!(digests[0], digests[1]);
        assert_ne!(digests[0], digests[2]);
        assert_ne!(digests[1], digests[2]);
        // Deterministic under one key, and survives wrapping of the index key.
        let master = MasterKey::generate().expect("random");
        let rewrapped = master
            .unwrap(&master.wrap(&a, b"blind-index").expect("wrap"), b"blind-index")
            .expect("unwrap");
        assert_eq!(
            blind_index(&a, IndexKind::Email, "x@y.z"),
            blind_index(&rewrapped, IndexKind::Email, "x@y.z")
        );
    }

    #[test]
    fn blind_index_pinned_construction() {
        let index_key = DataKey {
            bytes: Zeroizing::new(KEY_BYTES),
        };
        let mut mac = <Hmac<Sha256> as Mac>::new_from_slice(&KEY_BYTES).expect("hmac");
        mac.update(b"phone\x008613800138000");
        let expected: [u8; 32] = mac.finalize().into_bytes().into();
        assert_eq!(
            blind_index(&index_key, IndexKind::Phone, "+86 138 0013 8000"),
            Some(expected)
        );
    }

    #[test]
    fn blind_index_of_empty_is_none() {
        let index_key = key();
        for (kind, value) in [
            (IndexKind::Phone, ""),
            (IndexKind::Phone, "+ - ( )"),
            (IndexKind::Phone, "n/a"),
            (IndexKind::Email, "   "),
            (IndexKind::Email, ""),
            (IndexKind::CustomerRef, " \t \u{3000} "),
        ] {
            assert_eq!(blind_index(&index_key, kind, value), None, "{kind} {value:?}");
        }
    }

    #[test]
    fn normalise_rules() {
        assert_eq!(normalise(IndexKind::Phone, "+86 138-0013-8000"), "8613800138000");
        assert_eq!(normalise(IndexKind::Phone, "００８６１３８"), "0086138");
        assert_eq!(normalise(IndexKind::Phone, "tel: 010.1234.5678 ext 9"), "010123456789");
        assert_eq!(
            normalise(IndexKind::Email, "  Zhang.Wei@Example.CN \n"),
            "zhang.wei@example.cn"
        );
        assert_eq!(normalise(IndexKind::Email, "ΣΊΣΥΦΟΣ@EXAMPLE.GR"), "σίσυφος@example.gr");
        assert_eq!(normalise(IndexKind::CustomerRef, "  cr 2024-0001 x "), "CR2024-0001X");
        assert_eq!(normalise(IndexKind::CustomerRef, "客户 ab1"), "客户AB1");
        assert_eq!(IndexKind::Phone.as_str(), "phone");
        assert_eq!(IndexKind::Email.as_str(), "email");
        assert_eq!(IndexKind::CustomerRef.as_str(), "customer_ref");
    }

    #[test]
    fn tags_depend_on_key_and_label_and_verify_only_their_message() {
        let system = key();
        let etags = TagKey::new(&system, "etag").expect("key");
        let cursors = TagKey::new(&system, "cursor").expect("key");
        let other = TagKey::new(&key(), "etag").expect("key");
        let tag = etags.tag(b"message");
        assert_ne!(tag, cursors.tag(b"message"), "the label separates purposes");
        assert_ne!(tag, other.tag(b"message"), "another key, another tag");
        assert!(etags.verify(b"message", &tag[..16]));
        assert!(!etags.verify(b"massage", &tag[..16]));
        assert!(!cursors.verify(b"message", &tag[..16]));
        assert!(!etags.verify(b"message", &tag[..8]), "a short tag is too easy to guess");
        let mut flipped = tag;
        flipped[3] ^= 0x01;
        assert!(!etags.verify(b"message", &flipped[..16]));
    }
}
