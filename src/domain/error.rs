use super::change::RefusingWindow;
use super::link::TicketRef;
use super::message::Message;

/// One invalid field of a command, addressed by a JSON Pointer (RFC 6901)
/// into the request body that carried it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FieldError {
    /// Where the invalid value is: a JSON Pointer (RFC 6901) into the request
    /// body, e.g. `/complainant/phone`, or, for `invalid-query`, `/` followed
    /// by the query parameter's name; the empty string when the problem is the
    /// body or query as a whole.
    pub pointer: String,
    /// What is wrong with the value.
    pub message: Message,
}

impl FieldError {
    pub fn new(pointer: impl Into<String>, message: Message) -> FieldError {
        FieldError {
            pointer: pointer.into(),
            message,
        }
    }
}

/// Why the domain refused a command. The HTTP layer maps each kind to a
/// status and a problem type in one place.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum DomainError {
    /// The command is malformed; every bad field is listed.
    #[error("validation failed on {} field(s)", .0.len())]
    Validation(Vec<FieldError>),
    /// The command is not allowed in the aggregate's current state.
    #[error("cannot {command} a {aggregate} that is {state}")]
    InvalidTransition {
        aggregate: &'static str,
        state: &'static str,
        command: &'static str,
    },
    /// The command is well formed and the state allows it, but a business
    /// rule forbids it (for example, a second satisfaction rating).
    #[error("{0}")]
    RuleViolated(Message),
    /// The requested schedule overlaps other changes' bookings; the caller
    /// may retry with an override and a reason. Kept apart from
    /// `RuleViolated` so the caller can list the conflicting changes.
    #[error("{detail}")]
    ScheduleConflict { detail: Message, conflicts: Vec<TicketRef> },
    /// The change may not start now: it is outside the window it was
    /// scheduled for, and no manager authorised an out-of-window start.
    /// Names the window.
    #[error("{detail}")]
    OutsideWindow {
        detail: Message,
        window: Box<RefusingWindow>,
    },
    /// A freeze window forbids the work now. Names the window.
    #[error("{detail}")]
    Frozen {
        detail: Message,
        window: Box<RefusingWindow>,
    },
}

/// Collects field errors so a command reports all of them at once.
#[derive(Debug, Default)]
pub struct Validator {
    errors: Vec<FieldError>,
}

impl Validator {
    pub fn new() -> Validator {
        Validator::default()
    }

    pub fn push(&mut self, pointer: impl Into<String>, message: Message) {
        self.errors.push(FieldError::new(pointer, message));
    }

    pub fn check(&mut self, ok: bool, pointer: &str, message: Message) {
        if !ok {
            self.push(pointer, message);
        }
    }

    /// How many field errors are collected so far; a check compares it
    /// before and after to learn whether its own part was valid.
    pub fn len(&self) -> usize {
        self.errors.len()
    }

    pub fn is_empty(&self) -> bool {
        self.errors.is_empty()
    }

    pub fn extend(&mut self, errors: impl IntoIterator<Item = FieldError>) {
        self.errors.extend(errors);
    }

    pub fn finish(self) -> Result<(), DomainError> {
        if self.errors.is_empty() {
            Ok(())
        } else {
            Err(DomainError::Validation(self.errors))
        }
    }
}
