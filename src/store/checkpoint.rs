//! Signed checkpoints of the global log, meant to be kept outside the
//! database. A later verification proves the log still extends the
//! checkpoint unchanged: nothing up to its position was altered, removed or
//! reordered, even by someone with full control of the database (who could
//! recompute every hash, but not the signature).

use chrono::{SecondsFormat, Utc};
use ed25519_dalek::pkcs8::{DecodePrivateKey, DecodePublicKey};
use ed25519_dalek::{Signature, Signer, SigningKey, Verifier, VerifyingKey};
use serde::{Deserialize, Serialize};

use super::canonical::to_canonical_bytes;

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Checkpoint {
    pub position: i64,
    /// Global hash at `position`, hex.
    pub head_hash: String,
    pub created_at: String,
    /// Ed25519 signature over the canonical JSON of the three fields above, hex.
    pub signature: String,
}

#[derive(Debug, thiserror::Error)]
pub enum CheckpointError {
    #[error("invalid key: {0}")]
    Key(String),
    #[error("the checkpoint's signature does not verify with this public key")]
    BadSignature,
    #[error("malformed checkpoint: {0}")]
    Malformed(String),
}

fn signed_bytes(position: i64, head_hash: &str, created_at: &str) -> Result<Vec<u8>, CheckpointError> {
    to_canonical_bytes(&serde_json::json!({
        "position": position,
        "head_hash": head_hash,
        "created_at": created_at,
    }))
    .map_err(|e| CheckpointError::Malformed(e.to_string()))
}

/// Signs the head `(position, hash)` with an Ed25519 private key in PKCS#8 PEM.
pub fn sign(position: i64, hash: &[u8; 32], private_key_pem: &str) -> Result<Checkpoint, CheckpointError> {
    let key = SigningKey::from_pkcs8_pem(private_key_pem).map_err(|e| CheckpointError::Key(e.to_string()))?;
    let head_hash = hex::encode(hash);
    let created_at = Utc::now().to_rfc3339_opts(SecondsFormat::Secs, true);
    let signature = key.sign(&signed_bytes(position, &head_hash, &created_at)?);
    Ok(Checkpoint {
        position,
        head_hash,
        created_at,
        signature: hex::encode(signature.to_bytes()),
    })
}

/// Checks the signature with an Ed25519 public key in SPKI PEM.
pub fn verify_signature(checkpoint: &Checkpoint, public_key_pem: &str) -> Result<(), CheckpointError> {
    let key = VerifyingKey::from_public_key_pem(public_key_pem).map_err(|e| CheckpointError::Key(e.to_string()))?;
    let bytes = hex::decode(&checkpoint.signature).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    let signature = Signature::from_slice(&bytes).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    key.verify(
        &signed_bytes(checkpoint.position, &checkpoint.head_hash, &checkpoint.created_at)?,
        &signature,
    )
    .map_err(|_| CheckpointError::BadSignature)
}

/// The checkpoint's hash as bytes.
pub fn head_hash(checkpoint: &Checkpoint) -> Result<[u8; 32], CheckpointError> {
    let bytes = hex::decode(&checkpoint.head_hash).map_err(|e| CheckpointError::Malformed(e.to_string()))?;
    bytes
        .try_into()
        .map_err(|_| CheckpointError::Malformed("head_hash is not 32 bytes".into()))
}

#[cfg(test)]
mod tests {
    use super::*;

    const PRIVATE: &str = include_str!("../../tests/fixtures/keys/ed25519-private.pem");
    const PUBLIC: &str = include_str!("../../tests/fixtures/keys/ed25519-public.pem");

    #[test]
    fn a_checkpoint_verifies_and_any_change_breaks_it() {
        let cp = sign(42, &[7; 32], PRIVATE).expect("sign");
        verify_signature(&cp, PUBLIC).expect("valid");
        assert_eq!(head_hash(&cp).expect("hash"), [7; 32]);
        for tampered in [
            Checkpoint {
                position: 41,
                ..cp.clone()
            },
            Checkpoint {
                head_hash: hex::encode([8; 32]),
                ..cp.clone()
            },
            Checkpoint {
                created_at: "2000-01-01T00:00:00Z".into(),
                ..cp.clone()
            },
        ] {
            assert!(matches!(
                verify_signature(&tampered, PUBLIC),
                Err(CheckpointError::BadSignature)
            ));
        }
        let other_public = include_str!("../../tests/fixtures/keys/rsa-public.pem");
        assert!(verify_signature(&cp, other_public).is_err());
    }
}
