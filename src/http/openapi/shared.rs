//! What operations share, declared once for all of them: the responses
//! any operation of a kind can give (as references to
//! `components/responses`), the permission each requires and the scopes
//! of its security requirement (from the route table), and the headers of
//! idempotent POSTs and of commands on tickets.

use std::collections::BTreeMap;

use utoipa::openapi::extensions::Extensions;
use utoipa::openapi::header::Header;
use utoipa::openapi::path::{HttpMethod, Operation, Parameter, ParameterBuilder, ParameterIn};
use utoipa::openapi::response::Response;
use utoipa::openapi::schema::{ObjectBuilder, Type};
use utoipa::openapi::security::SecurityRequirement;
use utoipa::openapi::{Content, Ref, RefOr, Required};

use crate::http::commands::COMPLAINT_ETAG;
use crate::http::routes::Route;

const PROBLEM_JSON: &str = "application/problem+json";

/// A response every operation of a kind may give, by status.
struct Shared {
    status: &'static str,
    name: &'static str,
    description: &'static str,
    headers: &'static [(&'static str, &'static str)],
}

const BAD_REQUEST: Shared = Shared {
    status: "400",
    name: "BadRequest",
    description: "The request is malformed: its JSON (`malformed-body`), a header (`bad-request`) or its query \
                  parameters (`invalid-query`, every bad one listed in `errors`)",
    headers: &[],
};
const UNAUTHORIZED: Shared = Shared {
    status: "401",
    name: "Unauthorized",
    description: "No valid bearer token (`unauthenticated`)",
    headers: &[(
        "WWW-Authenticate",
        "`Bearer realm=\"opsledger\"`, with `error=\"invalid_token\"` when a token was sent (RFC 6750 §3)",
    )],
};
const FORBIDDEN: Shared = Shared {
    status: "403",
    name: "Forbidden",
    description: "The caller lacks the permission the operation requires (`forbidden`; see `x-required-permission`)",
    headers: &[],
};
const PAYLOAD_TOO_LARGE: Shared = Shared {
    status: "413",
    name: "PayloadTooLarge",
    description: "The body exceeds the server's limit (`payload-too-large`)",
    headers: &[],
};
const UNSUPPORTED_MEDIA_TYPE: Shared = Shared {
    status: "415",
    name: "UnsupportedMediaType",
    description: "The body is not `application/json` (`unsupported-media-type`)",
    headers: &[],
};
const UNAVAILABLE: Shared = Shared {
    status: "503",
    name: "Unavailable",
    description: "The database cannot be reached now (`unavailable`); retry after `Retry-After`",
    headers: &[("Retry-After", "Seconds to wait before retrying")],
};

const ALL: [&Shared; 6] = [
    &BAD_REQUEST,
    &UNAUTHORIZED,
    &FORBIDDEN,
    &PAYLOAD_TOO_LARGE,
    &UNSUPPORTED_MEDIA_TYPE,
    &UNAVAILABLE,
];

fn text_header(description: &str) -> Header {
    let mut header = Header::new(ObjectBuilder::new().schema_type(Type::String));
    header.description = Some(description.to_owned());
    header
}

fn problem_content() -> Content {
    Content::new(Some(Ref::from_schema_name("Problem")))
}

/// The schemas of what operations share, for `components/schemas`.
pub fn schemas() -> BTreeMap<String, RefOr<utoipa::openapi::schema::Schema>> {
    let prefer = ObjectBuilder::new()
        .schema_type(Type::String)
        .enum_values(Some(["return=minimal", "return=representation"]))
        .description(Some(
            "A preference of RFC 7240 for the answer to a command on a ticket.",
        ));
    BTreeMap::from([("Prefer".to_owned(), RefOr::T(prefer.into()))])
}

/// The shared responses, for `components/responses`.
pub fn responses() -> BTreeMap<String, RefOr<Response>> {
    ALL.iter()
        .map(|shared| {
            let mut response = Response::new(shared.description);
            response.content.insert(PROBLEM_JSON.to_owned(), problem_content());
            for (name, description) in shared.headers {
                response.headers.insert((*name).to_owned(), text_header(description));
            }
            (shared.name.to_owned(), RefOr::T(response))
        })
        .collect()
}

fn refer(operation: &mut Operation, shared: &Shared) {
    operation.responses.responses.insert(
        shared.status.to_owned(),
        RefOr::Ref(Ref::new(format!("#/components/responses/{}", shared.name))),
    );
}

/// Adds what `route`'s operation shares with others.
pub fn complete(route: &Route, operation: &mut Operation) {
    let public = route.requires.is_empty();
    if !public {
        refer(operation, &UNAUTHORIZED);
        refer(operation, &FORBIDDEN);
        permissions(route, operation);
    }
    let has_body = operation.request_body.is_some();
    let has_parameters = operation.parameters.as_ref().is_some_and(|p| !p.is_empty());
    if has_body || has_parameters {
        refer(operation, &BAD_REQUEST);
    }
    if has_body {
        refer(operation, &PAYLOAD_TOO_LARGE);
        refer(operation, &UNSUPPORTED_MEDIA_TYPE);
    }
    if route.path.starts_with("/v1/") {
        refer(operation, &UNAVAILABLE);
    }
    if route.method == HttpMethod::Post {
        idempotent_post(operation);
    }
    plain_query_text(operation);
    if route.method == HttpMethod::Post && answers_a_ticket(operation) {
        ticket_answer(operation, route.path.contains("{id}"));
    }
    if operation.operation_id.as_deref() == Some("complaints_escalate") {
        add_header(
            operation,
            "201",
            COMPLAINT_ETAG,
            "The escalated complaint's `ETag` as it is now, to go on with the complaint without reading it",
        );
    }
}

/// `x-required-permission` and the operation's security requirements: one
/// per permission that admits a caller, with the scope an integration
/// needs for it (none when no integration may).
fn permissions(route: &Route, operation: &mut Operation) {
    let keys: Vec<&str> = route.requires.iter().map(|p| p.key()).collect();
    let value = match keys.as_slice() {
        [one] => serde_json::Value::from(*one),
        many => serde_json::Value::from(many.to_vec()),
    };
    operation
        .extensions
        .get_or_insert_with(Extensions::default)
        .insert("x-required-permission".to_owned(), value);
    operation.security = Some(
        route
            .requires
            .iter()
            .map(|p| SecurityRequirement::new("bearer", p.grant().integration_scope))
            .collect(),
    );
}

fn add_header(operation: &mut Operation, status: &str, name: &str, description: &str) {
    if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(status) {
        response.headers.entry(name.to_owned()).or_insert_with(|| {
            if name == "Ticket-Version" {
                let mut header = Header::new(ObjectBuilder::new().schema_type(Type::Integer).minimum(Some(1)));
                header.description = Some(description.to_owned());
                header
            } else {
                text_header(description)
            }
        });
    }
}

/// Statuses of the operation's own (not shared) responses.
fn own_statuses(operation: &Operation, range: impl Fn(u16) -> bool) -> Vec<String> {
    operation
        .responses
        .responses
        .iter()
        .filter(|(status, response)| matches!(response, RefOr::T(_)) && status.parse::<u16>().is_ok_and(&range))
        .map(|(status, _)| status.clone())
        .collect()
}

/// Every POST takes an `Idempotency-Key`, says when its answer is a
/// replay, and tells a request that meets one with the same key still
/// running when to retry.
fn idempotent_post(operation: &mut Operation) {
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    if !parameters
        .iter()
        .any(|p| p.parameter_in == ParameterIn::Header && p.name == "Idempotency-Key")
    {
        parameters.push(idempotency_key());
    }
    for status in own_statuses(operation, |s| (200..300).contains(&s)) {
        add_header(
            operation,
            &status,
            "Idempotent-Replayed",
            "`true` when this is the answer of an earlier request with the same `Idempotency-Key`",
        );
    }
    add_header(
        operation,
        "409",
        "Retry-After",
        "With `idempotency-in-progress`: seconds to wait before retrying",
    );
}

/// Every query value is refused with a control character in it (see
/// `http::query`): a text parameter with no shape of its own says so.
fn plain_query_text(operation: &mut Operation) {
    use utoipa::openapi::schema::{Schema, SchemaType};
    for parameter in operation.parameters.iter_mut().flatten() {
        if parameter.parameter_in != ParameterIn::Query {
            continue;
        }
        if let Some(RefOr::T(Schema::Object(object))) = &mut parameter.schema
            && object.schema_type == SchemaType::new(Type::String)
            && object.pattern.is_none()
            && object.enum_values.is_none()
            && object.format.is_none()
        {
            object.pattern = Some(crate::http::query::NO_CONTROL_CHARACTERS.to_owned());
        }
    }
}

fn idempotency_key() -> Parameter {
    ParameterBuilder::new()
        .name("Idempotency-Key")
        .parameter_in(ParameterIn::Header)
        .required(Required::False)
        .description(Some(
            "Makes retries safe, scoped to the caller: the first answer to this key is returned again (marked \
             `Idempotent-Replayed`); the same key with another request is refused (422). 1 to 255 visible \
             ASCII characters.",
        ))
        .schema(Some(
            ObjectBuilder::new()
                .schema_type(Type::String)
                .min_length(Some(1))
                .max_length(Some(255))
                .pattern(Some("^[\\x21-\\x7e]+$")),
        ))
        .build()
}

/// A command whose answer is a ticket: the ticket's `ETag` comes with it.
/// One on an existing ticket also refuses with the ticket's `ETag`.
fn answers_a_ticket(operation: &Operation) -> bool {
    operation
        .responses
        .responses
        .values()
        .any(|r| matches!(r, RefOr::T(r) if r.content.values().any(names_ticket_doc)))
}

fn names_ticket_doc(content: &Content) -> bool {
    matches!(&content.schema, Some(RefOr::Ref(r)) if r.ref_location.ends_with("/TicketDoc"))
}

/// The headers of a command's answer that is a ticket, and of its refusals
/// when it acts on an existing ticket. The answer is the ticket's view, or
/// its `Receipt` alone for a caller who may not read it or who asks for
/// `Prefer: return=minimal`: both are declared, the view first.
fn ticket_answer(operation: &mut Operation, on_existing: bool) {
    use utoipa::openapi::schema::{AnyOfBuilder, Schema};
    let parameters = operation.parameters.get_or_insert_with(Vec::new);
    parameters.push(
        ParameterBuilder::new()
            .name("Prefer")
            .parameter_in(ParameterIn::Header)
            .required(Required::False)
            .description(Some(
                "`return=minimal` asks for the ticket's `Receipt` (kind, id, number, version) instead of its view \
                 (RFC 7240); the answer then says `Preference-Applied: return=minimal`.",
            ))
            .schema(Some(Ref::from_schema_name("Prefer")))
            .build(),
    );
    for status in own_statuses(operation, |s| (200..300).contains(&s)) {
        if let Some(RefOr::T(response)) = operation.responses.responses.get_mut(&status) {
            for content in response.content.values_mut() {
                if names_ticket_doc(content) {
                    let either: Schema = AnyOfBuilder::new()
                        .item(Ref::from_schema_name("TicketDoc"))
                        .item(Ref::from_schema_name("Receipt"))
                        .into();
                    content.schema = Some(RefOr::T(either));
                }
            }
        }
    }
    for status in own_statuses(operation, |s| (200..300).contains(&s)) {
        add_header(
            operation,
            &status,
            "ETag",
            "The ticket's version after the command, for `If-Match` (opaque; masked and clear views have different tags)",
        );
        add_header(
            operation,
            &status,
            "Ticket-Version",
            "The version the ETag names, in clear",
        );
        add_header(
            operation,
            &status,
            "Preference-Applied",
            "`return=minimal` when the request asked for it: the body is then a `Receipt`",
        );
    }
    if !operation.responses.responses.contains_key("412") {
        let mut response = Response::new(
            "Another request changed a ticket this command also writes, again and again; retry (`precondition-failed`)",
        );
        response.content.insert(PROBLEM_JSON.to_owned(), problem_content());
        operation
            .responses
            .responses
            .insert("412".to_owned(), RefOr::T(response));
    }
    if !on_existing {
        return;
    }
    for status in ["409", "412"] {
        add_header(
            operation,
            status,
            "ETag",
            "The ticket's current version, when the ticket refused the command",
        );
        add_header(
            operation,
            status,
            "Ticket-Version",
            "The version that ETag names, in clear",
        );
    }
}
