//! Growth mode: `cargo bench --bench load -- --growth --events 10000000`.
//!
//! 1. On the (nearly) empty store, prepares one complaint with 1,000 events
//!    through the HTTP API and measures the append median (filing a
//!    complaint) and the history read of that ticket: once cold (reported
//!    only), then, after ANALYZE, the baseline.
//! 2. Preloads `--events` events through a bulk path: complaint streams of
//!    20 to 1,000 events, decided by the domain's own `file`/`decide`, with
//!    personal values sealed under per-subject keys (`privacy::seal_fields`),
//!    put into envelopes and hash-chained by `store::seal`, folded into their
//!    `tickets` row with the projections' `evolve`/`row`. Whole streams are
//!    loaded per batch with `COPY ... FROM STDIN (FORMAT binary)` into
//!    `events`, `event_log` (positions and the global chain computed with
//!    `sequencer::global_hash` under the head row's lock, exactly what the
//!    sequencer would have written), `event_log_head`, `tickets`,
//!    `subject_keys` and `subject_index`, one transaction per batch.
//!    Generation runs on its own thread, one batch ahead of the loader.
//! 3. Runs VACUUM ANALYZE on the loaded tables (what autovacuum does after a bulk
//!    load) and measures append and history again: PASS when both medians
//!    stay within ±20 % of the empty-store values.
//! 4. Times `COPY (SELECT ... FROM events) TO STDOUT (FORMAT binary)` and a
//!    full replay: every event in `event_log` position order, its envelope
//!    parsed, its stream chain and the global chain recomputed and checked,
//!    complaint streams folded with `projections::fold::fold`, and each
//!    folded state compared with its `tickets` row (version and status).
//! 5. Runs the real `opsledger rebuild` (`projections::rebuild::rebuild`)
//!    against the loaded store, timed next to `COPY`: its report must find
//!    every view unchanged, since the preload wrote the views of the log.
//!
//! `--rebuild-only` skips the HTTP measurements (1 and 3) and the replay in
//! position order: the preload, `COPY` and the rebuild alone.

use std::collections::HashMap;
use std::pin::pin;
use std::time::{Duration, Instant};

use chrono::{DateTime, Datelike, Utc};
use futures_util::StreamExt;
use opsledger::domain::EventMeta;
use opsledger::domain::complaint::{
    self, Acknowledge, AddNote, Assign, Channel, Close, Complainant, Complaint, ComplaintCommand, ComplaintEvent,
    FileComplaint, NoteVisibility, Priority, RecordSatisfaction, Resolve, Resume, WaitOnCustomer,
};
use opsledger::domain::ticket::{TicketKind, format_number};
use opsledger::privacy::crypto::{DataKey, IndexKind, MasterKey};
use opsledger::privacy::keys::{self, SubjectKey};
use opsledger::projections::fold::{Projected, fold};
use opsledger::projections::rebuild::RebuildReport;
use opsledger::projections::tickets::TicketRow;
use opsledger::store::sequencer::global_hash;
use opsledger::store::{Envelope, GENESIS_HASH, Metadata, NewEvent, StoredEvent, StreamHead, chain_hash, seal};
use serde_json::json;
use tokio_postgres::binary_copy::BinaryCopyInWriter;
use tokio_postgres::types::{ToSql, Type};
use uuid::Uuid;

use super::{Api, Args, Database, Measured, connect, machine, measure};

/// Events per COPY batch (whole streams, so a batch may hold up to 1,000 more).
const BATCH_EVENTS: u64 = 50_000;
/// Allowed drift of the medians from their empty-store values.
const TOLERANCE: f64 = 0.20;

/// A small deterministic PRNG (SplitMix64): no extra dependency, same data for the same seed.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }

    /// Uniform in `lo..=hi`.
    fn range(&mut self, lo: u64, hi: u64) -> u64 {
        lo + self.next() % (hi - lo + 1)
    }

    fn chance(&mut self, percent: u64) -> bool {
        self.next() % 100 < percent
    }
}

/// Whole streams ready to COPY.
struct Batch {
    /// In global (position) order.
    events: Vec<StoredEvent>,
    tickets: Vec<(TicketRow, [u8; 32])>,
    subjects: Vec<(Uuid, Uuid, Vec<u8>)>,
    index: Vec<(&'static str, [u8; 32], Uuid)>,
}

/// What the generator needs from the database, read once.
struct Keys {
    master: MasterKey,
    index_key: DataKey,
}

/// One complaint stream being generated.
struct Stream {
    id: Uuid,
    key: SubjectKey,
    state: Option<Complaint>,
    head: Option<StreamHead>,
    at: DateTime<Utc>,
    events: Vec<StoredEvent>,
}

impl Stream {
    /// Seals `events` (personal values under the subject's key, then the
    /// envelope and chain) and folds them into the state.
    fn append(&mut self, mut events: Vec<ComplaintEvent>, metadata: &Metadata, rng: &mut Rng) {
        self.at += chrono::Duration::seconds(rng.range(1, 90) as i64);
        for event in &mut events {
            opsledger::privacy::seal_fields(event.personal_mut(), &self.key).expect("sealing");
        }
        let new = events.iter().map(NewEvent::from_domain).collect();
        let sealed = seal(self.id, self.head.as_ref(), new, metadata, self.at).expect("seal");
        for (event, stored) in events.iter().zip(sealed) {
            let meta = EventMeta {
                recorded_at: stored.recorded_at,
                actor: &stored.envelope.metadata.actor,
                version: stored.envelope.version,
                hash: &stored.hash,
            };
            self.state = Some(complaint::evolve(self.state.take(), event, &meta).expect("evolve"));
            self.head = Some(StreamHead {
                version: stored.envelope.version,
                hash: stored.hash,
                recorded_at: stored.recorded_at,
            });
            self.events.push(stored);
        }
    }

    fn decide(&mut self, cmd: ComplaintCommand, metadata: &Metadata, rng: &mut Rng) {
        let state = self.state.as_ref().expect("a filed complaint");
        let events = complaint::decide(state, &cmd, self.at).expect("a valid command");
        self.append(events, metadata, rng);
    }
}

fn metadata(rng: &mut Rng) -> Metadata {
    let request = Uuid::new_v4().to_string();
    Metadata {
        actor: format!("https://idp.bench|agent-{}", rng.range(1, 200)),
        roles: vec!["agent".into()],
        request_id: request.clone(),
        client_request_id: None,
        correlation_id: request,
        causation_id: None,
        idempotency_key: Some(format!("growth-{}", rng.next())),
    }
}

/// One complaint stream of `length` events (at least 20): filed,
/// acknowledged, assigned, notes (internal and to the complainant) with an
/// occasional wait on the customer, and for most streams resolved, rated and
/// closed. Every event comes from the domain's `file` or `decide`.
fn stream(keys: &Keys, counter: u64, length: u64, start: DateTime<Utc>, rng: &mut Rng) -> (Stream, Batch) {
    let id = Uuid::now_v7();
    let subject = Uuid::now_v7();
    let key_id = Uuid::now_v7();
    let data_key = DataKey::generate().expect("a data key");
    let wrapped = keys.master.wrap(&data_key, subject.as_bytes()).expect("wrap");
    let phone = format!("+86 139 {:08}", counter % 100_000_000);
    let customer_ref = format!("GROWTH-{counter}");
    let index = keys::contact_digests(
        &keys.index_key,
        &[
            (IndexKind::CustomerRef, customer_ref.as_str()),
            (IndexKind::Phone, phone.as_str()),
        ],
    )
    .into_iter()
    .map(|(kind, digest)| (kind.as_str(), digest, subject))
    .collect();
    let mut s = Stream {
        id,
        key: SubjectKey {
            subject,
            key_id,
            key: data_key,
        },
        state: None,
        head: None,
        at: start,
        events: Vec::with_capacity(length as usize),
    };
    let number = format_number(TicketKind::Complaint, start.year(), counter);
    let filing = FileComplaint {
        title: "宽带每晚断线".into(),
        description: format!("客户反映家中宽带每晚八点后断线，已持续{}天。", rng.range(1, 30)),
        channel: [Channel::Phone, Channel::Email, Channel::Web, Channel::Chat][rng.range(0, 3) as usize],
        complainant: Complainant {
            name: "张伟".into(),
            phone: Some(phone),
            email: None,
            customer_ref: Some(customer_ref),
        },
        category: "broadband".into(),
        priority: [Priority::P1, Priority::P2, Priority::P3, Priority::P4][rng.range(0, 3) as usize],
        subject: None,
    };
    let events = complaint::file(id, &number, subject, &filing, start).expect("a valid filing");
    s.append(events, &metadata(rng), rng);
    s.decide(
        ComplaintCommand::Acknowledge(Acknowledge {
            message: Some("您好，已收到您的投诉，我们会尽快处理。".into()),
        }),
        &metadata(rng),
        rng,
    );
    s.decide(
        ComplaintCommand::Assign(Assign {
            team: Some("broadband-l2".into()),
            assignee: Some(format!("engineer-{}", rng.range(1, 50))),
        }),
        &metadata(rng),
        rng,
    );
    let closes = rng.chance(60);
    let tail = if closes { 3 } else { 0 };
    let mut waiting = false;
    while (s.events.len() as u64) < length - tail {
        let m = metadata(rng);
        let cmd = if waiting {
            waiting = false;
            ComplaintCommand::Resume(Resume {
                note: Some("客户已回复".into()),
            })
        } else if rng.chance(3) && (s.events.len() as u64) + 1 < length - tail {
            waiting = true;
            ComplaintCommand::WaitOnCustomer(WaitOnCustomer {
                reason: "等待客户提供路由器型号".into(),
            })
        } else if rng.chance(30) {
            ComplaintCommand::AddNote(AddNote {
                body: format!("已电话联系客户，约定第{}次上门时间。", rng.range(1, 9)),
                visibility: NoteVisibility::Complainant,
            })
        } else {
            ComplaintCommand::AddNote(AddNote {
                body: format!(
                    "巡检记录 {}：光功率 -{}.{} dBm",
                    s.events.len(),
                    rng.range(15, 27),
                    rng.range(0, 9)
                ),
                visibility: NoteVisibility::Internal,
            })
        };
        s.decide(cmd, &m, rng);
    }
    if closes {
        s.decide(
            ComplaintCommand::Resolve(Resolve {
                resolution: "更换光猫".into(),
                root_cause: Some("光猫老化".into()),
            }),
            &metadata(rng),
            rng,
        );
        s.decide(
            ComplaintCommand::RecordSatisfaction(RecordSatisfaction {
                rating: rng.range(1, 5) as u8,
                comment: Some("师傅很专业".into()),
            }),
            &metadata(rng),
            rng,
        );
        s.decide(ComplaintCommand::Close(Close { comment: None }), &metadata(rng), rng);
    }
    let batch = Batch {
        events: Vec::new(),
        tickets: Vec::new(),
        subjects: vec![(subject, key_id, wrapped)],
        index,
    };
    (s, batch)
}

/// Generates batches of whole streams until `total` events, sending them to the loader.
fn generate(keys: Keys, total: u64, first_counter: u64, tx: tokio::sync::mpsc::Sender<Batch>) {
    let mut rng = Rng(0x6f70_736c_6564_6772);
    let mut produced = 0u64;
    let mut counter = first_counter;
    // Spread over the 400 days before the run, oldest first; every
    // preloaded event is older than the measured filings.
    let begin = Utc::now() - chrono::Duration::days(401);
    let batches = total.div_ceil(BATCH_EVENTS).max(1);
    let window = chrono::Duration::days(400) / batches as i32;
    let mut batch_start = begin;
    while produced < total {
        let mut batch = Batch {
            events: Vec::new(),
            tickets: Vec::new(),
            subjects: Vec::new(),
            index: Vec::new(),
        };
        let mut in_batch = 0u64;
        while in_batch < BATCH_EVENTS && produced + in_batch < total {
            let remaining = total - produced - in_batch;
            let mut length = rng.range(20, 1000);
            if remaining < 20 + length {
                length = remaining.max(20);
            }
            let offset = chrono::Duration::milliseconds(rng.range(0, window.num_milliseconds().max(1) as u64) as i64);
            let (s, extra) = stream(&keys, counter, length, batch_start + offset, &mut rng);
            counter += 1;
            in_batch += s.events.len() as u64;
            let state = s.state.expect("a filed complaint");
            let row = state.row().expect("a tickets row");
            let head = s.head.expect("a head").hash;
            batch.tickets.push((row, head));
            batch.subjects.extend(extra.subjects);
            batch.index.extend(extra.index);
            batch.events.extend(s.events);
        }
        // Interleave the batch's streams in time, as concurrent work would
        // be; each stream's own order is kept (its times strictly increase).
        batch.events.sort_by_key(|e| e.recorded_at);
        produced += in_batch;
        batch_start += window;
        if tx.blocking_send(batch).is_err() {
            return;
        }
    }
}

async fn copy_rows(
    tx: &tokio_postgres::Transaction<'_>,
    sql: &str,
    types: &[Type],
    rows: impl Iterator<Item = Vec<Box<dyn ToSql + Sync + Send>>>,
) -> Result<u64, tokio_postgres::Error> {
    let sink = tx.copy_in(sql).await?;
    let mut writer = pin!(BinaryCopyInWriter::new(sink, types));
    for row in rows {
        let refs: Vec<&(dyn ToSql + Sync)> = row.iter().map(|v| v.as_ref() as &(dyn ToSql + Sync)).collect();
        writer.as_mut().write(&refs).await?;
    }
    writer.finish().await
}

/// Loads one batch in one transaction, extending the global log from its locked head.
async fn load(client: &mut tokio_postgres::Client, batch: Batch, master_id: &str) -> Result<(), tokio_postgres::Error> {
    let tx = client.transaction().await?;
    let n = batch.events.len() as i64;
    let seq_ids: Vec<i64> = tx
        .query(
            "SELECT nextval(pg_get_serial_sequence('events', 'seq_id')) FROM generate_series(1, $1::int8)",
            &[&n],
        )
        .await?
        .iter()
        .map(|r| r.get(0))
        .collect();
    let head = tx
        .query_one("SELECT position, hash FROM event_log_head WHERE id FOR UPDATE", &[])
        .await?;
    let mut position: i64 = head.get(0);
    let head_hash: Vec<u8> = head.get(1);
    let mut previous: [u8; 32] = head_hash.as_slice().try_into().expect("a 32-byte hash");
    let now = Utc::now();
    let mut log = Vec::with_capacity(batch.events.len());
    for (row, &seq_id) in batch.events.iter().zip(&seq_ids) {
        position += 1;
        previous = global_hash(&previous, &row.hash);
        log.push((position, seq_id, previous));
    }
    copy_rows(
        &tx,
        "COPY events (seq_id, event_id, stream_id, version, event_type, schema_version, recorded_at, stored, hash) \
         FROM STDIN (FORMAT binary)",
        &[
            Type::INT8,
            Type::UUID,
            Type::UUID,
            Type::INT4,
            Type::TEXT,
            Type::INT4,
            Type::TIMESTAMPTZ,
            Type::BYTEA,
            Type::BYTEA,
        ],
        batch.events.iter().zip(&seq_ids).map(|(e, &seq_id)| {
            let row: Vec<Box<dyn ToSql + Sync + Send>> = vec![
                Box::new(seq_id),
                Box::new(e.envelope.event_id),
                Box::new(e.envelope.stream_id),
                Box::new(e.envelope.version as i32),
                Box::new(e.envelope.event_type.clone()),
                Box::new(e.envelope.schema_version as i32),
                Box::new(e.recorded_at),
                Box::new(e.stored.clone()),
                Box::new(e.hash.to_vec()),
            ];
            row
        }),
    )
    .await?;
    copy_rows(
        &tx,
        "COPY event_log (position, seq_id, global_hash, sequenced_at) FROM STDIN (FORMAT binary)",
        &[Type::INT8, Type::INT8, Type::BYTEA, Type::TIMESTAMPTZ],
        log.iter().map(|&(p, s, h)| {
            let row: Vec<Box<dyn ToSql + Sync + Send>> =
                vec![Box::new(p), Box::new(s), Box::new(h.to_vec()), Box::new(now)];
            row
        }),
    )
    .await?;
    let copy_tickets = format!(
        "COPY tickets ({}) FROM STDIN (FORMAT binary)",
        opsledger::projections::tickets::stored_column_list(None)
    );
    copy_rows(
        &tx,
        &copy_tickets,
        &opsledger::projections::tickets::STORED_COLUMN_TYPES,
        batch.tickets.into_iter().map(|(t, head)| {
            let row: Vec<Box<dyn ToSql + Sync + Send>> = vec![
                Box::new(t.id),
                Box::new(t.number),
                Box::new(t.kind.as_str()),
                Box::new(t.status.as_str()),
                Box::new(t.priority.map(Priority::as_str)),
                Box::new(t.team),
                Box::new(t.assignee),
                Box::new(t.channel.map(Channel::as_str)),
                Box::new(t.created_at),
                Box::new(t.updated_at),
                Box::new(t.version as i64),
                Box::new(t.view),
                Box::new(head.to_vec()),
                Box::new(t.subject),
                Box::new(t.severity),
                Box::new(t.complaint_linked),
                Box::new(t.window.map(|w| w.0)),
                Box::new(t.window.map(|w| w.1)),
                Box::new(t.sla.due_at),
                Box::new(t.sla.warn_at),
                Box::new(t.sla.paused),
            ];
            row
        }),
    )
    .await?;
    copy_rows(
        &tx,
        "COPY subject_keys (subject_id, key_id, wrapped_key, master_key_id) FROM STDIN (FORMAT binary)",
        &[Type::UUID, Type::UUID, Type::BYTEA, Type::TEXT],
        batch.subjects.into_iter().map(|(subject, key_id, wrapped)| {
            let row: Vec<Box<dyn ToSql + Sync + Send>> = vec![
                Box::new(subject),
                Box::new(key_id),
                Box::new(wrapped),
                Box::new(master_id.to_owned()),
            ];
            row
        }),
    )
    .await?;
    copy_rows(
        &tx,
        "COPY subject_index (kind, digest, subject_id) FROM STDIN (FORMAT binary)",
        &[Type::TEXT, Type::BYTEA, Type::UUID],
        batch.index.into_iter().map(|(kind, digest, subject)| {
            let row: Vec<Box<dyn ToSql + Sync + Send>> =
                vec![Box::new(kind), Box::new(digest.to_vec()), Box::new(subject)];
            row
        }),
    )
    .await?;
    tx.execute(
        "UPDATE event_log_head SET position = $1, hash = $2 WHERE id",
        &[&position, &previous.to_vec()],
    )
    .await?;
    tx.commit().await
}

fn duration(d: Duration) -> String {
    let s = d.as_secs();
    if s >= 3600 {
        format!("{}h{:02}m{:02}s", s / 3600, s / 60 % 60, s % 60)
    } else if s >= 60 {
        format!("{}m{:02}s", s / 60, s % 60)
    } else {
        format!("{:.1}s", d.as_secs_f64())
    }
}

/// Preloads `total` events; returns how long it took.
async fn preload(db: &Database, total: u64) -> Duration {
    let mut client = connect(&db.admin).await.expect("connect as the owner");
    let master = MasterKey::parse(super::MASTER_KEY).expect("the bench master key");
    // The privacy module takes a pooled client.
    let pool =
        deadpool_postgres::Pool::builder(deadpool_postgres::Manager::new(db.admin.clone(), tokio_postgres::NoTls))
            .max_size(1)
            .build()
            .expect("a pool");
    let index_key = keys::system_key(
        &pool.get().await.expect("a connection"),
        &master,
        keys::SystemKey::BlindIndex,
    )
    .await
    .expect("the blind-index key");
    drop(pool);
    // Reserve ticket numbers for every stream there can be (at least 20 events each).
    let reserve = (total / 20 + 1) as i64;
    let first: i64 = client
        .query_one("SELECT nextval('ticket_number_complaint')", &[])
        .await
        .expect("a number")
        .get(0);
    client
        .execute(
            "SELECT setval('ticket_number_complaint', $1::int8)",
            &[&(first + reserve)],
        )
        .await
        .expect("reserve numbers");
    let master_id = master.id();
    let keys = Keys { master, index_key };
    let (tx, mut rx) = tokio::sync::mpsc::channel(2);
    let generator = std::thread::spawn(move || generate(keys, total, first as u64, tx));
    let started = Instant::now();
    let mut loaded = 0u64;
    let mut last_print = Instant::now() - Duration::from_secs(10);
    while let Some(batch) = rx.recv().await {
        let n = batch.events.len() as u64;
        load(&mut client, batch, &master_id).await.unwrap_or_else(|e| {
            panic!("bulk load: {}", opsledger::store::db_message(&e));
        });
        loaded += n;
        if last_print.elapsed() >= Duration::from_secs(1) || loaded >= total {
            last_print = Instant::now();
            let elapsed = started.elapsed().as_secs_f64();
            let rate = loaded as f64 / elapsed.max(1e-9);
            let eta = Duration::from_secs_f64(total.saturating_sub(loaded) as f64 / rate.max(1e-9));
            eprint!(
                "\rgrowth: preloaded {loaded} / {total} events ({:.1} %), {rate:.0} events/s, elapsed {}, ETA {}   ",
                100.0 * loaded as f64 / total as f64,
                duration(started.elapsed()),
                duration(eta)
            );
        }
    }
    eprintln!();
    generator.join().expect("the generator");
    started.elapsed()
}

struct Replay {
    events: u64,
    elapsed: Duration,
    folded_streams: u64,
    mismatches: Vec<String>,
}

/// Reads the whole log in position order and folds it, checking both chains
/// and each folded state against its `tickets` row.
async fn replay(client: &tokio_postgres::Client) -> Replay {
    let started = Instant::now();
    let mut expected: HashMap<Uuid, (u64, String)> = client
        .query("SELECT id, version, status FROM tickets", &[])
        .await
        .expect("tickets")
        .into_iter()
        .map(|r| (r.get::<_, Uuid>(0), (r.get::<_, i64>(1) as u64, r.get::<_, String>(2))))
        .collect();
    let rows = client
        .query_raw(
            "SELECT l.position, l.global_hash, e.recorded_at, e.stored, e.hash
             FROM event_log l JOIN events e ON e.seq_id = l.seq_id ORDER BY l.position",
            std::iter::empty::<i64>(),
        )
        .await
        .expect("the log");
    let mut rows = pin!(rows);
    let mut global = GENESIS_HASH;
    let mut heads: HashMap<Uuid, [u8; 32]> = HashMap::new();
    let mut states: HashMap<Uuid, Option<Complaint>> = HashMap::new();
    let (mut events, mut folded_streams) = (0u64, 0u64);
    let mut mismatches = Vec::new();
    let mut note = |m: String| {
        if mismatches.len() < 10 {
            mismatches.push(m);
        }
    };
    let mut expected_position = 0i64;
    while let Some(row) = rows.next().await {
        let row = row.expect("a log row");
        let position: i64 = row.get(0);
        let stored_global: &[u8] = row.get(1);
        let stored: Vec<u8> = row.get(3);
        let hash: [u8; 32] = row.get::<_, &[u8]>(4).try_into().expect("a 32-byte hash");
        expected_position += 1;
        if position != expected_position {
            note(format!("position {position} follows {}", expected_position - 1));
            expected_position = position;
        }
        global = global_hash(&global, &hash);
        if stored_global != global {
            note(format!("global chain broken at position {position}"));
        }
        let envelope: Envelope = serde_json::from_slice(&stored).expect("a stored envelope");
        let stream = envelope.stream_id;
        let previous = heads.get(&stream).copied().unwrap_or(GENESIS_HASH);
        if chain_hash(&previous, &stored) != hash {
            note(format!("stream {stream} chain broken at version {}", envelope.version));
        }
        heads.insert(stream, hash);
        events += 1;
        if envelope.event_type.starts_with("complaint.") {
            let version = envelope.version;
            let event = StoredEvent {
                envelope,
                recorded_at: row.get(2),
                stored,
                hash,
            };
            let state = states.remove(&stream).flatten();
            let state = fold::<Complaint>(state, std::slice::from_ref(&event)).expect("the stream folds");
            match expected.get(&stream) {
                Some((v, status)) if *v == version => {
                    let s = state.as_ref().expect("a state");
                    if s.status.as_str() != status || s.version != version {
                        note(format!(
                            "stream {stream}: folded {} v{}, tickets row {status} v{v}",
                            s.status.as_str(),
                            s.version
                        ));
                    }
                    expected.remove(&stream);
                    folded_streams += 1;
                }
                _ => {
                    states.insert(stream, state);
                }
            }
        }
    }
    if !expected.is_empty() {
        let complaints = expected.values().len();
        note(format!("{complaints} tickets rows were not reached by the log"));
    }
    let head = client
        .query_one("SELECT position, hash FROM event_log_head WHERE id", &[])
        .await
        .expect("the head");
    if head.get::<_, i64>(0) != expected_position || head.get::<_, &[u8]>(1) != global {
        note("event_log_head does not match the end of the log".into());
    }
    Replay {
        events,
        elapsed: started.elapsed(),
        folded_streams,
        mismatches,
    }
}

/// `COPY (SELECT ... FROM events) TO STDOUT (FORMAT binary)`, read and discarded.
async fn copy_out(client: &tokio_postgres::Client) -> (u64, u64, Duration) {
    let count: i64 = client
        .query_one("SELECT count(*) FROM events", &[])
        .await
        .expect("count")
        .get(0);
    let started = Instant::now();
    let stream = client
        .copy_out(
            "COPY (SELECT seq_id, event_id, stream_id, version, event_type, schema_version, recorded_at, stored, hash \
             FROM events) TO STDOUT (FORMAT binary)",
        )
        .await
        .expect("copy out");
    let mut stream = pin!(stream);
    let mut bytes = 0u64;
    while let Some(chunk) = stream.next().await {
        bytes += chunk.expect("copy data").len() as u64;
    }
    (count as u64, bytes, started.elapsed())
}

struct Point {
    append: Measured,
    history: Measured,
}

async fn measure_point(api: &Api, history_id: &str, args: &Args) -> Point {
    let warmup = Duration::from_secs(args.warmup);
    let seconds = Duration::from_secs(args.seconds);
    let clients = args.growth_clients;
    let a = api.clone();
    let append = measure(clients, warmup, seconds, move |_| {
        let api = a.clone();
        async move { api.file().await.map(|_| ()) }
    })
    .await;
    let a = api.clone();
    let path = format!("/v1/tickets/{history_id}/history");
    let history = measure(clients, warmup, seconds, move |_| {
        let api = a.clone();
        let path = path.clone();
        async move { api.send(reqwest::Method::GET, &path, None, None).await.map(|_| ()) }
    })
    .await;
    Point { append, history }
}

fn verdict(before: f64, after: f64) -> (f64, &'static str) {
    let ratio = after / before.max(f64::MIN_POSITIVE);
    let pass = (ratio - 1.0).abs() <= TOLERANCE;
    (ratio, if pass { "PASS" } else { "FAIL" })
}

/// The real `opsledger rebuild` against the loaded store, timed, with a
/// progress line like the preload's: the same function, reading on one
/// more connection and folding on as many tasks as the command would
/// (`--rebuild-folds` to change it).
async fn rebuild(db: &Database, folds: usize) -> (Result<RebuildReport, String>, Duration) {
    let mut client = connect(&db.admin).await.expect("connect as the owner");
    let reader = Box::new(connect(&db.admin).await.expect("connect as the owner"));
    let reading = opsledger::projections::rebuild::Reading::Dealt {
        reader,
        folds,
        read_ahead: opsledger::projections::rebuild::READ_AHEAD,
    };
    let started = Instant::now();
    let last_print = std::sync::Mutex::new(Instant::now() - Duration::from_secs(10));
    let progress = |read: u64, total: u64| {
        let Ok(mut last) = last_print.lock() else { return };
        if last.elapsed() < Duration::from_secs(1) && read < total {
            return;
        }
        *last = Instant::now();
        let rate = read as f64 / started.elapsed().as_secs_f64().max(1e-9);
        eprint!(
            "\rgrowth: rebuilt from {read} / {total} events, {rate:.0} events/s, elapsed {}   ",
            duration(started.elapsed())
        );
    };
    let report = opsledger::projections::rebuild::rebuild(&mut client, reading, &progress)
        .await
        .map_err(|e| e.to_string());
    let elapsed = started.elapsed();
    eprintln!();
    (report, elapsed)
}

/// Whether a rebuild of a store whose views all match the log found them so.
fn rebuild_verdict(report: &Result<RebuildReport, String>, tickets: i64) -> String {
    match report {
        Err(e) => format!("FAILED: {e}"),
        Ok(r)
            if r.unchanged == tickets as u64
                && r.tickets == r.unchanged
                && (r.replaced, r.added, r.removed) == (0, 0, 0) =>
        {
            format!(
                "every one of the {} views unchanged, as the preload wrote them.",
                r.unchanged
            )
        }
        Ok(r) => format!(
            "MISMATCH: {tickets} `tickets` rows before; the rebuild folded {} views: {} unchanged, {} replaced, {} added, {} removed.",
            r.tickets, r.unchanged, r.replaced, r.added, r.removed
        ),
    }
}

/// The HTTP measurements of one growth run.
struct Points {
    cold: Point,
    empty: Point,
    grown: Point,
}

/// Prepares the 1,000-event ticket and measures the empty store: the cold
/// point, then (after ANALYZE) the baseline. Returns the ticket's id.
async fn measure_empty(args: &Args, db: &Database, api: &Api) -> (String, Point, Point) {
    eprintln!("growth: preparing the 1,000-event ticket");
    let (history_id, _) = api.file().await.expect("filing");
    for i in 1..1000 {
        api.send(
            reqwest::Method::POST,
            &format!("/v1/complaints/{history_id}/notes"),
            Some(&json!({"body": format!("巡检记录 {i}"), "visibility": "internal"})),
            None,
        )
        .await
        .expect("note");
    }
    // The first point of a fresh server and database runs cold (connections,
    // caches, allocator arenas) and on the planner's guesses for tables it
    // has never analysed: it is measured and reported, but the baseline is
    // the second.
    eprintln!("growth: measuring on the empty store (cold, reported only)");
    let cold = measure_point(api, &history_id, args).await;
    eprintln!(
        "growth: cold empty store: append p50 {:.2} ms, history p50 {:.2} ms",
        cold.append.p50_ms, cold.history.p50_ms
    );
    // Both measured points run on statistics taken of the tables as they
    // are, as autovacuum keeps them, so the planner is not what differs.
    // Analysing a nearly empty store and then filing thousands of
    // complaints within seconds (faster than autovacuum looks again) made
    // the server's cached generic plan for the blind-index lookup hash the
    // whole of `subject_index` on every filing: that, not the size of the
    // log, was the empty store's slower append (docs/performance.md).
    let client = connect(&db.admin).await.expect("connect as the owner");
    client.batch_execute("ANALYZE").await.expect("analyze");
    drop(client);
    eprintln!("growth: measuring on the empty store");
    let empty = measure_point(api, &history_id, args).await;
    (history_id, cold, empty)
}

/// The growth mode; the server is running against `db`.
pub async fn run(args: &Args, db: &Database, api: &Api) {
    let before = if args.rebuild_only {
        None
    } else {
        Some(measure_empty(args, db, api).await)
    };

    eprintln!("growth: preloading {} events", args.events);
    let load_time = preload(db, args.events).await;
    let client = connect(&db.admin).await.expect("connect as the owner");
    // What autovacuum does to tables that bulk inserts grew (insert-driven
    // vacuum since PostgreSQL 13): statistics, and every tuple's commit
    // hint bits set once. Without it the first full read after the load
    // (the timed COPY) would also write those bits into every page, and
    // look slower than any later read of a store in service.
    eprintln!("growth: VACUUM ANALYZE");
    let analyze = Instant::now();
    for table in ["events", "event_log", "tickets", "subject_keys", "subject_index"] {
        // One statement each: VACUUM cannot run inside a transaction.
        client
            .batch_execute(&format!("VACUUM ANALYZE {table}"))
            .await
            .expect("vacuum analyze");
    }
    let analyze = analyze.elapsed();
    let sizes: (i64, i64) = {
        let row = client
            .query_one(
                "SELECT pg_total_relation_size('events'), pg_database_size(current_database())",
                &[],
            )
            .await
            .expect("sizes");
        (row.get(0), row.get(1))
    };

    let points = match before {
        None => None,
        Some((history_id, cold, empty)) => {
            eprintln!("growth: measuring after the preload");
            let grown = measure_point(api, &history_id, args).await;
            Some(Points { cold, empty, grown })
        }
    };

    eprintln!("growth: COPY of the events table");
    let (copied, copy_bytes, copy_time) = copy_out(&client).await;
    let replayed = if args.rebuild_only {
        None
    } else {
        eprintln!("growth: replaying the whole log");
        Some(replay(&client).await)
    };
    let tickets: i64 = client
        .query_one("SELECT count(*) FROM tickets", &[])
        .await
        .expect("count tickets")
        .get(0);
    let folds = args
        .rebuild_folds
        .unwrap_or_else(opsledger::projections::rebuild::default_folds);
    eprintln!("growth: opsledger rebuild, folding on {folds} task(s)");
    let (rebuilt, rebuild_time) = rebuild(db, folds).await;
    let mut rounds = vec![(copy_time, rebuild_time)];
    for round in 2..=args.rebuild_rounds {
        eprintln!("growth: round {round}: COPY, then opsledger rebuild");
        let (_, _, copy) = copy_out(&client).await;
        let (again, rebuild) = rebuild(db, folds).await;
        if let Err(e) = again {
            eprintln!("growth: round {round}: the rebuild failed: {e}");
            break;
        }
        rounds.push((copy, rebuild));
    }

    let mut out = String::new();
    out.push_str(&format!(
        "Machine: {}. Growth mode: {} events preloaded in {} ({:.0} events/s, VACUUM ANALYZE {}); events table {:.1} GiB, \
         database {:.1} GiB.",
        machine(),
        args.events,
        duration(load_time),
        args.events as f64 / load_time.as_secs_f64().max(1e-9),
        duration(analyze),
        sizes.0 as f64 / 1024f64.powi(3),
        sizes.1 as f64 / 1024f64.powi(3),
    ));
    if let Some(p) = &points {
        out.push_str(&format!(
            " {} s measured after {} s warm-up per row, {} client(s); server pool {} connections. \
             Cold empty store (reported only): append p50 {:.2} ms, history p50 {:.2} ms.\n\n",
            args.seconds, args.warmup, args.growth_clients, args.pool, p.cold.append.p50_ms, p.cold.history.p50_ms
        ));
        out.push_str("| measurement | empty store p50 ms | after preload p50 ms | ratio | within ±20 % | throughput empty → after | errors |\n");
        out.push_str("|---|---|---|---|---|---|---|\n");
        for (name, unit, a, b) in [
            (
                "append (file a complaint)",
                "filings/s",
                &p.empty.append,
                &p.grown.append,
            ),
            (
                "history of a 1,000-event ticket",
                "requests/s",
                &p.empty.history,
                &p.grown.history,
            ),
        ] {
            let (ratio, pass) = verdict(a.p50_ms, b.p50_ms);
            out.push_str(&format!(
                "| {name} | {:.2} | {:.2} | {ratio:.2} | {pass} | {:.0} → {:.0} {unit} | {} |\n",
                a.p50_ms,
                b.p50_ms,
                a.ops_per_sec,
                b.ops_per_sec,
                a.errors + b.errors
            ));
        }
    } else {
        out.push_str(" `--rebuild-only`: no HTTP measurements, no replay in position order.\n");
    }
    let rate = |n: u64, d: Duration| n as f64 / d.as_secs_f64().max(1e-9);
    out.push_str("\n| full read of the events table | events | time | events/s |\n|---|---|---|---|\n");
    if let Some(r) = &replayed {
        out.push_str(&format!(
            "| replay: every event in `event_log` position order, envelope parsed, both chains checked, complaints folded | {} | {} | {:.0} |\n",
            r.events,
            duration(r.elapsed),
            rate(r.events, r.elapsed)
        ));
    }
    let rebuilt_events = rebuilt.as_ref().map(|r| r.events).unwrap_or_default();
    out.push_str(&format!(
        "| `opsledger rebuild` (`projections::rebuild::rebuild`: fold every stream into a fresh table, swap; {folds} folding task(s)) | {} | {} | {:.0} |\n",
        rebuilt_events,
        duration(rebuild_time),
        rate(rebuilt_events, rebuild_time)
    ));
    out.push_str(&format!(
        "| `COPY (SELECT ... FROM events) TO STDOUT (FORMAT binary)` ({:.2} GiB) | {} | {} | {:.0} |\n",
        copy_bytes as f64 / 1024f64.powi(3),
        copied,
        duration(copy_time),
        rate(copied, copy_time)
    ));
    out.push('\n');
    if let Some(r) = &replayed {
        out.push_str(&format!(
            "Replay ÷ COPY: {:.1} ×. Consistency: {} streams folded to their `tickets` row; {}\n",
            r.elapsed.as_secs_f64() / copy_time.as_secs_f64().max(1e-9),
            r.folded_streams,
            if r.mismatches.is_empty() {
                "stream chains, global chain and head all verified.".to_owned()
            } else {
                format!("MISMATCHES: {}", r.mismatches.join("; "))
            }
        ));
    }
    out.push_str(&format!(
        "Rebuild ÷ COPY: {:.2} × (rebuild at {:.0} % of the COPY rate). Rebuild report: {}\n",
        rebuild_time.as_secs_f64() / copy_time.as_secs_f64().max(1e-9),
        100.0 * copy_time.as_secs_f64() / rebuild_time.as_secs_f64().max(1e-9),
        rebuild_verdict(&rebuilt, tickets)
    ));
    if rounds.len() > 1 {
        out.push_str("\n| round | `COPY` | rebuild | rebuild ÷ `COPY` |\n|---|---|---|---|\n");
        let mut ratios = Vec::new();
        for (k, (copy, rebuilt)) in rounds.iter().enumerate() {
            let ratio = rebuilt.as_secs_f64() / copy.as_secs_f64().max(1e-9);
            ratios.push(ratio);
            out.push_str(&format!(
                "| {} | {} | {} | {ratio:.2} × |\n",
                k + 1,
                duration(*copy),
                duration(*rebuilt)
            ));
        }
        ratios.sort_by(f64::total_cmp);
        out.push_str(&format!(
            "\nMedian rebuild ÷ COPY over {} rounds: {:.2} × (target ≤ 2 ×).\n",
            ratios.len(),
            ratios[ratios.len() / 2]
        ));
    }
    if let Some(p) = &points {
        for (name, m) in [
            ("append, empty", &p.empty.append),
            ("append, after", &p.grown.append),
            ("history, empty", &p.empty.history),
            ("history, after", &p.grown.history),
        ] {
            if let Some(e) = &m.first_error {
                out.push_str(&format!("\n{name}, first error: {e}\n"));
            }
        }
    }
    crate::publish("growth-report.md", &out);
    if replayed.is_some_and(|r| !r.mismatches.is_empty()) {
        eprintln!("growth: the preloaded store is inconsistent");
    }
}
