//! The `tickets` table: the current view of every ticket. The only code
//! that knows its SQL.

use base64::Engine;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use chrono::{DateTime, NaiveDate, Utc};
use deadpool_postgres::GenericClient;
use serde_json::Value;
use tokio_postgres::types::ToSql;
use uuid::Uuid;

use crate::domain::complaint::{Channel, Priority};
use crate::domain::permissions::{FaultReach, ReadScope};
use crate::domain::sla::QueueColumns;
use crate::domain::ticket::{TicketKind, TicketStatus};
use crate::privacy::crypto::{CryptoError, DataKey, TagKey};
use crate::store::{StoreError, StreamHead, to_hash};

/// How a client names a ticket to look it up: its id or its number. (What
/// one ticket's events record of another is a `domain::link::TicketRef`.)
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum TicketLookup {
    Id(Uuid),
    Number(String),
}

impl TicketLookup {
    pub fn parse(s: &str) -> Option<TicketLookup> {
        if let Ok(id) = Uuid::parse_str(s) {
            return Some(TicketLookup::Id(id));
        }
        crate::domain::ticket::parse_number(s).map(TicketLookup::Number)
    }
}

/// A row of `tickets`, its columns parsed into the domain's types: only
/// `from_row` reads them from text, and a value it does not know is a
/// corrupt view, never a panic.
#[derive(Debug, Clone, PartialEq)]
pub struct TicketRow {
    pub id: Uuid,
    pub number: String,
    pub kind: TicketKind,
    /// Always a status of `kind` (see [`TicketStatus::kind`]).
    pub status: TicketStatus,
    /// A complaint's priority.
    pub priority: Option<Priority>,
    /// A fault's severity, 1 (critical) to 4 (low).
    pub severity: Option<i16>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    /// How a complaint reached us.
    pub channel: Option<Channel>,
    /// Whether this fault is linked to a complaint (what lets agents read it).
    pub complaint_linked: bool,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub version: u64,
    pub view: Value,
    /// The data subject whose personal data the view carries (sealed).
    pub subject: Option<Uuid>,
    /// A scheduled change's window, start and end.
    pub window: Option<(DateTime<Utc>, DateTime<Utc>)>,
    /// What the SLA queue reads of the view's clocks.
    pub sla: QueueColumns,
}

/// A view as clients read it: with its `kind`, which says its shape.
pub fn with_kind(mut view: Value, kind: TicketKind) -> Value {
    if let Value::Object(map) = &mut view {
        map.insert("kind".into(), kind.as_str().into());
    }
    view
}

impl TicketRow {
    /// The view as clients read it (with its `kind`), personal data still
    /// sealed; takes the row so the view is moved, not copied (reads are
    /// dominated by JSON allocation; see docs/performance.md).
    pub fn into_client_view(self) -> Value {
        with_kind(self.view, self.kind)
    }

    /// The actor who created the ticket (a change's requester), as its view
    /// records it.
    pub fn created_by(&self) -> Option<&str> {
        self.view
            .get("created_by")
            .or_else(|| self.view.get("requester"))
            .and_then(Value::as_str)
    }
}

const COLUMNS: &str = "t.id, t.number, t.kind, t.status, t.priority, t.team, t.assignee, t.channel, t.created_at, t.updated_at, \
     t.version, t.view, t.subject_id, t.severity, t.complaint_linked, t.window_start, t.window_end, \
     t.sla_due_at, t.sla_warn_at, t.sla_paused";

/// A column's text parsed with `parse`; text it does not know is corrupt.
fn parsed<T>(id: Uuid, column: &str, text: &str, parse: impl FnOnce(&str) -> Option<T>) -> Result<T, StoreError> {
    parse(text).ok_or_else(|| StoreError::Corrupt(format!("ticket {id} has {column} {text:?}")))
}

/// The kind a `kind` column holds.
fn kind_of(id: Uuid, text: &str) -> Result<TicketKind, StoreError> {
    parsed(id, "kind", text, TicketKind::parse)
}

fn from_row(row: &tokio_postgres::Row) -> Result<TicketRow, StoreError> {
    let id: Uuid = row.try_get(0)?;
    let kind = kind_of(id, row.try_get(2)?)?;
    let version: i64 = row.try_get(10)?;
    Ok(TicketRow {
        id,
        number: row.try_get(1)?,
        kind,
        status: parsed(id, "status", row.try_get(3)?, |s| TicketStatus::parse(kind, s))?,
        priority: row
            .try_get::<_, Option<&str>>(4)?
            .map(|p| parsed(id, "priority", p, Priority::parse))
            .transpose()?,
        team: row.try_get(5)?,
        assignee: row.try_get(6)?,
        channel: row
            .try_get::<_, Option<&str>>(7)?
            .map(|c| parsed(id, "channel", c, Channel::parse))
            .transpose()?,
        created_at: row.try_get(8)?,
        updated_at: row.try_get(9)?,
        version: u64::try_from(version).map_err(|_| StoreError::Corrupt("negative version".into()))?,
        view: row.try_get(11)?,
        subject: row.try_get(12)?,
        severity: row.try_get(13)?,
        complaint_linked: row.try_get(14)?,
        window: match (row.try_get(15)?, row.try_get(16)?) {
            (Some(start), Some(end)) => Some((start, end)),
            _ => None,
        },
        sla: QueueColumns {
            due_at: row.try_get(17)?,
            warn_at: row.try_get(18)?,
            paused: row.try_get(19)?,
        },
    })
}

fn where_lookup(r: &TicketLookup) -> (&'static str, Box<dyn ToSql + Sync + Send>) {
    match r {
        TicketLookup::Id(id) => ("t.id = $1", Box::new(*id)),
        TicketLookup::Number(n) => ("t.number = $1", Box::new(n.clone())),
    }
}

pub async fn get(client: &impl GenericClient, r: &TicketLookup) -> Result<Option<TicketRow>, StoreError> {
    let (clause, param) = where_lookup(r);
    let sql = format!("SELECT {COLUMNS} FROM tickets t WHERE {clause}");
    let statement = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(&statement, &[param.as_ref() as &(dyn ToSql + Sync)])
        .await?;
    row.as_ref().map(from_row).transpose()
}

/// What names a ticket and decides who may read it, without its view:
/// for reads that do not show the view (the history), so they neither fetch
/// nor parse it (a long-lived ticket's view holds its whole timeline).
pub struct TicketIdentity {
    pub id: Uuid,
    pub number: String,
    pub kind: TicketKind,
    pub complaint_linked: bool,
}

pub async fn identify(client: &impl GenericClient, r: &TicketLookup) -> Result<Option<TicketIdentity>, StoreError> {
    let (clause, param) = where_lookup(r);
    let sql = format!("SELECT t.id, t.number, t.kind, t.complaint_linked FROM tickets t WHERE {clause}");
    let statement = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(&statement, &[param.as_ref() as &(dyn ToSql + Sync)])
        .await?;
    row.map(|row| {
        let id = row.try_get(0)?;
        Ok(TicketIdentity {
            id,
            number: row.try_get(1)?,
            kind: kind_of(id, row.try_get(2)?)?,
            complaint_linked: row.try_get(3)?,
        })
    })
    .transpose()
}

/// The kind of each of `ids` that is a ticket, and whether it is linked to
/// a complaint: what read rules need. Streams that are no tickets (data
/// subjects, calendars, freeze windows) are absent.
pub async fn kinds_of(
    client: &impl GenericClient,
    ids: &[Uuid],
) -> Result<std::collections::HashMap<Uuid, (TicketKind, bool)>, StoreError> {
    let statement = client
        .prepare_cached("SELECT id, kind, complaint_linked FROM tickets WHERE id = ANY($1)")
        .await?;
    let rows = client.query(&statement, &[&ids]).await?;
    rows.iter()
        .map(|row| {
            let id = row.try_get(0)?;
            Ok((id, (kind_of(id, row.try_get(1)?)?, row.try_get(2)?)))
        })
        .collect()
}

/// The current view together with the head of its stream, in one round
/// trip: what a command needs to decide and to chain its events. The row
/// stays locked until the caller's transaction ends, so writers to one
/// ticket queue up instead of failing on each other. (One table only: after
/// waiting for a lock, PostgreSQL re-reads the locked row but not rows joined
/// to it, so a join would pair the new view with a stale head.)
pub async fn lock_with_head(
    client: &impl GenericClient,
    r: &TicketLookup,
) -> Result<Option<(TicketRow, StreamHead)>, StoreError> {
    let (clause, param) = where_lookup(r);
    let sql = format!("SELECT {COLUMNS}, t.head_hash FROM tickets t WHERE {clause} FOR UPDATE");
    let statement = client.prepare_cached(&sql).await?;
    let row = client
        .query_opt(&statement, &[param.as_ref() as &(dyn ToSql + Sync)])
        .await?;
    match row {
        None => Ok(None),
        Some(row) => {
            let ticket = from_row(&row)?;
            let hash: Vec<u8> = row.try_get(20)?;
            let head = StreamHead {
                version: ticket.version,
                hash: to_hash(&hash)?,
                recorded_at: ticket.updated_at,
            };
            Ok(Some((ticket, head)))
        }
    }
}

/// Every column of a `tickets` row, in the order [`upsert`] writes them.
/// Whatever copies whole rows (the rebuild) takes its column list from here.
pub const STORED_COLUMNS: [&str; 21] = [
    "id",
    "number",
    "kind",
    "status",
    "priority",
    "team",
    "assignee",
    "channel",
    "created_at",
    "updated_at",
    "version",
    "view",
    "head_hash",
    "subject_id",
    "severity",
    "complaint_linked",
    "window_start",
    "window_end",
    "sla_due_at",
    "sla_warn_at",
    "sla_paused",
];

/// The PostgreSQL types of [`STORED_COLUMNS`], in order: what a binary
/// `COPY` of whole rows (the rebuild, the growth benchmark's preload) sends.
pub const STORED_COLUMN_TYPES: [tokio_postgres::types::Type; 21] = {
    use tokio_postgres::types::Type;
    [
        Type::UUID,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TEXT,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::INT8,
        Type::JSONB,
        Type::BYTEA,
        Type::UUID,
        Type::INT2,
        Type::BOOL,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::TIMESTAMPTZ,
        Type::BOOL,
    ]
};

/// [`STORED_COLUMNS`] as a list, each qualified by `alias` when given.
pub fn stored_column_list(alias: Option<&str>) -> String {
    STORED_COLUMNS
        .iter()
        .map(|c| match alias {
            Some(a) => format!("{a}.{c}"),
            None => (*c).to_owned(),
        })
        .collect::<Vec<_>>()
        .join(", ")
}

/// Writes a view and the hash of the stream's latest event; an older
/// version never overwrites a newer one, and meeting one is a lost race.
pub async fn upsert(client: &impl GenericClient, t: &TicketRow, head_hash: &[u8; 32]) -> Result<(), StoreError> {
    let statement = client
        .prepare_cached(
            "INSERT INTO tickets (id, number, kind, status, priority, team, assignee, channel, created_at, updated_at, version, view, head_hash, subject_id, severity, complaint_linked, window_start, window_end, sla_due_at, sla_warn_at, sla_paused)
             VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16, $17, $18, $19, $20, $21)
             ON CONFLICT (id) DO UPDATE SET
                status = EXCLUDED.status, priority = EXCLUDED.priority, team = EXCLUDED.team,
                assignee = EXCLUDED.assignee, channel = EXCLUDED.channel, updated_at = EXCLUDED.updated_at,
                version = EXCLUDED.version, view = EXCLUDED.view, head_hash = EXCLUDED.head_hash,
                severity = EXCLUDED.severity, complaint_linked = EXCLUDED.complaint_linked, subject_id = EXCLUDED.subject_id,
                window_start = EXCLUDED.window_start, window_end = EXCLUDED.window_end,
                sla_due_at = EXCLUDED.sla_due_at, sla_warn_at = EXCLUDED.sla_warn_at, sla_paused = EXCLUDED.sla_paused
             WHERE tickets.version < EXCLUDED.version",
        )
        .await?;
    let version = i64::try_from(t.version).map_err(|_| StoreError::Corrupt("version overflow".into()))?;
    let written = client
        .execute(
            &statement,
            &[
                &t.id,
                &t.number,
                &t.kind.as_str(),
                &t.status.as_str(),
                &t.priority.map(Priority::as_str),
                &t.team,
                &t.assignee,
                &t.channel.map(Channel::as_str),
                &t.created_at,
                &t.updated_at,
                &version,
                &t.view,
                &&head_hash[..],
                &t.subject,
                &t.severity,
                &t.complaint_linked,
                &t.window.map(|w| w.0),
                &t.window.map(|w| w.1),
                &t.sla.due_at,
                &t.sla.warn_at,
                &t.sla.paused,
            ],
        )
        .await?;
    // Nothing written: the view is at this version or newer already, so
    // another writer appended first, as the events' insert reports too.
    if written == 0 {
        return Err(StoreError::VersionConflict);
    }
    Ok(())
}

/// How many views there are.
pub async fn count(client: &impl tokio_postgres::GenericClient) -> Result<u64, StoreError> {
    let count: i64 = client
        .query_one("SELECT count(*) FROM tickets", &[])
        .await?
        .try_get(0)?;
    Ok(count.unsigned_abs())
}

/// The next counter of a kind's ticket numbers.
pub async fn next_number(client: &impl GenericClient, kind: TicketKind) -> Result<u64, StoreError> {
    let sequence = match kind {
        TicketKind::Complaint => "SELECT nextval('ticket_number_complaint')",
        TicketKind::Fault => "SELECT nextval('ticket_number_fault')",
        TicketKind::Change => "SELECT nextval('ticket_number_change')",
    };
    let statement = client.prepare_cached(sequence).await?;
    let counter: i64 = client.query_one(&statement, &[]).await?.try_get(0)?;
    Ok(counter.unsigned_abs())
}

/// Moves each kind's number sequence past the highest number its tickets
/// hold, so tickets filed after an import never take a restored number.
/// Numbers read `KIND-YEAR-COUNTER`; the counter runs across years.
pub async fn advance_numbers(client: &impl tokio_postgres::GenericClient) -> Result<(), StoreError> {
    for (kind, sequence) in [
        (TicketKind::Complaint, "ticket_number_complaint"),
        (TicketKind::Fault, "ticket_number_fault"),
        (TicketKind::Change, "ticket_number_change"),
    ] {
        client
            .execute(
                &format!(
                    "SELECT setval('{sequence}', max(split_part(number, '-', 3)::bigint))
                     FROM tickets WHERE kind = $1 HAVING count(*) > 0"
                ),
                &[&kind.as_str()],
            )
            .await?;
    }
    Ok(())
}

/// Changes whose window overlaps `[from, to)`, earliest first.
pub async fn change_calendar(
    client: &impl GenericClient,
    from: DateTime<Utc>,
    to: DateTime<Utc>,
    limit: u32,
) -> Result<Vec<TicketRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets t
         WHERE t.kind = 'change' AND t.window_start IS NOT NULL
           AND tstzrange(t.window_start, t.window_end) && tstzrange($1, $2)
         ORDER BY t.window_start, t.id LIMIT $3"
    );
    let statement = client.prepare_cached(&sql).await?;
    let rows = client.query(&statement, &[&from, &to, &i64::from(limit)]).await?;
    rows.iter().map(from_row).collect()
}

/// Open faults in working order: untriaged first, then critical first,
/// oldest first within each; up to `limit` after `after`, and where the next
/// page starts if there is one.
pub async fn fault_queue(
    client: &impl GenericClient,
    after: Option<QueueCursor>,
    limit: u32,
) -> Result<(Vec<TicketRow>, Option<QueueCursor>), StoreError> {
    // Untriaged faults (no severity) rank 0, before severity 1; the
    // expressions match the `tickets_fault_queue` index (V7), and the first
    // page has a statement of its own so both can walk that index.
    const OPEN_FAULTS: &str = "t.kind = 'fault' AND t.status NOT IN ('resolved', 'closed')";
    const RANK: &str = "coalesce(t.severity, 0::smallint)";
    let limit = i64::from(limit) + 1;
    let rows = match after {
        None => {
            let sql = format!(
                "SELECT {COLUMNS} FROM tickets t WHERE {OPEN_FAULTS}
                 ORDER BY {RANK}, t.created_at, t.id LIMIT $1"
            );
            let statement = client.prepare_cached(&sql).await?;
            client.query(&statement, &[&limit]).await?
        }
        Some(c) => {
            let sql = format!(
                "SELECT {COLUMNS} FROM tickets t WHERE {OPEN_FAULTS}
                   AND ({RANK}, t.created_at, t.id) > ($1, $2, $3)
                 ORDER BY {RANK}, t.created_at, t.id LIMIT $4"
            );
            let statement = client.prepare_cached(&sql).await?;
            client
                .query(&statement, &[&c.severity_rank, &c.created_at, &c.id, &limit])
                .await?
        }
    };
    let mut rows = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let page = (limit - 1) as usize;
    let next = (rows.len() > page).then(|| {
        rows.truncate(page);
        rows.last().map(|r| QueueCursor {
            severity_rank: r.severity.unwrap_or(0),
            created_at: r.created_at,
            id: r.id,
        })
    });
    Ok((rows, next.flatten()))
}

/// Where a page of the fault queue starts: just after this fault in working
/// order (severity rank, 0 for untriaged; then age; then id).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct QueueCursor {
    pub severity_rank: i16,
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl QueueCursor {
    pub fn encode(&self, key: &CursorKey) -> String {
        let mut bytes = self.severity_rank.to_be_bytes().to_vec();
        bytes.extend_from_slice(&self.created_at.timestamp_micros().to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        sign(&key.queue, bytes)
    }

    pub fn decode(s: &str, key: &CursorKey) -> Option<QueueCursor> {
        let bytes = open_signed(&key.queue, s, 26)?;
        Some(QueueCursor {
            severity_rank: i16::from_be_bytes(bytes[..2].try_into().ok()?),
            created_at: storable_instant(i64::from_be_bytes(bytes[2..10].try_into().ok()?))?,
            id: Uuid::from_slice(&bytes[10..]).ok()?,
        })
    }
}

/// Signs the cursors the server gives out (the `cursor` system key), one
/// label per list, so a cursor is a position this server issued for that
/// list and nothing a client made up: a made-up one would reach the
/// database as a key it may not be able to hold.
#[derive(Debug, Clone)]
pub struct CursorKey {
    list: TagKey,
    queue: TagKey,
    due: TagKey,
}

impl CursorKey {
    pub fn new(key: &DataKey) -> Result<CursorKey, CryptoError> {
        Ok(CursorKey {
            list: TagKey::new(key, "opsledger ticket list cursor v1")?,
            queue: TagKey::new(key, "opsledger fault queue cursor v1")?,
            due: TagKey::new(key, "opsledger ticket list due-first cursor v1")?,
        })
    }
}

const CURSOR_TAG_LEN: usize = 16;

fn sign(key: &TagKey, mut position: Vec<u8>) -> String {
    let tag = key.tag(&position);
    position.extend_from_slice(&tag[..CURSOR_TAG_LEN]);
    URL_SAFE_NO_PAD.encode(position)
}

/// The `len` bytes of position a cursor carries, if `key` signed them.
fn open_signed(key: &TagKey, cursor: &str, len: usize) -> Option<Vec<u8>> {
    let mut position = URL_SAFE_NO_PAD.decode(cursor).ok()?;
    if position.len() != len + CURSOR_TAG_LEN {
        return None;
    }
    let tag = position.split_off(len);
    key.verify(&position, &tag).then_some(position)
}

/// An instant PostgreSQL can store: `timestamptz` begins at 4714-11-24 BC,
/// later than chrono does (its end lies beyond chrono's).
fn storable_instant(micros: i64) -> Option<DateTime<Utc>> {
    let earliest = NaiveDate::from_ymd_opt(-4713, 11, 24)?.and_hms_opt(0, 0, 0)?.and_utc();
    DateTime::from_timestamp_micros(micros).filter(|t| *t >= earliest)
}

/// Every ticket carrying a subject's personal data, oldest first; locked
/// when `lock` is set (erasure rewrites them).
pub async fn of_subject(client: &impl GenericClient, subject: Uuid, lock: bool) -> Result<Vec<TicketRow>, StoreError> {
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets t WHERE t.subject_id = $1 ORDER BY t.created_at, t.id{}",
        if lock { " FOR UPDATE" } else { "" }
    );
    let rows = client.query(&sql, &[&subject]).await?;
    rows.iter().map(from_row).collect()
}

/// Open complaints and triaged faults whose view has no service-level
/// clocks, oldest first: what the SLA upgrade looks at. (A fault not yet
/// triaged has no severity to pin clocks for; its triage pins them.)
pub async fn open_without_clocks(client: &impl GenericClient) -> Result<Vec<(Uuid, TicketKind)>, StoreError> {
    let rows = client
        .query(
            "SELECT id, kind FROM tickets
             WHERE (kind = 'complaint' OR (kind = 'fault' AND severity IS NOT NULL))
               AND status NOT IN ('resolved', 'closed')
               -- A ticket with a clock running or paused has these set:
               -- only the rest (none yet, or every target without a due
               -- time) need their view read, and a store already upgraded
               -- reads almost none at start-up.
               AND sla_due_at IS NULL AND NOT sla_paused
               AND coalesce(view->'sla', 'null'::jsonb) = 'null'::jsonb
             ORDER BY created_at, id",
            &[],
        )
        .await?;
    rows.iter()
        .map(|r| {
            let id = r.try_get(0)?;
            Ok((id, kind_of(id, r.try_get(1)?)?))
        })
        .collect()
}

/// Data subjects whose personal data more than one ticket carries, oldest
/// first.
pub async fn shared_subjects(client: &impl GenericClient) -> Result<Vec<Uuid>, StoreError> {
    let rows = client
        .query(
            "SELECT subject_id FROM tickets WHERE subject_id IS NOT NULL
             GROUP BY subject_id HAVING count(*) > 1 ORDER BY min(created_at), subject_id",
            &[],
        )
        .await?;
    rows.iter().map(|r| Ok(r.try_get(0)?)).collect()
}

/// Replaces a view without changing its version: only for scrubbing erased
/// personal data out of it (the events keep their ciphertext; the view
/// keeps an erased marker instead).
pub async fn replace_scrubbed_view(client: &impl GenericClient, id: Uuid, view: &Value) -> Result<(), StoreError> {
    client
        .execute("UPDATE tickets SET view = $2 WHERE id = $1", &[&id, view])
        .await?;
    Ok(())
}

/// Filters of `GET /v1/tickets`. Every field narrows the list.
#[derive(Debug, Clone)]
pub struct ListFilter {
    pub kind: Option<TicketKind>,
    /// A status name, of whichever kinds have it (`resolved` is a status of
    /// all three).
    pub status: Option<&'static str>,
    pub priority: Option<Priority>,
    pub team: Option<String>,
    pub assignee: Option<String>,
    pub channel: Option<Channel>,
    pub created_from: Option<DateTime<Utc>>,
    pub created_to: Option<DateTime<Utc>>,
    pub severity: Option<i16>,
    /// Only tickets of these data subjects (from a blind-index lookup).
    pub subjects: Option<Vec<Uuid>>,
    /// Only tickets whose clocks are in this state at the instant given.
    pub sla: Option<(SlaState, DateTime<Utc>)>,
    /// What the caller may read at all.
    pub scope: ReadScope,
}

/// Where a ticket's service-level clocks stand at an instant, from the
/// queue columns: `breached` once the earliest burning `due_at` has
/// passed, else `at_risk` once the earliest `warn_at` has, else
/// `on_track`; `paused` while a running target waits on the customer and
/// none burns. A ticket without running clocks is in no state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SlaState {
    OnTrack,
    AtRisk,
    Breached,
    Paused,
}

impl SlaState {
    pub const ALL: [SlaState; 4] = [
        SlaState::OnTrack,
        SlaState::AtRisk,
        SlaState::Breached,
        SlaState::Paused,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            SlaState::OnTrack => "on_track",
            SlaState::AtRisk => "at_risk",
            SlaState::Breached => "breached",
            SlaState::Paused => "paused",
        }
    }

    /// The SQL condition, with `$n` the instant compared with (unused when
    /// paused).
    fn clause(self, n: usize) -> String {
        match self {
            SlaState::OnTrack => format!("sla_due_at IS NOT NULL AND coalesce(sla_warn_at, sla_due_at) > ${n}"),
            SlaState::AtRisk => {
                format!("sla_due_at > ${n} AND sla_warn_at <= ${n}")
            }
            SlaState::Breached => format!("sla_due_at <= ${n}"),
            SlaState::Paused => "sla_paused AND sla_due_at IS NULL".to_owned(),
        }
    }
}

/// The order of a list and where its page starts.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListOrder {
    /// Newest first (the default), after this cursor.
    Newest(Option<Cursor>),
    /// What burns first: earliest SLA `due_at` first, tickets without a
    /// burning clock last; ties broken by id.
    DueFirst(Option<DueCursor>),
}

/// The start of the next page of a list, in its order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextPage {
    Newest(Cursor),
    DueFirst(DueCursor),
}

impl NextPage {
    pub fn encode(&self, key: &CursorKey) -> String {
        match self {
            NextPage::Newest(c) => c.encode(key),
            NextPage::DueFirst(c) => c.encode(key),
        }
    }
}

/// Where a page of the due-first order starts: just after this
/// (due_at, id); a ticket without a due time sorts after every one with.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct DueCursor {
    pub due_at: Option<DateTime<Utc>>,
    pub id: Uuid,
}

impl DueCursor {
    pub fn encode(&self, key: &CursorKey) -> String {
        let mut bytes = vec![u8::from(self.due_at.is_some())];
        bytes.extend_from_slice(&self.due_at.map_or(0, |d| d.timestamp_micros()).to_be_bytes());
        bytes.extend_from_slice(self.id.as_bytes());
        sign(&key.due, bytes)
    }

    pub fn decode(s: &str, key: &CursorKey) -> Option<DueCursor> {
        let bytes = open_signed(&key.due, s, 25)?;
        let due_at = match bytes[0] {
            0 => None,
            1 => Some(storable_instant(i64::from_be_bytes(bytes[1..9].try_into().ok()?))?),
            _ => return None,
        };
        Some(DueCursor {
            due_at,
            id: Uuid::from_slice(&bytes[9..]).ok()?,
        })
    }
}

/// Where a page starts: just after this (created_at, id) in newest-first order.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cursor {
    pub created_at: DateTime<Utc>,
    pub id: Uuid,
}

impl Cursor {
    pub fn encode(&self, key: &CursorKey) -> String {
        let mut bytes = self.created_at.timestamp_micros().to_be_bytes().to_vec();
        bytes.extend_from_slice(self.id.as_bytes());
        sign(&key.list, bytes)
    }

    pub fn decode(s: &str, key: &CursorKey) -> Option<Cursor> {
        let bytes = open_signed(&key.list, s, 24)?;
        Some(Cursor {
            created_at: storable_instant(i64::from_be_bytes(bytes[..8].try_into().ok()?))?,
            id: Uuid::from_slice(&bytes[8..]).ok()?,
        })
    }
}

/// The SQL form of a read scope; `None` when it allows every ticket.
fn scope_clause(scope: &ReadScope) -> Option<String> {
    let mut kinds = Vec::with_capacity(3);
    if scope.complaints {
        kinds.push("kind = 'complaint'");
    }
    match scope.faults {
        FaultReach::All => kinds.push("kind = 'fault'"),
        FaultReach::LinkedToComplaints => kinds.push("(kind = 'fault' AND complaint_linked)"),
        FaultReach::None => {}
    }
    if scope.changes {
        kinds.push("kind = 'change'");
    }
    let everything = scope.complaints && scope.faults == FaultReach::All && scope.changes;
    match kinds.as_slice() {
        _ if everything => None,
        [] => Some("false".to_owned()),
        [one] => Some((*one).to_owned()),
        many => Some(format!("({})", many.join(" OR "))),
    }
}

/// One page in `order`, and where the next page starts if there is one.
pub async fn list(
    client: &impl GenericClient,
    filter: &ListFilter,
    order: ListOrder,
    limit: u32,
) -> Result<(Vec<TicketRow>, Option<NextPage>), StoreError> {
    let mut clauses: Vec<String> = Vec::new();
    let mut params: Vec<Box<dyn ToSql + Sync + Send>> = Vec::new();
    let mut add = |column: &str, op: &str, value: Box<dyn ToSql + Sync + Send>| {
        params.push(value);
        clauses.push(format!("{column} {op} ${}", params.len()));
    };
    for (column, value) in [
        ("kind", filter.kind.map(TicketKind::as_str)),
        ("status", filter.status),
        ("priority", filter.priority.map(Priority::as_str)),
        ("team", filter.team.as_deref()),
        ("assignee", filter.assignee.as_deref()),
        ("channel", filter.channel.map(Channel::as_str)),
    ] {
        if let Some(v) = value {
            add(column, "=", Box::new(v.to_owned()));
        }
    }
    if let Some(severity) = filter.severity {
        add("severity", "=", Box::new(severity));
    }
    if let Some(from) = filter.created_from {
        add("created_at", ">=", Box::new(from));
    }
    if let Some(to) = filter.created_to {
        add("created_at", "<", Box::new(to));
    }
    if let Some(clause) = scope_clause(&filter.scope) {
        clauses.push(clause);
    }
    if let Some(subjects) = &filter.subjects {
        params.push(Box::new(subjects.clone()));
        clauses.push(format!("subject_id = ANY(${})", params.len()));
    }
    if let Some((state, now)) = filter.sla {
        // Paused does not depend on the time; the others compare with it.
        if state != SlaState::Paused {
            params.push(Box::new(now));
        }
        clauses.push(state.clause(params.len()));
    }
    let order_by = match order {
        ListOrder::Newest(after) => {
            if let Some(c) = after {
                params.push(Box::new(c.created_at));
                params.push(Box::new(c.id));
                clauses.push(format!("(created_at, id) < (${}, ${})", params.len() - 1, params.len()));
            }
            "created_at DESC, id DESC"
        }
        ListOrder::DueFirst(after) => {
            // NULLS LAST, as the tickets_sla_due index orders: after a
            // ticket with a due time come later due times, then every
            // ticket without one; after one without, only those.
            match after {
                Some(DueCursor { due_at: Some(due), id }) => {
                    params.push(Box::new(due));
                    params.push(Box::new(id));
                    let (d, i) = (params.len() - 1, params.len());
                    clauses.push(format!("((sla_due_at, id) > (${d}, ${i}) OR sla_due_at IS NULL)"));
                }
                Some(DueCursor { due_at: None, id }) => {
                    params.push(Box::new(id));
                    clauses.push(format!("(sla_due_at IS NULL AND id > ${})", params.len()));
                }
                None => {}
            }
            "sla_due_at ASC NULLS LAST, id ASC"
        }
    };
    params.push(Box::new(i64::from(limit) + 1));
    let sql = format!(
        "SELECT {COLUMNS} FROM tickets t {} ORDER BY {order_by} LIMIT ${}",
        if clauses.is_empty() {
            String::new()
        } else {
            format!("WHERE {}", clauses.join(" AND "))
        },
        params.len()
    );
    let statement = client.prepare_cached(&sql).await?;
    let refs: Vec<&(dyn ToSql + Sync)> = params.iter().map(|p| p.as_ref() as &(dyn ToSql + Sync)).collect();
    let rows = client.query(&statement, &refs).await?;
    let mut tickets = rows.iter().map(from_row).collect::<Result<Vec<_>, _>>()?;
    let next = if tickets.len() > limit as usize {
        tickets.truncate(limit as usize);
        tickets.last().map(|t| match order {
            ListOrder::Newest(_) => NextPage::Newest(Cursor {
                created_at: t.created_at,
                id: t.id,
            }),
            ListOrder::DueFirst(_) => NextPage::DueFirst(DueCursor {
                due_at: t.sla.due_at,
                id: t.id,
            }),
        })
    } else {
        None
    };
    Ok((tickets, next))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn cursor_key() -> CursorKey {
        CursorKey::new(&DataKey::generate().expect("random")).expect("key")
    }

    #[test]
    fn cursors_round_trip_and_garbage_is_refused() {
        let key = cursor_key();
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).expect("valid"),
            id: Uuid::now_v7(),
        };
        assert_eq!(Cursor::decode(&c.encode(&key), &key), Some(c));
        assert_eq!(Cursor::decode("not-a-cursor", &key), None);
        assert_eq!(Cursor::decode("", &key), None);
        let q = QueueCursor {
            severity_rank: 2,
            created_at: c.created_at,
            id: c.id,
        };
        assert_eq!(QueueCursor::decode(&q.encode(&key), &key), Some(q));
        assert_eq!(
            QueueCursor::decode(&c.encode(&key), &key),
            None,
            "a list cursor is not a queue cursor"
        );
        assert_eq!(Cursor::decode(&q.encode(&key), &key), None, "nor the other way round");
    }

    #[test]
    fn a_cursor_is_only_what_this_server_signed() {
        let key = cursor_key();
        let c = Cursor {
            created_at: DateTime::from_timestamp_micros(1_790_000_000_123_456).expect("valid"),
            id: Uuid::now_v7(),
        };
        let issued = URL_SAFE_NO_PAD.decode(c.encode(&key)).expect("base64");
        for i in 0..issued.len() {
            let mut flipped = issued.clone();
            flipped[i] ^= 0x01;
            assert_eq!(
                Cursor::decode(&URL_SAFE_NO_PAD.encode(&flipped), &key),
                None,
                "byte {i}"
            );
        }
        assert_eq!(Cursor::decode(&c.encode(&cursor_key()), &key), None, "another key");
        let unsigned = URL_SAFE_NO_PAD.encode(&issued[..24]);
        assert_eq!(Cursor::decode(&unsigned, &key), None, "the old, unsigned form");
    }

    #[test]
    fn a_signed_cursor_before_postgresql_time_begins_is_refused() {
        let key = cursor_key();
        let ancient = QueueCursor {
            severity_rank: 0,
            created_at: DateTime::from_timestamp_micros(i64::MIN / 2).expect("in chrono's range"),
            id: Uuid::now_v7(),
        };
        assert_eq!(QueueCursor::decode(&ancient.encode(&key), &key), None);
        let earliest = QueueCursor {
            created_at: NaiveDate::from_ymd_opt(-4713, 11, 24)
                .and_then(|d| d.and_hms_opt(0, 0, 0))
                .expect("a date")
                .and_utc(),
            ..ancient
        };
        assert_eq!(QueueCursor::decode(&earliest.encode(&key), &key), Some(earliest));
    }

    #[test]
    fn a_column_value_the_domain_does_not_know_is_corrupt_not_a_panic() {
        let id = Uuid::nil();
        assert_eq!(kind_of(id, "fault").ok(), Some(TicketKind::Fault));
        assert!(matches!(kind_of(id, "incident"), Err(StoreError::Corrupt(_))));
        let status = parsed(id, "status", "investigating", |s| {
            TicketStatus::parse(TicketKind::Complaint, s)
        });
        assert!(matches!(status, Err(StoreError::Corrupt(m)) if m.contains("\"investigating\"")));
        assert!(parsed(id, "priority", "P9", Priority::parse).is_err());
        assert_eq!(
            parsed(id, "channel", "in_person", Channel::parse).ok(),
            Some(Channel::InPerson)
        );
    }

    #[test]
    fn tickets_are_named_by_id_or_number() {
        let id = Uuid::now_v7();
        assert_eq!(TicketLookup::parse(&id.to_string()), Some(TicketLookup::Id(id)));
        assert_eq!(
            TicketLookup::parse("cmp-2026-000001"),
            Some(TicketLookup::Number("CMP-2026-000001".into()))
        );
        assert_eq!(TicketLookup::parse("1; DROP TABLE tickets"), None);
    }

    #[test]
    fn the_upsert_writes_exactly_the_stored_columns_in_their_order() {
        let source = include_str!("tickets.rs");
        let insert = source
            .split("INSERT INTO tickets (")
            .nth(1)
            .and_then(|rest| rest.split(')').next())
            .expect("the upsert statement");
        let written: Vec<&str> = insert.split(',').map(str::trim).collect();
        assert_eq!(written, STORED_COLUMNS);
    }
}
