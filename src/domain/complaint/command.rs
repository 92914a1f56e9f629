//! What a caller can ask of a complaint. Field names are the JSON body field
//! names, so validation pointers can name them directly.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::{Channel, Complainant, NoteVisibility, Priority};

/// Files a new complaint.
///
/// The complainant must give at least one of `phone`, `email` or
/// `customer_ref`. Naming an existing data `subject` needs the right to
/// read personal data (`pii:read`).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "title": "宽带连续三天断线",
    "description": "The line drops every evening between 19:00 and 22:00 since Monday.",
    "channel": "phone",
    "complainant": {"name": "张伟", "phone": "+86 138 0013 8000", "email": "zhang.wei@example.com"},
    "category": "broadband",
    "priority": "P2"
})))]
pub struct FileComplaint {
    /// The complaint in one line, 1 to 200 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub title: String,
    /// What the complainant reports, 1 to 10,000 characters (Unicode scalar
    /// values), not blank. Personal data: sealed at rest.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub description: String,
    /// How the complaint reached us.
    pub channel: Channel,
    /// Who complained: at least one of `phone`, `email` or `customer_ref`.
    pub complainant: Complainant,
    /// Free-form classification, 1 to 100 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub category: String,
    /// How urgent the complaint is.
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
#[schema(examples(json!({"message": "We are sorry for the outages; an engineer will call you today."})))]
pub struct Acknowledge {
    /// The text of the first response, if one was sent: 1 to 10,000
    /// characters (Unicode scalar values), not blank. Personal data: sealed
    /// at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub message: Option<String>,
}

/// Assigns the complaint to a team, a person or both: give at least one of
/// `team` and `assignee` (not `null`). A field left out keeps its current
/// value; an assignment that changes neither is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"team": "broadband-support", "assignee": "li.na"})))]
pub struct Assign {
    /// The team, 1 to 100 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub team: Option<String>,
    /// The person, 1 to 100 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub assignee: Option<String>,
}

/// Adds an internal note or a progress update for the complainant. A
/// closed complaint takes internal notes only.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"body": "Line test booked for Thursday morning.", "visibility": "complainant"})))]
pub struct AddNote {
    /// The note, 1 to 10,000 characters (Unicode scalar values), not blank.
    /// Personal data: sealed at rest.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub body: String,
    /// Who may read the note.
    pub visibility: NoteVisibility,
}

/// Parks the complaint until the customer answers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "Waiting for the customer to send the router's serial number."})))]
pub struct WaitOnCustomer {
    /// What we are waiting for, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Takes a complaint that was waiting on the customer back into work.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"note": "Serial number received."})))]
pub struct Resume {
    /// What the customer answered, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub note: Option<String>,
}

/// Records how the complaint was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "resolution": "Replaced the faulty splitter; the line has been stable for 48 hours.",
    "root_cause": "Water damage in the street cabinet."
})))]
pub struct Resolve {
    /// What was done, 1 to 10,000 characters (Unicode scalar values), not
    /// blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub resolution: String,
    /// Why it happened, if known: 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub root_cause: Option<String>,
}

/// Records the complainant's satisfaction with the current resolution, once
/// per resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"rating": 4, "comment": "Fixed, but it took a week."})))]
pub struct RecordSatisfaction {
    /// 1 (very unhappy) to 5 (very happy).
    #[schema(minimum = 1, maximum = 5)]
    pub rating: u8,
    /// The complainant's words, 1 to 10,000 characters (Unicode scalar
    /// values), not blank. Personal data: sealed at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: Option<String>,
}

/// Closes a resolved complaint.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"comment": "The customer confirmed the line is stable."})))]
pub struct Close {
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: Option<String>,
}

/// Reopens a resolved complaint, typically because the customer disputes the
/// resolution.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"reason": "The line dropped again last night."})))]
pub struct Reopen {
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// Corrects what was recorded at filing: the category, the channel or the
/// complainant's details, with the reason. Give at least one of `category`,
/// `channel` and `complainant` (not `null`); a correction that changes
/// nothing (every value given is the one recorded) is refused.
///
/// A field of `complainant` left out keeps its recorded value. With
/// `another_person`, the complaint is another person's: the `complainant`
/// given replaces the recorded one whole (a name and at least one of
/// `phone`, `email` or `customer_ref`, as at filing), and their data
/// subject is resolved anew exactly as at filing: the one `subject` names,
/// else one an identifier the deployment declares strong matches, else a
/// new one. The complaint's other personal data is then sealed anew under
/// that subject. Correcting the complainant or naming a subject needs the
/// right to read personal data (`pii:read`). Accepted in every status.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({
    "category": "broadband",
    "complainant": {"phone": "+86 139 0013 9000"},
    "reason": "The phone number was mistyped at filing; the customer confirmed the right one."
})))]
pub struct CorrectDetails {
    /// The right category, 1 to 100 characters (Unicode scalar values), not
    /// blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 100,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub category: Option<String>,
    /// The channel the complaint really came through.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub channel: Option<Channel>,
    /// The complainant's right details: only the fields to correct, or, with
    /// `another_person`, the whole complainant. Personal data: sealed at rest.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub complainant: Option<ComplainantCorrection>,
    /// Whether the complaint is another person's than the one recorded: the
    /// complainant is then replaced whole and their data subject resolved
    /// anew. Needs `complainant`.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub another_person: bool,
    /// An existing data subject the other person is known to be (requires
    /// `pii:read` and `another_person`), as when filing.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub subject: Option<Uuid>,
    /// Why the record was wrong, 1 to 10,000 characters (Unicode scalar
    /// values), not blank. Kept in the immutable log: must not itself
    /// contain personal data.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// The complainant's details as a correction gives them: every field may
/// be left out (it then keeps its recorded value, unless the complaint is
/// another person's). Every field is personal data.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplainantCorrection {
    /// The complainant's name, 1 to 200 characters (Unicode scalar values),
    /// not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 200,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub name: Option<String>,
    /// Digits, spaces and `+ - ( ) .`, 3 to 32 characters, at least 3 digits.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 3,
        max_length = 32,
        pattern = r"^[ +().-]*[0-9][ +().-]*[0-9][ +().-]*[0-9][0-9 +().-]*$"
    )]
    pub phone: Option<String>,
    /// An address such as `name@example.com`, at most 254 characters, of the
    /// shape a filing's `email` has.
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

/// Changes how urgent a complaint is, with the reason. Only while the
/// complaint is open (filed, acknowledged, in progress or waiting on the
/// customer); changing it to the priority it has is refused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"priority": "P1", "reason": "The customer runs a clinic that depends on the line."})))]
pub struct ChangePriority {
    /// The new priority.
    pub priority: Priority,
    /// Why, 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
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
    ChangePriority(ChangePriority),
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
            ComplaintCommand::ChangePriority(_) => "change the priority of",
        }
    }
}
