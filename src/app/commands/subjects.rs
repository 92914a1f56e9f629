//! Commands on data subjects that move personal data between them: an
//! administrator's merge, and the privacy repair of subjects that the
//! rules before issue 14 had joined across different people.
//!
//! Both seal every value of the affected complaints anew under the new
//! subject's key, as `complaint.personal_data_resealed` events, then destroy
//! the old key, so the old events' ciphertext reads `[merged]` or
//! `[repaired]` from then on. The log is never rewritten.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::Personal;
use crate::domain::complaint::{ComplainantRecord, Complaint, ComplaintEvent, ResealCause};
use crate::domain::subject::{self, Filing, ValidMerge};
use crate::privacy::crypto::{self, IndexKind, Sealed};
use crate::privacy::keys::{self, SubjectKey};
use crate::projections::tickets::{self, TicketRow};
use crate::store::{self, StoreError};

use super::complaints::{Reseal, reseal_complaint};
use super::receipt::Document;
use super::{
    Answer, CommandContext, CommandError, Commands, Outcome, Plan, StreamWrite, missing_subject, state_of, write,
};

/// What a merge did.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Merge {
    /// The subject merged away; its key no longer exists.
    pub subject: Uuid,
    /// The subject (UUID) that remains and now holds the merged subject's
    /// complaints.
    pub merged_into: Uuid,
    /// The `subject.merged` event in the log.
    pub event_id: Uuid,
    /// The complaints whose personal data is sealed under `merged_into` now.
    pub tickets: Vec<Uuid>,
}

/// An account of ids only: it carries nobody's personal data.
impl Document for Merge {}

/// A repair has no answer to record: it runs from the command line,
/// without an idempotency key.
impl Document for () {}

/// One subject the repair found joined across different people.
#[derive(Debug, Clone, Serialize)]
pub struct SplitSubject {
    pub subject: Uuid,
    /// The ticket numbers of each group of filings that belong together
    /// (by filing order); each group gets a subject of its own.
    pub groups: Vec<Vec<String>>,
    /// The new subjects, one per group, in the same order (empty in a dry run).
    pub successors: Vec<Uuid>,
}

/// What `opsledger subjects repair` found and did.
#[derive(Debug, Clone, Serialize)]
pub struct RepairReport {
    pub dry_run: bool,
    /// Subjects held by more than one filing.
    pub subjects_examined: usize,
    /// Those joined only through identifiers the deployment declares strong
    /// or by a filer who named them: left as they are.
    pub subjects_kept: usize,
    pub split: Vec<SplitSubject>,
}

impl Commands {
    /// Merges one data subject into another: every complaint of the one
    /// merged away is sealed anew under the other's key, its contacts are
    /// indexed for the other, and its key is destroyed.
    pub async fn merge_subjects(
        &self,
        ctx: &CommandContext,
        merge: &ValidMerge,
    ) -> Result<Answer<Merge>, CommandError> {
        let subject = merge.subject();
        self.execute(ctx, false, async |tx| {
            let mut found = keys::lock_subject_keys(tx, self.privacy.master(), &[subject, merge.into()]).await?;
            let Some(from) = found.remove(&subject) else {
                return Err(missing_subject(tx, subject).await?);
            };
            let Some(into) = found.remove(&merge.into()) else {
                return Err(missing_subject(tx, merge.into()).await?.named_at("/into"));
            };
            let held = tickets::of_subject(tx, subject, true).await?;
            let mut writes = Vec::with_capacity(held.len() + 1);
            for ticket in &held {
                writes.push(
                    reseal_complaint(
                        tx,
                        ctx,
                        self.clock.as_ref(),
                        ticket.id,
                        &Reseal {
                            old: &from,
                            new: &into,
                            cause: ResealCause::Merge,
                            reason: merge.reason(),
                        },
                    )
                    .await?,
                );
            }
            keys::move_index(tx, subject, into.subject).await?;
            keys::shred(tx, subject).await?;
            let ids: Vec<Uuid> = held.iter().map(|t| t.id).collect();
            let events = merge.clone().record(ids.clone());
            let recorded = StreamWrite::without_view(subject, None, &events, ctx, self.now_after(None))?;
            let event_id = first_event_id(&recorded)?;
            writes.push(recorded);
            Ok(Plan {
                writes,
                response: Merge {
                    subject,
                    merged_into: into.subject,
                    event_id,
                    tickets: ids,
                },
            })
        })
        .await
        .map(Outcome::into_answer)
    }

    /// Finds the subjects that a matching contact had joined across
    /// different people and, unless `dry_run`, splits each: its filings are
    /// grouped (filings sharing an identifier the deployment declares
    /// strong, or joined by a filer who named the subject, stay together),
    /// each group is sealed anew under a fresh subject of its own, the
    /// groups' contacts are indexed for them, and the old key is destroyed.
    /// One transaction per subject, so a server may keep serving.
    pub async fn repair_subjects(&self, ctx: &CommandContext, dry_run: bool) -> Result<RepairReport, CommandError> {
        let mut client = self.pool.get().await.map_err(StoreError::from)?;
        let shared = tickets::shared_subjects(&client).await?;
        let mut report = RepairReport {
            dry_run,
            subjects_examined: shared.len(),
            subjects_kept: 0,
            split: Vec::new(),
        };
        for subject in shared {
            let tx = client.transaction().await.map_err(StoreError::from)?;
            let mut found = keys::lock_subject_keys(&tx, self.privacy.master(), &[subject]).await?;
            let Some(old) = found.remove(&subject) else {
                continue; // erased meanwhile
            };
            let held = tickets::of_subject(&tx, subject, true).await?;
            let mut filings = Vec::with_capacity(held.len());
            for ticket in &held {
                filings.push(self.filing_of(&tx, ticket, &old).await?);
            }
            let groups = subject::group_filings(&filings.iter().map(|(f, _)| f.clone()).collect::<Vec<_>>());
            if groups.len() < 2 {
                report.subjects_kept += 1;
                continue;
            }
            let numbers = groups
                .iter()
                .map(|g| g.iter().map(|&i| held[i].number.clone()).collect())
                .collect();
            if dry_run {
                report.split.push(SplitSubject {
                    subject,
                    groups: numbers,
                    successors: Vec::new(),
                });
                continue;
            }
            let mut writes = Vec::with_capacity(held.len() + 1);
            let mut successors = Vec::with_capacity(groups.len());
            for group in &groups {
                let new = keys::create_subject(&tx, self.privacy.master()).await?;
                for &i in group {
                    writes.push(
                        reseal_complaint(
                            &tx,
                            ctx,
                            self.clock.as_ref(),
                            held[i].id,
                            &Reseal {
                                old: &old,
                                new: &new,
                                cause: ResealCause::Repair,
                                reason: subject::REPAIR_REASON,
                            },
                        )
                        .await?,
                    );
                    keys::index_contacts(&tx, new.subject, &filings[i].1).await?;
                }
                successors.push(new.subject);
            }
            keys::shred(&tx, subject).await?;
            let events = subject::repaired(subject, successors.clone());
            writes.push(StreamWrite::without_view(
                subject,
                None,
                &events,
                ctx,
                self.now_after(None),
            )?);
            let plan = Plan { writes, response: () };
            write(&tx, ctx, &plan).await?;
            tx.commit().await.map_err(StoreError::from)?;
            for w in &plan.writes {
                self.appended.committed(&w.sealed);
            }
            tracing::info!(%subject, groups = groups.len(), "split a data subject that had merged different people");
            report.split.push(SplitSubject {
                subject,
                groups: numbers,
                successors,
            });
        }
        Ok(report)
    }

    /// What the repair needs of a complaint's filing: how it came to its
    /// subject, the digests of its strong identifiers, and the digests of
    /// all its contacts (to index them for the filing's new subject). The
    /// contacts come from the view, sealed under the subject's key now: a
    /// filing moved here by a merge or an earlier repair recorded them
    /// under a key that no longer exists.
    async fn filing_of(
        &self,
        client: &impl deadpool_postgres::GenericClient,
        ticket: &TicketRow,
        key: &SubjectKey,
    ) -> Result<(Filing, Vec<(IndexKind, [u8; 32])>), CommandError> {
        let events = store::read_stream(client, ticket.id).await?;
        let mut joined = None;
        let mut moved_here = false;
        for (i, event) in events.into_iter().enumerate() {
            let envelope = event.envelope;
            match ComplaintEvent::from_stored(&envelope.event_type, envelope.schema_version, envelope.payload)
                .map_err(|e| CommandError::Corrupt(e.to_string()))?
            {
                ComplaintEvent::Filed(filed) => joined = filed.subject_joined,
                ComplaintEvent::PersonalDataResealed(r) if r.subject == key.subject => moved_here = true,
                // A correction that found the complaint is another person's
                // joined it to its subject by the rules of a filing.
                ComplaintEvent::DetailsCorrected(c) if c.subject.is_some() => {
                    joined = c.subject_joined;
                    moved_here = false;
                }
                _ if i == 0 => {
                    return Err(CommandError::Corrupt(format!(
                        "complaint {} does not start with its filing",
                        ticket.id
                    )));
                }
                _ => {}
            }
        }
        let view: Complaint = state_of(ticket)?;
        let contacts = self.contacts_of(&view.complainant, key)?;
        let strong = contacts
            .iter()
            .filter(|(kind, _)| self.privacy.strong_identifiers().contains(kind))
            .map(|(_, digest)| *digest)
            .collect();
        Ok((
            Filing {
                joined,
                moved_here,
                strong,
            },
            contacts,
        ))
    }

    /// The blind-index digests of a complainant's contacts that are sealed
    /// under `key` (an erased or foreign value has nothing to index).
    fn contacts_of(
        &self,
        complainant: &ComplainantRecord,
        key: &SubjectKey,
    ) -> Result<Vec<(IndexKind, [u8; 32])>, CommandError> {
        let c = complainant;
        let mut digests = Vec::new();
        for (kind, value) in [
            (IndexKind::CustomerRef, &c.customer_ref),
            (IndexKind::Email, &c.email),
            (IndexKind::Phone, &c.phone),
        ] {
            let Some(Personal::Protected(map)) = value else {
                continue;
            };
            let Ok(sealed) = serde_json::from_value::<Sealed>(serde_json::Value::Object(map.clone())) else {
                continue; // an erased marker
            };
            if sealed.subject != key.subject {
                continue;
            }
            let clear = crypto::open(&key.key, &sealed)
                .map_err(|e| CommandError::Corrupt(format!("a contact sealed under {}: {e}", key.subject)))?;
            digests.extend(crypto::blind_index(self.privacy.index_key(), kind, &clear).map(|d| (kind, d)));
        }
        Ok(digests)
    }
}

fn first_event_id(write: &StreamWrite) -> Result<Uuid, CommandError> {
    write
        .sealed
        .first()
        .map(|e| e.envelope.event_id)
        .ok_or_else(|| CommandError::Corrupt("a command produced no events".into()))
}
