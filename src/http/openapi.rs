//! The OpenAPI document, generated from the handlers and types by utoipa.
//! `openapi/openapi.json` is this document, committed; a test keeps them equal.

use utoipa::openapi::security::{Http, HttpAuthScheme, SecurityScheme};
use utoipa::{Modify, OpenApi};

use super::{audit, changes, complaints, events, faults, history, links, ops, subjects, tickets};

#[derive(OpenApi)]
#[openapi(
    info(
        title = "OpsLedger",
        description = "Event-sourced incident and change management. Every change is an immutable, hash-chained event; \
            views are folds of those events.\n\nErrors are RFC 9457 problem documents (`application/problem+json`) whose \
            `type` is a stable URN `urn:opsledger:problem:<kind>`.\n\nState transitions need `If-Match` with the \
            ticket's `ETag` (428 without, 412 when stale). Every POST accepts `Idempotency-Key`.\n\n\
            Personal data (complainant name, phone, email, customer reference, the description, progress updates \
            and the customer's comments) is stored only sealed under a key per data subject. Responses show it in \
            clear to callers allowed to see personal data (every such response is recorded in the access log \
            first), masked to everyone else, and as `[erased]` once the subject was erased. Which data subject \
            a complaint belongs to (`subject`) is shown only to callers allowed to see personal data.",
        license(name = "Apache-2.0"),
    ),
    paths(
        complaints::file_complaint,
        complaints::acknowledge,
        complaints::assign,
        complaints::add_note,
        complaints::wait_on_customer,
        complaints::resume,
        complaints::resolve,
        complaints::record_satisfaction,
        complaints::close,
        complaints::reopen,
        faults::escalate,
        faults::report_fault,
        faults::triage,
        faults::assign_technician,
        faults::evaluate,
        faults::start_investigation,
        faults::mitigate,
        faults::resolve,
        faults::close,
        faults::reopen,
        faults::log_repair,
        faults::write_review,
        faults::complete_action_item,
        faults::add_note,
        faults::queue,
        changes::draft,
        changes::amend,
        changes::submit,
        changes::assess,
        changes::amend_plan,
        changes::approve,
        changes::reject,
        changes::assign,
        changes::schedule,
        changes::unschedule,
        changes::start_implementation,
        changes::record_rollout_step,
        changes::complete,
        changes::roll_back,
        changes::fail,
        changes::review,
        changes::close,
        changes::add_note,
        changes::calendar,
        changes::declare_freeze,
        changes::lift_freeze,
        links::link,
        links::unlink,
        tickets::get_ticket,
        tickets::list,
        history::history,
        events::page,
        events::stream,
        audit::verify,
        subjects::find,
        subjects::erase,
        subjects::export,
        subjects::merge,
        audit::pii_access,
        ops::healthz,
        ops::readyz,
        ops::metrics,
    ),
    components(schemas(tickets::Receipt)),
    modifiers(&BearerAuth),
    tags(
        (name = "complaints", description = "Customer complaints, from filing to the customer's satisfaction"),
        (name = "faults", description = "Faults: report, triage, evaluation, repairs, resolution, post-incident review"),
        (name = "changes", description = "Change requests: assessment, approvals, scheduling around freeze windows, staged rollout, review"),
        (name = "tickets", description = "Current views, lists and histories of every kind of ticket"),
        (name = "events", description = "The gap-free global log: pages by position and a live SSE stream"),
        (name = "audit", description = "Tamper evidence: recompute every hash chain"),
        (name = "personal data", description = "Erasure, export and the access log of data subjects' personal data"),
        (name = "operations", description = "Health and readiness"),
    )
)]
pub struct ApiDoc;

struct BearerAuth;

impl Modify for BearerAuth {
    fn modify(&self, openapi: &mut utoipa::openapi::OpenApi) {
        let components = openapi.components.get_or_insert_with(Default::default);
        let mut scheme = Http::new(HttpAuthScheme::Bearer);
        scheme.bearer_format = Some("JWT".to_owned());
        scheme.description = Some(
            "A JWT from the configured identity provider (RS256, ES256 or EdDSA; HS256 in development mode). \
             Roles come from the `roles` claim, integration scopes from `scope`."
                .to_owned(),
        );
        components.add_security_scheme("bearer", SecurityScheme::Http(scheme));
    }
}

/// The document as committed in `openapi/openapi.json`.
pub fn pretty_json() -> String {
    ApiDoc::openapi().to_pretty_json().unwrap_or_default() + "\n"
}
