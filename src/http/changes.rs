//! `POST /v1/changes`, one endpoint per change command, scheduling, the
//! change calendar and freeze windows.

use actix_web::http::{StatusCode, header};
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::commands::{Action, TicketCommand};
use crate::domain::change::freeze::{DeclareFreeze, FreezeCalendar, FreezeWindow, LiftFreeze};
use crate::domain::change::{
    AddNote, AmendChange, AmendPlan, Approve, Assess, Assign, AuthoriseStart, Change, ChangeCommand, ChangeStatus,
    ChangeType, Close, Complete, DraftChange, Fail, RecordRolloutStep, Reject, Review, RollBack, ScheduleChange,
    StartImplementation, Submit, Unschedule,
};
use crate::domain::{FieldError, Validator, zoned};
use crate::projections::{schedules, tickets};
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::{CommutingAnswers, TransitionAnswers};
use super::commands::{act_on, run, send_document};
use super::error::{ApiError, Problem};
use super::messages;
use super::query::Query;
use super::request::command_context;
use super::tickets::{PRIVATE, TicketDoc};

/// Draft a change request.
///
/// Returns the new change with its number (`CHG-2026-000123`), a `Location`
/// and an `ETag`. Each linked fault gets a link to the change on its own
/// history, in the same transaction.
#[utoipa::path(
    post,
    path = "/v1/changes",
    tag = "changes",
    request_body = DraftChange,
    params(
    ),
    responses(
        (status = 201, description = "Drafted", body = TicketDoc,
            headers(("Location" = String, description = "The ticket"))),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 404, description = "A linked fault that does not exist or that the caller may not read (`not-found`, naming it)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed; a linked fault that is no fault, or a reference that cannot name a ticket, is one), or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn draft(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<DraftChange>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    run(&req, &principal, &state, &ctx, TicketCommand::Draft(body.value)).await
}

/// Amend a draft or submitted change: title, description, affected services, maintenance type.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/amend",
    tag = "changes",
    request_body = AmendChange,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn amend(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Amend(body))
    })
    .await
}

/// Submit a draft change for assessment.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/submit",
    tag = "changes",
    request_body = Submit,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn submit(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Submit(body))
    })
    .await
}

/// Assess a submitted change: risk, impact, implementation plan, test plan and evidence, rollback plan. High risk needs two approvers.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/assess",
    tag = "changes",
    request_body = Assess,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn assess(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Assess(body))
    })
    .await
}

/// Replace the plan of an assessed, approved or rejected change. Approvals of the earlier plan stop counting: the change must be approved again.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/plan",
    tag = "changes",
    request_body = AmendPlan,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn amend_plan(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::AmendPlan(body))
    })
    .await
}

/// Approve the change's current plan. Never by its requester; the approval records the stored hash of the plan it approves. Emergency changes are approved retrospectively.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/approve",
    tag = "changes",
    request_body = Approve,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn approve(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Approve(body))
    })
    .await
}

/// Reject the change's current plan, with a comment.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/reject",
    tag = "changes",
    request_body = Reject,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn reject(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Reject(body))
    })
    .await
}

/// Assign the person who implements the change.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/assign",
    tag = "changes",
    request_body = Assign,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn assign(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Assign(body))
    })
    .await
}

/// Start implementing a scheduled change: inside its window; at once for an emergency change; outside the window only once a manager has authorised it (`authorise-start`). Refused with 409 `outside-change-window` outside the window, and `change-frozen` while a freeze window on one of its services overlaps the work still planned (emergencies excepted); both name the window.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/start",
    tag = "changes",
    request_body = StartImplementation,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn start_implementation(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, Action::Start).await
}

/// Authorise starting a scheduled change outside its window, with a reason. Recorded as its own event (`change.start_authorised`) and voided by rescheduling. Not for emergency changes, which start at once, and not by the change's requester.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/authorise-start",
    tag = "changes",
    request_body = AuthoriseStart,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn authorise_start(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::AuthoriseStart(body))
    })
    .await
}

/// Record a rollout step: a canary at a percentage (increasing), a blue-green switch, or the full rollout. The last two are final.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/rollout-steps",
    tag = "changes",
    request_body = RecordRolloutStep,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn record_rollout_step(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::RecordRolloutStep(body))
    })
    .await
}

/// Complete an implementing change; its last rollout step must be final.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/complete",
    tag = "changes",
    request_body = Complete,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn complete(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Complete(body))
    })
    .await
}

/// Roll the change back, with the reason.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/rollback",
    tag = "changes",
    request_body = RollBack,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn roll_back(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::RollBack(body))
    })
    .await
}

/// Record that the implementation failed, with the reason.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/fail",
    tag = "changes",
    request_body = Fail,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn fail(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Fail(body))
    })
    .await
}

/// Write the post-implementation review: outcome, what went well and wrong, follow-up actions.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/review",
    tag = "changes",
    request_body = Review,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn review(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Review(body))
    })
    .await
}

/// Close the change: after its review (normal and emergency changes), and for an emergency change only once approved retrospectively; or withdraw a change never implemented, with a reason.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/close",
    tag = "changes",
    request_body = Close,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn close(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::Close(body))
    })
    .await
}

/// Add an internal note to a change. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/notes",
    tag = "changes",
    request_body = AddNote,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
    ),
    responses(CommutingAnswers),
)]
pub async fn add_note(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Change(ChangeCommand::AddNote(body))
    })
    .await
}

/// Schedule (or reschedule) a change into a window.
///
/// Times are RFC 3339 with an offset, or local times in `time_zone`
/// (default `Asia/Shanghai`); they are stored in UTC. Refused inside a
/// freeze window unless the change is an emergency. A window that overlaps
/// another change booked on one of the same services is refused with `409`
/// `schedule-conflict` listing the changes in the way, unless
/// `override_conflicts` is set with an `override_reason`, which is recorded.
/// Each affected service's calendar gets the booking in the same transaction;
/// two changes can never both take a window.
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/schedule",
    tag = "changes",
    request_body = ScheduleChange,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on."),
    ),
    responses(
        (status = 200, description = "The change, scheduled", body = TicketDoc),
        (status = 404, description = "No such change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the change's state, inside a freeze window (`rule-violated`), or overlapping other changes (`schedule-conflict`, with `conflicts`); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn schedule(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, Action::Schedule).await
}

/// Take a scheduled change off the calendars; it returns to approved (or
/// assessed, if it was never approved).
#[utoipa::path(
    post,
    path = "/v1/changes/{id}/unschedule",
    tag = "changes",
    request_body = Unschedule,
    params(
        ("id" = String, Path, description = "Change id (UUID) or number (CHG-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on."),
    ),
    responses(
        (status = 200, description = "The change, off the calendars", body = TicketDoc),
        (status = 404, description = "No such change", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The change is not scheduled; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn unschedule(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, Action::Unschedule).await
}

/// Declare a freeze window: no change may be scheduled into it on the
/// service (or on any service, when `service` is left out), except
/// emergency changes.
#[utoipa::path(
    post,
    path = "/v1/changes/freezes",
    tag = "changes",
    request_body = DeclareFreeze,
    params(
    ),
    responses(
        (status = 201, description = "Declared", body = FreezeWindow),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn declare_freeze(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<DeclareFreeze>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.commands.declare_freeze(&ctx, &body.value).await?;
    Ok(send_document(answer, StatusCode::CREATED))
}

/// Lift a freeze window; it stays in the history and on the calendar, marked lifted.
#[utoipa::path(
    post,
    path = "/v1/changes/freezes/{id}/lift",
    tag = "changes",
    request_body = LiftFreeze,
    params(
        ("id" = Uuid, Path, description = "The freeze window's id"),
    ),
    responses(
        (status = 200, description = "Lifted", body = FreezeWindow),
        (status = 404, description = "No such freeze window", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Already lifted; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn lift_freeze(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<Uuid>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<LiftFreeze>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let answer = state.commands.lift_freeze(&ctx, *id, &body.value).await?;
    Ok(send_document(answer, StatusCode::OK))
}

/// A time as the calendar takes it: RFC 3339 with an offset, or a local
/// `YYYY-MM-DDTHH:MM[:SS]` in `time_zone` (documentation of
/// [`zoned::TIME_PATTERN`]).
pub struct LocalOrInstant;

impl utoipa::PartialSchema for LocalOrInstant {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(zoned::TIME_PATTERN))
            .into()
    }
}

impl ToSchema for LocalOrInstant {}

/// An IANA time zone name of the tz database (documentation of
/// [`zoned::ZONE_PATTERN`] and [`zoned::ZONE_MAX_LENGTH`]).
pub struct ZoneName;

impl utoipa::PartialSchema for ZoneName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .pattern(Some(zoned::ZONE_PATTERN))
            .max_length(Some(zoned::ZONE_MAX_LENGTH))
            .into()
    }
}

impl ToSchema for ZoneName {}

/// The range and zone of the calendar.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct CalendarParams {
    /// Start of the range: RFC 3339, or a local `YYYY-MM-DDTHH:MM[:SS]` in `time_zone`. Now if left out.
    #[param(inline, value_type = Option<LocalOrInstant>)]
    pub from: Option<String>,
    /// End of the range, as `from`; after `from` and at most 366 days after it (400 otherwise). 30 days after `from` if left out.
    #[param(inline, value_type = Option<LocalOrInstant>)]
    pub to: Option<String>,
    /// IANA zone for local input and for the `*_local` fields; `Asia/Shanghai` if left out.
    #[param(inline, value_type = Option<ZoneName>)]
    pub time_zone: Option<String>,
}

/// A change on the calendar.
#[derive(Debug, Serialize, ToSchema)]
pub struct CalendarChange {
    /// The change's identifier (UUID).
    pub id: Uuid,
    /// The change's human-facing reference, e.g. `CHG-2026-000007`.
    pub number: String,
    /// The change in one line.
    pub title: String,
    /// How the change is authorised.
    pub change_type: ChangeType,
    /// Where the change is in its life.
    pub status: ChangeStatus,
    /// The services the change touches; it is booked on each one's calendar.
    pub affected_services: Vec<String>,
    /// When the change's window starts (RFC 3339 date-time, UTC).
    pub start: DateTime<Utc>,
    /// When the change's window ends (RFC 3339 date-time, UTC).
    pub end: DateTime<Utc>,
    /// `start` in the calendar's time zone.
    pub start_local: String,
    /// `end` in the calendar's time zone.
    pub end_local: String,
    /// Unlifted freeze windows over this change's window and one of its
    /// services: it was scheduled before they were declared, or it is an
    /// emergency change. Empty when nothing freezes it.
    pub frozen_by: Vec<Uuid>,
}

/// Scheduled changes and freeze windows overlapping a range.
#[derive(Debug, Serialize, ToSchema)]
pub struct Calendar {
    /// Start of the range shown (RFC 3339 date-time, UTC): the `from` asked
    /// for, or the time of the request if it was left out.
    pub from: DateTime<Utc>,
    /// End of the range shown, exclusive (RFC 3339 date-time, UTC): the `to`
    /// asked for, or 30 days after `from` if it was left out.
    pub to: DateTime<Utc>,
    /// The zone of every `*_local` field.
    pub time_zone: String,
    /// Earliest first; at most 500.
    pub changes: Vec<CalendarChange>,
    /// Earliest first, lifted ones included (marked). Local times are in the calendar's zone.
    pub freezes: Vec<FreezeWindow>,
}

const CALENDAR_LIMIT: u32 = 500;

/// The change calendar: changes whose window overlaps `[from, to)` and
/// the freeze windows that do.
#[utoipa::path(
    get,
    path = "/v1/changes/calendar",
    tag = "changes",
    params(CalendarParams),
    responses(
        (status = 200, description = "The calendar", body = Calendar),
    ),
)]
pub async fn calendar(params: Query<CalendarParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let mut v = Validator::new();
    let zone = zoned::parse_zone(&mut v, "/time_zone", params.time_zone.as_deref());
    let instant = |v: &mut Validator, name: &str, value: &Option<String>| match (value, zone) {
        (Some(s), Some(z)) => zoned::parse_instant(v, &format!("/{name}"), s, z),
        _ => None,
    };
    let from = instant(&mut v, "from", &params.from);
    let to = instant(&mut v, "to", &params.to);
    v.finish().map_err(ApiError::of_query)?;
    // A zone that does not parse is among the errors just returned.
    let zone_name = zone.map_or(zoned::DEFAULT_TIME_ZONE, |z| z.name()).to_owned();
    let from = from.unwrap_or_else(Utc::now);
    let to = to.unwrap_or(from + TimeDelta::days(30));
    if to <= from || to - from > TimeDelta::days(366) {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "/to",
            messages::field_calendar_span(),
        )]));
    }

    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let rows = tickets::change_calendar(&client, from, to, CALENDAR_LIMIT).await?;
    let mut scheduled = Vec::with_capacity(rows.len());
    for row in rows {
        let change: Change = serde_json::from_value(row.view)
            .map_err(|e| ApiError::Internal(format!("the view of {} does not decode: {e}", row.id)))?;
        if let Some(window) = change.window.clone() {
            scheduled.push((change, window));
        }
    }
    // One read of the freezes over the whole span the calendar shows: the
    // range, and the windows of changes that reach beyond it.
    let span_start = scheduled.iter().map(|(_, w)| w.start).fold(from, DateTime::min);
    let span_end = scheduled.iter().map(|(_, w)| w.end).fold(to, DateTime::max);
    let freeze_calendar = FreezeCalendar {
        windows: schedules::freezes_overlapping(&client, None, span_start, span_end).await?,
        version: 0,
    };
    let mut changes = Vec::with_capacity(scheduled.len());
    for (change, window) in scheduled {
        let frozen_by = freeze_calendar
            .active_overlapping(&change.affected_services, window.start, window.end)
            .iter()
            .map(|w| w.id)
            .collect();
        changes.push(CalendarChange {
            id: change.id,
            number: change.number,
            title: change.title,
            change_type: change.change_type,
            status: change.status,
            affected_services: change.affected_services,
            start_local: zoned::local(window.start, &zone_name),
            end_local: zoned::local(window.end, &zone_name),
            start: window.start,
            end: window.end,
            frozen_by,
        });
    }
    let mut freezes: Vec<FreezeWindow> = freeze_calendar
        .windows
        .into_iter()
        .filter(|w| w.start < to && w.end > from)
        .map(|mut w| {
            w.start_local = zoned::local(w.start, &zone_name);
            w.end_local = zoned::local(w.end, &zone_name);
            w.time_zone = zone_name.clone();
            w
        })
        .collect();
    freezes.sort_by_key(|w| (w.start, w.id));
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(Calendar {
            from,
            to,
            time_zone: zone_name,
            changes,
            freezes,
        }))
}
