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
use super::{Complainant, ComplainantCorrection, ComplainantRecord, NoteVisibility, ResealedValue, SubjectJoin};
use crate::domain::Personal;
use crate::domain::link::TicketRef;
use crate::domain::text::{self, LABEL, LONG_TEXT, NAME, TITLE};
use crate::domain::{DomainError, Validator, messages};

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
        // Priority orders the work still to do (and its deadlines); a
        // resolved or closed complaint has none left.
        ComplaintCommand::ChangePriority(_) => {
            matches!(status, Filed | Acknowledged | InProgress | WaitingOnCustomer)
        }
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
                return Err(DomainError::RuleViolated(messages::rule_complaint_already_assigned()));
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
                return Err(DomainError::RuleViolated(messages::rule_satisfaction_already_recorded()));
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
        ComplaintCommand::ChangePriority(c) => {
            if c.priority == state.priority {
                return Err(DomainError::RuleViolated(messages::rule_priority_unchanged(
                    c.priority.as_str(),
                )));
            }
            ComplaintEvent::PriorityChanged(ComplaintPriorityChanged {
                from: state.priority,
                to: c.priority,
                reason: c.reason.clone(),
            })
        }
    };
    Ok(vec![event])
}

/// Seals the complaint's personal data anew under another subject (see
/// [`ResealPersonalData`]). Accepted in every status: the data of a closed
/// complaint belongs to its complainant as much as an open one's.
pub fn reseal(state: &Complaint, cmd: &ResealPersonalData) -> Result<Vec<ComplaintEvent>, DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.check(!cmd.values.is_empty(), "/values", messages::field_reseal_nothing());
    for (i, value) in cmd.values.iter().enumerate() {
        if cmd.values[..i].iter().any(|earlier| earlier.replaces == value.replaces) {
            v.push(format!("/values/{i}/replaces"), messages::field_reseal_replaces_twice());
        }
    }
    v.finish()?;
    if cmd.subject == state.subject {
        return Err(DomainError::RuleViolated(messages::rule_already_sealed_under_subject()));
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

/// What a correction of the complainant is decided against, as the
/// application found it: the complainant's details as recorded, opened
/// where their subject's key allows (so an unchanged value can be told
/// from a changed one), and who the complainant is after the correction.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CorrectedComplainant {
    /// The recorded complainant, with every value the subject's key opens in
    /// clear; a value that cannot be opened (erased) differs from any given.
    pub recorded: ComplainantRecord,
    /// The subject the complaint belongs to after the correction, resolved
    /// as at filing for another person; the complaint's own otherwise.
    pub subject: FilingSubject,
    /// The complaint's other personal values, in clear, to seal anew under
    /// `subject` when it is not the complaint's subject now.
    pub resealed: Vec<ResealedValue>,
}

/// Checks a correction's fields, all at once, before anything is looked up
/// for it (a subject resolved, a key opened).
pub fn check_correction(cmd: &CorrectDetails) -> Result<(), DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    text::check_opt(&mut v, "/category", cmd.category.as_deref(), LABEL);
    if cmd.category.is_none() && cmd.channel.is_none() && cmd.complainant.is_none() {
        // "" is the JSON Pointer to the whole body.
        v.push("", messages::field_give_correction());
    }
    match &cmd.complainant {
        Some(c) if cmd.another_person => {
            // Another person is recorded whole, by the rules of a filing.
            match &c.name {
                Some(_) => {}
                None => v.push("/complainant/name", messages::field_another_person_name()),
            }
            check_contacts(&mut v, c);
            if c.phone.is_none() && c.email.is_none() && c.customer_ref.is_none() {
                v.push("/complainant", messages::field_give_contact());
            }
        }
        Some(c) => {
            check_contacts(&mut v, c);
            if c.name.is_none() && c.phone.is_none() && c.email.is_none() && c.customer_ref.is_none() {
                v.push("/complainant", messages::field_give_name_or_contact());
            }
        }
        None if cmd.another_person => v.push("/complainant", messages::field_another_person_details()),
        None => {}
    }
    if cmd.subject.is_some() && !cmd.another_person {
        v.push("/subject", messages::field_subject_only_for_another_person());
    }
    v.finish()
}

fn check_contacts(v: &mut Validator, c: &ComplainantCorrection) {
    text::check_opt(v, "/complainant/name", c.name.as_deref(), NAME);
    check_phone_and_email(v, c.phone.as_deref(), c.email.as_deref());
    text::check_opt(v, "/complainant/customer_ref", c.customer_ref.as_deref(), LABEL);
}

/// Corrects what was recorded at filing (see [`CorrectDetails`]). Accepted
/// in every status: reports and the complainant's export must be right
/// about a closed complaint too. `complainant` is what the application
/// found for a correction of the complainant (`None` when the command
/// corrects none).
pub fn correct_details(
    state: &Complaint,
    cmd: &CorrectDetails,
    complainant: Option<&CorrectedComplainant>,
) -> Result<Vec<ComplaintEvent>, DomainError> {
    check_correction(cmd)?;
    let category = cmd
        .category
        .as_ref()
        .filter(|c| **c != state.category)
        .map(|to| TextCorrection {
            from: state.category.clone(),
            to: to.clone(),
        });
    let channel = cmd.channel.filter(|c| *c != state.channel).map(|to| ChannelCorrection {
        from: state.channel,
        to,
    });
    let mut moved = None;
    let corrected = match (&cmd.complainant, complainant) {
        (Some(given), Some(found)) => {
            let changed = |given: &Option<String>, recorded: Option<&Personal>| match given {
                Some(value) => recorded != Some(&Personal::Clear(value.clone())),
                None => false,
            };
            let r = &found.recorded;
            let values_changed = changed(&given.name, Some(&r.name))
                || changed(&given.phone, r.phone.as_ref())
                || changed(&given.email, r.email.as_ref())
                || changed(&given.customer_ref, r.customer_ref.as_ref());
            if found.subject.id != state.subject {
                moved = Some(found);
            }
            let clear = |value: &Option<String>| value.as_deref().map(Personal::clear);
            if cmd.another_person {
                // A field left out is one the other person did not give:
                // recording the first person's would be recording theirs.
                let whole_changed = values_changed
                    || (given.phone.is_none() && r.phone.is_some())
                    || (given.email.is_none() && r.email.is_some())
                    || (given.customer_ref.is_none() && r.customer_ref.is_some());
                (whole_changed || moved.is_some()).then(|| ComplainantCorrected {
                    name: clear(&given.name),
                    phone: clear(&given.phone),
                    email: clear(&given.email),
                    customer_ref: clear(&given.customer_ref),
                    another_person: true,
                })
            } else {
                // Only the values that change, so the event says what was wrong.
                let only_changed = |value: &Option<String>, recorded: Option<&Personal>| {
                    if changed(value, recorded) { clear(value) } else { None }
                };
                values_changed.then(|| ComplainantCorrected {
                    name: only_changed(&given.name, Some(&r.name)),
                    phone: only_changed(&given.phone, r.phone.as_ref()),
                    email: only_changed(&given.email, r.email.as_ref()),
                    customer_ref: only_changed(&given.customer_ref, r.customer_ref.as_ref()),
                    another_person: false,
                })
            }
        }
        (Some(_), None) => {
            // The application always looks the complainant up for a
            // command that corrects them; reaching here is its bug.
            return Err(DomainError::RuleViolated(
                messages::rule_complainant_record_unavailable(),
            ));
        }
        (None, _) => None,
    };
    if category.is_none() && channel.is_none() && corrected.is_none() {
        // An event that changes nothing would only add noise to the history
        // and make a retry look like a second correction.
        return Err(DomainError::RuleViolated(messages::rule_correction_changes_nothing()));
    }
    Ok(vec![ComplaintEvent::DetailsCorrected(ComplaintDetailsCorrected {
        category,
        channel,
        complainant: corrected,
        subject: moved.map(|m| m.subject.id),
        previous_subject: moved.map(|_| state.subject),
        subject_joined: moved.and_then(|m| m.subject.joined),
        resealed: moved.map(|m| m.resealed.clone()).unwrap_or_default(),
        reason: cmd.reason.clone(),
    })])
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
                v.push("", messages::field_give_team_or_assignee());
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
            v.check((1..=5).contains(&c.rating), "/rating", messages::field_between(1, 5));
            text::check_opt(&mut v, "/comment", c.comment.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Close(c) => {
            text::check_opt(&mut v, "/comment", c.comment.as_deref(), LONG_TEXT);
        }
        ComplaintCommand::Reopen(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
        ComplaintCommand::ChangePriority(c) => text::check(&mut v, "/reason", &c.reason, LONG_TEXT),
    }
    v.finish()
}

fn check_complainant(v: &mut Validator, c: &Complainant) {
    text::check(v, "/complainant/name", &c.name, NAME);
    check_phone_and_email(v, c.phone.as_deref(), c.email.as_deref());
    text::check_opt(v, "/complainant/customer_ref", c.customer_ref.as_deref(), LABEL);
    if c.phone.is_none() && c.email.is_none() && c.customer_ref.is_none() {
        v.push("/complainant", messages::field_give_contact());
    }
}

/// A complainant's phone and email, where given: the same checks at filing
/// and in a correction.
fn check_phone_and_email(v: &mut Validator, phone: Option<&str>, email: Option<&str>) {
    if let Some(phone) = phone {
        v.check(is_phone(phone), "/complainant/phone", messages::field_phone());
    }
    if let Some(email) = email {
        let len = text::char_len(email);
        if len > MAX_EMAIL {
            v.push("/complainant/email", messages::field_email_length(MAX_EMAIL, len));
        } else {
            v.check(is_email(email), "/complainant/email", messages::field_email());
        }
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
