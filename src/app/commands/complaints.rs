//! Filing complaints and applying commands to them.

use std::collections::HashSet;

use deadpool_postgres::{GenericClient, Transaction};
use serde_json::Value;
use uuid::Uuid;

use crate::app::clock::Clock;
use crate::domain::complaint::{
    self, ComplainantRecord, Complaint, ComplaintCommand, ComplaintEvent, CorrectDetails, CorrectedComplainant,
    FilingSubject, ResealCause, ResealPersonalData, ResealedValue, SubjectJoin, ValidFiling,
};
use crate::domain::ticket::TicketKind;
use crate::domain::{DomainError, Personal};
use crate::privacy::crypto::{self, IndexKind, Sealed};
use crate::privacy::keys::SubjectKey;
use crate::privacy::{self, keys, render};
use crate::projections::tickets::{self, TicketLookup, TicketRow};
use crate::store;

use super::{
    CommandContext, CommandError, Commands, Locked, Outcome, Plan, StreamWrite, missing_subject, next_number,
    now_after, state_of,
};

impl Commands {
    /// Files a new complaint: validated already, so it takes a number only
    /// to be recorded.
    pub(super) async fn file_complaint(
        &self,
        ctx: &CommandContext,
        filing: &ValidFiling,
    ) -> Result<Outcome<TicketRow>, CommandError> {
        let id = Uuid::now_v7();
        let now = self.now_after(None);
        let cmd = filing.command();
        let c = &cmd.complainant;
        let contacts: Vec<(IndexKind, &str)> = [
            (IndexKind::CustomerRef, c.customer_ref.as_deref()),
            (IndexKind::Email, c.email.as_deref()),
            (IndexKind::Phone, c.phone.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|v| (kind, v)))
        .collect();
        let digests = keys::contact_digests(self.privacy.index_key(), &contacts);
        self.execute(ctx, false, async |tx| {
            let number = next_number(tx, TicketKind::Complaint, now).await?;
            let (subject, joined) = self.filing_subject(tx, cmd.subject, &digests).await?;
            keys::index_contacts(tx, subject.subject, &digests).await?;
            let filed_under = FilingSubject {
                id: subject.subject,
                joined,
            };
            let mut events = filing.record(id, &number, filed_under, now);
            for event in &mut events {
                privacy::seal_fields(event.personal_mut(), &subject)?;
            }
            Plan::single(self.timed_write::<Complaint>(tx, ctx, id, None, events, now).await?)
        })
        .await
    }

    /// The data subject a new filing's personal data is sealed under: the
    /// one its filer named, else the one an identifier the deployment
    /// declares strong identifies, else a new one. A phone or an email alone
    /// never joins filings.
    async fn filing_subject(
        &self,
        tx: &impl GenericClient,
        named: Option<Uuid>,
        digests: &[(IndexKind, [u8; 32])],
    ) -> Result<(SubjectKey, Option<SubjectJoin>), CommandError> {
        let master = self.privacy.master();
        if let Some(subject) = named {
            // Locked, so a merge or erasure cannot destroy the key while
            // this filing seals under it.
            let mut found = keys::lock_subject_keys(tx, master, &[subject]).await?;
            return match found.remove(&subject) {
                Some(key) => Ok((key, Some(SubjectJoin::Named))),
                None => Err(missing_subject(tx, subject).await?.named_at("/subject")),
            };
        }
        let strong: Vec<(IndexKind, [u8; 32])> = digests
            .iter()
            .filter(|(kind, _)| self.privacy.strong_identifiers().contains(kind))
            .copied()
            .collect();
        if !strong.is_empty() {
            keys::lock_identifiers(tx, &strong).await?;
            // Lock the subject found, as a named filing does, so a merge,
            // erasure or repair cannot destroy its key under this filing;
            // one that just did sends the search on (a merge moved the
            // identifier to the subject that remains).
            for _ in 0..3 {
                let Some(found) = keys::subject_by_identifier(tx, master, &strong).await? else {
                    break;
                };
                if let Some(key) = keys::lock_subject_keys(tx, master, &[found.subject])
                    .await?
                    .remove(&found.subject)
                {
                    return Ok((key, Some(SubjectJoin::StrongIdentifier)));
                }
            }
        }
        Ok((keys::create_subject(tx, master).await?, None))
    }

    /// Decides a command on a complaint locked for the transaction.
    pub(super) async fn decide_complaint(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Complaint>,
        cmd: &ComplaintCommand,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let mut events = complaint::decide(&locked.state, cmd, now)?;
        self.seal_personal(tx, locked.state.subject, &mut events).await?;
        Plan::single(
            self.timed_write(tx, ctx, locked.row.id, Some((locked.state, &locked.head)), events, now)
                .await?,
        )
    }

    /// Corrects what was recorded at filing. A correction of the complainant
    /// is sealed under the subject the complaint belongs to after it: its
    /// own, or, for another person, the subject resolved as a filing would
    /// be (named, else matched on a strong identifier, else new), under
    /// which the complaint's other personal values are then sealed anew.
    /// The corrected contacts are indexed for that subject, as at filing.
    pub(super) async fn correct_complaint(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Complaint>,
        cmd: &CorrectDetails,
    ) -> Result<Plan, CommandError> {
        // A malformed body is refused before any subject is looked up or made.
        complaint::check_correction(cmd)?;
        let now = self.now_after(Some(&locked.head));
        let state = &locked.state;
        let mut seal_under = None;
        let mut digests = Vec::new();
        let found = match &cmd.complainant {
            None => None,
            Some(given) => {
                let master = self.privacy.master();
                // Locked, so an erasure or merge cannot destroy the key while
                // this correction opens values under it.
                let current = keys::lock_subject_keys(tx, master, &[state.subject])
                    .await?
                    .remove(&state.subject);
                let contacts: Vec<(IndexKind, &str)> = [
                    (IndexKind::CustomerRef, given.customer_ref.as_deref()),
                    (IndexKind::Email, given.email.as_deref()),
                    (IndexKind::Phone, given.phone.as_deref()),
                ]
                .into_iter()
                .filter_map(|(kind, value)| value.map(|v| (kind, v)))
                .collect();
                digests = keys::contact_digests(self.privacy.index_key(), &contacts);
                let (key, joined) = if cmd.another_person {
                    self.filing_subject(tx, cmd.subject, &digests).await?
                } else {
                    // New personal data about an erased person is refused,
                    // as for any other command.
                    (current.clone().ok_or(CommandError::SubjectErased)?, None)
                };
                let resealed = match &current {
                    Some(old) if key.subject != old.subject => {
                        let events = store::read_stream(tx, locked.row.id).await?;
                        values_to_reseal(locked.row.id, &events, old)?
                    }
                    _ => Vec::new(),
                };
                let recorded = opened(&state.complainant, current.as_ref());
                let subject = FilingSubject {
                    id: key.subject,
                    joined: if key.subject == state.subject { None } else { joined },
                };
                seal_under = Some(key);
                Some(CorrectedComplainant {
                    recorded,
                    subject,
                    resealed,
                })
            }
        };
        let mut events = complaint::correct_details(state, cmd, found.as_ref())?;
        if let Some(key) = &seal_under {
            for event in &mut events {
                privacy::seal_fields(event.personal_mut(), key)?;
            }
            keys::index_contacts(tx, key.subject, &digests).await?;
        }
        Plan::single(StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            events,
            ctx,
            now,
        )?)
    }

    /// Seals the personal values of `events` under the subject's key,
    /// fetching the key only when there is something to seal.
    async fn seal_personal(
        &self,
        client: &impl GenericClient,
        subject: Uuid,
        events: &mut [ComplaintEvent],
    ) -> Result<(), CommandError> {
        let mut fields: Vec<_> = events.iter_mut().flat_map(|e| e.personal_mut()).collect();
        if fields.is_empty() {
            return Ok(());
        }
        let found = keys::subject_keys(client, self.privacy.master(), &[subject]).await?;
        let key = found.get(&subject).ok_or(CommandError::SubjectErased)?;
        privacy::seal_fields(fields.drain(..), key)?;
        Ok(())
    }
}

/// A move of personal data from one subject's key to another's.
pub(super) struct Reseal<'a> {
    pub old: &'a SubjectKey,
    pub new: &'a SubjectKey,
    pub cause: ResealCause,
    pub reason: &'a str,
}

/// Seals the personal data of complaint `ticket` anew under `new`'s key:
/// every value its stream recorded under `old`, opened with `old`'s key,
/// becomes part of one `complaint.personal_data_resealed` event. The caller
/// destroys `old`'s key afterwards, in the same transaction.
pub(super) async fn reseal_complaint(
    tx: &Transaction<'_>,
    ctx: &CommandContext,
    clock: &dyn Clock,
    ticket: Uuid,
    reseal: &Reseal<'_>,
) -> Result<StreamWrite, CommandError> {
    let Reseal {
        old,
        new,
        cause,
        reason,
    } = *reseal;
    let (row, head) = tickets::lock_with_head(tx, &TicketLookup::Id(ticket))
        .await?
        .ok_or(CommandError::NotFound)?;
    let state: Complaint = state_of(&row)?;
    let mut values = Vec::new();
    for event in store::read_stream(tx, ticket).await? {
        for (pointer, sealed) in render::sealed_values(&event.envelope.payload, old.subject) {
            values.push(reopened(ticket, event.envelope.version, pointer, sealed, old)?);
        }
    }
    let cmd = ResealPersonalData {
        subject: new.subject,
        cause,
        reason: reason.to_owned(),
        values,
    };
    let mut events = complaint::reseal(&state, &cmd).map_err(|e| match e {
        DomainError::Validation(_) => CommandError::Corrupt(format!("{ticket} holds no personal data to reseal")),
        other => CommandError::Domain(other),
    })?;
    for event in &mut events {
        privacy::seal_fields(event.personal_mut(), new)?;
    }
    let now = now_after(clock, Some(&head));
    StreamWrite::new(row.id, Some(state), Some(&head), events, ctx, now)
}

/// The complainant as recorded, with every value `key` opens in clear, so a
/// correction can tell a changed value from an unchanged one. A value it
/// cannot open (erased, or sealed under another subject) stays sealed.
fn opened(recorded: &ComplainantRecord, key: Option<&SubjectKey>) -> ComplainantRecord {
    let open = |value: &Personal| -> Personal {
        let Personal::Protected(map) = value else {
            return value.clone();
        };
        let clear = key.and_then(|key| {
            let sealed: Sealed = serde_json::from_value(Value::Object(map.clone())).ok()?;
            (sealed.subject == key.subject && sealed.key_id == key.key_id)
                .then(|| crypto::open(&key.key, &sealed).ok())
                .flatten()
        });
        clear.map_or_else(|| value.clone(), Personal::Clear)
    };
    ComplainantRecord {
        name: open(&recorded.name),
        phone: recorded.phone.as_ref().map(open),
        email: recorded.email.as_ref().map(open),
        customer_ref: recorded.customer_ref.as_ref().map(open),
    }
}

/// Every personal value of a complaint's stream sealed under `old` that is
/// not the complainant's contact details, opened: what moves to the other
/// person's subject when a correction finds the complaint is theirs.
///
/// A contact is a value recorded under `/complainant/…`, or one that a
/// reseal (`/values/N/value`, `/resealed/N/value`) put in place of a
/// contact; nonces say which, whatever subject sealed them.
fn values_to_reseal(
    ticket: Uuid,
    events: &[store::StoredEvent],
    old: &SubjectKey,
) -> Result<Vec<ResealedValue>, CommandError> {
    fn nonce(value: &Value) -> Option<&str> {
        value.get("nonce").and_then(Value::as_str)
    }
    let mut contacts: HashSet<String> = HashSet::new();
    let mut values = Vec::new();
    for event in events {
        let payload = &event.envelope.payload;
        if let Some(Value::Object(complainant)) = payload.get("complainant") {
            contacts.extend(complainant.values().filter_map(nonce).map(str::to_owned));
        }
        for list in ["values", "resealed"] {
            for item in payload.get(list).and_then(Value::as_array).into_iter().flatten() {
                let replaces = item.get("replaces").and_then(Value::as_str);
                if replaces.is_some_and(|r| contacts.contains(r))
                    && let Some(n) = item.get("value").and_then(nonce)
                {
                    contacts.insert(n.to_owned());
                }
            }
        }
        for (pointer, sealed) in render::sealed_values(payload, old.subject) {
            if !contacts.contains(&sealed.nonce) {
                values.push(reopened(ticket, event.envelope.version, pointer, sealed, old)?);
            }
        }
    }
    Ok(values)
}

/// A value of event `version` of complaint `ticket`, sealed under `old`,
/// opened to be sealed anew: what a reseal records of it.
fn reopened(
    ticket: Uuid,
    version: u64,
    pointer: String,
    sealed: Sealed,
    old: &SubjectKey,
) -> Result<ResealedValue, CommandError> {
    if sealed.key_id != old.key_id {
        return Err(CommandError::Corrupt(format!(
            "{ticket} v{version}: a value sealed under a key the subject does not have"
        )));
    }
    let clear =
        crypto::open(&old.key, &sealed).map_err(|e| CommandError::Corrupt(format!("{ticket} v{version}: {e}")))?;
    Ok(ResealedValue {
        version,
        pointer,
        replaces: sealed.nonce,
        value: Personal::Clear(clear),
    })
}
