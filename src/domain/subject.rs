//! Data subjects: the people whose personal data the system holds. Each
//! filing gets a subject of its own unless its filer names one (or the
//! deployment declares an identifier strong): a matching phone or email
//! never joins two filings, since a family or an office shares them. One
//! person may therefore hold several subjects, found by contact lookup and
//! merged only by an administrator.
//!
//! A subject's events are recorded on its own stream, without any personal
//! data in them: its erasure, its merge into another subject, and the
//! privacy repair that split a subject that had merged different people.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::complaint::SubjectJoin;
use super::text::{self, LONG_TEXT};
use super::{DomainError, StreamCorrupt, Validator, messages};

/// Erase a subject's personal data (the right to erasure). A subject is
/// erased once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Erasure request CMP-2026-000043"})))]
pub struct EraseSubject {
    /// Why, e.g. the ticket number of the customer's request: 1 to 10,000
    /// characters (Unicode scalar values), not blank. Must not itself
    /// contain personal data: it is kept in the immutable log.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Merge one data subject into another: an administrator found that both
/// are the same person. Every complaint of the subject is sealed anew under
/// the other's key, and the subject's own key is destroyed. `into` must be
/// another subject than the one in the route.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "into": "0193a1b0-11aa-7b2c-9d3e-4f5a6b7c8d90",
    "reason": "Same customer, request CMP-2026-000044"
})))]
pub struct MergeSubjects {
    /// The subject that remains.
    pub into: Uuid,
    /// Why both are one person, e.g. the ticket of the customer's request:
    /// 1 to 10,000 characters (Unicode scalar values), not blank. Kept in
    /// the immutable log: must not itself contain personal data.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// A subject's personal data was erased: their key was destroyed, so every
/// value sealed under it is unreadable for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectErased {
    pub subject: Uuid,
    pub reason: String,
}

/// The subject was merged into another: its complaints' data is sealed
/// under `merged_into`'s key now, and its own key was destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectMerged {
    pub subject: Uuid,
    pub merged_into: Uuid,
    pub reason: String,
    /// The complaints whose data moved.
    pub merged_tickets: Vec<Uuid>,
}

/// A privacy repair split a subject that a matching contact had joined
/// across different people: each filing (or group of filings sharing an
/// identifier the deployment declares strong) has a subject of its own now,
/// and this subject's key was destroyed.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectRepaired {
    pub subject: Uuid,
    /// The subjects that hold its filings now, one per group.
    pub successors: Vec<Uuid>,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SubjectEvent {
    #[serde(rename = "subject.erased")]
    Erased(SubjectErased),
    #[serde(rename = "subject.merged")]
    Merged(SubjectMerged),
    #[serde(rename = "subject.repaired")]
    Repaired(SubjectRepaired),
}

/// The type of the event that records an erasure: what finds the erased
/// subjects in the log.
pub const ERASED: &str = "subject.erased";
const MERGED: &str = "subject.merged";
const REPAIRED: &str = "subject.repaired";

/// Why the repair splits a subject; kept in the log with each repair.
pub const REPAIR_REASON: &str = "a matching contact had joined the filings of different people into one data subject";

impl SubjectEvent {
    pub const EVENT_TYPES: &[&str] = &[ERASED, MERGED, REPAIRED];

    pub fn event_type(&self) -> &'static str {
        match self {
            SubjectEvent::Erased(_) => ERASED,
            SubjectEvent::Merged(_) => MERGED,
            SubjectEvent::Repaired(_) => REPAIRED,
        }
    }

    pub fn schema_version(&self) -> u32 {
        1
    }

    pub fn payload_json(&self) -> serde_json::Value {
        // Structs of UUIDs and strings always serialize.
        match self {
            SubjectEvent::Erased(e) => serde_json::to_value(e),
            SubjectEvent::Merged(e) => serde_json::to_value(e),
            SubjectEvent::Repaired(e) => serde_json::to_value(e),
        }
        .unwrap_or_default()
    }

    /// Rebuilds an event from its stored parts (upcasters go here).
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl super::event::StoredPayload,
    ) -> Result<SubjectEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (ERASED, 1) => super::event::decode(event_type, payload).map(SubjectEvent::Erased),
            (MERGED, 1) => super::event::decode(event_type, payload).map(SubjectEvent::Merged),
            (REPAIRED, 1) => super::event::decode(event_type, payload).map(SubjectEvent::Repaired),
            (other, version) => Err(StreamCorrupt(format!("{other} v{version} is not a subject event"))),
        }
    }
}

impl super::DomainEvent for SubjectEvent {
    fn event_type(&self) -> &'static str {
        SubjectEvent::event_type(self)
    }

    fn schema_version(&self) -> u32 {
        SubjectEvent::schema_version(self)
    }

    fn payload_json(&self) -> serde_json::Value {
        SubjectEvent::payload_json(self)
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl super::event::StoredPayload,
    ) -> Result<SubjectEvent, StreamCorrupt> {
        SubjectEvent::from_stored(event_type, schema_version, payload)
    }
}

/// The refusal of a second erasure of one subject.
pub fn erased_already() -> DomainError {
    DomainError::RuleViolated(messages::rule_subject_already_erased())
}

/// Decides an erasure. A subject is erased once; asking again is refused
/// so that the log records each erasure exactly once.
pub fn erase(subject: Uuid, cmd: &EraseSubject, already_erased: bool) -> Result<Vec<SubjectEvent>, DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.finish()?;
    if already_erased {
        return Err(erased_already());
    }
    Ok(vec![SubjectEvent::Erased(SubjectErased {
        subject,
        reason: cmd.reason.clone(),
    })])
}

/// A merge the domain accepts: decided before the application looks for
/// the complaints that move, so a refused merge touches nothing.
#[derive(Debug, Clone)]
pub struct ValidMerge {
    subject: Uuid,
    cmd: MergeSubjects,
}

impl ValidMerge {
    /// Checks a merge of `subject` into `cmd.into`. Merging a subject into
    /// itself is refused.
    pub fn check(subject: Uuid, cmd: &MergeSubjects) -> Result<ValidMerge, DomainError> {
        let mut v = Validator::new();
        text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
        v.check(cmd.into != subject, "/into", messages::field_merge_into_itself());
        v.finish()?;
        Ok(ValidMerge {
            subject,
            cmd: cmd.clone(),
        })
    }

    /// The subject merged away.
    pub fn subject(&self) -> Uuid {
        self.subject
    }

    /// The subject that remains.
    pub fn into(&self) -> Uuid {
        self.cmd.into
    }

    /// The reason the administrator gave.
    pub fn reason(&self) -> &str {
        &self.cmd.reason
    }

    /// Records the merge, once the application has moved `tickets`.
    pub fn record(self, tickets: Vec<Uuid>) -> Vec<SubjectEvent> {
        vec![SubjectEvent::Merged(SubjectMerged {
            subject: self.subject,
            merged_into: self.cmd.into,
            reason: self.cmd.reason,
            merged_tickets: tickets,
        })]
    }
}

/// Decides a merge of `subject` into `cmd.into` that moved `tickets`:
/// [`ValidMerge::check`] then [`ValidMerge::record`].
pub fn merge(subject: Uuid, cmd: &MergeSubjects, tickets: Vec<Uuid>) -> Result<Vec<SubjectEvent>, DomainError> {
    Ok(ValidMerge::check(subject, cmd)?.record(tickets))
}

/// Records the repair of a subject that had merged different people.
pub fn repaired(subject: Uuid, successors: Vec<Uuid>) -> Vec<SubjectEvent> {
    vec![SubjectEvent::Repaired(SubjectRepaired {
        subject,
        successors,
        reason: REPAIR_REASON.to_owned(),
    })]
}

/// What the privacy repair knows of one filing of a subject.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Filing {
    /// How the filing joined the subject, if it recorded that.
    pub joined: Option<SubjectJoin>,
    /// Whether a merge or an earlier repair moved the filing to this
    /// subject: a deliberate join, like a named one.
    pub moved_here: bool,
    /// Blind-index digests of its identifiers the deployment declares strong.
    pub strong: Vec<[u8; 32]>,
}

/// Groups the filings of one subject (in filing order) into the people
/// they belong to: filings that share a strong identifier are one person,
/// and so is a filing whose filer named the subject, or that a merge or an
/// earlier repair moved here, with the subject's first filing. Every other filing is a person of its own, since only a
/// phone or an email joined it. Returns groups of indexes, each in filing
/// order, ordered by their first filing; one group means nothing to split.
pub fn group_filings(filings: &[Filing]) -> Vec<Vec<usize>> {
    // Union-find over the filings, joined to the smaller index.
    let mut parent: Vec<usize> = (0..filings.len()).collect();
    fn root(parent: &mut [usize], mut i: usize) -> usize {
        while parent[i] != i {
            parent[i] = parent[parent[i]];
            i = parent[i];
        }
        i
    }
    let join = |parent: &mut Vec<usize>, a: usize, b: usize| {
        let (ra, rb) = (root(parent, a), root(parent, b));
        parent[ra.max(rb)] = ra.min(rb);
    };
    for (i, filing) in filings.iter().enumerate() {
        if filing.joined == Some(SubjectJoin::Named) || filing.moved_here {
            join(&mut parent, 0, i);
        }
        if let Some(earlier) = filings[..i]
            .iter()
            .position(|e| e.strong.iter().any(|d| filing.strong.contains(d)))
        {
            join(&mut parent, earlier, i);
        } else if filing.joined == Some(SubjectJoin::StrongIdentifier) {
            // Joined on an identifier the deployment no longer declares
            // strong: it was a deliberate join all the same.
            join(&mut parent, 0, i);
        }
    }
    let mut groups: Vec<Vec<usize>> = Vec::new();
    let mut group_of_root = std::collections::HashMap::new();
    for i in 0..filings.len() {
        let r = root(&mut parent, i);
        let g = *group_of_root.entry(r).or_insert_with(|| {
            groups.push(Vec::new());
            groups.len() - 1
        });
        groups[g].push(i);
    }
    groups
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_erasure_records_who_and_why_but_no_personal_data() {
        let subject = Uuid::now_v7();
        let events = erase(
            subject,
            &EraseSubject {
                reason: "request CMP-2026-000042".into(),
            },
            false,
        )
        .expect("erased");
        assert_eq!(events[0].event_type(), "subject.erased");
        assert_eq!(
            events[0].payload_json(),
            serde_json::json!({"subject": subject, "reason": "request CMP-2026-000042"})
        );
        let back = SubjectEvent::from_stored("subject.erased", 1, events[0].payload_json()).expect("decodes");
        assert_eq!(back, events[0]);
    }

    fn filing(joined: Option<SubjectJoin>, strong: &[u8]) -> Filing {
        Filing {
            joined,
            moved_here: false,
            strong: strong.iter().map(|b| [*b; 32]).collect(),
        }
    }

    #[test]
    fn filings_joined_by_a_contact_alone_are_split_and_strong_or_named_joins_stay() {
        // Alice, Xavier (who shared Alice's email) and Bob (who shared
        // Xavier's phone): three people, whatever contact matched.
        assert_eq!(
            group_filings(&[filing(None, &[]), filing(None, &[]), filing(None, &[])]),
            [vec![0], vec![1], vec![2]]
        );
        // Carol filed three times under one CRM reference, declared strong;
        // Dan's filing only shared her phone.
        assert_eq!(
            group_filings(&[
                filing(None, &[7]),
                filing(None, &[]),
                filing(None, &[7]),
                filing(None, &[7, 9])
            ]),
            [vec![0, 2, 3], vec![1]]
        );
        // A filer who may read personal data named the subject.
        assert_eq!(
            group_filings(&[
                filing(None, &[]),
                filing(None, &[]),
                filing(Some(SubjectJoin::Named), &[])
            ]),
            [vec![0, 2], vec![1]]
        );
        // Filings a merge or an earlier repair moved here stay together.
        let moved = Filing {
            moved_here: true,
            ..filing(None, &[])
        };
        assert_eq!(
            group_filings(&[filing(None, &[]), moved.clone(), moved]),
            [vec![0, 1, 2]]
        );
        // A strong join whose identifier is no longer declared strong.
        assert_eq!(
            group_filings(&[filing(None, &[]), filing(Some(SubjectJoin::StrongIdentifier), &[])]),
            [vec![0, 1]]
        );
        // Strong identifiers join transitively: 0–1 by one, 1–2 by another.
        assert_eq!(
            group_filings(&[
                filing(None, &[1]),
                filing(None, &[1, 2]),
                filing(None, &[2]),
                filing(None, &[])
            ]),
            [vec![0, 1, 2], vec![3]]
        );
        assert_eq!(group_filings(&[filing(None, &[])]), [vec![0]]);
    }

    #[test]
    fn a_merge_names_another_subject_and_gives_a_reason() {
        let subject = Uuid::new_v4();
        let into = Uuid::new_v4();
        let ticket = Uuid::now_v7();
        let events = merge(
            subject,
            &MergeSubjects {
                into,
                reason: "same customer, request CMP-2026-000042".into(),
            },
            vec![ticket],
        )
        .expect("merged");
        assert_eq!(
            events[0].payload_json(),
            serde_json::json!({"subject": subject, "merged_into": into,
                "reason": "same customer, request CMP-2026-000042", "merged_tickets": [ticket]})
        );
        let itself = merge(
            subject,
            &MergeSubjects {
                into: subject,
                reason: "x".into(),
            },
            vec![],
        );
        let Err(DomainError::Validation(errors)) = itself else {
            panic!("merging a subject into itself is refused: {itself:?}")
        };
        assert_eq!(errors[0].pointer, "/into");
    }

    #[test]
    fn the_subject_bodies_schemas_state_the_limits_the_domain_enforces() {
        use crate::domain::body_limits::{body, check_every_limit};
        let subject = Uuid::from_u128(0x51);
        check_every_limit(|cmd: EraseSubject| erase(subject, &cmd, false).map(drop));
        check_every_limit(|cmd: MergeSubjects| merge(subject, &cmd, vec![]).map(drop));
        // Merging a subject into itself: the route names it, so only the
        // domain can see it.
        let merging = body(|cmd: MergeSubjects| merge(subject, &cmd, vec![]).map(drop));
        merging.only_the_domain_refuses(merging.example_with(serde_json::json!({"into": subject})), "/into");
    }

    #[test]
    fn a_reason_is_required_and_a_second_erasure_is_refused() {
        let subject = Uuid::now_v7();
        assert!(matches!(
            erase(subject, &EraseSubject { reason: " ".into() }, false),
            Err(DomainError::Validation(_))
        ));
        assert!(matches!(
            erase(subject, &EraseSubject { reason: "again".into() }, true),
            Err(DomainError::RuleViolated(_))
        ));
    }
}
