//! Data subjects: the people whose personal data the system holds (one
//! customer = one subject). Their one event is their erasure, recorded on
//! the subject's own stream without any personal data in it.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::text::{self, LONG_TEXT};
use super::{DomainError, StreamCorrupt, Validator};

/// Erase a subject's personal data (the right to erasure).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct EraseSubject {
    /// Why, e.g. the ticket number of the customer's request. Must not
    /// itself contain personal data: it is kept in the immutable log.
    pub reason: String,
}

/// A subject's personal data was erased: their key was destroyed, so every
/// value sealed under it is unreadable for good.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SubjectErased {
    pub subject: Uuid,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "type", content = "payload")]
pub enum SubjectEvent {
    #[serde(rename = "subject.erased")]
    Erased(SubjectErased),
}

const ERASED: &str = "subject.erased";

impl SubjectEvent {
    pub const EVENT_TYPES: &[&str] = &[ERASED];

    pub fn event_type(&self) -> &'static str {
        match self {
            SubjectEvent::Erased(_) => ERASED,
        }
    }

    pub fn schema_version(&self) -> u32 {
        1
    }

    pub fn payload_json(&self) -> serde_json::Value {
        match self {
            // A struct of a UUID and a string always serializes.
            SubjectEvent::Erased(e) => serde_json::to_value(e).unwrap_or_default(),
        }
    }

    /// Rebuilds an event from its stored parts (upcasters go here).
    pub fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: serde_json::Value,
    ) -> Result<SubjectEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (ERASED, 1) => super::event::decode(event_type, payload).map(SubjectEvent::Erased),
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
        payload: serde_json::Value,
    ) -> Result<SubjectEvent, StreamCorrupt> {
        SubjectEvent::from_stored(event_type, schema_version, payload)
    }
}

/// Decides an erasure. A subject is erased once; asking again is refused
/// so that the log records each erasure exactly once.
pub fn erase(subject: Uuid, cmd: &EraseSubject, already_erased: bool) -> Result<Vec<SubjectEvent>, DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.finish()?;
    if already_erased {
        return Err(DomainError::RuleViolated(
            "this subject's personal data has already been erased".into(),
        ));
    }
    Ok(vec![SubjectEvent::Erased(SubjectErased {
        subject,
        reason: cmd.reason.clone(),
    })])
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
