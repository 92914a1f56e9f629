//! Every route of the API, each declared once. A handler's
//! `#[utoipa::path]` names its method and path; [`table`] lists the
//! handlers, and from that one list [`configure`] registers them with
//! actix and [`super::openapi::document`] documents them.
//!
//! Routes that share a path are one actix resource, so a method the path
//! does not serve is answered `405 Method Not Allowed` with an `Allow`
//! header (RFC 9110 §15.5.6), not the 404 that separately registered
//! routes give (actix-web #2735); and every `GET` answers `HEAD` too
//! (RFC 9110 §9.3.2: the server sends the headers of the `GET` and no
//! body).

use actix_web::http::Method;
use actix_web::http::header::{self, HeaderValue};
use actix_web::{HttpResponse, ResponseError, web};
use utoipa::openapi::path::{HttpMethod, Operation};
use utoipa::openapi::{RefOr, schema::Schema};

use super::error::ApiError;
use super::{audit, changes, complaints, events, faults, history, links, ops, subjects, tickets};

/// One operation of the API.
pub struct Route {
    pub method: HttpMethod,
    pub path: String,
    /// The handler, as an actix route for a method.
    handler: fn(Method) -> actix_web::Route,
    pub operation: Operation,
    /// The schemas the operation refers to.
    pub schemas: Vec<(String, RefOr<Schema>)>,
}

impl Route {
    /// The route of the handler whose `#[utoipa::path]` generated `P`.
    /// (utoipa-actix-web reads a handler's documentation through the same
    /// traits.)
    ///
    /// Its `operationId` is `operation_id`: unique in the document (OpenAPI
    /// requires it), and the name generated clients give the call.
    pub fn new<P>(operation_id: &str, handler: fn(Method) -> actix_web::Route) -> Route
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
        }
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

/// The route of a handler: `route!(complaints::acknowledge)`, whose
/// `operationId` is `complaints_acknowledge`, or
/// `route!(faults::escalate as "complaints_escalate")`.
macro_rules! route {
    ($module:ident :: $handler:ident) => {
        route!($module::$handler as concat!(stringify!($module), "_", stringify!($handler)))
    };
    ($module:ident :: $handler:ident as $operation_id:expr) => {
        pastey::paste! {
            Route::new::<$module::[<__path_ $handler>]>($operation_id, |method| {
                web::method(method).to($module::$handler)
            })
        }
    };
}

/// Every operation of the API, in the order the documentation lists them.
pub fn table() -> Vec<Route> {
    vec![
        route!(complaints::file_complaint as "complaints_file"),
        route!(complaints::acknowledge),
        route!(complaints::assign),
        route!(complaints::add_note),
        route!(complaints::wait_on_customer),
        route!(complaints::resume),
        route!(complaints::resolve),
        route!(complaints::record_satisfaction),
        route!(complaints::close),
        route!(complaints::reopen),
        route!(faults::escalate as "complaints_escalate"),
        route!(faults::report_fault as "faults_report"),
        route!(faults::triage),
        route!(faults::assign_technician),
        route!(faults::evaluate),
        route!(faults::start_investigation),
        route!(faults::mitigate),
        route!(faults::resolve),
        route!(faults::close),
        route!(faults::reopen),
        route!(faults::log_repair),
        route!(faults::write_review),
        route!(faults::complete_action_item),
        route!(faults::add_note),
        route!(faults::queue),
        route!(changes::draft),
        route!(changes::amend),
        route!(changes::submit),
        route!(changes::assess),
        route!(changes::amend_plan),
        route!(changes::approve),
        route!(changes::reject),
        route!(changes::assign),
        route!(changes::schedule),
        route!(changes::unschedule),
        route!(changes::start_implementation),
        route!(changes::record_rollout_step),
        route!(changes::complete),
        route!(changes::roll_back),
        route!(changes::fail),
        route!(changes::review),
        route!(changes::close),
        route!(changes::add_note),
        route!(changes::calendar),
        route!(changes::declare_freeze),
        route!(changes::lift_freeze),
        route!(links::link as "tickets_link"),
        route!(links::unlink as "tickets_unlink"),
        route!(tickets::get_ticket as "tickets_get"),
        route!(tickets::list),
        route!(history::history as "tickets_history"),
        route!(events::page),
        route!(events::stream),
        route!(audit::verify),
        route!(subjects::find),
        route!(subjects::erase),
        route!(subjects::export),
        route!(subjects::merge),
        route!(audit::pii_access as "subjects_pii_access"),
        route!(ops::healthz),
        route!(ops::readyz),
        route!(ops::metrics),
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
                resource = resource.route((route.handler)(Method::HEAD));
            }
            resource = resource.route((route.handler)(method));
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
