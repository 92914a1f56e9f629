//! `POST /v1/faults`, one endpoint per fault command, escalation of a
//! complaint into a fault, and the fault queue.

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use serde::Deserialize;
use serde_json::Value;
use utoipa::IntoParams;

use crate::app::commands::{Action, TicketCommand};
use crate::domain::fault::{
    AddNote, AssignTechnician, Close, CompleteActionItem, CorrectAffectedService, EscalateComplaint, Evaluate,
    FaultCommand, LogRepair, Mitigate, Reopen, ReportFault, Resolve, StartInvestigation, Triage, ValidReport,
    VoidRepair, WriteReview,
};
use crate::domain::{FieldError, messages as domain_messages};
use crate::projections::tickets;
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::{CommutingAnswers, TransitionAnswers};
use super::commands::{act_on, run};
use super::error::{ApiError, Problem};
use super::messages;
use super::query::Query;
use super::request::command_context;
use super::tickets::{PRIVATE, TicketDoc, TicketPage};

/// Report a fault.
///
/// Returns the new fault with its number (`FLT-2026-000123`), a `Location`
/// and an `ETag`. A manager triages it next.
#[utoipa::path(
    post,
    path = "/v1/faults",
    tag = "faults",
    request_body = ReportFault,
    params(
    ),
    responses(
        (status = 201, description = "Reported", body = TicketDoc,
            headers(("Location" = String, description = "The ticket"))),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn report_fault(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<ReportFault>(&req, payload).await?;
    let ctx = command_context(&req, &principal, &body.raw)?;
    let report = ValidReport::check(body.value)?;
    run(&req, &principal, &state, &ctx, TicketCommand::Report(report)).await
}

/// Escalate a complaint into a new fault.
///
/// Creates the fault (detected by a customer complaint, linked back to the
/// complaint) and records the escalation on the complaint, atomically: both
/// or neither. Returns the new fault; the complaint's new version is on its
/// own view. `If-Match` names the complaint's version.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/escalate",
    tag = "complaints",
    request_body = EscalateComplaint,
    params(
        ("id" = String, Path, description = "Complaint id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the complaint version this escalation is based on."),
    ),
    responses(
        (status = 201, description = "The new fault", body = TicketDoc,
            headers(("Location" = String, description = "The fault"))),
        (status = 404, description = "No such complaint", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Not allowed in the complaint's state, or already escalated; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
        (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn escalate(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, Action::Escalate).await
}

/// Triage a fault: severity (1 critical … 4 low), the engineer who evaluates it, and, at severity 1 (which cannot stay unassigned), its technician. Also re-triages an open fault.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/triage",
    tag = "faults",
    request_body = Triage,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn triage(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::Triage(body))
    })
    .await
}

/// Assign (or reassign) the technician who works the fault.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/assign",
    tag = "faults",
    request_body = AssignTechnician,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn assign_technician(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::AssignTechnician(body))
    })
    .await
}

/// Record the evaluation: nature of the problem, estimated effort, proposed priority. Only the evaluator named at triage may.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/evaluate",
    tag = "faults",
    request_body = Evaluate,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn evaluate(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::Evaluate(body))
    })
    .await
}

/// Start investigating a triaged fault (needs a technician).
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/investigate",
    tag = "faults",
    request_body = StartInvestigation,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn start_investigation(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::StartInvestigation(body))
    })
    .await
}

/// Record that a workaround is in place.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/mitigate",
    tag = "faults",
    request_body = Mitigate,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn mitigate(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::Mitigate(body))
    })
    .await
}

/// Resolve a fault with its resolution and root cause. Every complaint the fault concerns gets the resolution on its own history, in the same transaction.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/resolve",
    tag = "faults",
    request_body = Resolve,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn resolve(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::Resolve(body))
    })
    .await
}

/// Close a resolved fault; severity 1 and 2 need a post-incident review first.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/close",
    tag = "faults",
    request_body = Close,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
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
        Action::Fault(FaultCommand::Close(body))
    })
    .await
}

/// Reopen a resolved or closed fault.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/reopen",
    tag = "faults",
    request_body = Reopen,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn reopen(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::Reopen(body))
    })
    .await
}

/// Log a repair (a maintenance record): technician, action taken, start and end, person-minutes, maintenance type, parts. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/repairs",
    tag = "faults",
    request_body = LogRepair,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
    ),
    responses(CommutingAnswers),
)]
pub async fn log_repair(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::LogRepair(body))
    })
    .await
}

/// Write the post-incident review of a resolved fault: summary, root cause, contributing factors, action items.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/review",
    tag = "faults",
    request_body = WriteReview,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn write_review(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::WriteReview(body))
    })
    .await
}

/// Mark one action item of the post-incident review done. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/review/completed-items",
    tag = "faults",
    request_body = CompleteActionItem,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
    ),
    responses(CommutingAnswers),
)]
pub async fn complete_action_item(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::CompleteActionItem(body))
    })
    .await
}

/// Void a repair logged in error, naming it by its ordinal (`repair` in the view), with the reason.
///
/// The repair stays on the fault, marked `voided` (who, when, why), and no longer counts towards the fault's
/// person-minutes. A repair is voided once.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/repairs/voided",
    tag = "faults",
    request_body = VoidRepair,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn void_repair(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::VoidRepair(body))
    })
    .await
}

/// Correct the service a triaged fault affects, with the reason (severity changes by triaging again).
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/affected-service",
    tag = "faults",
    request_body = CorrectAffectedService,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn correct_affected_service(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Fault(FaultCommand::CorrectAffectedService(body))
    })
    .await
}

/// Add an internal note to a fault. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/faults/{id}/notes",
    tag = "faults",
    request_body = AddNote,
    params(
        ("id" = String, Path, description = "Fault id (UUID) or number (FLT-2026-000123)"),
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
        Action::Fault(FaultCommand::AddNote(body))
    })
    .await
}

/// Paging of the fault queue.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct QueueParams {
    /// How many faults, 1 to 500 (default 100).
    #[param(minimum = 1, maximum = 500)]
    pub limit: Option<u32>,
    /// The `next_cursor` of the previous page. The queue is live: a fault
    /// triaged to another severity meanwhile may move past the cursor.
    pub cursor: Option<String>,
}

/// The fault queue: every open fault (not resolved or closed), untriaged
/// first, then by severity (critical first), oldest first within each.
#[utoipa::path(
    get,
    path = "/v1/faults/queue",
    tag = "faults",
    params(QueueParams),
    responses(
        (status = 200, description = "Open faults in working order; `next_cursor` when more follow", body = TicketPage),
    ),
)]
pub async fn queue(params: Query<QueueParams>, state: web::Data<AppState>) -> Result<HttpResponse, ApiError> {
    let limit = params.limit.unwrap_or(100);
    if !(1..=500).contains(&limit) {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "/limit",
            domain_messages::field_range(1, 500),
        )]));
    }
    let after = params
        .cursor
        .as_deref()
        .map(|c| {
            tickets::QueueCursor::decode(c, &state.cursor_key).ok_or_else(|| {
                ApiError::InvalidQuery(vec![FieldError::new("/cursor", messages::field_foreign_queue_cursor())])
            })
        })
        .transpose()?;
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let (rows, next) = tickets::fault_queue(&client, after, limit).await?;
    // Faults carry no personal data, so there is nothing to reveal or mask.
    let items: Vec<Value> = rows.into_iter().map(tickets::TicketRow::into_client_view).collect();
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(super::tickets::ViewPage {
            items,
            next_cursor: next.map(|c| c.encode(&state.cursor_key)),
        }))
}
