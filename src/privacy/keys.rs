//! Subject keys, system keys and the blind index: the only code that knows
//! the SQL of `subject_keys`, `system_keys` and `subject_index`.

use std::collections::HashMap;

use chrono::{DateTime, Utc};
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::store::{self, StoreError};

use super::PrivacyError;
use super::crypto::{self, DataKey, IndexKind, MasterKey};
use super::render::Gone;

/// A subject's unwrapped data key.
#[derive(Clone)]
pub struct SubjectKey {
    pub subject: Uuid,
    pub key_id: Uuid,
    pub key: DataKey,
}

fn system_aad(name: &str) -> Vec<u8> {
    format!("opsledger system key {name}").into_bytes()
}

/// The keys the server itself holds, one row of `system_keys` each. Each
/// has a key of its own (none is derived from the master key), so rotating
/// the master key only re-wraps them and never changes a digest or a tag.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SystemKey {
    /// Keys the blind index of contacts; never replaced, or no stored
    /// digest would match again.
    BlindIndex,
    /// Keys ETags; replacing it makes every ETag clients hold stale once.
    Etag,
    /// Signs list cursors; replacing it invalidates cursors in flight.
    Cursor,
}

impl SystemKey {
    pub fn name(self) -> &'static str {
        match self {
            SystemKey::BlindIndex => "blind_index",
            SystemKey::Etag => "etag",
            SystemKey::Cursor => "cursor",
        }
    }
}

/// A system key, created on first use. Every instance on the database
/// reads the same row, so they all agree, and across restarts.
pub async fn system_key(
    client: &impl GenericClient,
    master: &MasterKey,
    which: SystemKey,
) -> Result<DataKey, PrivacyError> {
    let name = which.name();
    let select = "SELECT wrapped_key FROM system_keys WHERE name = $1";
    let found = client.query_opt(select, &[&name]).await.map_err(StoreError::from)?;
    let row = match found {
        Some(row) => row,
        None => {
            let wrapped = master.wrap(&DataKey::generate()?, &system_aad(name))?;
            // Two instances starting at once: the first insert wins, both read it back.
            client
                .execute(
                    "INSERT INTO system_keys (name, wrapped_key, master_key_id) VALUES ($1, $2, $3) ON CONFLICT (name) DO NOTHING",
                    &[&name, &wrapped, &master.id()],
                )
                .await
                .map_err(StoreError::from)?;
            client.query_one(select, &[&name]).await.map_err(StoreError::from)?
        }
    };
    let wrapped: Vec<u8> = row.try_get(0).map_err(StoreError::from)?;
    master
        .unwrap(&wrapped, &system_aad(name))
        .map_err(PrivacyError::wrong_master_key)
}

/// Replaces the ETag key with a fresh one, on a maintenance connection (the
/// server's role may not update `system_keys`). Instances read the key at
/// start, so each one tags with the new key once restarted.
pub async fn replace_etag_key(
    client: &impl tokio_postgres::GenericClient,
    master: &MasterKey,
) -> Result<(), PrivacyError> {
    // Under the wrong master key the new row would be one no server can
    // open, and none would start: the keys already there must open first.
    for row in client
        .query("SELECT name, wrapped_key FROM system_keys", &[])
        .await
        .map_err(StoreError::from)?
    {
        let name: String = row.try_get(0).map_err(StoreError::from)?;
        let wrapped: Vec<u8> = row.try_get(1).map_err(StoreError::from)?;
        master
            .unwrap(&wrapped, &system_aad(&name))
            .map_err(PrivacyError::wrong_master_key)?;
    }
    let name = SystemKey::Etag.name();
    let wrapped = master.wrap(&DataKey::generate()?, &system_aad(name))?;
    client
        .execute(
            "INSERT INTO system_keys (name, wrapped_key, master_key_id) VALUES ($1, $2, $3)
             ON CONFLICT (name) DO UPDATE SET wrapped_key = EXCLUDED.wrapped_key,
                 master_key_id = EXCLUDED.master_key_id, created_at = now()",
            &[&name, &wrapped, &master.id()],
        )
        .await
        .map_err(StoreError::from)?;
    Ok(())
}

/// The keys of those `subjects` that still have one; an erased subject is
/// simply absent.
pub async fn subject_keys(
    client: &impl GenericClient,
    master: &MasterKey,
    subjects: &[Uuid],
) -> Result<HashMap<Uuid, SubjectKey>, PrivacyError> {
    if subjects.is_empty() {
        return Ok(HashMap::new());
    }
    let statement = client
        .prepare_cached("SELECT subject_id, key_id, wrapped_key FROM subject_keys WHERE subject_id = ANY($1)")
        .await
        .map_err(StoreError::from)?;
    let rows = client.query(&statement, &[&subjects]).await.map_err(StoreError::from)?;
    rows.iter()
        .map(|row| unwrap_row(master, row).map(|k| (k.subject, k)))
        .collect()
}

/// The digests of a complainant's contacts, strongest identifier first.
pub fn contact_digests(index_key: &DataKey, contacts: &[(IndexKind, &str)]) -> Vec<(IndexKind, [u8; 32])> {
    contacts
        .iter()
        .filter_map(|(kind, value)| crypto::blind_index(index_key, *kind, value).map(|d| (*kind, d)))
        .collect()
}

/// A new data subject with a fresh key. Its id and key id are random
/// (UUIDv4): a time-ordered id would tell anyone who sees it when the
/// person first filed, and so whether a contact was already known.
pub async fn create_subject(client: &impl GenericClient, master: &MasterKey) -> Result<SubjectKey, PrivacyError> {
    let subject = Uuid::new_v4();
    let key_id = Uuid::new_v4();
    let key = DataKey::generate()?;
    let wrapped = master.wrap(&key, subject.as_bytes())?;
    let insert = client
        .prepare_cached(
            "INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id) VALUES ($1, $2, $3, $4)",
        )
        .await
        .map_err(StoreError::from)?;
    client
        .execute(&insert, &[&subject, &key_id, &wrapped, &master.id()])
        .await
        .map_err(StoreError::from)?;
    Ok(SubjectKey { subject, key_id, key })
}

/// The oldest live subject that any of `digests` identifies, if one does.
/// Only for identifiers a deployment declares strong: a phone or an email
/// is shared by families and offices, so a match on one never joins
/// filings. The caller holds [`lock_identifiers`] for the digests, so two
/// first filings of one customer cannot both create a subject.
pub async fn subject_by_identifier(
    client: &impl GenericClient,
    master: &MasterKey,
    digests: &[(IndexKind, [u8; 32])],
) -> Result<Option<SubjectKey>, PrivacyError> {
    if digests.is_empty() {
        return Ok(None);
    }
    let (kinds, values) = columns(digests);
    let statement = client
        .prepare_cached(
            "SELECT k.subject_id, k.key_id, k.wrapped_key
             FROM unnest($1::text[], $2::bytea[]) AS c(kind, digest)
             JOIN subject_index i ON i.kind = c.kind AND i.digest = c.digest
             JOIN subject_keys k ON k.subject_id = i.subject_id
             ORDER BY k.created_at, k.subject_id
             LIMIT 1",
        )
        .await
        .map_err(StoreError::from)?;
    let found = client
        .query_opt(&statement, &[&kinds, &values])
        .await
        .map_err(StoreError::from)?;
    found.map(|row| unwrap_row(master, &row)).transpose()
}

/// Serialises filings that carry the same strong identifiers until the
/// transaction ends (a transaction-scoped advisory lock per digest, taken
/// in a fixed order so two filings never wait on each other in a cycle).
pub async fn lock_identifiers(
    client: &impl GenericClient,
    digests: &[(IndexKind, [u8; 32])],
) -> Result<(), PrivacyError> {
    let mut locks: Vec<i64> = digests
        .iter()
        .map(|(_, digest)| {
            // The digest already covers the kind; its first bytes are as
            // random as a lock key needs.
            let mut bytes = [0u8; 8];
            bytes.copy_from_slice(&digest[..8]);
            i64::from_be_bytes(bytes)
        })
        .collect();
    locks.sort_unstable();
    locks.dedup();
    for lock in locks {
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&lock])
            .await
            .map_err(StoreError::from)?;
    }
    Ok(())
}

/// Indexes a filing's contacts for its subject, so an exact lookup finds
/// it. A contact may be indexed for several subjects; lookups return them
/// all, and an entry never moves to another subject.
pub async fn index_contacts(
    client: &impl GenericClient,
    subject: Uuid,
    digests: &[(IndexKind, [u8; 32])],
) -> Result<(), PrivacyError> {
    let (kinds, values) = columns(digests);
    let index = client
        .prepare_cached(
            "INSERT INTO subject_index (kind, digest, subject_id)
             SELECT kind, digest, $3 FROM unnest($1::text[], $2::bytea[]) AS c(kind, digest)
             ON CONFLICT DO NOTHING",
        )
        .await
        .map_err(StoreError::from)?;
    client
        .execute(&index, &[&kinds, &values, &subject])
        .await
        .map_err(StoreError::from)?;
    Ok(())
}

/// Moves every index entry of `from` to `into`: part of an administrator's
/// merge of two subjects, the one deliberate way a contact changes subject.
pub async fn move_index(client: &impl GenericClient, from: Uuid, into: Uuid) -> Result<u64, PrivacyError> {
    let moved = client
        .execute(
            "INSERT INTO subject_index (kind, digest, subject_id)
             SELECT kind, digest, $2 FROM subject_index WHERE subject_id = $1
             ON CONFLICT DO NOTHING",
            &[&from, &into],
        )
        .await
        .map_err(StoreError::from)?;
    client
        .execute("DELETE FROM subject_index WHERE subject_id = $1", &[&from])
        .await
        .map_err(StoreError::from)?;
    Ok(moved)
}

/// Serialises everything that moves or destroys a subject's key (merge,
/// repair, erasure) and what seals new data under a named subject, until
/// the transaction ends; then returns the keys of those that still have
/// one. Advisory locks, in a fixed order: the serving role may not lock key
/// rows (that takes UPDATE, which it has no need for).
pub async fn lock_subject_keys(
    client: &impl GenericClient,
    master: &MasterKey,
    subjects: &[Uuid],
) -> Result<HashMap<Uuid, SubjectKey>, PrivacyError> {
    let mut locks: Vec<Uuid> = subjects.to_vec();
    locks.sort_unstable();
    locks.dedup();
    for subject in &locks {
        // Random bits (subject ids are UUIDv4); a rare collision with
        // another lock only makes one transaction wait for the other.
        let (high, _) = subject.as_u64_pair();
        client
            .execute("SELECT pg_advisory_xact_lock($1)", &[&(high as i64)])
            .await
            .map_err(StoreError::from)?;
    }
    subject_keys(client, master, &locks).await
}

fn columns(digests: &[(IndexKind, [u8; 32])]) -> (Vec<&'static str>, Vec<&[u8]>) {
    (
        digests.iter().map(|(k, _)| k.as_str()).collect(),
        digests.iter().map(|(_, d)| &d[..]).collect(),
    )
}

/// A subject key from a row of (subject_id, key_id, wrapped_key).
fn unwrap_row(master: &MasterKey, row: &tokio_postgres::Row) -> Result<SubjectKey, PrivacyError> {
    let subject: Uuid = row.try_get(0).map_err(StoreError::from)?;
    let wrapped: Vec<u8> = row.try_get(2).map_err(StoreError::from)?;
    Ok(SubjectKey {
        subject,
        key_id: row.try_get(1).map_err(StoreError::from)?,
        key: master
            .unwrap(&wrapped, subject.as_bytes())
            .map_err(PrivacyError::wrong_master_key)?,
    })
}

/// Subjects an exact contact identifies (erased subjects no longer appear).
pub async fn subjects_by_contact(
    client: &impl GenericClient,
    index_key: &DataKey,
    kind: IndexKind,
    value: &str,
) -> Result<Vec<Uuid>, PrivacyError> {
    let Some(digest) = crypto::blind_index(index_key, kind, value) else {
        return Ok(Vec::new());
    };
    let statement = client
        .prepare_cached("SELECT subject_id FROM subject_index WHERE kind = $1 AND digest = $2")
        .await
        .map_err(StoreError::from)?;
    let rows = client
        .query(&statement, &[&kind.as_str(), &&digest[..]])
        .await
        .map_err(StoreError::from)?;
    Ok(rows
        .iter()
        .map(|r| r.try_get(0))
        .collect::<Result<_, _>>()
        .map_err(StoreError::from)?)
}

/// Deletes a subject's key and index entries: everything sealed under the
/// key becomes unreadable for good. Returns whether a key existed.
pub async fn shred(client: &impl GenericClient, subject: Uuid) -> Result<bool, PrivacyError> {
    let deleted = client
        .execute("DELETE FROM subject_keys WHERE subject_id = $1", &[&subject])
        .await
        .map_err(StoreError::from)?;
    client
        .execute("DELETE FROM subject_index WHERE subject_id = $1", &[&subject])
        .await
        .map_err(StoreError::from)?;
    Ok(deleted > 0)
}

/// What became of the subjects among `subjects` that have no key any more,
/// read from their own streams (where erasure, merge and repair are
/// recorded). A ticket's id is no subject, even though it names a stream.
pub async fn gone(client: &impl GenericClient, subjects: &[Uuid]) -> Result<HashMap<Uuid, Gone>, PrivacyError> {
    if subjects.is_empty() {
        return Ok(HashMap::new());
    }
    let latest = crate::store::latest_events(client, subjects).await?;
    Ok(latest
        .into_iter()
        .filter_map(|(subject, latest)| Gone::of(&latest.event_type).map(|gone| (subject, gone)))
        .collect())
}

/// Re-wraps every subject key and system key under `new`, in one
/// transaction owned by the caller (a maintenance connection, not the
/// pool). Events and views are not touched.
pub async fn rewrap_all(
    client: &impl tokio_postgres::GenericClient,
    old: &MasterKey,
    new: &MasterKey,
) -> Result<(u64, u64), PrivacyError> {
    let mut subjects = 0;
    for row in client
        .query("SELECT subject_id, wrapped_key FROM subject_keys FOR UPDATE", &[])
        .await
        .map_err(StoreError::from)?
    {
        let subject: Uuid = row.try_get(0).map_err(StoreError::from)?;
        let wrapped: Vec<u8> = row.try_get(1).map_err(StoreError::from)?;
        let key = old
            .unwrap(&wrapped, subject.as_bytes())
            .map_err(PrivacyError::wrong_master_key)?;
        let rewrapped = new.wrap(&key, subject.as_bytes())?;
        client
            .execute(
                "UPDATE subject_keys SET wrapped_key = $2, master_key_id = $3 WHERE subject_id = $1",
                &[&subject, &rewrapped, &new.id()],
            )
            .await
            .map_err(StoreError::from)?;
        subjects += 1;
    }
    let mut system = 0;
    for row in client
        .query("SELECT name, wrapped_key FROM system_keys FOR UPDATE", &[])
        .await
        .map_err(StoreError::from)?
    {
        let name: String = row.try_get(0).map_err(StoreError::from)?;
        let wrapped: Vec<u8> = row.try_get(1).map_err(StoreError::from)?;
        let key = old
            .unwrap(&wrapped, &system_aad(&name))
            .map_err(PrivacyError::wrong_master_key)?;
        let rewrapped = new.wrap(&key, &system_aad(&name))?;
        client
            .execute(
                "UPDATE system_keys SET wrapped_key = $2, master_key_id = $3 WHERE name = $1",
                &[&name, &rewrapped, &new.id()],
            )
            .await
            .map_err(StoreError::from)?;
        system += 1;
    }
    Ok((subjects, system))
}

/// A `system_keys` row as a backup holds it: still wrapped under the master
/// key, so a backup holds no key in clear.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedSystemKey {
    pub name: String,
    pub wrapped_key: Vec<u8>,
    pub master_key_id: String,
    pub created_at: DateTime<Utc>,
}

/// A `subject_keys` row as a backup holds it, still wrapped.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct WrappedSubjectKey {
    pub subject: Uuid,
    pub key_id: Uuid,
    pub wrapped_key: Vec<u8>,
    pub master_key_id: String,
    pub created_at: DateTime<Utc>,
}

/// A `subject_index` row: a contact's digest under the index key, and the
/// subject it identifies.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct IndexEntry {
    pub kind: String,
    pub digest: Vec<u8>,
    pub subject: Uuid,
}

/// Hands every system key to `sink`, by name.
pub async fn dump_system_keys<E: From<StoreError>>(
    tx: &tokio_postgres::Transaction<'_>,
    mut sink: impl FnMut(WrappedSystemKey) -> Result<(), E>,
) -> Result<(), E> {
    let sql = "SELECT name, wrapped_key, master_key_id, created_at FROM system_keys ORDER BY name";
    store::for_each_row(tx, sql, |row| {
        sink(WrappedSystemKey {
            name: row.try_get(0).map_err(StoreError::from)?,
            wrapped_key: row.try_get(1).map_err(StoreError::from)?,
            master_key_id: row.try_get(2).map_err(StoreError::from)?,
            created_at: row.try_get(3).map_err(StoreError::from)?,
        })
    })
    .await
}

/// Hands every subject key to `sink`, by subject. Erased subjects have none.
pub async fn dump_subject_keys<E: From<StoreError>>(
    tx: &tokio_postgres::Transaction<'_>,
    mut sink: impl FnMut(WrappedSubjectKey) -> Result<(), E>,
) -> Result<(), E> {
    let sql = "SELECT subject_id, key_id, wrapped_key, master_key_id, created_at FROM subject_keys ORDER BY subject_id";
    store::for_each_row(tx, sql, |row| {
        sink(WrappedSubjectKey {
            subject: row.try_get(0).map_err(StoreError::from)?,
            key_id: row.try_get(1).map_err(StoreError::from)?,
            wrapped_key: row.try_get(2).map_err(StoreError::from)?,
            master_key_id: row.try_get(3).map_err(StoreError::from)?,
            created_at: row.try_get(4).map_err(StoreError::from)?,
        })
    })
    .await
}

/// Hands every blind-index entry to `sink`.
pub async fn dump_index<E: From<StoreError>>(
    tx: &tokio_postgres::Transaction<'_>,
    mut sink: impl FnMut(IndexEntry) -> Result<(), E>,
) -> Result<(), E> {
    let sql = "SELECT kind, digest, subject_id FROM subject_index ORDER BY kind, digest, subject_id";
    store::for_each_row(tx, sql, |row| {
        sink(IndexEntry {
            kind: row.try_get(0).map_err(StoreError::from)?,
            digest: row.try_get(1).map_err(StoreError::from)?,
            subject: row.try_get(2).map_err(StoreError::from)?,
        })
    })
    .await
}

/// Loads a system key from a backup. One made by a server started on the
/// database before the import is replaced: the backup's key is the one its
/// digests and tags were made with.
pub async fn load_system_key(
    client: &impl tokio_postgres::GenericClient,
    key: &WrappedSystemKey,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO system_keys (name, wrapped_key, master_key_id, created_at) VALUES ($1, $2, $3, $4)
             ON CONFLICT (name) DO UPDATE SET wrapped_key = EXCLUDED.wrapped_key,
                 master_key_id = EXCLUDED.master_key_id, created_at = EXCLUDED.created_at",
            &[&key.name, &key.wrapped_key, &key.master_key_id, &key.created_at],
        )
        .await?;
    Ok(())
}

/// Loads a subject key from a backup.
pub async fn load_subject_key(
    client: &impl tokio_postgres::GenericClient,
    key: &WrappedSubjectKey,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO subject_keys (subject_id, key_id, wrapped_key, master_key_id, created_at)
             VALUES ($1, $2, $3, $4, $5)",
            &[
                &key.subject,
                &key.key_id,
                &key.wrapped_key,
                &key.master_key_id,
                &key.created_at,
            ],
        )
        .await?;
    Ok(())
}

/// Loads a blind-index entry from a backup.
pub async fn load_index_entry(
    client: &impl tokio_postgres::GenericClient,
    entry: &IndexEntry,
) -> Result<(), StoreError> {
    client
        .execute(
            "INSERT INTO subject_index (kind, digest, subject_id) VALUES ($1, $2, $3)",
            &[&entry.kind, &entry.digest, &entry.subject],
        )
        .await?;
    Ok(())
}

/// How many subject keys there are.
pub async fn count_subject_keys(client: &impl tokio_postgres::GenericClient) -> Result<u64, StoreError> {
    let count: i64 = client
        .query_one("SELECT count(*) FROM subject_keys", &[])
        .await?
        .try_get(0)?;
    Ok(count.unsigned_abs())
}
