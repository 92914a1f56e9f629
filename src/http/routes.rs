//! Every route of the API, each declared once. A handler's
//! `#[utoipa::path]` names its method and path; [`table`] lists the
//! handlers, and from that one list [`configure`] registers them with
//! actix and [`super::openapi::document`] documents them.
//!
//! Each route also names the permissions of the matrix
//! (`domain::permissions`) that admit a caller, any one of them: the table
//! enforces it before the handler runs (401 without a valid token, 403
//! without the permission) and documents it as `x-required-permission`
//! and as the scopes of the operation's security requirement. Handlers
//! check only what depends on the request (naming a data subject, say).
//!
//! Routes that share a path are one actix resource, so a method the path
//! does not serve is answered `405 Method Not Allowed` with an `Allow`
//! header (RFC 9110 §15.5.6), not the 404 that separately registered
//! routes give (actix-web #2735); and every `GET` answers `HEAD` too
//! (RFC 9110 §9.3.2: the server sends the headers of the `GET` and no
//! body).

use actix_web::body::BoxBody;
use actix_web::dev::ServiceRequest;
use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::middleware::{Next, from_fn};
use actix_web::{HttpResponse, ResponseError, web};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{RefOr, schema::Schema};

use crate::domain::permissions::Permission::{self, *};

use super::auth::Principal;
use super::error::ApiError;
use super::{
    audit, business_calendars, changes, complaints, events, faults, history, links, ops, sla_policy, subjects, tickets,
};

/// One operation of the API.
pub struct Route {
    pub method: HttpMethod,
    pub path: String,
    /// The handler, as an actix route for a method.
    handler: fn(Method) -> actix_web::Route,
    pub operation: Operation,
    /// The schemas the operation refers to.
    pub schemas: Vec<(String, RefOr<Schema>)>,
    /// The permissions that admit a caller, any one of them; none for a
    /// public route.
    pub requires: &'static [Permission],
}

impl Route {
    /// The route of the handler whose `#[utoipa::path]` generated `P`.
    /// (utoipa-actix-web reads a handler's documentation through the same
    /// traits.)
    ///
    /// Its `operationId` is `operation_id`: unique in the document (OpenAPI
    /// requires it), and the name generated clients give the call.
    pub fn new<P>(operation_id: &str, requires: &'static [Permission], handler: fn(Method) -> actix_web::Route) -> Route
    where
        P: utoipa::Path + utoipa::__dev::SchemaReferences + utoipa::__dev::Tags<'static>,
    {
        let Ok([method]) = <[HttpMethod; 1]>::try_from(P::methods()) else {
            panic!("{}: give each handler exactly one method", P::path());
        };
        let mut schemas = Vec::new();
        P::schemas(&mut schemas);
        let mut operation = P::operation();
        operation.operation_id = Some(operation_id.to_owned());
        let tags = P::tags();
        if !tags.is_empty() {
            operation
                .tags
                .get_or_insert_with(Vec::new)
                .extend(tags.into_iter().map(str::to_owned));
        }
        Route {
            method,
            path: P::path(),
            handler,
            operation,
            schemas,
            requires,
        }
    }

    /// The actix route of the handler for `method`, behind the check of
    /// the route's permissions.
    fn service(&self, method: Method) -> actix_web::Route {
        let route = (self.handler)(method);
        let requires = self.requires;
        if requires.is_empty() {
            return route;
        }
        route.wrap(from_fn(
            move |mut req: ServiceRequest, next: Next<BoxBody>| async move {
                // Answered here rather than returned as an error, which
                // would pass the outer middleware by: the refusal carries
                // the request's ids and language and is counted like every
                // other answer.
                if let Err(refused) = authorize(&mut req, requires).await {
                    return Ok(req.error_response(refused));
                }
                next.call(req).await
            },
        ))
    }

    fn actix_method(&self) -> Method {
        match self.method {
            HttpMethod::Get => Method::GET,
            HttpMethod::Post => Method::POST,
            HttpMethod::Put => Method::PUT,
            HttpMethod::Delete => Method::DELETE,
            HttpMethod::Patch => Method::PATCH,
            HttpMethod::Head => Method::HEAD,
            HttpMethod::Options => Method::OPTIONS,
            HttpMethod::Trace => Method::TRACE,
        }
    }
}

/// A caller admitted by one of `requires`: 401 without a valid token, 403
/// without any of them.
async fn authorize(req: &mut ServiceRequest, requires: &[Permission]) -> Result<(), ApiError> {
    let principal = req.extract::<Principal>().await?;
    match requires {
        [only] => principal.require(*only),
        any if any.iter().any(|p| principal.can(*p)) => Ok(()),
        [first, ..] => principal.require(*first),
        [] => Ok(()),
    }
}

/// The route of a handler and the permissions that admit a caller:
/// `route!(complaints::acknowledge, &[ComplaintHandle])`, whose
/// `operationId` is `complaints_acknowledge`, or
/// `route!(faults::escalate as "complaints_escalate", &[ComplaintEscalate])`.
macro_rules! route {
    ($module:ident :: $handler:ident, $requires:expr) => {
        route!(
            $module::$handler as concat!(stringify!($module), "_", stringify!($handler)),
            $requires
        )
    };
    ($module:ident :: $handler:ident as $operation_id:expr, $requires:expr) => {
        pastey::paste! {
            Route::new::<$module::[<__path_ $handler>]>($operation_id, $requires, |method| {
                web::method(method).to($module::$handler)
            })
        }
    };
}

/// Every operation of the API, in the order the documentation lists them.
pub fn table() -> Vec<Route> {
    vec![
        route!(complaints::file_complaint as "complaints_file", &[ComplaintFile]),
        route!(complaints::acknowledge, &[ComplaintHandle]),
        route!(complaints::assign, &[ComplaintAssign]),
        route!(complaints::add_note, &[ComplaintNote]),
        route!(complaints::wait_on_customer, &[ComplaintHandle]),
        route!(complaints::resume, &[ComplaintHandle]),
        route!(complaints::resolve, &[ComplaintHandle]),
        route!(complaints::record_satisfaction, &[ComplaintHandle]),
        route!(complaints::close, &[ComplaintHandle]),
        route!(complaints::reopen, &[ComplaintHandle]),
        route!(complaints::correct, &[ComplaintHandle]),
        route!(complaints::change_priority, &[ComplaintHandle]),
        route!(faults::escalate as "complaints_escalate", &[ComplaintEscalate]),
        route!(faults::report_fault as "faults_report", &[FaultReport]),
        route!(faults::triage, &[FaultTriage]),
        route!(faults::assign_technician, &[FaultTriage]),
        route!(faults::evaluate, &[FaultWork]),
        route!(faults::start_investigation, &[FaultWork]),
        route!(faults::mitigate, &[FaultWork]),
        route!(faults::resolve, &[FaultWork]),
        route!(faults::close, &[FaultWork]),
        route!(faults::reopen, &[FaultWork]),
        route!(faults::log_repair, &[FaultWork]),
        route!(faults::void_repair, &[FaultWork]),
        route!(faults::write_review, &[FaultWork]),
        route!(faults::complete_action_item, &[FaultWork]),
        route!(faults::add_note, &[FaultWork]),
        route!(faults::correct_affected_service, &[FaultWork]),
        route!(faults::queue, &[FaultRead]),
        route!(changes::draft, &[ChangeRequest]),
        route!(changes::amend, &[ChangeRequest]),
        route!(changes::submit, &[ChangeRequest]),
        route!(changes::assess, &[ChangeAssess]),
        route!(changes::amend_plan, &[ChangeAssess]),
        route!(changes::approve, &[ChangeApprove]),
        route!(changes::reject, &[ChangeApprove]),
        route!(changes::assign, &[ChangeSchedule]),
        route!(changes::schedule, &[ChangeSchedule]),
        route!(changes::unschedule, &[ChangeSchedule]),
        route!(changes::authorise_start, &[ChangeSchedule]),
        route!(changes::start_implementation, &[ChangeImplement]),
        route!(changes::record_rollout_step, &[ChangeImplement]),
        route!(changes::complete, &[ChangeImplement]),
        route!(changes::roll_back, &[ChangeImplement]),
        route!(changes::fail, &[ChangeImplement]),
        route!(changes::review, &[ChangeImplement]),
        route!(changes::close, &[ChangeImplement]),
        route!(changes::add_note, &[ChangeRequest]),
        route!(changes::calendar, &[ChangeRead]),
        route!(changes::declare_freeze, &[FreezeManage]),
        route!(changes::lift_freeze, &[FreezeManage]),
        route!(business_calendars::define, &[BusinessCalendarManage]),
        route!(business_calendars::list, &[TicketRead]),
        route!(business_calendars::amend, &[BusinessCalendarManage]),
        route!(business_calendars::get, &[TicketRead]),
        route!(sla_policy::get as "sla_policy_get", &[TicketRead]),
        route!(sla_policy::amend as "sla_policy_amend", &[SlaPolicyManage]),
        route!(links::link as "tickets_link", &[TicketLink]),
        route!(links::unlink as "tickets_unlink", &[TicketLink]),
        route!(tickets::get_ticket as "tickets_get", &[TicketRead]),
        route!(tickets::list, &[TicketRead]),
        route!(history::history as "tickets_history", &[TicketRead]),
        route!(events::page, &[EventsRead, TicketRead]),
        route!(events::stream, &[EventsRead, TicketRead]),
        route!(audit::verify, &[AuditRead]),
        route!(subjects::find, &[SubjectAdmin]),
        route!(subjects::erase, &[SubjectAdmin]),
        route!(subjects::export, &[SubjectAdmin]),
        route!(subjects::merge, &[SubjectAdmin]),
        route!(audit::pii_access as "subjects_pii_access", &[AuditRead]),
        route!(ops::healthz, &[]),
        route!(ops::readyz, &[]),
        route!(ops::metrics, &[]),
    ]
}

/// The routes grouped by path, in the order of their first appearance;
/// each group is one resource.
pub fn by_path(routes: Vec<Route>) -> Vec<(String, Vec<Route>)> {
    let mut groups: Vec<(String, Vec<Route>)> = Vec::new();
    for route in routes {
        match groups.iter_mut().find(|(path, _)| *path == route.path) {
            Some((_, group)) => group.push(route),
            None => groups.push((route.path.clone(), vec![route])),
        }
    }
    groups
}

/// The `Allow` header of a resource serving `routes`: their methods, and
/// `HEAD` wherever `GET` is served.
pub fn allow(routes: &[Route]) -> String {
    let mut methods: Vec<Method> = Vec::new();
    for route in routes {
        methods.push(route.actix_method());
        if route.method == HttpMethod::Get {
            methods.push(Method::HEAD);
        }
    }
    methods.iter().map(Method::as_str).collect::<Vec<_>>().join(", ")
}

/// Registers every route of [`table`].
pub fn configure(cfg: &mut web::ServiceConfig) {
    for (path, routes) in by_path(table()) {
        let allowed = allow(&routes);
        let mut resource = web::resource(path);
        for route in &routes {
            let method = route.actix_method();
            if method == Method::GET {
                resource = resource.route(route.service(Method::HEAD));
            }
            resource = resource.route(route.service(method));
        }
        cfg.service(resource.default_service(web::to(move || {
            let allowed = allowed.clone();
            async move { method_not_allowed(&allowed) }
        })));
    }
}

/// `405` as a problem document, with the methods the resource serves.
fn method_not_allowed(allowed: &str) -> HttpResponse {
    let mut response = ApiError::MethodNotAllowed.error_response();
    if let Ok(value) = HeaderValue::from_str(allowed) {
        response.headers_mut().insert(header::ALLOW, value);
    }
    response
}

#[cfg(test)]
mod tests {
    use actix_web::dev::ResourceDef;

    use super::*;

    #[test]
    fn no_resource_shadows_another() {
        // Each path answers every method (405 for the ones it does not
        // serve), so a path that also matched a later resource's requests
        // would hide that resource.
        let groups = by_path(table());
        for (i, (path, _)) in groups.iter().enumerate() {
            let request = path.replace("{id}", "CMP-2026-000001");
            for (earlier, _) in &groups[..i] {
                assert!(
                    !ResourceDef::new(earlier.as_str()).is_match(&request),
                    "{earlier} would answer {request} meant for {path}"
                );
            }
        }
    }

    #[test]
    fn every_operation_has_its_own_id() {
        let mut ids: Vec<String> = table()
            .into_iter()
            .map(|r| r.operation.operation_id.expect("an operationId"))
            .collect();
        let count = ids.len();
        ids.sort();
        ids.dedup();
        assert_eq!(ids.len(), count, "duplicated operationIds");
        assert!(ids.contains(&"complaints_close".to_owned()) && ids.contains(&"faults_close".to_owned()));
    }

    #[test]
    fn a_resource_allows_head_wherever_it_serves_get() {
        let groups = by_path(table());
        let (_, ticket) = groups
            .iter()
            .find(|(path, _)| path == "/v1/tickets/{id}")
            .expect("the ticket resource");
        assert_eq!(allow(ticket), "GET, HEAD");
        let (_, filing) = groups
            .iter()
            .find(|(path, _)| path == "/v1/complaints")
            .expect("the complaints resource");
        assert_eq!(allow(filing), "POST");
    }
}
