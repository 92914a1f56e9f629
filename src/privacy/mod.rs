//! Personal data: sealed per data subject at rest, erasable by deleting the
//! subject's key (crypto-shredding), findable by exact contact through a
//! keyed blind index, and every clear-text read recorded.
//!
//! The event log and the views only ever hold personal values sealed under
//! their subject's key; the master key that wraps those keys comes from
//! configuration and never enters the database. So a copy of the database
//! alone reveals no personal data, and deleting a subject's key erases their
//! data everywhere it was written, while every hash chain still verifies
//! (the chains cover the ciphertext).

pub mod access_log;
pub mod crypto;
pub mod keys;
pub mod render;

use std::collections::{BTreeSet, HashMap};

use deadpool_postgres::GenericClient;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::{Personal, PersonalField};
use crate::store::StoreError;

use crypto::{CryptoError, DataKey, IndexKind, MasterKey};
use keys::SubjectKey;
use render::{Keyring, Reveal};

#[derive(Debug, thiserror::Error)]
pub enum PrivacyError {
    #[error(transparent)]
    Store(#[from] StoreError),
    #[error("cryptography failed: {0}")]
    Crypto(#[from] CryptoError),
    /// A wrapped key does not open with the configured master key: the
    /// configuration names the wrong key (or the database was tampered with).
    #[error("a stored key does not open with the configured master key (is OPSLEDGER_MASTER_KEY the right key?)")]
    WrongMasterKey,
}

impl PrivacyError {
    fn wrong_master_key(_: CryptoError) -> PrivacyError {
        PrivacyError::WrongMasterKey
    }
}

/// The keys the server holds in memory: the master key (from configuration)
/// and the blind-index key (unwrapped once at start). Subject keys are read
/// per request and never cached, so an erasure takes effect at once on every
/// instance.
pub struct Privacy {
    master: MasterKey,
    index_key: DataKey,
    strong_identifiers: Vec<IndexKind>,
}

impl Privacy {
    pub async fn open(client: &impl GenericClient, master: MasterKey) -> Result<Privacy, PrivacyError> {
        let index_key = keys::system_key(client, &master, keys::SystemKey::BlindIndex).await?;
        Ok(Privacy {
            master,
            index_key,
            strong_identifiers: Vec::new(),
        })
    }

    /// Declares identifiers strong: an exact match on one joins a filing to
    /// the subject it identifies (a CRM's customer reference, typically).
    /// None is by default: a phone or an email is shared by families and
    /// offices, and joining on one merged different people.
    pub fn with_strong_identifiers(mut self, kinds: Vec<IndexKind>) -> Privacy {
        self.strong_identifiers = kinds;
        self
    }

    pub fn strong_identifiers(&self) -> &[IndexKind] {
        &self.strong_identifiers
    }

    pub fn master(&self) -> &MasterKey {
        &self.master
    }

    pub fn index_key(&self) -> &DataKey {
        &self.index_key
    }

    /// Unwrapped keys of the subjects whose sealed values occur in `docs`,
    /// and what became of those without one (looked up only when a key is
    /// missing, which is rare).
    pub async fn keys_for<'a>(
        &self,
        client: &impl GenericClient,
        docs: impl IntoIterator<Item = &'a Value>,
    ) -> Result<Keyring, PrivacyError> {
        let mut subjects = BTreeSet::new();
        for doc in docs {
            render::sealed_subjects(doc, &mut subjects);
        }
        let subjects: Vec<Uuid> = subjects.into_iter().collect();
        let keys: HashMap<Uuid, SubjectKey> = keys::subject_keys(client, &self.master, &subjects).await?;
        let missing: Vec<Uuid> = subjects.into_iter().filter(|s| !keys.contains_key(s)).collect();
        let gone = keys::gone(client, &missing).await?;
        Ok(Keyring { keys, gone })
    }

    /// Renders documents for one caller; returns the subjects revealed in clear.
    pub async fn render_all(
        &self,
        client: &impl GenericClient,
        docs: &mut [&mut Value],
        reveal: Reveal,
    ) -> Result<BTreeSet<Uuid>, PrivacyError> {
        let keys = self.keys_for(client, docs.iter().map(|d| &**d)).await?;
        Ok(render_with(&keys, docs, reveal))
    }

    /// Renders in clear what is sealed under `subject` alone: a subject's
    /// export opens no one else's data.
    pub async fn render_for_subject(
        &self,
        client: &impl GenericClient,
        docs: &mut [&mut Value],
        subject: Uuid,
    ) -> Result<BTreeSet<Uuid>, PrivacyError> {
        let keys = self.keys_for(client, docs.iter().map(|d| &**d)).await?.only(subject);
        Ok(render_with(&keys, docs, Reveal::Clear))
    }
}

fn render_with(keys: &Keyring, docs: &mut [&mut Value], reveal: Reveal) -> BTreeSet<Uuid> {
    let mut revealed = BTreeSet::new();
    for doc in docs.iter_mut() {
        revealed.extend(render::render(doc, keys, reveal));
    }
    revealed
}

/// Seals every clear personal value of `values` under `key`.
pub fn seal_fields<'a>(
    values: impl IntoIterator<Item = (PersonalField, &'a mut Personal)>,
    key: &SubjectKey,
) -> Result<(), PrivacyError> {
    for (_, value) in values {
        if let Personal::Clear(text) = value {
            let sealed = crypto::seal(&key.key, key.subject, key.key_id, text)?;
            let Value::Object(map) = serde_json::to_value(sealed).map_err(|e| CryptoError::Encoding(e.to_string()))?
            else {
                return Err(CryptoError::Encoding("a sealed value is not a JSON object".into()).into());
            };
            *value = Personal::Protected(map);
        }
    }
    Ok(())
}
