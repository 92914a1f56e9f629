//! The one mapping from everything that can go wrong to an HTTP answer:
//! RFC 9457 `application/problem+json` with a stable `type` per kind.

use std::fmt;

use actix_web::http::StatusCode;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError};
use serde::Serialize;
use utoipa::ToSchema;

use crate::app::commands::CommandError;
use crate::domain::change::RefusingWindow;
use crate::domain::permissions::Permission;
use crate::domain::{DomainError, FieldError, Message, messages as domain_messages};
use crate::http::i18n::{self, Language};
use crate::http::messages;
use crate::privacy::PrivacyError;
use crate::store::StoreError;

pub const PROBLEM_JSON: &str = "application/problem+json";

/// An RFC 9457 problem details document. `title`, `detail` and the
/// `detail` of each of `errors` are in the language of the request
/// (`Accept-Language`, named again in `Content-Language`); every other
/// member is the same in every language.
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
    pub errors: Option<Vec<InvalidField>>,
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

/// One invalid field of a command, addressed by a JSON Pointer (RFC 6901)
/// into the request body that carried it.
#[derive(Debug, Serialize, ToSchema)]
#[schema(as = FieldError)]
pub struct InvalidField {
    /// Where the invalid value is: a JSON Pointer (RFC 6901) into the request
    /// body, e.g. `/complainant/phone`, or, for `invalid-query`, `/` followed
    /// by the query parameter's name; the empty string when the problem is the
    /// body or query as a whole.
    pub pointer: String,
    /// What is wrong with the value, in words.
    pub detail: String,
}

/// Everything that can go wrong, as the HTTP layer answers it. Each
/// variant's words are a [`Message`], put into the request's language
/// only when the problem is written ([`ApiError::problem`]); `Display`
/// gives them in English, for logs.
#[derive(Debug, Clone)]
pub enum ApiError {
    BadRequest(Message),
    MalformedBody(Message),
    InvalidQuery(Vec<FieldError>),
    Unauthenticated(Message),
    /// The caller lacks this permission.
    Forbidden(Permission),
    NotFound(Message),
    MethodNotAllowed,
    InvalidTransition {
        aggregate: &'static str,
        state: &'static str,
        command: &'static str,
    },
    RuleViolated(Message),
    ScheduleConflict {
        detail: Message,
        conflicts: Vec<crate::domain::link::TicketRef>,
    },
    OutsideChangeWindow {
        detail: Message,
        window: Box<RefusingWindow>,
    },
    ChangeFrozen {
        detail: Message,
        window: Box<RefusingWindow>,
    },
    PreconditionFailed(Message),
    /// The limit, in bytes.
    PayloadTooLarge(usize),
    UnsupportedMediaType(Message),
    Validation(Vec<FieldError>),
    IdempotencyKeyReused,
    IdempotencyInProgress,
    PreconditionRequired,
    Unavailable(Message),
    /// The cause, for the log only: the client learns that something
    /// failed, not what.
    Internal(String),
}

impl std::error::Error for ApiError {}

impl fmt::Display for ApiError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&i18n::catalogue().say(Language::En, &self.detail()))
    }
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

    /// What went wrong this time, to be put into words.
    pub fn detail(&self) -> Message {
        match self {
            ApiError::BadRequest(detail)
            | ApiError::MalformedBody(detail)
            | ApiError::Unauthenticated(detail)
            | ApiError::NotFound(detail)
            | ApiError::RuleViolated(detail)
            | ApiError::ScheduleConflict { detail, .. }
            | ApiError::OutsideChangeWindow { detail, .. }
            | ApiError::ChangeFrozen { detail, .. }
            | ApiError::PreconditionFailed(detail)
            | ApiError::UnsupportedMediaType(detail)
            | ApiError::Unavailable(detail) => detail.clone(),
            ApiError::InvalidQuery(errors) => messages::invalid_query(errors.len()),
            ApiError::Validation(errors) => messages::validation_failed(errors.len()),
            ApiError::Forbidden(permission) => messages::forbidden(permission.key()),
            ApiError::MethodNotAllowed => messages::method_not_allowed(),
            ApiError::InvalidTransition {
                aggregate,
                state,
                command,
            } => messages::invalid_transition(aggregate, state, command),
            ApiError::PayloadTooLarge(limit) => messages::payload_too_large(limit),
            ApiError::IdempotencyKeyReused => messages::idempotency_key_reused(),
            ApiError::IdempotencyInProgress => messages::idempotency_in_progress(),
            ApiError::PreconditionRequired => messages::precondition_required(),
            ApiError::Internal(_) => messages::internal(),
        }
    }

    /// The problem document in `language`.
    pub fn problem(&self, language: Language) -> Problem {
        let catalogue = i18n::catalogue();
        let kind = self.kind();
        let errors = match self {
            ApiError::Validation(errors) | ApiError::InvalidQuery(errors) => Some(
                errors
                    .iter()
                    .map(|e| InvalidField {
                        pointer: e.pointer.clone(),
                        detail: catalogue.say(language, &e.message),
                    })
                    .collect(),
            ),
            _ => None,
        };
        let (state, command) = match self {
            ApiError::InvalidTransition { state, command, .. } => {
                (Some((*state).to_owned()), Some((*command).to_owned()))
            }
            _ => (None, None),
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
            title: self.title(language),
            status: self.status_code().as_u16(),
            detail: catalogue.say(language, &self.detail()),
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
        // The catalogue lists kinds, not cases: any detail will do.
        let any_detail = messages::internal;
        let samples = [
            ApiError::BadRequest(any_detail()),
            ApiError::MalformedBody(any_detail()),
            ApiError::InvalidQuery(Vec::new()),
            ApiError::Unauthenticated(any_detail()),
            ApiError::Forbidden(Permission::TicketRead),
            ApiError::NotFound(any_detail()),
            ApiError::MethodNotAllowed,
            ApiError::InvalidTransition {
                aggregate: "",
                state: "",
                command: "",
            },
            ApiError::RuleViolated(any_detail()),
            ApiError::ScheduleConflict {
                detail: any_detail(),
                conflicts: Vec::new(),
            },
            ApiError::OutsideChangeWindow {
                detail: any_detail(),
                window: Box::new(no_window()),
            },
            ApiError::ChangeFrozen {
                detail: any_detail(),
                window: Box::new(no_window()),
            },
            ApiError::PreconditionFailed(any_detail()),
            ApiError::PayloadTooLarge(0),
            ApiError::UnsupportedMediaType(any_detail()),
            ApiError::Validation(Vec::new()),
            ApiError::IdempotencyKeyReused,
            ApiError::IdempotencyInProgress,
            ApiError::PreconditionRequired,
            ApiError::Unavailable(any_detail()),
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
            ApiError::Unavailable(cause) => tracing::warn!(%cause, "unavailable"),
            _ => {}
        }
        let mut response = HttpResponse::build(self.status_code());
        response.insert_header((header::CONTENT_TYPE, HeaderValue::from_static(PROBLEM_JSON)));
        response.insert_header((header::CACHE_CONTROL, HeaderValue::from_static("no-store")));
        match self {
            ApiError::Unauthenticated(detail) => {
                // RFC 6750 §3: tell the client which scheme and why.
                let error = if detail.id() == messages::authorization_missing().id() {
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
        // English here; the middleware puts the problem into the language
        // the request asks for, from the error it finds beside it.
        let body = serde_json::to_vec(&self.problem(Language::En)).unwrap_or_default();
        response.extensions_mut().insert(self.clone());
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
            StoreError::Unavailable(cause) => ApiError::Unavailable(messages::database_unavailable(cause)),
            // Only reached when a caller did not handle the race itself.
            StoreError::VersionConflict => ApiError::PreconditionFailed(messages::changed_by_another_request()),
            StoreError::IdempotencyRace => ApiError::IdempotencyInProgress,
            StoreError::LockTimeout => ApiError::Unavailable(messages::database_busy()),
            StoreError::ReadStreamMoved => ApiError::Unavailable(messages::decided_from_moving_streams()),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl From<CommandError> for ApiError {
    fn from(e: CommandError) -> ApiError {
        match e {
            CommandError::Domain(d) => d.into(),
            CommandError::Store(s) => s.into(),
            CommandError::NotFound => ApiError::NotFound(messages::no_such_ticket()),
            CommandError::NoFreezeWindow(id) => ApiError::NotFound(messages::no_freeze_window(id)),
            CommandError::NoBusinessCalendar(id) => ApiError::NotFound(messages::no_business_calendar(id)),
            CommandError::NoSubject(id) => ApiError::NotFound(domain_messages::no_such_subject(id)),
            CommandError::SubjectGone { subject, marker } => {
                ApiError::RuleViolated(domain_messages::subject_gone(subject, marker))
            }
            CommandError::OtherNotFound(named) => ApiError::NotFound(messages::no_readable_ticket_named(named)),
            CommandError::BadReference { pointer, detail } => {
                ApiError::Validation(vec![FieldError::new(pointer, detail)])
            }
            CommandError::WrongKind { expected } => ApiError::NotFound(messages::no_such_kind(expected)),
            CommandError::Stale => ApiError::PreconditionFailed(messages::stale_if_match()),
            CommandError::LostRace => ApiError::PreconditionFailed(messages::lost_race()),
            CommandError::IdempotencyKeyReused => ApiError::IdempotencyKeyReused,
            CommandError::Corrupt(detail) => ApiError::Internal(detail),
            CommandError::SubjectErased => ApiError::RuleViolated(domain_messages::rule_subject_erased()),
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
        assert_eq!(
            ApiError::Validation(Vec::new()).problem(Language::En).title,
            "Invalid request"
        );
    }

    #[test]
    fn validation_problem_lists_every_field_in_the_language_asked_for() {
        let e = ApiError::Validation(vec![
            FieldError::new("/title", domain_messages::field_empty()),
            FieldError::new("/rating", domain_messages::field_between(1, 5)),
        ]);
        let en = serde_json::to_value(e.problem(Language::En)).expect("json");
        assert_eq!(en["status"], 422);
        assert_eq!(en["type"], "urn:opsledger:problem:validation-failed");
        assert_eq!(en["detail"], "the request has 2 invalid field(s)");
        assert_eq!(en["errors"][1]["pointer"], "/rating");
        assert_eq!(en["errors"][1]["detail"], "must be between 1 and 5");

        let zh = serde_json::to_value(e.problem(Language::ZhCn)).expect("json");
        assert_eq!(zh["type"], en["type"]);
        assert_eq!(zh["detail"], "请求中有 2 个字段无效");
        assert_eq!(zh["errors"][0]["pointer"], "/title");
        assert_eq!(zh["errors"][0]["detail"], "不能为空");
        assert_eq!(zh["errors"][1]["detail"], "必须在 1 到 5 之间");
    }

    #[test]
    fn display_is_the_english_detail() {
        let e = ApiError::from(DomainError::InvalidTransition {
            aggregate: "complaint",
            state: "closed",
            command: "acknowledge",
        });
        assert_eq!(e.to_string(), "cannot acknowledge a complaint that is closed");
        assert_eq!(
            ApiError::Forbidden(Permission::ComplaintFile).to_string(),
            "this requires the permission to file a complaint"
        );
    }
}
