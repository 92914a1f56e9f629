//! `POST /v1/tickets/{id}/links` and `/unlink`: linking any two tickets, and removing a link.

use actix_web::{HttpRequest, HttpResponse, web};

use crate::app::commands::{Action, LinkCommand};
use crate::domain::link::{LinkTickets, UnlinkTickets};

use super::AppState;
use super::auth::Principal;
use super::commands::act_on;
use super::error::{ApiError, Problem};
use super::tickets::TicketDoc;

/// Link this ticket to another one: `relates_to`, `caused_by` or
/// `duplicates`. The link shows on both tickets (the other one gets the
/// inverse: `relates_to`, `causes`, `duplicated_by`), and both histories
/// record it. Linking a fault to a complaint lets agents read the fault and
/// informs the complaint when the fault is resolved. Commutes: no If-Match
/// needed.
#[utoipa::path(
    post,
    path = "/v1/tickets/{id}/links",
    tag = "tickets",
    request_body = LinkTickets,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number"),
    ),
    responses(
        (status = 200, description = "This ticket with its new link", body = TicketDoc),
        (status = 404, description = "No such ticket (or not one you may read)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "Linking a ticket to itself, or the two are already linked; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an unknown target, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn link(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Link(LinkCommand::Link(body))
    })
    .await
}

/// Remove the link between this ticket and another. Both tickets lose the
/// link and both histories record the removal with its reason; the link
/// event stays in them. A fault no longer linked to any complaint (and not
/// escalated from one) is no longer readable by agents, and is no longer
/// passed on to that complaint when resolved. Commutes: no If-Match needed.
#[utoipa::path(
    post,
    path = "/v1/tickets/{id}/unlink",
    tag = "tickets",
    request_body = UnlinkTickets,
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number"),
    ),
    responses(
        (status = 200, description = "This ticket without the link", body = TicketDoc),
        (status = 404, description = "No such ticket (or not one you may read)", body = Problem, content_type = "application/problem+json"),
        (status = 409, description = "The two tickets are not linked; or a request with the same Idempotency-Key still in progress (`idempotency-in-progress`; retry shortly)", body = Problem, content_type = "application/problem+json"),
        (status = 412, description = "If-Match is stale", body = Problem, content_type = "application/problem+json"),
        (status = 422, description = "Invalid fields, an unknown target, or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn unlink(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    payload: web::Payload,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    act_on(&req, &principal, &state, &id, payload, |body| {
        Action::Link(LinkCommand::Unlink(body))
    })
    .await
}
