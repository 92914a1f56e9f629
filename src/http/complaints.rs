//! `POST /v1/complaints` and one endpoint per complaint command.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::commands::{Action, TicketCommand};
use crate::domain::complaint::{
    Acknowledge, AddNote, Assign, ChangePriority, Close, ComplaintCommand, CorrectDetails, FileComplaint,
    RecordSatisfaction, Reopen, Resolve, Resume, ValidFiling, WaitOnCustomer,
};
use crate::domain::permissions::Permission;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::commands::{CommutingAnswers, TransitionAnswers};
use super::commands::{act, act_on, run};
use super::error::{ApiError, Problem};
use super::request::command_context;
use super::tickets::TicketDoc;

/// File a customer complaint.
///
/// Returns the new ticket with its number (`CMP-2026-000123`), a `Location`
/// and an `ETag` for the first transition.
#[utoipa::path(
    post,
    path = "/v1/complaints",
    tag = "complaints",
    request_body = FileComplaint,
    params(
    ),
    responses(
        (status = 201, description = "Filed", body = TicketDoc,
            headers(("Location" = String, description = "The ticket"))),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn file_complaint(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<FileComplaint>(&req, payload).await?;
    if body.value.subject.is_some() {
        // Naming a subject joins this complainant's data to theirs: only for
        // those who may see whose data is whose.
        principal.require(Permission::PiiRead)?;
    }
    let ctx = command_context(&req, &principal, &body.raw)?;
    let filing = ValidFiling::check(body.value)?;
    run(&req, &principal, &state, &ctx, TicketCommand::File(filing)).await
}

/// Acknowledge a complaint: the first response to the complainant.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/acknowledge",
    tag = "complaints",
    request_body = Acknowledge,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn acknowledge(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Complaint(ComplaintCommand::Acknowledge(body))
    })
    .await
}

/// Assign a complaint to a team, a person, or both.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/assign",
    tag = "complaints",
    request_body = Assign,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
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
        Action::Complaint(ComplaintCommand::Assign(body))
    })
    .await
}

/// Add an internal note or a progress update sent to the complainant. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/notes",
    tag = "complaints",
    request_body = AddNote,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
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
        Action::Complaint(ComplaintCommand::AddNote(body))
    })
    .await
}

/// Put a complaint on hold until the customer answers.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/wait-on-customer",
    tag = "complaints",
    request_body = WaitOnCustomer,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn wait_on_customer(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Complaint(ComplaintCommand::WaitOnCustomer(body))
    })
    .await
}

/// Resume work on a complaint that was waiting on the customer.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/resume",
    tag = "complaints",
    request_body = Resume,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn resume(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Complaint(ComplaintCommand::Resume(body))
    })
    .await
}

/// Resolve a complaint with its resolution and root cause.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/resolve",
    tag = "complaints",
    request_body = Resolve,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
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
        Action::Complaint(ComplaintCommand::Resolve(body))
    })
    .await
}

/// Record the customer's satisfaction (1–5) with the resolution.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/satisfaction",
    tag = "complaints",
    request_body = RecordSatisfaction,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn record_satisfaction(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Complaint(ComplaintCommand::RecordSatisfaction(body))
    })
    .await
}

/// Close a resolved complaint.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/close",
    tag = "complaints",
    request_body = Close,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
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
        Action::Complaint(ComplaintCommand::Close(body))
    })
    .await
}

/// Reopen a resolved complaint.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/reopen",
    tag = "complaints",
    request_body = Reopen,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
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
        Action::Complaint(ComplaintCommand::Reopen(body))
    })
    .await
}

/// Correct what was recorded at filing: the category, the channel or the complainant's details, with the reason.
///
/// Recorded as `complaint.details_corrected`; the filing is never rewritten, and the view lists every correction
/// with the values it replaced (`corrections`). With `another_person`, the complainant is replaced whole and their
/// data subject resolved anew as at filing. Correcting the complainant or naming a subject needs `pii:read`.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/correct",
    tag = "complaints",
    request_body = CorrectDetails,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn correct(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let body = body::read::<CorrectDetails>(&req, payload).await?;
    if body.value.complainant.is_some() || body.value.subject.is_some() {
        // Whether a value given is the one recorded shows in the answer (a
        // correction that changes nothing is refused), and a subject named
        // joins data: only for those who may see personal data.
        principal.require(Permission::PiiRead)?;
    }
    act(
        &req,
        &principal,
        &state,
        &id,
        &body.raw,
        Action::CorrectComplaint(body.value),
    )
    .await
}

/// Change a complaint's priority, with the reason; while it is open.
#[utoipa::path(
    post,
    path = "/v1/complaints/{id}/priority",
    tag = "complaints",
    request_body = ChangePriority,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        ("If-Match" = String, Header, description = "The ETag of the version this command is based on; without it the command is refused (428)."),
    ),
    responses(TransitionAnswers),
)]
pub async fn change_priority(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Complaint(ComplaintCommand::ChangePriority(body))
    })
    .await
}
