//! The one mapping from everything that can go wrong to an HTTP answer:
//! RFC 9457 `application/problem+json` with a stable `type` per kind.

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::commands::CommandError;
use crate::domain::change::RefusingWindow;
use crate::domain::{DomainError, FieldError};
use crate::http::i18n::{self, Language};
use crate::privacy::PrivacyError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details document.
#[derive(Debug, Serialize, ToSchema)]
pub struct Problem {
    /// Stable identifier of the kind of problem; clients switch on this.
    #[schema(example = "urn:opsledger:problem:validation-failed")]
    #[serde(rename = "type")]
    pub problem_type: String,
    /// Short summary of the kind of problem; the same for every occurrence.
    pub title: String,
    /// The HTTP status code of the response, repeated for convenience (RFC
    /// 9457).
    pub status: u16,
    /// What went wrong this time.
    pub detail: String,
    /// Every invalid field, for `validation-failed` (pointers into the body)
    /// and `invalid-query` (pointers name query parameters).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub errors: Option<Vec<FieldError>>,
    /// The ticket's state when a command was refused, for `invalid-transition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<String>,
    /// The refused command, for `invalid-transition`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub command: Option<String>,
    /// The changes already booked in the requested window, for `schedule-conflict`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub conflicts: Option<Vec<crate::domain::link::TicketRef>>,
    /// The window that refused a change's start: its own scheduled window, for
    /// `outside-change-window`, or a freeze window, for `change-frozen`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub window: Option<RefusingWindow>,
}

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error("{0}")]
    BadRequest(String),
    #[error("{0}")]
    MalformedBody(String),
    #[error("the query has {} invalid parameter(s)", .0.len())]
    InvalidQuery(Vec<FieldError>),
    #[error("{0}")]
    Unauthenticated(String),
    #[error("this requires the permission to {0}")]
    Forbidden(&'static str),
    #[error("{0}")]
    NotFound(String),
    #[error("the method is not allowed on this resource")]
    MethodNotAllowed,
    #[error("cannot {command} a {aggregate} that is {state}")]
    InvalidTransition {
        aggregate: &'static str,
        state: &'static str,
        command: &'static str,
    },
    #[error("{0}")]
    RuleViolated(String),
    #[error("{detail}")]
    ScheduleConflict {
        detail: String,
        conflicts: Vec<crate::domain::link::TicketRef>,
    },
    #[error("{detail}")]
    OutsideChangeWindow {
        detail: String,
        window: Box<RefusingWindow>,
    },
    #[error("{detail}")]
    ChangeFrozen {
        detail: String,
        window: Box<RefusingWindow>,
    },
    #[error("{0}")]
    PreconditionFailed(String),
    #[error("the request body exceeds the limit of {0} bytes")]
    PayloadTooLarge(usize),
    #[error("{0}")]
    UnsupportedMediaType(String),
    #[error("the request has {} invalid field(s)", .0.len())]
    Validation(Vec<FieldError>),
    #[error("this Idempotency-Key was already used for a different request")]
    IdempotencyKeyReused,
    #[error("a request with this Idempotency-Key is still in progress; retry shortly")]
    IdempotencyInProgress,
    #[error("this request changes state and must carry If-Match with the ticket's current ETag")]
    PreconditionRequired,
    #[error("{0}")]
    Unavailable(String),
    #[error("an internal error occurred")]
    Internal(String),
}

impl ApiError {
    /// The stable problem kind: the last segment of `type`, and the key of
    /// its title in the message catalogues (`problem-<kind>`), which hold
    /// the English title as well as the others.
    fn kind(&self) -> &'static str {
        match self {
            ApiError::BadRequest(_) => "bad-request",
            ApiError::MalformedBody(_) => "malformed-body",
            ApiError::InvalidQuery(_) => "invalid-query",
            ApiError::Unauthenticated(_) => "unauthenticated",
            ApiError::Forbidden(_) => "forbidden",
            ApiError::NotFound(_) => "not-found",
            ApiError::MethodNotAllowed => "method-not-allowed",
            ApiError::InvalidTransition { .. } => "invalid-transition",
            ApiError::RuleViolated(_) => "rule-violated",
            ApiError::ScheduleConflict { .. } => "schedule-conflict",
            ApiError::OutsideChangeWindow { .. } => "outside-change-window",
            ApiError::ChangeFrozen { .. } => "change-frozen",
            ApiError::PreconditionFailed(_) => "precondition-failed",
            ApiError::PayloadTooLarge(_) => "payload-too-large",
            ApiError::UnsupportedMediaType(_) => "unsupported-media-type",
            ApiError::Validation(_) => "validation-failed",
            ApiError::IdempotencyKeyReused => "idempotency-key-reused",
            ApiError::IdempotencyInProgress => "idempotency-in-progress",
            ApiError::PreconditionRequired => "precondition-required",
            ApiError::Unavailable(_) => "unavailable",
            ApiError::Internal(_) => "internal",
        }
    }

    /// The kind's title in `language`; the kind itself if the catalogue
    /// lacked it (a test holds every kind to have one).
    fn title(&self, language: Language) -> String {
        let kind = self.kind();
        i18n::catalogue()
            .render(language, &format!("problem-{kind}"), &i18n::Parameters::new())
            .unwrap_or_else(|| kind.to_owned())
    }

    pub fn problem(&self) -> Problem {
        let kind = self.kind();
        let title = self.title(Language::En);
        let detail = self.to_string();
        let (errors, state, command) = match self {
            ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => (Some(errors.clone()), None, None),
            ApiError::InvalidTransition { state, command, .. } => {
                (None, Some((*state).to_owned()), Some((*command).to_owned()))
            }
            _ => (None, None, None),
        };
        let conflicts = match self {
            ApiError::ScheduleConflict { conflicts, .. } => Some(conflicts.clone()),
            _ => None,
        };
        let window = match self {
            ApiError::OutsideChangeWindow { window, .. } | ApiError::ChangeFrozen { window, .. } => {
                Some((**window).clone())
            }
            _ => None,
        };
        Problem {
            problem_type: format!("urn:opsledger:problem:{kind}"),
            title,
            status: self.status_code().as_u16(),
            detail,
            errors,
            state,
            command,
            conflicts,
            window,
        }
    }

    /// Every problem kind with its status and English title, for the
    /// documentation.
    pub fn catalogue() -> Vec<(String, u16, String)> {
        let samples = [
            ApiError::BadRequest(String::new()),
            ApiError::MalformedBody(String::new()),
            ApiError::InvalidQuery(Vec::new()),
            ApiError::Unauthenticated(String::new()),
            ApiError::Forbidden(""),
            ApiError::NotFound(String::new()),
            ApiError::MethodNotAllowed,
            ApiError::InvalidTransition {
                aggregate: "",
                state: "",
                command: "",
            },
            ApiError::RuleViolated(String::new()),
            ApiError::ScheduleConflict {
                detail: String::new(),
                conflicts: Vec::new(),
            },
            ApiError::OutsideChangeWindow {
                detail: String::new(),
                window: Box::new(no_window()),
            },
            ApiError::ChangeFrozen {
                detail: String::new(),
                window: Box::new(no_window()),
            },
            ApiError::PreconditionFailed(String::new()),
            ApiError::PayloadTooLarge(0),
            ApiError::UnsupportedMediaType(String::new()),
            ApiError::Validation(Vec::new()),
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::PreconditionRequired,
            ApiError::Unavailable(String::new()),
            ApiError::Internal(String::new()),
        ];
        samples
            .iter()
            .map(|e| {
                (
                    format!("urn:opsledger:problem:{}", e.kind()),
                    e.status_code().as_u16(),
                    e.title(Language::En),
                )
            })
            .collect()
    }
}

/// A placeholder window for the catalogue, which lists kinds, not cases.
fn no_window() -> RefusingWindow {
    RefusingWindow {
        kind: crate::domain::change::RefusingWindowKind::Change,
        freeze_id: None,
        start: chrono::DateTime::UNIX_EPOCH,
        end: chrono::DateTime::UNIX_EPOCH,
        time_zone: String::new(),
        start_local: String::new(),
        end_local: String::new(),
        reason: None,
    }
}

impl ResponseError for ApiError {
    fn status_code(&self) -> StatusCode {
        match self {
            ApiError::BadRequest(_) | ApiError::MalformedBody(_) | ApiError::InvalidQuery(_) => StatusCode::BAD_REQUEST,
            ApiError::Unauthenticated(_) => StatusCode::UNAUTHORIZED,
            ApiError::Forbidden(_) => StatusCode::FORBIDDEN,
            ApiError::NotFound(_) => StatusCode::NOT_FOUND,
            ApiError::MethodNotAllowed => StatusCode::METHOD_NOT_ALLOWED,
            ApiError::InvalidTransition { .. }
            | ApiError::RuleViolated(_)
            | ApiError::ScheduleConflict { .. }
            | ApiError::OutsideChangeWindow { .. }
            | ApiError::ChangeFrozen { .. }
            | ApiError::IdempotencyInProgress => StatusCode::CONFLICT,
            ApiError::PreconditionFailed(_) => StatusCode::PRECONDITION_FAILED,
            ApiError::PayloadTooLarge(_) => StatusCode::PAYLOAD_TOO_LARGE,
            ApiError::UnsupportedMediaType(_) => StatusCode::UNSUPPORTED_MEDIA_TYPE,
            ApiError::Validation(_) | ApiError::IdempotencyKeyReused => StatusCode::UNPROCESSABLE_ENTITY,
            ApiError::PreconditionRequired => StatusCode::PRECONDITION_REQUIRED,
            ApiError::Unavailable(_) => StatusCode::SERVICE_UNAVAILABLE,
            ApiError::Internal(_) => StatusCode::INTERNAL_SERVER_ERROR,
        }
    }

    fn error_response(&self) -> HttpResponse {
        match self {
            ApiError::Internal(cause) => tracing::error!(%cause, "internal error"),
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "database unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Unauthenticated(detail) => {
                // RFC 6750 §3: tell the client which scheme and why.
                let error = if detail.contains("missing") {
                    ""
                } else {
                    ", error=\"invalid_token\""
                };
                response.insert_header((header::WWW_AUTHENTICATE, format!("Bearer realm=\"opsledger\"{error}")));
            }
            ApiError::Unavailable(_) => {
                response.insert_header((header::RETRY_AFTER, "2"));
            }
            // The request holding the key is still running; it holds it
            // for at most a few seconds.
            ApiError::IdempotencyInProgress => {
                response.insert_header((header::RETRY_AFTER, "1"));
            }
            _ => {}
        }
        let body = serde_json::to_vec(&self.problem()).unwrap_or_default();
        response.body(body)
    }
}

impl From<DomainError> for ApiError {
    fn from(e: DomainError) -> ApiError {
        match e {
            DomainError::Validation(errors) => ApiError::Validation(errors),
            DomainError::InvalidTransition {
                aggregate,
                state,
                command,
            } => ApiError::InvalidTransition {
                aggregate,
                state,
                command,
            },
            DomainError::RuleViolated(detail) => ApiError::RuleViolated(detail),
            DomainError::ScheduleConflict { detail, conflicts } => ApiError::ScheduleConflict { detail, conflicts },
            DomainError::OutsideWindow { detail, window } => ApiError::OutsideChangeWindow { detail, window },
            DomainError::Frozen { detail, window } => ApiError::ChangeFrozen { detail, window },
        }
    }
}

impl ApiError {
    /// A domain error found in query parameters: invalid fields are a 400
    /// (`invalid-query`), not the 422 of an invalid body.
    pub fn of_query(e: DomainError) -> ApiError {
        match e {
            DomainError::Validation(errors) => ApiError::InvalidQuery(errors),
            other => other.into(),
        }
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> ApiError {
        match e {
            StoreError::Unavailable(detail) => ApiError::Unavailable(format!("the database is unavailable: {detail}")),
            // Only reached when a caller did not handle the race itself.
            StoreError::VersionConflict => {
                ApiError::PreconditionFailed("the ticket was changed by another request; reload it and retry".into())
            }
            StoreError::IdempotencyRace => ApiError::IdempotencyInProgress,
            StoreError::LockTimeout => {
                ApiError::Unavailable("the database is busy: a lock was not granted in time".into())
            }
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> ApiError {
        match e {
            CommandError::Domain(d) => d.into(),
            CommandError::Store(s) => s.into(),
            CommandError::NotFound => ApiError::NotFound("no such ticket".into()),
            CommandError::NoFreezeWindow(id) => ApiError::NotFound(format!("no freeze window {id}")),
            CommandError::NoSubject(id) => ApiError::NotFound(format!("no data subject {id}")),
            e @ CommandError::SubjectGone { .. } => ApiError::RuleViolated(e.to_string()),
            CommandError::OtherNotFound(named) => {
                ApiError::NotFound(format!("there is no ticket {named:?} that you may read"))
            }
            CommandError::BadReference { pointer, detail } => {
                ApiError::Validation(vec![crate::domain::FieldError::new(pointer, detail)])
            }
            CommandError::WrongKind { expected } => ApiError::NotFound(format!("no such {expected}")),
            CommandError::Stale => ApiError::PreconditionFailed(
                "If-Match does not name the ticket's current version; reload it and retry".into(),
            ),
            CommandError::LostRace => {
                ApiError::PreconditionFailed("another request changed the ticket first; reload it and retry".into())
            }
            CommandError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            CommandError::Corrupt(detail) => ApiError::Internal(detail),
            CommandError::SubjectErased => ApiError::RuleViolated(
                "the complainant's personal data was erased; no new personal data can be recorded about them".into(),
            ),
            CommandError::Privacy(p) => p.into(),
            // The ticket's ETag is added where the caller is known
            // (`http::commands`); the refusal itself is the inner error.
            CommandError::Refused { error, .. } => (*error).into(),
        }
    }
}

impl From<PrivacyError> for ApiError {
    fn from(e: PrivacyError) -> ApiError {
        match e {
            PrivacyError::Store(s) => s.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn problem_types_are_unique_per_kind() {
        let catalogue = ApiError::catalogue();
        let mut types: Vec<_> = catalogue.iter().map(|(t, _, _)| t.clone()).collect();
        types.sort();
        types.dedup();
        assert_eq!(types.len(), catalogue.len());
    }

    #[test]
    fn every_problem_kind_has_its_title_in_both_languages() {
        let catalogue = i18n::catalogue();
        for (problem_type, _, title) in ApiError::catalogue() {
            let kind = problem_type.trim_start_matches("urn:opsledger:problem:");
            let id = format!("problem-{kind}");
            assert!(catalogue.has(Language::En, &id), "{id} has no English title");
            assert!(catalogue.has(Language::ZhCn, &id), "{id} has no Chinese title");
            assert_ne!(title, kind, "{id}");
        }
        assert_eq!(ApiError::Validation(Vec::new()).problem().title, "Invalid request");
    }

    #[test]
    fn validation_problem_lists_every_field() {
        let e = ApiError::Validation(vec![
            FieldError::new("/title", "empty"),
            FieldError::new("/rating", "1 to 5"),
        ]);
        let p = serde_json::to_value(e.problem()).expect("json");
        assert_eq!(p["status"], 422);
        assert_eq!(p["type"], "urn:opsledger:problem:validation-failed");
        assert_eq!(p["errors"][1]["pointer"], "/rating");
    }
}
