//! The service-level policy: for each ticket kind and urgency (complaint
//! priority P1–P4, fault severity 1–4), how soon the first response and
//! the resolution are due, the business calendar they are counted on, and
//! when a target counts as at risk.
//!
//! The policy is one stream (id [`sla_policy_id`]) of `sla_policy.amended`
//! events, each carrying the whole table, so a version says everything that
//! applied. Version 0 is the table compiled into this build
//! ([`default_table`]): it applies while the stream is empty, so a fresh
//! server and every test run under the shipped defaults without a load
//! step, and a clock pinned under version 0 stays reproducible because the
//! defaults only ever change together with a new release's notes.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;
use uuid::Uuid;

use crate::domain::complaint::Priority;
use crate::domain::event::{StoredPayload, decode};
use crate::domain::text::{self, SHORT_TEXT};
use crate::domain::{DomainError, EventMeta, StreamCorrupt, Validator, messages};

/// The namespace of the policy's stream id (one policy per database).
const SLA_POLICY_NAMESPACE: Uuid = Uuid::from_u128(0x6f70_736c_6564_4000_8000_736c_6170_6f6c);

/// The stream id of the service-level policy.
pub fn sla_policy_id() -> Uuid {
    Uuid::new_v5(&SLA_POLICY_NAMESPACE, b"sla_policy")
}

/// The longest target: one year of minutes. Longer is not a service level.
pub const MAX_TARGET_MINUTES: u32 = 366 * 24 * 60;

/// The targets for one kind and urgency of ticket.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct Targets {
    /// Business minutes (on `calendar`) until the first response is due:
    /// a complaint's acknowledgement, a fault's start of investigation.
    #[schema(minimum = 1, maximum = 527040)]
    pub first_response_minutes: u32,
    /// Business minutes (on `calendar`) until the resolution is due; at
    /// least `first_response_minutes`.
    #[schema(minimum = 1, maximum = 527040)]
    pub resolution_minutes: u32,
    /// The code of the business calendar the minutes are counted on, such
    /// as `CN` or `24x7`.
    #[schema(max_length = 32, pattern = r"^[A-Za-z0-9][A-Za-z0-9_-]{0,31}$")]
    pub calendar: String,
    /// How much of a target (in percent) may pass before it is at risk.
    #[schema(minimum = 1, maximum = 100)]
    pub warning_percent: u8,
}

/// The targets of complaints, by priority.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ComplaintTargets {
    /// Targets of `P1` complaints.
    #[serde(rename = "P1")]
    pub p1: Targets,
    /// Targets of `P2` complaints.
    #[serde(rename = "P2")]
    pub p2: Targets,
    /// Targets of `P3` complaints.
    #[serde(rename = "P3")]
    pub p3: Targets,
    /// Targets of `P4` complaints.
    #[serde(rename = "P4")]
    pub p4: Targets,
}

/// The targets of faults, by severity.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct FaultTargets {
    /// Targets of severity 1 (critical) faults.
    #[serde(rename = "1")]
    pub severity_1: Targets,
    /// Targets of severity 2 faults.
    #[serde(rename = "2")]
    pub severity_2: Targets,
    /// Targets of severity 3 faults.
    #[serde(rename = "3")]
    pub severity_3: Targets,
    /// Targets of severity 4 (low) faults.
    #[serde(rename = "4")]
    pub severity_4: Targets,
}

/// The whole policy: every kind and urgency has its targets.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct PolicyTable {
    /// Complaints, by priority.
    pub complaint: ComplaintTargets,
    /// Faults, by severity.
    pub fault: FaultTargets,
}

/// What a clock is pinned for: a complaint of a priority or a fault of a
/// severity. A fault has none until its first triage. Written as one string,
/// `complaint/P1` … `complaint/P4`, `fault/1` … `fault/4`.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum PolicyKey {
    /// A complaint of this priority.
    Complaint { priority: Priority },
    /// A fault of this severity, 1 (critical) to 4 (low).
    Fault { severity: u8 },
}

impl PolicyKey {
    /// Every key a policy table has an entry for.
    pub const ALL: [PolicyKey; 8] = [
        PolicyKey::Complaint { priority: Priority::P1 },
        PolicyKey::Complaint { priority: Priority::P2 },
        PolicyKey::Complaint { priority: Priority::P3 },
        PolicyKey::Complaint { priority: Priority::P4 },
        PolicyKey::Fault { severity: 1 },
        PolicyKey::Fault { severity: 2 },
        PolicyKey::Fault { severity: 3 },
        PolicyKey::Fault { severity: 4 },
    ];

    /// The JSON spelling, such as `complaint/P1` or `fault/2`.
    pub fn as_string(self) -> String {
        match self {
            PolicyKey::Complaint { priority } => format!("complaint/{}", priority.as_str()),
            PolicyKey::Fault { severity } => format!("fault/{severity}"),
        }
    }

    pub fn parse(s: &str) -> Option<PolicyKey> {
        PolicyKey::ALL.into_iter().find(|k| k.as_string() == s)
    }
}

impl Serialize for PolicyKey {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_str(&self.as_string())
    }
}

impl<'de> Deserialize<'de> for PolicyKey {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<PolicyKey, D::Error> {
        let text = String::deserialize(deserializer)?;
        PolicyKey::parse(&text).ok_or_else(|| serde::de::Error::custom(format!("unknown policy key {text:?}")))
    }
}

impl utoipa::PartialSchema for PolicyKey {
    fn schema() -> utoipa::openapi::RefOr<utoipa::openapi::schema::Schema> {
        let keys: Vec<String> = PolicyKey::ALL.iter().map(|k| k.as_string()).collect();
        utoipa::openapi::schema::ObjectBuilder::new()
            .schema_type(utoipa::openapi::schema::Type::String)
            .enum_values(Some(keys))
            .description(Some(
                "The kind and urgency of ticket targets apply to: `complaint/P1` to `complaint/P4`, `fault/1` (critical) to `fault/4`.",
            ))
            .into()
    }
}

impl ToSchema for PolicyKey {}

impl PolicyTable {
    /// The targets for `key`; `None` only for a severity outside 1–4,
    /// which no decision records.
    pub fn targets(&self, key: PolicyKey) -> Option<&Targets> {
        match key {
            PolicyKey::Complaint { priority } => Some(match priority {
                Priority::P1 => &self.complaint.p1,
                Priority::P2 => &self.complaint.p2,
                Priority::P3 => &self.complaint.p3,
                Priority::P4 => &self.complaint.p4,
            }),
            PolicyKey::Fault { severity } => match severity {
                1 => Some(&self.fault.severity_1),
                2 => Some(&self.fault.severity_2),
                3 => Some(&self.fault.severity_3),
                4 => Some(&self.fault.severity_4),
                _ => None,
            },
        }
    }

    /// Every entry with its JSON pointer under the table.
    fn entries(&self) -> [(&'static str, &Targets); 8] {
        [
            ("/complaint/P1", &self.complaint.p1),
            ("/complaint/P2", &self.complaint.p2),
            ("/complaint/P3", &self.complaint.p3),
            ("/complaint/P4", &self.complaint.p4),
            ("/fault/1", &self.fault.severity_1),
            ("/fault/2", &self.fault.severity_2),
            ("/fault/3", &self.fault.severity_3),
            ("/fault/4", &self.fault.severity_4),
        ]
    }

    /// The calendar codes the table counts on, each once.
    pub fn calendars(&self) -> Vec<&str> {
        let mut codes: Vec<&str> = self.entries().iter().map(|(_, t)| t.calendar.as_str()).collect();
        codes.sort_unstable();
        codes.dedup();
        codes
    }
}

fn targets(response: u32, resolution: u32, calendar: &str) -> Targets {
    Targets {
        first_response_minutes: response,
        resolution_minutes: resolution,
        calendar: calendar.to_owned(),
        warning_percent: 80,
    }
}

/// The shipped defaults (policy version 0), after the operations documents:
/// critical faults are answered "immediately", complaints "at once", and
/// the rest in proportion. `CN` counts office hours (8 a day, 09:00–12:00
/// and 13:00–18:00, holidays off, make-up workdays on); `24x7` counts every
/// minute. Every target is at risk at 80 %.
///
/// | ticket      | first response          | resolution                    | calendar |
/// |-------------|-------------------------|-------------------------------|----------|
/// | complaint P1 | 30 min                 | 960 min (2 business days)     | CN       |
/// | complaint P2 | 60 min                 | 1,440 min (3 business days)   | CN       |
/// | complaint P3 | 240 min (half a day)   | 2,400 min (5 business days)   | CN       |
/// | complaint P4 | 480 min (1 day)        | 4,800 min (10 business days)  | CN       |
/// | fault 1     | 15 min                  | 240 min (4 hours)             | 24x7     |
/// | fault 2     | 30 min                  | 480 min (8 hours)             | 24x7     |
/// | fault 3     | 120 min                 | 1,440 min (3 business days)   | CN       |
/// | fault 4     | 480 min (1 day)         | 4,800 min (10 business days)  | CN       |
pub fn default_table() -> PolicyTable {
    PolicyTable {
        complaint: ComplaintTargets {
            p1: targets(30, 960, "CN"),
            p2: targets(60, 1_440, "CN"),
            p3: targets(240, 2_400, "CN"),
            p4: targets(480, 4_800, "CN"),
        },
        fault: FaultTargets {
            severity_1: targets(15, 240, "24x7"),
            severity_2: targets(30, 480, "24x7"),
            severity_3: targets(120, 1_440, "CN"),
            severity_4: targets(480, 4_800, "CN"),
        },
    }
}

/// A new table for the policy, with the reason for it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"table": default_table(), "reason": "New contract: P2 complaints answered within the hour"})))]
pub struct AmendSlaPolicy {
    /// The whole new table; it replaces the current one.
    pub table: PolicyTable,
    /// Why the targets change, 1 to 200 characters.
    #[schema(min_length = 1, max_length = 200)]
    pub reason: String,
}

/// The policy's table was replaced; clocks pinned from now on name the new
/// version, clocks pinned before keep theirs.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaPolicyAmended {
    /// The whole table from now on.
    pub table: PolicyTable,
    /// Why it changed.
    pub reason: String,
}

/// One event of the policy's stream.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(tag = "type", content = "payload")]
pub enum SlaPolicyEvent {
    #[serde(rename = "sla_policy.amended")]
    Amended(SlaPolicyAmended),
}

const AMENDED: &str = "sla_policy.amended";

impl SlaPolicyEvent {
    /// Every event type the policy's stream may contain.
    pub const EVENT_TYPES: &[&str] = &[AMENDED];
}

impl crate::domain::DomainEvent for SlaPolicyEvent {
    fn event_type(&self) -> &'static str {
        match self {
            SlaPolicyEvent::Amended(_) => AMENDED,
        }
    }

    fn schema_version(&self) -> u32 {
        1
    }

    fn payload_json(&self) -> Value {
        let value = match self {
            SlaPolicyEvent::Amended(p) => serde_json::to_value(p),
        };
        // Structs of strings and integers: cannot fail.
        value.expect("policy payloads always serialize to JSON")
    }

    fn from_stored(
        event_type: &str,
        schema_version: u32,
        payload: impl StoredPayload,
    ) -> Result<SlaPolicyEvent, StreamCorrupt> {
        match (event_type, schema_version) {
            (AMENDED, 1) => decode(event_type, payload).map(SlaPolicyEvent::Amended),
            (AMENDED, version) => Err(StreamCorrupt(format!(
                "{AMENDED} has schema version {version}, which this build does not understand"
            ))),
            (unknown, _) => Err(StreamCorrupt(format!("{unknown} is not an SLA policy event type"))),
        }
    }
}

/// The policy as clients read it and clocks are pinned under.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaPolicyView {
    /// The policy's version: 0 for the shipped defaults, one more with each
    /// amendment. Every clock names the version it was pinned under.
    pub version: u64,
    /// The targets.
    pub table: PolicyTable,
    /// Actor id of whoever last amended it; `null` for the shipped defaults.
    pub amended_by: Option<String>,
    /// When it was last amended (RFC 3339 date-time, UTC); `null` for the
    /// shipped defaults.
    pub amended_at: Option<DateTime<Utc>>,
    /// Why it was last amended; `null` for the shipped defaults.
    pub reason: Option<String>,
}

impl SlaPolicyView {
    /// Version 0: the shipped defaults, in force while nobody amended them.
    pub fn shipped() -> SlaPolicyView {
        SlaPolicyView {
            version: 0,
            table: default_table(),
            amended_by: None,
            amended_at: None,
            reason: None,
        }
    }
}

/// Folds one event into the policy (the shipped defaults before the first).
pub fn evolve(
    state: Option<SlaPolicyView>,
    event: &SlaPolicyEvent,
    meta: &EventMeta,
) -> Result<SlaPolicyView, StreamCorrupt> {
    let SlaPolicyEvent::Amended(e) = event;
    let _ = state;
    Ok(SlaPolicyView {
        version: meta.version,
        table: e.table.clone(),
        amended_by: Some(meta.actor.to_owned()),
        amended_at: Some(meta.recorded_at),
        reason: Some(e.reason.clone()),
    })
}

/// Checks a new table on its own: every target at least a minute and at
/// most a year, a resolution no sooner than the first response, a warning
/// between 1 and 100 % and a calendar code of the right shape. Whether the
/// calendar exists is the caller's to check, with [`check_calendars`].
pub fn validate(cmd: &AmendSlaPolicy) -> Result<(), DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, SHORT_TEXT);
    for (pointer, t) in cmd.table.entries() {
        let pointer = format!("/table{pointer}");
        for (field, minutes) in [
            ("first_response_minutes", t.first_response_minutes),
            ("resolution_minutes", t.resolution_minutes),
        ] {
            if minutes == 0 || minutes > MAX_TARGET_MINUTES {
                v.push(
                    format!("{pointer}/{field}"),
                    messages::field_between(1, MAX_TARGET_MINUTES),
                );
            }
        }
        if t.resolution_minutes < t.first_response_minutes {
            v.push(
                format!("{pointer}/resolution_minutes"),
                messages::field_sla_resolution_before_response(t.first_response_minutes),
            );
        }
        if t.warning_percent == 0 || t.warning_percent > 100 {
            v.push(format!("{pointer}/warning_percent"), messages::field_between(1, 100));
        }
        if !crate::domain::business_calendar::aggregate::is_code(&t.calendar) {
            v.push(format!("{pointer}/calendar"), messages::field_calendar_code());
        }
    }
    v.finish()
}

/// Refuses a table that counts on a calendar `known` does not know.
pub fn check_calendars(cmd: &AmendSlaPolicy, known: impl Fn(&str) -> bool) -> Result<(), DomainError> {
    let mut v = Validator::new();
    for (pointer, t) in cmd.table.entries() {
        if crate::domain::business_calendar::aggregate::is_code(&t.calendar) && !known(&t.calendar) {
            v.push(
                format!("/table{pointer}/calendar"),
                messages::field_sla_unknown_calendar(&t.calendar),
            );
        }
    }
    v.finish()
}

/// Amends the policy: the same table again records nothing.
pub fn amend(state: &SlaPolicyView, cmd: &AmendSlaPolicy) -> Result<Vec<SlaPolicyEvent>, DomainError> {
    validate(cmd)?;
    if state.table == cmd.table {
        return Err(DomainError::RuleViolated(messages::rule_sla_policy_unchanged()));
    }
    Ok(vec![SlaPolicyEvent::Amended(SlaPolicyAmended {
        table: cmd.table.clone(),
        reason: cmd.reason.clone(),
    })])
}

#[cfg(test)]
mod tests {
    use super::*;

    fn amend_to(table: PolicyTable) -> AmendSlaPolicy {
        AmendSlaPolicy {
            table,
            reason: "new contract".into(),
        }
    }

    #[test]
    fn the_defaults_follow_the_operations_documents() {
        let table = default_table();
        let s1 = table.targets(PolicyKey::Fault { severity: 1 }).expect("severity 1");
        assert_eq!((s1.first_response_minutes, s1.calendar.as_str()), (15, "24x7"));
        let p1 = table
            .targets(PolicyKey::Complaint { priority: Priority::P1 })
            .expect("P1");
        assert_eq!((p1.first_response_minutes, p1.calendar.as_str()), (30, "CN"));
        assert!(
            validate(&amend_to(table.clone())).is_ok(),
            "the defaults are a valid table"
        );
        assert_eq!(table.calendars(), ["24x7", "CN"]);
        assert_eq!(table.targets(PolicyKey::Fault { severity: 5 }), None);
    }

    #[test]
    fn less_urgent_tickets_never_get_tighter_targets() {
        let table = default_table();
        let complaints: Vec<&Targets> = Priority::ALL
            .iter()
            .filter_map(|&priority| table.targets(PolicyKey::Complaint { priority }))
            .collect();
        let faults: Vec<&Targets> = (1..=4)
            .filter_map(|severity| table.targets(PolicyKey::Fault { severity }))
            .collect();
        for list in [complaints, faults] {
            for pair in list.windows(2) {
                assert!(pair[0].first_response_minutes <= pair[1].first_response_minutes);
                assert!(pair[0].resolution_minutes <= pair[1].resolution_minutes);
            }
        }
    }

    #[test]
    fn a_table_is_checked_entry_by_entry() {
        let mut table = default_table();
        table.complaint.p2.first_response_minutes = 0;
        table.fault.severity_3.resolution_minutes = 10;
        table.fault.severity_4.warning_percent = 101;
        table.complaint.p4.calendar = "no such!".into();
        let Err(DomainError::Validation(errors)) = validate(&amend_to(table)) else {
            panic!("refused");
        };
        let pointers: Vec<&str> = errors.iter().map(|e| e.pointer.as_str()).collect();
        assert_eq!(
            pointers,
            [
                "/table/complaint/P2/first_response_minutes",
                "/table/complaint/P4/calendar",
                "/table/fault/3/resolution_minutes",
                "/table/fault/4/warning_percent",
            ]
        );
    }

    #[test]
    fn an_amendment_names_calendars_that_exist_and_changes_something() {
        let state = SlaPolicyView::shipped();
        assert!(matches!(
            amend(&state, &amend_to(default_table())),
            Err(DomainError::RuleViolated(_))
        ));
        let mut table = default_table();
        table.complaint.p1.calendar = "SH-office".into();
        let cmd = amend_to(table);
        assert!(check_calendars(&cmd, |code| code == "CN" || code == "24x7").is_err());
        assert!(check_calendars(&cmd, |_| true).is_ok());
        let events = amend(&state, &cmd).expect("amended");
        let meta = EventMeta {
            recorded_at: Utc::now(),
            actor: "admin",
            version: 1,
            hash: &[0; 32],
        };
        let after = evolve(Some(state), &events[0], &meta).expect("folds");
        assert_eq!(after.version, 1);
        assert_eq!(after.table.complaint.p1.calendar, "SH-office");
    }
}
