//! The HTTP layer: authentication, handlers, errors and the OpenAPI document.
//! Handlers parse and check requests, ask the permission matrix, and hand
//! commands to `app::commands`.

pub mod audit;
pub mod auth;
pub mod body;
pub mod business_calendars;
pub mod changes;
pub mod commands;
pub mod complaints;
pub mod console;
pub mod error;
pub mod events;
pub mod faults;
pub mod history;
pub mod i18n;
pub mod links;
pub mod messages;
pub mod middleware;
pub mod openapi;
pub mod ops;
pub mod query;
pub mod request;
pub mod routes;
pub mod sla_policy;
pub mod subjects;
pub mod tickets;
pub mod timeline;

use actix_web::{HttpResponse, web};
use utoipa_swagger_ui::SwaggerUi;

use crate::app::commands::Commands;

/// What handlers share.
pub struct AppState {
    pub pool: deadpool_postgres::Pool,
    pub commands: Commands,
    pub privacy: std::sync::Arc<crate::privacy::Privacy>,
    pub access_log: crate::privacy::access_log::AccessLog,
    pub subjects: crate::app::subjects::Subjects,
    /// The newest position of the global log, for feed readers to wait on.
    pub log_head: tokio::sync::watch::Receiver<i64>,
    /// The bearer token `/metrics` requires, if any.
    pub metrics_token: Option<ops::MetricsToken>,
    /// Keys the ETags of ticket views (the `etag` system key).
    pub etag_key: crate::app::etag::EtagKey,
    /// Signs list cursors (the `cursor` system key).
    pub cursor_key: crate::projections::tickets::CursorKey,
    /// The language of a request whose `Accept-Language` names none the
    /// server speaks.
    pub language: i18n::Language,
}

/// Every route of the API, the documentation and the framework-error
/// handlers.
pub fn configure(cfg: &mut web::ServiceConfig) {
    // Handlers take `query::Query`, which also refuses control characters;
    // this renders the errors of a bare `web::Query` the same way. A path
    // segment that does not parse names no resource.
    cfg.app_data(web::QueryConfig::default().error_handler(|e, _| query::malformed(&e).into()))
        .app_data(
            web::PathConfig::default()
                .error_handler(|_, _| error::ApiError::NotFound(messages::no_such_resource()).into()),
        )
        .configure(routes::configure)
        .configure(console::configure)
        .service(
            SwaggerUi::new("/docs/{_:.*}")
                .url("/openapi.json", openapi::document())
                .config(utoipa_swagger_ui::Config::from("/openapi.json").validator_url("none")),
        )
        .route(
            "/docs",
            web::get().to(|| async {
                HttpResponse::PermanentRedirect()
                    .insert_header(("Location", "/docs/"))
                    .finish()
            }),
        );
}
