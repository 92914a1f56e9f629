//! The shape every command endpoint on an existing ticket shares: the
//! permission check, the body, the If-Match/Idempotency-Key documentation
//! and the responses. Each ticket kind's module gives only what differs.

/// Declares one command endpoint on an existing ticket. `$run` is the
/// module's `run(req, principal, state, id, command, raw body, commutes)`.
macro_rules! command_endpoint {
    (
        tag = $tag:literal, id = $id_doc:literal, commuting = $commuting_doc:literal,
        not_found = $not_found:literal, conflict = $conflict:literal, run = $run:ident, command = $command:ident,
        $(#[doc = $doc:literal])* $name:ident, $path:literal, $body:ty, $variant:ident, $permission:expr,
        commutes = $commutes:literal
    ) => {
        $(#[doc = $doc])*
        #[utoipa::path(
            post,
            path = $path,
            tag = $tag,
            request_body = $body,
            params(
                ("id" = String, Path, description = $id_doc),
                ("If-Match" = Option<String>, Header, description = $commuting_doc),
                ("Idempotency-Key" = Option<String>, Header, description = "Makes retries safe; scoped to the caller."),
            ),
            responses(
                (status = 200, description = "The ticket after the command", body = TicketDoc,
                    headers(("ETag" = String, description = "New version"), ("Ticket-Version" = u64, description = "The version the ETag names, in clear (the ETag itself is opaque)"))),
                (status = 400, description = "Malformed JSON or headers", body = Problem, content_type = "application/problem+json"),
                (status = 401, description = "No valid bearer token", body = Problem, content_type = "application/problem+json"),
                (status = 403, description = "Not permitted", body = Problem, content_type = "application/problem+json"),
                (status = 404, description = $not_found, body = Problem, content_type = "application/problem+json"),
                (status = 409, description = $conflict, body = Problem, content_type = "application/problem+json"),
                (status = 412, description = "If-Match is stale, or another request changed the ticket first", body = Problem, content_type = "application/problem+json"),
                (status = 413, description = "Body too large", body = Problem, content_type = "application/problem+json"),
                (status = 415, description = "Not JSON", body = Problem, content_type = "application/problem+json"),
                (status = 422, description = "Invalid fields (all listed) or a reused idempotency key", body = Problem, content_type = "application/problem+json"),
                (status = 428, description = "If-Match missing", body = Problem, content_type = "application/problem+json"),
            ),
            security(("bearer" = []))
        )]
        pub async fn $name(
            req: HttpRequest,
            principal: Principal,
            id: web::Path<String>,
            payload: web::Payload,
            state: web::Data<AppState>,
        ) -> Result<HttpResponse, ApiError> {
            principal.require($permission)?;
            let body = body::read::<$body>(&req, payload).await?;
            $run(&req, &principal, &state, &id, $command::$variant(body.value), &body.raw, $commutes).await
        }
    };
}
