//! `POST /v1/complaints` and one endpoint per complaint command.

use actix_web::http::StatusCode;
use actix_web::{HttpRequest, HttpResponse, web};

use crate::domain::complaint::{
    Acknowledge, AddNote, Assign, Close, ComplaintCommand, FileComplaint, RecordSatisfaction, Reopen, Resolve, Resume,
    WaitOnCustomer,
};
use crate::domain::permissions::Permission;

use super::AppState;
use super::auth::Principal;
use super::body;
use super::error::{ApiError, Problem};
use super::request::command_context;
use super::tickets::{TicketDoc, run_on_ticket, send_outcome, stored_response};

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
        ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe: the first response to this key is returned again; the same key with a different body is refused (422)."),
    ),
    responses(
        (status = 201, description = "Filed", body = TicketDoc,
            headers(("Location" = String, description = "The ticket"), ("ETag" = String, description = "Current version"), ("Ticket-Version" = u64, description = "The version the ETag names, in clear (the ETag itself is opaque)"))),
        (status = 400, description = "Malformed JSON", body = Problem, content_type = "application/problem+json"),
        (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
        (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "A request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
        (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
    security(("bearer" = []))
)]
pub async fn file_complaint(
    req: HttpRequest,
    principal: Principal,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    principal.require(Permission::ComplaintFile)?;
    let body = body::read::<FileComplaint>(&req, payload).await?;
    if body.value.subject.is_some() {
        // Naming a subject joins this complainant's data to theirs: only for
        // those who may see whose data is whose.
        principal.require(Permission::PiiRead)?;
    }
    let ctx = command_context(&req, &principal, &body.raw)?;
    let render = |row: &_| stored_response(&state, row, &principal, StatusCode::CREATED, true);
    let outcome = state.commands.file_complaint(&ctx, &body.value, render).await?;
    send_outcome(&req, &principal, &state, outcome, StatusCode::CREATED, true).await
}

/// Runs one command against an existing complaint.
async fn run(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    id: &str,
    command: ComplaintCommand,
    raw: &[u8],
    commutes: bool,
) -> Result<HttpResponse, ApiError> {
    run_on_ticket(
        req,
        principal,
        state,
        id,
        raw,
        commutes,
        async |ctx, target, precondition, render| {
            state
                .commands
                .handle_complaint(ctx, target, &command, precondition, render)
                .await
        },
    )
    .await
}

/// Declares one complaint command endpoint (see [`super::command_endpoint`]).
macro_rules! complaint_command {
    ($(#[doc = $doc:literal])* $name:ident, $($rest:tt)*) => {
        command_endpoint!(
            tag = "complaints",
            id = "Ticket id (UUID) or number (CMP-2026-000123)",
            commuting = "The ETag of the version this change is based on. Required unless the command commutes (adding a note).",
            not_found = "No such complaint",
            conflict = "Not allowed in the complaint's current state (the problem names state and command); or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)",
            run = run,
            command = ComplaintCommand,
            $(#[doc = $doc])* $name, $($rest)*
        );
    };
}

complaint_command!(
    /// Acknowledge a complaint: the first response to the complainant.
    acknowledge, "/v1/complaints/{id}/acknowledge", Acknowledge, Acknowledge, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Assign a complaint to a team, a person, or both.
    assign, "/v1/complaints/{id}/assign", Assign, Assign, Permission::ComplaintAssign, commutes = false);
complaint_command!(
    /// Add an internal note or a progress update sent to the complainant. Commutes: no If-Match needed.
    add_note, "/v1/complaints/{id}/notes", AddNote, AddNote, Permission::ComplaintNote, commutes = true);
complaint_command!(
    /// Put a complaint on hold until the customer answers.
    wait_on_customer, "/v1/complaints/{id}/wait-on-customer", WaitOnCustomer, WaitOnCustomer, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Resume work on a complaint that was waiting on the customer.
    resume, "/v1/complaints/{id}/resume", Resume, Resume, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Resolve a complaint with its resolution and root cause.
    resolve, "/v1/complaints/{id}/resolve", Resolve, Resolve, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Record the customer's satisfaction (1–5) with the resolution.
    record_satisfaction, "/v1/complaints/{id}/satisfaction", RecordSatisfaction, RecordSatisfaction, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Close a resolved complaint.
    close, "/v1/complaints/{id}/close", Close, Close, Permission::ComplaintHandle, commutes = false);
complaint_command!(
    /// Reopen a resolved complaint.
    reopen, "/v1/complaints/{id}/reopen", Reopen, Reopen, Permission::ComplaintHandle, commutes = false);

pub fn configure(cfg: &mut web::ServiceConfig) {
    cfg.service(web::resource("/v1/complaints").route(web::post().to(file_complaint)))
        .service(web::resource("/v1/complaints/{id}/acknowledge").route(web::post().to(acknowledge)))
        .service(web::resource("/v1/complaints/{id}/assign").route(web::post().to(assign)))
        .service(web::resource("/v1/complaints/{id}/notes").route(web::post().to(add_note)))
        .service(web::resource("/v1/complaints/{id}/wait-on-customer").route(web::post().to(wait_on_customer)))
        .service(web::resource("/v1/complaints/{id}/resume").route(web::post().to(resume)))
        .service(web::resource("/v1/complaints/{id}/resolve").route(web::post().to(resolve)))
        .service(web::resource("/v1/complaints/{id}/satisfaction").route(web::post().to(record_satisfaction)))
        .service(web::resource("/v1/complaints/{id}/close").route(web::post().to(close)))
        .service(web::resource("/v1/complaints/{id}/reopen").route(web::post().to(reopen)));
}

/// `Location` of a ticket.
pub fn location(id: uuid::Uuid) -> String {
    format!("/v1/tickets/{id}")
}
