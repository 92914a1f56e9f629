//! Customer complaints: a complaint is filed, acknowledged, worked on
//! (possibly waiting on the customer in between), resolved, rated and
//! closed; a resolution the customer disputes can be reopened.
//!
//! The shape is the usual one for this crate: [`file`] and [`decide`] turn a
//! command into events (or refuse it), [`evolve`] folds events into the
//! [`Complaint`] view. Both sides are pure; the caller supplies the clock,
//! the identifiers and the envelope facts.
//!
//! Escalation to a fault is decided by [`crate::domain::fault::escalate`],
//! since it writes on both streams; links come from
//! [`crate::domain::link::link_pair`].

mod command;
mod decide;
mod event;
mod state;
#[cfg(test)]
mod tests;

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use crate::domain::{Personal, PersonalField};

pub use command::{
    Acknowledge, AddNote, Assign, ChangePriority, Close, ComplainantCorrection, ComplaintCommand, CorrectDetails,
    FileComplaint, RecordSatisfaction, Reopen, ResealPersonalData, Resolve, Resume, WaitOnCustomer,
};
pub use decide::{
    CorrectedComplainant, EMAIL_PATTERN, FilingSubject, MAX_EMAIL, PHONE_LENGTH, PHONE_PATTERN, ValidFiling,
    check_correction, correct_details, decide, file, linked_fault_reopened, linked_fault_resolved, reseal,
};
pub use event::{
    ChannelCorrection, ComplainantCorrected, ComplaintAcknowledged, ComplaintAssigned, ComplaintClosed,
    ComplaintDetailsCorrected, ComplaintEscalated, ComplaintEvent, ComplaintFiled, ComplaintLinkedFaultReopened,
    ComplaintLinkedFaultResolved, ComplaintNoteAdded, ComplaintPersonalDataResealed, ComplaintPriorityChanged,
    ComplaintReopened, ComplaintResolved, ComplaintResumed, ComplaintSatisfactionRecorded, ComplaintWaitingOnCustomer,
    PriorityCorrection, TextCorrection,
};
pub use state::{
    ComplainantChange, Complaint, ComplaintStatus, Correction, LinkedFaultReopening, LinkedFaultResolution, Note,
    Resolution, Satisfaction, evolve,
};

/// How the complaint reached us.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Channel {
    Phone,
    Email,
    Web,
    Chat,
    /// At a counter, a shop or a visit.
    InPerson,
}

impl Channel {
    pub const ALL: [Channel; 5] = [
        Channel::Phone,
        Channel::Email,
        Channel::Web,
        Channel::Chat,
        Channel::InPerson,
    ];

    /// The JSON spelling, also stored in the `tickets` view.
    pub fn as_str(self) -> &'static str {
        match self {
            Channel::Phone => "phone",
            Channel::Email => "email",
            Channel::Web => "web",
            Channel::Chat => "chat",
            Channel::InPerson => "in_person",
        }
    }

    pub fn parse(s: &str) -> Option<Channel> {
        Channel::ALL.into_iter().find(|c| c.as_str() == s)
    }
}

/// Urgency of a complaint, `P1` being the most urgent.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub enum Priority {
    P1,
    P2,
    P3,
    P4,
}

impl Priority {
    pub const ALL: [Priority; 4] = [Priority::P1, Priority::P2, Priority::P3, Priority::P4];

    /// The JSON spelling, also stored in the `tickets` view.
    pub fn as_str(self) -> &'static str {
        match self {
            Priority::P1 => "P1",
            Priority::P2 => "P2",
            Priority::P3 => "P3",
            Priority::P4 => "P4",
        }
    }

    pub fn parse(s: &str) -> Option<Priority> {
        Priority::ALL.into_iter().find(|p| p.as_str() == s)
    }
}

/// The person who complained, as a command gives them. Every field is
/// personal data: sealed at rest, masked for callers without the right to
/// see it, and erased on request.
///
/// At least one of `phone`, `email` or `customer_ref` must be given (not
/// `null`), so that the complainant can be reached or identified.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
// Part of the filing command's body, where an unknown field is a client
// mistake that must not be silently dropped.
#[serde(deny_unknown_fields)]
pub struct Complainant {
    /// The complainant's name, 1 to 200 characters (Unicode scalar values),
    /// not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub name: String,
    /// Digits, spaces and `+ - ( ) .`, 3 to 32 characters, at least 3 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 3,
        max_length = 32,
        pattern = r"^[ +().-]*[0-9][ +().-]*[0-9][ +().-]*[0-9][0-9 +().-]*$"
    )]
    pub phone: Option<String>,
    /// An address such as `name@example.com`, at most 254 characters:
    /// something, `@`, and a domain with a dot that neither starts nor ends
    /// it, without white space. Checked for that shape only, not against
    /// RFC 5322 (the format `email` is a hint).
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(format = Email, max_length = 254, pattern = r"^[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^@.\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@.\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]$")]
    pub email: Option<String>,
    /// The customer's number in the CRM or billing system, 1 to 100
    /// characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub customer_ref: Option<String>,
}

/// The complainant as recorded in events and views: every field is
/// personal data, sealed under the complainant's data-subject key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ComplainantRecord {
    /// The complainant's name (personal data, see `Personal`).
    pub name: Personal,
    /// The complainant's phone number (personal data); left out when none was
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub phone: Option<Personal>,
    /// The complainant's email address (personal data); left out when none was
    /// given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub email: Option<Personal>,
    /// The customer's number in the CRM or billing system (personal data); left
    /// out when none was given.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub customer_ref: Option<Personal>,
}

impl ComplainantRecord {
    pub fn from_command(c: &Complainant) -> ComplainantRecord {
        ComplainantRecord {
            name: Personal::clear(&c.name),
            phone: c.phone.as_deref().map(Personal::clear),
            email: c.email.as_deref().map(Personal::clear),
            customer_ref: c.customer_ref.as_deref().map(Personal::clear),
        }
    }

    fn personal_mut<'a>(&'a mut self, out: &mut Vec<(PersonalField, &'a mut Personal)>) {
        out.push((PersonalField::Name, &mut self.name));
        for (field, value) in [
            (PersonalField::Phone, &mut self.phone),
            (PersonalField::Email, &mut self.email),
            (PersonalField::CustomerRef, &mut self.customer_ref),
        ] {
            if let Some(v) = value {
                out.push((field, v));
            }
        }
    }
}

/// Who may read a note.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum NoteVisibility {
    /// Staff only.
    Internal,
    /// A progress update sent to the complainant.
    Complainant,
}

/// How a filing came to share an existing data subject. A filing that
/// records none got a subject of its own (or was filed before joins were
/// recorded, when a matching contact joined filings by itself; see
/// `opsledger subjects repair`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum SubjectJoin {
    /// The filer, allowed to read personal data, named the subject.
    Named,
    /// An exact match on an identifier the deployment declares strong
    /// (`OPSLEDGER_STRONG_IDENTIFIERS`, e.g. a CRM's customer reference).
    StrongIdentifier,
}

/// Why a complaint's personal data was sealed anew under another subject.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum ResealCause {
    /// A privacy repair: the filing had been joined to another person's
    /// subject by a matching contact, and now has a subject of its own.
    Repair,
    /// An administrator merged the filing's subject into another.
    Merge,
}

/// One personal value sealed anew: where it was first recorded, which
/// sealed value it replaces, and the value under the new subject's key.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResealedValue {
    /// The version of the event whose payload recorded the value.
    pub version: u64,
    /// Where in that payload (RFC 6901 JSON Pointer), e.g. `/complainant/name`.
    pub pointer: String,
    /// The nonce of the sealed value this one replaces; views find it by it.
    pub replaces: String,
    /// Personal data, sealed under the new subject's key.
    pub value: Personal,
}

impl ResealedValue {
    /// Whether `old` is the sealed value this one replaces.
    fn replaces(&self, old: &Personal) -> bool {
        matches!(old, Personal::Protected(map)
            if map.get("nonce").and_then(serde_json::Value::as_str) == Some(self.replaces.as_str()))
    }
}

/// Replaces each sealed value in `fields` that one of `values` replaces.
fn reseal_fields<'a>(fields: impl IntoIterator<Item = &'a mut Personal>, values: &[ResealedValue]) {
    for field in fields {
        if let Some(new) = values.iter().find(|v| v.replaces(field)) {
            *field = new.value.clone();
        }
    }
}
