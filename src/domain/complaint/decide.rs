//! The rules: which commands a complaint accepts, and what they record.
//!
//! Every decision validates the command's fields first and only then looks
//! at the state, so a client with a malformed body always learns about the
//! body (422) rather than about a state it might not even have caused.

use chrono::{DateTime, Utc};
use uuid::Uuid;

use super::command::*;
use super::event::*;
use super::state::{Complaint, ComplaintStatus};
use super::{Complainant, ComplainantRecord, NoteVisibility, SubjectJoin};
use crate::domain::Personal;
use crate::domain::link::TicketRef;
use crate::domain::text::{self, LABEL, LONG_TEXT, NAME, TITLE};
use crate::domain::{DomainError, Validator};

use ComplaintStatus::{Acknowledged, Closed, Filed, InProgress, Resolved, WaitingOnCustomer};

/// The data subject a filing's personal data is sealed under, and how the
/// filing came to it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FilingSubject {
    pub id: Uuid,
    /// `None` for a subject created for this filing.
    pub joined: Option<SubjectJoin>,
}

impl From<Uuid> for FilingSubject {
    /// A subject of the filing's own.
    fn from(id: Uuid) -> FilingSubject {
        FilingSubject { id, joined: None }
    }
}

/// A filing whose fields passed validation: what [`ValidFiling::check`]
/// makes of a [`FileComplaint`], and the only thing a filing is recorded
/// from, so the ticket's number is taken only for a filing that will be
/// recorded.
#[derive(Debug, Clone)]
pub struct ValidFiling(FileComplaint);

impl ValidFiling {
    /// Checks every field of the filing and reports all bad ones at once.
    pub fn check(cmd: FileComplaint) -> Result<ValidFiling, DomainError> {
        let mut v = Validator::new();
        text::check(&mut v, "/title", &cmd.title, TITLE);
        text::check(&mut v, "/description", &cmd.description, LONG_TEXT);
        check_complainant(&mut v, &cmd.complainant);
        text::check(&mut v, "/category", &cmd.category, LABEL);
        v.finish()?;
        Ok(ValidFiling(cmd))
    }

    /// The filing as the client sent it.
    pub fn command(&self) -> &FileComplaint {
        &self.0
    }

    /// Records the filing under `id` and `number`, both chosen by the
    /// caller, for the complainant's data `subject`.
    ///
    /// `now` is not used yet; it is part of the signature so that
    /// time-based rules can be added without touching callers.
    pub fn record(
        &self,
        id: Uuid,
        number: &str,
        subject: impl Into<FilingSubject>,
        _now: DateTime<Utc>,
    ) -> Vec<ComplaintEvent> {
        let subject = subject.into();
        let cmd = &self.0;
        vec![ComplaintEvent::Filed(ComplaintFiled {
            id,
            number: number.to_owned(),
            subject: subject.id,
            subject_joined: subject.joined,
            title: cmd.title.clone(),
            description: Personal::clear(&cmd.description),
            channel: cmd.channel,
            complainant: ComplainantRecord::from_command(&cmd.complainant),
            category: cmd.category.clone(),
            priority: cmd.priority,
        })]
    }
}

/// Validates a new complaint and records its filing under `id` and
/// `number`, for the complainant's data `subject`: [`ValidFiling::check`]
/// then [`ValidFiling::record`].
pub fn file(
    id: Uuid,
    number: &str,
    subject: impl Into<FilingSubject>,
    cmd: &FileComplaint,
    now: DateTime<Utc>,
) -> Result<Vec<ComplaintEvent>, DomainError> {
    Ok(ValidFiling::check(cmd.clone())?.record(id, number, subject, now))
}

/// Decides a command against the complaint's current state.
///
/// `now` is not used yet; see [`file`].
pub fn decide(
    state: &Complaint,
    cmd: &ComplaintCommand,
    _now: DateTime<Utc>,
) -> Result<Vec<ComplaintEvent>, DomainError> {
    validate(cmd)?;

    let status = state.status;
    let allowed = match cmd {
        ComplaintCommand::Acknowledge(_) => status == Filed,
        ComplaintCommand::Assign(_) => {
            matches!(status, Filed | Acknowledged | InProgress | WaitingOnCustomer)
        }
        // Staff may keep annotating a closed complaint, but the complainant
        // must not receive updates about something we told them is done.
        ComplaintCommand::AddNote(c) => c.visibility == NoteVisibility::Internal || status != Closed,
        ComplaintCommand::WaitOnCustomer(_) => matches!(status, Acknowledged | InProgress),
        ComplaintCommand::Resume(_) => status == WaitingOnCustomer,
        // Not from Filed: the complainant hears from us before a resolution.
        ComplaintCommand::Resolve(_) => {
            matches!(status, Acknowledged | InProgress | WaitingOnCustomer)
        }
        // A rating often arrives after the complaint was closed.
        ComplaintCommand::RecordSatisfaction(_) => matches!(status, Resolved | Closed),
        ComplaintCommand::Close(_) => status == Resolved,
        ComplaintCommand::Reopen(_) => status == Resolved,
    };
    if !allowed {
        return Err(DomainError::InvalidTransition {
            aggregate: "complaint",
            state: status.as_str(),
            command: cmd.name(),
        });
    }

    let event = match cmd {
        ComplaintCommand::Acknowledge(c) => ComplaintEvent::Acknowledged(ComplaintAcknowledged {
            message: c.message.as_deref().map(Personal::clear),
        }),
        ComplaintCommand::Assign(c) => {
            let team = c.team.clone().or_else(|| state.team.clone());
            let assignee = c.assignee.clone().or_else(|| state.assignee.clone());
            if team == state.team && assignee == state.assignee {
                // An event that changes nothing would only add noise to the
                // history and make retries look like real reassignments.
                return Err(DomainError::RuleViolated(
                    "the complaint is already assigned to that team and person".to_owned(),
                ));
            }
            ComplaintEvent::Assigned(ComplaintAssigned { team, assignee })
        }
        ComplaintCommand::AddNote(c) => ComplaintEvent::NoteAdded(ComplaintNoteAdded {
            body: Personal::clear(&c.body),
            visibility: c.visibility,
        }),
        ComplaintCommand::WaitOnCustomer(c) => ComplaintEvent::WaitingOnCustomer(ComplaintWaitingOnCustomer {
            reason: c.reason.clone(),
        }),
        ComplaintCommand::Resume(c) => ComplaintEvent::Resumed(ComplaintResumed { note: c.note.clone() }),
        ComplaintCommand::Resolve(c) => ComplaintEvent::Resolved(ComplaintResolved {
            resolution: c.resolution.clone(),
            root_cause: c.root_cause.clone(),
        }),
        ComplaintCommand::RecordSatisfaction(c) => {
            // Reopening clears the rating, so this is "once per resolution".
            if state.satisfaction.is_some() {
                return Err(DomainError::RuleViolated(
                    "satisfaction has already been recorded for this resolution".to_owned(),
                ));
            }
            ComplaintEvent::SatisfactionRecorded(ComplaintSatisfactionRecorded {
                rating: c.rating,
                comment: c.comment.as_deref().map(Personal::clear),
            })
        }
        ComplaintCommand::Close(c) => ComplaintEvent::Closed(ComplaintClosed {
            comment: c.comment.clone(),
        }),
        ComplaintCommand::Reopen(c) => ComplaintEvent::Reopened(ComplaintReopened {
            reason: c.reason.clone(),
        }),
    };
    Ok(vec![event])
}

/// Seals the complaint's personal data anew under another subject (see
/// [`ResealPersonalData`]). Accepted in every status: the data of a closed
/// complaint belongs to its complainant as much as an open one's.
pub fn reseal(state: &Complaint, cmd: &ResealPersonalData) -> Result<Vec<ComplaintEvent>, DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.check(
        !cmd.values.is_empty(),
        "/values",
        "name at least one value to seal anew",
    );
    for (i, value) in cmd.values.iter().enumerate() {
        if cmd.values[..i].iter().any(|earlier| earlier.replaces == value.replaces) {
            v.push(format!("/values/{i}/replaces"), "replaces a value named before");
        }
    }
    v.finish()?;
    if cmd.subject == state.subject {
        return Err(DomainError::RuleViolated(
            "the complaint's personal data is already sealed under that subject".to_owned(),
        ));
    }
    Ok(vec![ComplaintEvent::PersonalDataResealed(
        ComplaintPersonalDataResealed {
            subject: cmd.subject,
            previous_subject: state.subject,
            cause: cmd.cause,
            reseal_reason: cmd.reason.clone(),
            values: cmd.values.clone(),
        },
    )])
}

/// Tells the complaint that a fault it is escalated or linked to was
/// resolved. A fact from another stream, not a request: accepted in every
/// status, so a complaint closed meanwhile still records it.
pub fn linked_fault_resolved(fault: &TicketRef, resolution: &str) -> ComplaintEvent {
    ComplaintEvent::LinkedFaultResolved(ComplaintLinkedFaultResolved {
        fault: fault.clone(),
        resolution: resolution.to_owned(),
    })
}

/// Tells the complaint that a fault it is escalated or linked to was
/// reopened, so the resolution it passed on no longer holds. A fact, like
/// [`linked_fault_resolved`]: accepted in every status.
pub fn linked_fault_reopened(fault: &TicketRef, reason: &str) -> ComplaintEvent {
    ComplaintEvent::LinkedFaultReopened(ComplaintLinkedFaultReopened {
        fault: fault.clone(),
        reason: reason.to_owned(),
    })
}

/// Field checks that do not depend on the state.
fn validate(cmd: &ComplaintCommand) -> Result<(), DomainError> {
    let mut v = Validator::new();
    match cmd {
        ComplaintCommand::Acknowledge(c) => {
            text::check_opt(&mut v, "/message", c.message.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Assign(c) => {
            if c.team.is_none() && c.assignee.is_none() {
                // "" is the JSON Pointer to the whole body.
                v.push("", "give team, assignee or both");
            }
            text::check_opt(&mut v, "/team", c.team.as_deref(), LABEL);
            text::check_opt(&mut v, "/assignee", c.assignee.as_deref(), LABEL);
        }
        ComplaintCommand::AddNote(c) => text::check(&mut v, "/body", &c.body, LONG_TEXT),
        ComplaintCommand::WaitOnCustomer(c) => {
            text::check(&mut v, "/reason", &c.reason, LONG_TEXT);
        }
        ComplaintCommand::Resume(c) => {
            text::check_opt(&mut v, "/note", c.note.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Resolve(c) => {
            text::check(&mut v, "/resolution", &c.resolution, LONG_TEXT);
            text::check_opt(&mut v, "/root_cause", c.root_cause.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::RecordSatisfaction(c) => {
            v.check((1..=5).contains(&c.rating), "/rating", "must be between 1 and 5");
            text::check_opt(&mut v, "/comment", c.comment.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Close(c) => {
            text::check_opt(&mut v, "/comment", c.comment.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Reopen(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
    }
    v.finish()
}

fn check_complainant(v: &mut Validator, c: &Complainant) {
    text::check(v, "/complainant/name", &c.name, NAME);
    if let Some(phone) = c.phone.as_deref() {
        v.check(
            is_phone(phone),
            "/complainant/phone",
            "must be 3 to 32 characters of digits, spaces and + - ( ) ., with at least 3 digits",
        );
    }
    if let Some(email) = c.email.as_deref() {
        let len = text::char_len(email);
        if len > MAX_EMAIL {
            v.push(
                "/complainant/email",
                format!("must be at most {MAX_EMAIL} characters long (is {len})"),
            );
        } else {
            v.check(
                is_email(email),
                "/complainant/email",
                "must be an email address such as name@example.com",
            );
        }
    }
    text::check_opt(v, "/complainant/customer_ref", c.customer_ref.as_deref(), LABEL);
    if c.phone.is_none() && c.email.is_none() && c.customer_ref.is_none() {
        v.push("/complainant", "give at least one of phone, email or customer_ref");
    }
}

/// The longest address SMTP can carry (RFC 5321 path limit minus the brackets).
pub const MAX_EMAIL: usize = 254;

/// [`is_email`] as an ECMA-262 regular expression for the schema: some
/// characters, `@`, and a domain with a dot that neither starts nor ends
/// it; no `@` after the first, no white space and no control character.
pub const EMAIL_PATTERN: &str = r"^[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]+@[^@.\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*\.[^@\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^@.\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]$";

/// How many characters a phone number has, at least and at most.
pub const PHONE_LENGTH: std::ops::RangeInclusive<usize> = 3..=32;

/// [`is_phone`] less its length (the schema's `minLength` and `maxLength`
/// say that) as an ECMA-262 regular expression: digits, spaces and
/// `+ - ( ) .`, with at least three digits.
pub const PHONE_PATTERN: &str = r"^[ +().-]*[0-9][ +().-]*[0-9][ +().-]*[0-9][0-9 +().-]*$";

/// Loose on purpose: numbers are written in many national formats, and the
/// point is only to catch text that cannot be a number at all.
fn is_phone(s: &str) -> bool {
    let len = text::char_len(s);
    PHONE_LENGTH.contains(&len)
        && s.chars()
            .all(|c| c.is_ascii_digit() || matches!(c, ' ' | '+' | '-' | '(' | ')' | '.'))
        && s.chars().filter(char::is_ascii_digit).count() >= 3
}

/// A sanity check, not RFC 5322: the only real test of an address is
/// sending mail to it, and a stricter parser would refuse valid addresses.
fn is_email(s: &str) -> bool {
    if s.chars().any(|c| c.is_whitespace() || c.is_control()) {
        return false;
    }
    let Some((local, domain)) = s.split_once('@') else {
        return false;
    };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
}
