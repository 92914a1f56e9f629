//! What a caller can ask of a complaint. Field names are the JSON body field
//! names, so validation pointers can name them directly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Channel, Complainant, NoteVisibility, Priority};

/// Files a new complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FileComplaint {
    /// 1 to 200 characters.
    pub title: String,
    /// 1 to 10,000 characters.
    pub description: String,
    pub channel: Channel,
    pub complainant: Complainant,
    /// Free-form classification, 1 to 100 characters.
    pub category: String,
    pub priority: Priority,
    /// An existing data subject this complainant is known to be (requires
    /// `pii:read`): the filing's personal data is then sealed under that
    /// subject's key, so their export and erasure include it. Left out, the
    /// filing gets a data subject of its own; a matching phone or email
    /// never joins two filings by itself.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Uuid>,
}

/// Acknowledges a newly filed complaint: the first response to the complainant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Acknowledge {
    /// The text of the first response, if one was sent.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub message: Option<String>,
}

/// Assigns the complaint to a team, a person or both. A field left out keeps
/// its current value.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Assign {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub team: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub assignee: Option<String>,
}

/// Adds an internal note or a progress update for the complainant.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct AddNote {
    pub body: String,
    pub visibility: NoteVisibility,
}

/// Parks the complaint until the customer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct WaitOnCustomer {
    /// What we are waiting for.
    pub reason: String,
}

/// Takes a complaint that was waiting on the customer back into work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resume {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub note: Option<String>,
}

/// Records how the complaint was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Resolve {
    pub resolution: String,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub root_cause: Option<String>,
}

/// Records the complainant's satisfaction with the current resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordSatisfaction {
    /// 1 (very unhappy) to 5 (very happy).
    #[schema(minimum = 1, maximum = 5)]
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Closes a resolved complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Close {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// Reopens a resolved complaint, typically because the customer disputes the
/// resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Reopen {
    pub reason: String,
}

/// Seals a complaint's personal data anew under another data subject's key:
/// the privacy repair of a subject that merged different people, or an
/// administrator's merge of two subjects. Not a client request: the
/// application builds it from the stream, with every value opened.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ResealPersonalData {
    pub subject: Uuid,
    pub cause: super::ResealCause,
    pub reason: String,
    /// The values in clear, each naming the sealed value it replaces.
    pub values: Vec<super::ResealedValue>,
}

/// Every command on an existing complaint. The HTTP layer builds it from the
/// route and the body, so it is never deserialized as a whole.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ComplaintCommand {
    Acknowledge(Acknowledge),
    Assign(Assign),
    AddNote(AddNote),
    WaitOnCustomer(WaitOnCustomer),
    Resume(Resume),
    Resolve(Resolve),
    RecordSatisfaction(RecordSatisfaction),
    Close(Close),
    Reopen(Reopen),
}

impl ComplaintCommand {
    /// Whether the command commutes with concurrent ones: it adds to the
    /// ticket without depending on its state, so it needs no `If-Match`
    /// and applies to whatever version is current.
    pub fn commutes(&self) -> bool {
        matches!(self, ComplaintCommand::AddNote(_))
    }

    /// A verb phrase that reads well in "cannot {name} a complaint that is {state}".
    pub fn name(&self) -> &'static str {
        match self {
            ComplaintCommand::Acknowledge(_) => "acknowledge",
            ComplaintCommand::Assign(_) => "assign",
            ComplaintCommand::AddNote(_) => "add a note to",
            ComplaintCommand::WaitOnCustomer(_) => "wait on the customer for",
            ComplaintCommand::Resume(_) => "resume",
            ComplaintCommand::Resolve(_) => "resolve",
            ComplaintCommand::RecordSatisfaction(_) => "record satisfaction for",
            ComplaintCommand::Close(_) => "close",
            ComplaintCommand::Reopen(_) => "reopen",
        }
    }
}
