//! Reading tickets: one view and lists (the history is `history.rs`).

use actix_web::http::header;
use actix_web::{HttpRequest, HttpResponse, web};
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use uuid::Uuid;

use crate::app::etag;
use crate::domain::change::Change;
use crate::domain::complaint::{Channel, Complaint, Priority};
use crate::domain::fault::Fault;
use crate::domain::permissions::Permission;
use crate::domain::permissions::{FaultReach, ReadScope};
use crate::domain::ticket::{TicketKind, TicketStatus};
use crate::domain::{FieldError, messages as domain_messages};
use crate::privacy::crypto::IndexKind;
use crate::privacy::keys;
use crate::privacy::render::Reveal;
use crate::projections::tickets::{
    self, Cursor, CursorKey, DueCursor, ListFilter, ListOrder, SlaState, TicketLookup, TicketRow, with_kind,
};
use crate::store;

use super::AppState;
use super::auth::Principal;
use super::error::{ApiError, Problem};
use super::messages;
use super::query::Query;
use super::request::{client_request_id, parse_instant, request_id};

/// A ticket view; `kind` says which shape it has. Personal data is masked
/// unless the caller may read it.
///
/// Documented as a `oneOf` of the three views with a discriminator on
/// `kind` and an explicit mapping (the values, `complaint`, differ from
/// the schema names, `Complaint`), so generated clients decode the right
/// type; each view's schema carries `kind` (see `openapi::TicketKinds`).
pub struct TicketDoc;

impl utoipa::PartialSchema for TicketDoc {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        use utoipa::openapi::schema::{Discriminator, OneOfBuilder, Ref};
        let mut one_of = OneOfBuilder::new().description(Some(
            "A ticket view; `kind` says which shape it has. Personal data is masked unless the caller may read it.",
        ));
        let mut mapping = Vec::new();
        for (kind, schema) in TICKET_SCHEMAS {
            one_of = one_of.item(Ref::from_schema_name(schema));
            mapping.push((kind.as_str(), format!("#/components/schemas/{schema}")));
        }
        one_of
            .discriminator(Some(Discriminator::with_mapping("kind", mapping)))
            .into()
    }
}

impl ToSchema for TicketDoc {
    fn schemas(schemas: &mut Vec<(String, utoipa::openapi::RefOr<utoipa::openapi::schema::Schema>)>) {
        schemas.push((
            Complaint::name().into_owned(),
            <Complaint as utoipa::PartialSchema>::schema(),
        ));
        Complaint::schemas(schemas);
        schemas.push((Fault::name().into_owned(), <Fault as utoipa::PartialSchema>::schema()));
        Fault::schemas(schemas);
        schemas.push((Change::name().into_owned(), <Change as utoipa::PartialSchema>::schema()));
        Change::schemas(schemas);
    }
}

/// Each kind of ticket and the schema of its view.
pub const TICKET_SCHEMAS: [(TicketKind, &str); 3] = [
    (TicketKind::Complaint, "Complaint"),
    (TicketKind::Fault, "Fault"),
    (TicketKind::Change, "Change"),
];

/// `Location` of a ticket.
pub fn location(id: Uuid) -> String {
    format!("/v1/tickets/{id}")
}

/// Whether `principal` may read this ticket at all (the permission
/// matrix's read scope; list queries apply the same scope in SQL).
pub fn may_read(principal: &Principal, row: &TicketRow) -> bool {
    may_read_kind(principal, row.kind, row.complaint_linked)
}

pub(crate) fn may_read_kind(principal: &Principal, kind: TicketKind, complaint_linked: bool) -> bool {
    ReadScope::of(&principal.roles, &principal.scopes).allows(kind, complaint_linked)
}

/// A ticket `principal` may read; one it may not is reported as missing,
/// so its existence does not leak.
fn readable(principal: &Principal, row: Option<TicketRow>, id: &str) -> Result<TicketRow, ApiError> {
    row.filter(|r| may_read(principal, r))
        .ok_or_else(|| ApiError::NotFound(messages::no_ticket_named(id)))
}

/// Responses that may carry personal data are never stored by caches.
pub(crate) const PRIVATE: &str = "private, no-store";

/// How personal data is shown to `principal`.
pub(crate) fn reveal_to(principal: &Principal) -> Reveal {
    if principal.can(Permission::PiiRead) {
        Reveal::Clear
    } else {
        Reveal::Masked
    }
}

/// Whether JSON text (as stored) may name another ticket, so that it must
/// be rendered for the caller rather than copied through: every reference
/// holds a `number` member, and a text that merely mentions the word has
/// its quotes escaped.
pub(crate) fn may_name_a_ticket(json: &str) -> bool {
    json.contains("\"number\"")
}

/// A reference to another ticket, as views and payloads hold them
/// (`{id, number, kind}`), when it is one; `None` for any other value.
fn ticket_reference(value: &Value) -> Option<(Uuid, TicketKind)> {
    let map = value.as_object()?;
    if map.len() != 3 || !map.contains_key("number") {
        return None;
    }
    Some((
        map.get("id")?.as_str()?.parse().ok()?,
        TicketKind::parse(map.get("kind")?.as_str()?)?,
    ))
}

fn collect_references(value: &Value, out: &mut Vec<(Uuid, TicketKind)>) {
    if let Some(reference) = ticket_reference(value) {
        out.push(reference);
        return;
    }
    match value {
        Value::Object(map) => map.values().for_each(|v| collect_references(v, out)),
        Value::Array(items) => items.iter().for_each(|v| collect_references(v, out)),
        _ => {}
    }
}

/// Removes what `docs` say about tickets the caller may not read: a link
/// to one leaves the view's `links` (and a change's `linked_faults`), and
/// any other reference to one (in an event's payload, say) becomes
/// `{"kind": …, "hidden": true}`. Otherwise an agent reading a complaint
/// would learn the id and number of a change linked to it.
async fn hide_unreadable_references(
    principal: &Principal,
    client: &impl deadpool_postgres::GenericClient,
    docs: &mut [&mut Value],
) -> Result<(), ApiError> {
    let scope = ReadScope::of(&principal.roles, &principal.scopes);
    let mut references = Vec::new();
    for doc in docs.iter() {
        collect_references(doc, &mut references);
    }
    // Only a fault's readability can depend on the ticket (whether it is
    // linked to a complaint), and only for callers who read linked faults.
    let faults: Vec<Uuid> = references
        .iter()
        .filter(|(_, kind)| *kind == TicketKind::Fault && scope.faults == FaultReach::LinkedToComplaints)
        .map(|(id, _)| *id)
        .collect();
    let linked = if faults.is_empty() {
        std::collections::HashMap::new()
    } else {
        tickets::kinds_of(client, &faults).await?
    };
    let unreadable: std::collections::HashSet<Uuid> = references
        .into_iter()
        .filter(|(id, kind)| {
            let complaint_linked = linked.get(id).is_some_and(|(_, l)| *l);
            !scope.allows(*kind, complaint_linked)
        })
        .map(|(id, _)| id)
        .collect();
    if unreadable.is_empty() {
        return Ok(());
    }
    let hidden = |value: &Value| ticket_reference(value).is_some_and(|(id, _)| unreadable.contains(&id));
    fn hide(value: &mut Value, hidden: &dyn Fn(&Value) -> bool) {
        match value {
            Value::Array(items) => {
                items.retain(|item| !hidden(item) && !item.get("other").is_some_and(hidden));
                items.iter_mut().for_each(|item| hide(item, hidden));
            }
            Value::Object(map) => {
                for child in map.values_mut() {
                    if hidden(child) {
                        let kind = child.get("kind").cloned().unwrap_or(Value::Null);
                        *child = serde_json::json!({"kind": kind, "hidden": true});
                    } else {
                        hide(child, hidden);
                    }
                }
            }
            _ => {}
        }
    }
    for doc in docs.iter_mut() {
        hide(doc, &hidden);
    }
    Ok(())
}

/// Renders `docs` for `principal`: what they say of tickets it may not read
/// is left out, and personal data is clear text for callers with
/// `pii:read`, masked for others, `[erased]` where the subject was erased.
/// A clear-text reveal is recorded durably before this returns, so no
/// response shows personal data without its access record.
pub async fn reveal(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    client: &impl deadpool_postgres::GenericClient,
    docs: &mut [&mut Value],
) -> Result<(), ApiError> {
    hide_unreadable_references(principal, client, docs).await?;
    let revealed = state.privacy.render_all(client, docs, reveal_to(principal)).await?;
    record_reads(req, principal, state, revealed.into_iter().collect()).await
}

/// Records in the access log that `principal` sees the personal data of
/// `subjects` through this request, before anything is sent: the one place
/// every door that shows personal data records it. A HEAD answer carries
/// the headers of the GET and no body, so nothing is shown and nothing is
/// recorded (its body is still rendered, so that its headers, the length
/// among them, are those of the GET).
pub(crate) async fn record_reads(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    subjects: Vec<Uuid>,
) -> Result<(), ApiError> {
    if subjects.is_empty() || req.method() == actix_web::http::Method::HEAD {
        return Ok(());
    }
    let route = req.match_pattern().unwrap_or_else(|| req.path().to_owned());
    let endpoint = format!("{} {route}", req.method());
    state
        .access_log
        .record(
            &principal.actor().id,
            &subjects,
            &endpoint,
            &request_id(req),
            client_request_id(req).as_deref(),
        )
        .await?;
    metrics::counter!("opsledger_pii_access_records_total").increment(subjects.len() as u64);
    Ok(())
}

/// The ticket a path names by id or number.
pub(crate) fn parse_lookup(id: &str) -> Result<TicketLookup, ApiError> {
    TicketLookup::parse(id).ok_or_else(|| ApiError::NotFound(messages::no_ticket_named(id)))
}

/// Which past state of a ticket to read: give at most one of `as_of`,
/// `version` and `position` (400 otherwise); none reads the ticket now.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct AsOfParams {
    /// The ticket as it stood at this instant (RFC 3339). Not with `version` or `position`.
    #[param(format = DateTime)]
    pub as_of: Option<String>,
    /// The ticket as it stood at this version of its stream. Not with `as_of` or `position`.
    pub version: Option<u64>,
    /// The ticket as it stood at this position of the global log. Not with `as_of` or `version`.
    pub position: Option<i64>,
}

/// How to cut a stream for an as-of read.
enum Cut {
    Instant(DateTime<Utc>),
    Version(u64),
    Position(i64),
}

fn cut_of(p: &AsOfParams) -> Result<Option<Cut>, ApiError> {
    let given = [p.as_of.is_some(), p.version.is_some(), p.position.is_some()];
    if given.iter().filter(|g| **g).count() > 1 {
        return Err(ApiError::InvalidQuery(vec![FieldError::new(
            "",
            messages::field_give_at_most_one_cut(),
        )]));
    }
    if let Some(t) = &p.as_of {
        let t = DateTime::parse_from_rfc3339(t)
            .map_err(|_| ApiError::InvalidQuery(vec![FieldError::new("/as_of", messages::field_instant())]))?;
        return Ok(Some(Cut::Instant(t.with_timezone(&Utc))));
    }
    Ok(p.version.map(Cut::Version).or(p.position.map(Cut::Position)))
}

/// Read one ticket by id or number, now or as it stood at a past moment.
///
/// Now: with an `ETag`, and `If-None-Match` answers 304 when unchanged. As
/// of an instant, a version or a global position: folded from the stream's
/// events up to that point with the same code that builds the live view.
#[utoipa::path(
    get,
    path = "/v1/tickets/{id}",
    tag = "tickets",
    params(
        ("id" = String, Path, description = "Ticket id (UUID) or number (CMP-2026-000123)"),
        AsOfParams,
        ("If-None-Match" = Option<String>, Header, description = "ETags the caller holds (or `*`): when one names the current version, the answer is 304 without a body. Ignored with `as_of`, `version` or `position`."),
    ),
    responses(
        (status = 200, description = "The view", body = TicketDoc,
            headers(("ETag" = String, description = "Strong tag of this version and masking variant (current view only)"), ("Ticket-Version" = u64, description = "The version the ETag names, in clear (the ETag itself is opaque)"))),
        (status = 304, description = "Unchanged since the If-None-Match tag",
            headers(("ETag" = String, description = "The tag that matched"), ("Ticket-Version" = u64, description = "The version the ETag names"))),
        (status = 404, description = "No such ticket (or it did not exist yet at that point)", body = Problem, content_type = "application/problem+json"),
    ),
)]
pub async fn get_ticket(
    req: HttpRequest,
    principal: Principal,
    id: web::Path<String>,
    as_of: Query<AsOfParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let cut = cut_of(&as_of)?;
    let target = parse_lookup(&id)?;
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let row = readable(&principal, tickets::get(&client, &target).await?, &id)?;
    if let Some(cut) = cut {
        return as_of_view(&req, &principal, &state, &client, &row, cut).await;
    }
    let tag = etag::etag(&state.etag_key, row.id, row.version, reveal_to(&principal));
    let unchanged = req
        .headers()
        .get(header::IF_NONE_MATCH)
        .and_then(|v| v.to_str().ok())
        .is_some_and(|v| v.split(',').any(|t| t.trim() == tag || t.trim() == "*"));
    if unchanged {
        return Ok(HttpResponse::NotModified()
            .insert_header((header::ETAG, tag))
            .insert_header((etag::TICKET_VERSION, row.version))
            .insert_header((header::CACHE_CONTROL, PRIVATE))
            .finish());
    }
    let version = row.version;
    let mut body = row.into_client_view();
    reveal(&req, &principal, &state, &client, &mut [&mut body]).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .insert_header((header::ETAG, tag))
        .insert_header((etag::TICKET_VERSION, version))
        .json(body))
}

async fn as_of_view(
    req: &HttpRequest,
    principal: &Principal,
    state: &AppState,
    client: &impl deadpool_postgres::GenericClient,
    row: &TicketRow,
    cut: Cut,
) -> Result<HttpResponse, ApiError> {
    let events = store::log::stream_with_positions(client, row.id).await?;
    // Within a stream, time, version and position all grow together, so
    // the state at a cut is the fold of a prefix.
    let prefix: Vec<_> = events
        .into_iter()
        .take_while(|(e, position)| match cut {
            Cut::Instant(t) => e.recorded_at <= t,
            Cut::Version(v) => e.envelope.version <= v,
            Cut::Position(p) => position.is_some_and(|pos| pos <= p),
        })
        .map(|(e, _)| e)
        .collect();
    if prefix.is_empty() {
        return Err(ApiError::NotFound(messages::no_ticket_yet()));
    }
    let view = crate::projections::fold::fold_view(row.kind, &prefix)
        .map_err(|e| ApiError::Internal(e.to_string()))?
        .ok_or_else(|| ApiError::Internal("an as-of fold produced no view".into()))?;
    let mut view = with_kind(view, row.kind);
    reveal(req, principal, state, client, &mut [&mut view]).await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(view))
}

/// The name of a status of some kind of ticket (documentation of
/// [`TicketStatus::names`]).
pub struct StatusName;

impl utoipa::PartialSchema for StatusName {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(TicketStatus::names()))
            .into()
    }
}

impl ToSchema for StatusName {}

/// Filters and paging of `GET /v1/tickets`.
#[derive(Debug, Deserialize, IntoParams)]
#[serde(deny_unknown_fields)]
#[into_params(parameter_in = Query)]
pub struct ListParams {
    /// `complaint`, `fault` or `change`
    #[param(value_type = Option<TicketKind>)]
    pub kind: Option<String>,
    /// A status of a ticket kind, e.g. `acknowledged` or `investigating`.
    #[param(inline, value_type = Option<StatusName>)]
    pub status: Option<String>,
    /// A complaint's priority, `P1` … `P4`
    #[param(value_type = Option<Priority>)]
    pub priority: Option<String>,
    /// A fault's severity, 1 (critical) … 4 (low)
    #[param(minimum = 1, maximum = 4)]
    pub severity: Option<i16>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    /// `phone`, `email`, `web`, `chat`, `in_person`
    #[param(value_type = Option<Channel>)]
    pub channel: Option<String>,
    /// Created at or after this instant (RFC 3339).
    #[param(format = DateTime)]
    pub created_from: Option<String>,
    /// Created before this instant (RFC 3339).
    #[param(format = DateTime)]
    pub created_to: Option<String>,
    /// Exact phone number of the complainant (any formatting); needs the
    /// right to see personal data. Matched through the blind index.
    pub phone: Option<String>,
    /// Exact email address of the complainant (case-insensitive); needs the
    /// right to see personal data.
    #[param(format = Email)]
    pub email: Option<String>,
    /// Exact customer reference of the complainant; needs the right to see
    /// personal data.
    pub customer_ref: Option<String>,
    /// Only tickets whose service-level clocks are, at the time of the
    /// request: `on_track` (the earliest running target not yet at its
    /// warning threshold), `at_risk` (past a warning threshold, not yet
    /// due), `breached` (past a `due_at`) or `paused` (waiting on the
    /// customer). Tickets without running clocks are in none.
    #[param(inline, value_type = Option<SlaStateName>)]
    pub sla_state: Option<String>,
    /// `created_at` (newest first, the default) or `due_at`: what burns
    /// first, the earliest `due_at` of a running, unpaused target first,
    /// tickets without one last, ties broken by id.
    #[param(inline, value_type = Option<SortName>)]
    pub sort: Option<String>,
    /// The `next_cursor` of the previous page (of the same `sort`).
    pub cursor: Option<String>,
    /// Page size, 1 to 200 (default 50).
    #[param(minimum = 1, maximum = 200)]
    pub limit: Option<u32>,
}

/// Where a ticket's service-level clocks stand.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = SlaState)]
#[serde(rename_all = "snake_case")]
pub enum SlaStateName {
    OnTrack,
    AtRisk,
    Breached,
    Paused,
}

/// The order of a ticket list.
#[derive(ToSchema)]
#[allow(dead_code)]
#[schema(as = TicketSort)]
#[serde(rename_all = "snake_case")]
pub enum SortName {
    CreatedAt,
    DueAt,
}

/// How a list is sorted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Sort {
    CreatedAt,
    DueAt,
}

impl Sort {
    const ALL: [Sort; 2] = [Sort::CreatedAt, Sort::DueAt];

    fn as_str(self) -> &'static str {
        match self {
            Sort::CreatedAt => "created_at",
            Sort::DueAt => "due_at",
        }
    }
}

/// A page of tickets.
// The schema of what `ViewPage` sends: rendered views are sent as they
// are, never decoded into the domain's types, so nothing constructs this.
#[derive(ToSchema)]
#[allow(dead_code)]
pub struct TicketPage {
    /// In the order asked for (newest first by default); ties broken by id,
    /// so the order is stable.
    pub items: Vec<TicketDoc>,
    /// Pass as `cursor` for the next page; absent on the last page.
    pub next_cursor: Option<String>,
}

/// The one of `allowed` that `value` spells, if any; another spelling is
/// reported in `errors`, with every allowed one.
fn one_of<T: Copy>(
    errors: &mut Vec<FieldError>,
    name: &str,
    value: &Option<String>,
    allowed: &[T],
    spell: impl Fn(T) -> &'static str,
) -> Option<T> {
    let value = value.as_deref()?;
    let found = allowed.iter().copied().find(|a| spell(*a) == value);
    if found.is_none() {
        let names: Vec<&str> = allowed.iter().map(|a| spell(*a)).collect();
        errors.push(FieldError::new(
            format!("/{name}"),
            messages::field_one_of(names.join(", ")),
        ));
    }
    found
}

/// Checks every parameter and reports all bad ones at once.
fn list_filter(
    p: &ListParams,
    scope: ReadScope,
    cursor_key: &CursorKey,
    now: DateTime<Utc>,
) -> Result<(ListFilter, ListOrder, u32), ApiError> {
    let mut errors = Vec::new();
    let kind = one_of(&mut errors, "kind", &p.kind, &TicketKind::ALL, TicketKind::as_str);
    let status = one_of(&mut errors, "status", &p.status, &TicketStatus::names(), |s| s);
    let priority = one_of(&mut errors, "priority", &p.priority, &Priority::ALL, Priority::as_str);
    let channel = one_of(&mut errors, "channel", &p.channel, &Channel::ALL, Channel::as_str);
    let created_from = parse_instant(&mut errors, "created_from", &p.created_from);
    let created_to = parse_instant(&mut errors, "created_to", &p.created_to);
    let sla_state = one_of(&mut errors, "sla_state", &p.sla_state, &SlaState::ALL, SlaState::as_str);
    let sort = one_of(&mut errors, "sort", &p.sort, &Sort::ALL, Sort::as_str).unwrap_or(Sort::CreatedAt);
    let mut foreign = || errors.push(FieldError::new("/cursor", messages::field_foreign_cursor()));
    let order = match (sort, &p.cursor) {
        (Sort::CreatedAt, None) => ListOrder::Newest(None),
        (Sort::DueAt, None) => ListOrder::DueFirst(None),
        (Sort::CreatedAt, Some(c)) => ListOrder::Newest(Cursor::decode(c, cursor_key).or_else(|| {
            foreign();
            None
        })),
        (Sort::DueAt, Some(c)) => ListOrder::DueFirst(DueCursor::decode(c, cursor_key).or_else(|| {
            foreign();
            None
        })),
    };
    if p.severity.is_some_and(|s| !(1..=4).contains(&s)) {
        errors.push(FieldError::new("/severity", domain_messages::field_range(1, 4)));
    }
    let limit = p.limit.unwrap_or(50);
    if !(1..=200).contains(&limit) {
        errors.push(FieldError::new("/limit", domain_messages::field_range(1, 200)));
    }
    if !errors.is_empty() {
        return Err(ApiError::InvalidQuery(errors));
    }
    let filter = ListFilter {
        kind,
        status,
        priority,
        team: p.team.clone(),
        assignee: p.assignee.clone(),
        channel,
        created_from,
        created_to,
        severity: p.severity,
        subjects: None,
        sla: sla_state.map(|state| (state, now)),
        scope,
    };
    Ok((filter, order, limit))
}

/// List tickets, newest first or what burns first (`sort=due_at`), with
/// filters (among them `sla_state`, judged at the time of the request) and
/// keyset pagination.
#[utoipa::path(
    get,
    path = "/v1/tickets",
    tag = "tickets",
    params(ListParams),
    responses(
        (status = 200, description = "One page", body = TicketPage),
    ),
)]
pub async fn list(
    req: HttpRequest,
    principal: Principal,
    params: Query<ListParams>,
    state: web::Data<AppState>,
) -> Result<HttpResponse, ApiError> {
    let scope = ReadScope::of(&principal.roles, &principal.scopes);
    let (mut filter, order, limit) = list_filter(&params, scope, &state.cursor_key, state.commands.now())?;
    let client = state.pool.get().await.map_err(store::StoreError::from)?;
    let contacts = [
        (IndexKind::Phone, &params.phone),
        (IndexKind::Email, &params.email),
        (IndexKind::CustomerRef, &params.customer_ref),
    ];
    for (kind, value) in contacts {
        if let Some(value) = value {
            // Whether a contact has complaints is itself personal data.
            principal.require(Permission::PiiRead)?;
            let found = keys::subjects_by_contact(&client, state.privacy.index_key(), kind, value).await?;
            filter.subjects = Some(match filter.subjects.take() {
                None => found,
                Some(before) => before.into_iter().filter(|s| found.contains(s)).collect(),
            });
        }
    }
    let (rows, next) = tickets::list(&client, &filter, order, limit).await?;
    let mut items: Vec<Value> = rows.into_iter().map(TicketRow::into_client_view).collect();
    reveal(
        &req,
        &principal,
        &state,
        &client,
        &mut items.iter_mut().collect::<Vec<_>>(),
    )
    .await?;
    Ok(HttpResponse::Ok()
        .insert_header((header::CACHE_CONTROL, PRIVATE))
        .json(ViewPage {
            items,
            next_cursor: next.map(|c| c.encode(&state.cursor_key)),
        }))
}

/// A page of rendered views, serialised as [`TicketPage`] documents it.
/// (Serialised from the views as they are: `json!` would copy each one.)
#[derive(Serialize)]
pub(crate) struct ViewPage {
    pub items: Vec<Value>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub next_cursor: Option<String>,
}
