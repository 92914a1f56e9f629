//! Service-level clocks pinned in a ticket's own stream.
//!
//! Every instant a clock shows was computed once, when the `sla.*` event
//! that records it was decided, from the policy and calendar versions the
//! event names; folding only copies them. So a rebuild, an as-of read or a
//! what-if replay shows the same clocks the live system did, however the
//! policy or a calendar was amended later.
//!
//! [`react`] compares a ticket's [`TicketFacts`] before and after a command
//! and decides which `sla.*` events follow from it:
//! - a pin (`sla.clocks_pinned`) when the ticket first has a policy key
//!   (filing a complaint, a fault's first triage: both run from the time
//!   the ticket was reported), when the key changes (a new priority or
//!   severity runs from the change, so an old ticket does not breach at
//!   once), and when a reopen starts resolution cycle n + 1;
//! - a stop (`sla.clock_stopped`) at the first response and at resolution;
//! - a pause and a resume (`sla.clocks_paused`, `sla.clocks_resumed`)
//!   while the ticket waits on the customer: the pause pins the business
//!   time left, the resume pins the new `due_at`.
//!
//! A calendar that has no data for a day the answer needs never counts that
//! day as working: the target gets no `due_at` and is flagged
//! `calendar_data_missing`. `warned_at` and `breached_at` stay `null` until
//! the breach worker (a later issue) records them as events.

use chrono::{DateTime, TimeDelta, Utc};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use utoipa::ToSchema;

use super::policy::{PolicyKey, SlaPolicyView, Targets};
use crate::domain::EventMeta;
use crate::domain::business_calendar::BusinessCalendar;

/// The two targets every ticket with a policy key has.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Target {
    /// The first response: a complaint's acknowledgement, a fault's start
    /// of investigation (or its mitigation or resolution, if sooner).
    FirstResponse,
    /// The resolution.
    Resolution,
}

impl Target {
    pub fn as_str(self) -> &'static str {
        match self {
            Target::FirstResponse => "first_response",
            Target::Resolution => "resolution",
        }
    }
}

/// A business calendar at one version; version 0 is the definition compiled
/// into this build (`calendars/*.json`), used while the calendar's stream
/// is empty.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct CalendarRef {
    /// The calendar's code, such as `CN`.
    pub code: String,
    /// The calendar's version; 0 for the shipped definition.
    pub version: u64,
}

/// Why clocks were pinned.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum PinCause {
    /// The complaint was filed; its clocks run from then.
    Filed,
    /// The fault's first triage gave it a severity; its clocks run from
    /// the time it was reported.
    Triaged,
    /// The complaint's priority changed; the clocks run from the change.
    PriorityChanged,
    /// The fault was triaged again with another severity; the clocks run
    /// from the change.
    Retriaged,
    /// The ticket was reopened: a new resolution cycle runs from then.
    Reopened,
    /// The ticket was open before clocks were kept (an upgrade, or a
    /// server that ran with SLA off); its clocks run from when it was
    /// reported, under the policy in force at the upgrade.
    Upgraded,
}

/// One target as a pin computed it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct PinnedTarget {
    /// The target in business minutes.
    pub minutes: u32,
    /// The instant the target counts from.
    pub runs_from: DateTime<Utc>,
    /// When the target is due; `null` when the calendar has no data for a
    /// day it needs (then `calendar_data_missing` is set).
    pub due_at: Option<DateTime<Utc>>,
    /// When the target is at risk (its warning threshold); `null` as for
    /// `due_at`.
    pub warn_at: Option<DateTime<Utc>>,
    /// The resolution cycle: 1, and one more with each reopen. The first
    /// response has cycle 1.
    #[schema(minimum = 1)]
    pub cycle: u32,
    /// The calendar has no data for a day the target needs; nothing is due
    /// until the calendar is amended and the clock pinned again.
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub calendar_data_missing: bool,
}

/// Clocks pinned: the policy version, calendar and targets that apply from
/// now on. A target left out keeps running as it was.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaClocksPinned {
    pub cause: PinCause,
    /// The kind and urgency the targets are for.
    pub key: PolicyKey,
    /// The SLA policy version the targets come from (0: shipped defaults).
    pub policy_version: u64,
    /// The calendar, at the version the instants were computed with.
    pub calendar: CalendarRef,
    /// The warning threshold, percent of each target.
    #[schema(minimum = 1, maximum = 100)]
    pub warning_percent: u8,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<PinnedTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<PinnedTarget>,
}

/// The business time a running target had left when it was paused.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Remaining {
    /// Business seconds left until `due_at`; `null` when the calendar had
    /// no data to tell.
    pub due_seconds: Option<u64>,
    /// Business seconds left until `warn_at` (0 when past it); `null` as
    /// for `due_seconds`.
    pub warn_seconds: Option<u64>,
}

/// The clocks stopped while the ticket waits on the customer.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaClocksPaused {
    /// The calendar, at the version the remainders were measured with.
    pub calendar: CalendarRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<Remaining>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<Remaining>,
}

/// A paused target's new instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct ResumedTarget {
    /// The new due instant: the remainder counted from the resume.
    pub due_at: Option<DateTime<Utc>>,
    /// The new warning instant.
    pub warn_at: Option<DateTime<Utc>>,
    #[serde(default, skip_serializing_if = "std::ops::Not::not")]
    pub calendar_data_missing: bool,
}

/// The clocks run again after the customer answered, with new instants.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaClocksResumed {
    /// The calendar, at the version the new instants were computed with.
    pub calendar: CalendarRef,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub first_response: Option<ResumedTarget>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub resolution: Option<ResumedTarget>,
}

/// A target's clock stopped: the first response was given, or the ticket
/// was resolved.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct SlaClockStopped {
    pub target: Target,
    #[schema(minimum = 1)]
    pub cycle: u32,
    /// Whether it stopped by its `due_at`; `null` when it had none.
    pub met: Option<bool>,
}

/// One `sla.*` event, on a complaint's or a fault's stream.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ClockEvent {
    Pinned(SlaClocksPinned),
    Paused(SlaClocksPaused),
    Resumed(SlaClocksResumed),
    Stopped(SlaClockStopped),
}

impl ClockEvent {
    /// The calendar, at its version, that the event's instants or
    /// remainders were computed on; a stop computes none.
    pub fn calendar(&self) -> Option<&CalendarRef> {
        match self {
            ClockEvent::Pinned(pin) => Some(&pin.calendar),
            ClockEvent::Paused(pause) => Some(&pause.calendar),
            ClockEvent::Resumed(resume) => Some(&resume.calendar),
            ClockEvent::Stopped(_) => None,
        }
    }
}

pub const CLOCKS_PINNED: &str = "sla.clocks_pinned";
pub const CLOCKS_PAUSED: &str = "sla.clocks_paused";
pub const CLOCKS_RESUMED: &str = "sla.clocks_resumed";
pub const CLOCK_STOPPED: &str = "sla.clock_stopped";

/// Every `sla.*` event type.
pub const EVENT_TYPES: [&str; 4] = [CLOCKS_PINNED, CLOCKS_PAUSED, CLOCKS_RESUMED, CLOCK_STOPPED];

/// One target's clock as a ticket view shows it: instants only, never a
/// time remaining (that changes every second while the view and its ETag
/// stay the same; clients compute it).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TargetClock {
    /// The target in business minutes.
    pub minutes: u32,
    /// The instant the target counts from.
    pub runs_from: DateTime<Utc>,
    /// When it is due; `null` while the calendar lacks data, and while
    /// paused the instant it had when paused (`paused` says which).
    pub due_at: Option<DateTime<Utc>>,
    /// When it is at risk.
    pub warn_at: Option<DateTime<Utc>>,
    /// Whether it waits on the customer.
    pub paused: bool,
    /// The resolution cycle (1, one more with each reopen).
    pub cycle: u32,
    /// When the clock stopped (first response given, ticket resolved);
    /// `null` while it runs.
    pub stopped_at: Option<DateTime<Utc>>,
    /// Whether it stopped by its `due_at`; `null` while it runs.
    pub met: Option<bool>,
    /// When the target was recorded as at risk; always `null` until the
    /// breach worker (a later issue) records it.
    pub warned_at: Option<DateTime<Utc>>,
    /// When the target was recorded as breached; always `null` until the
    /// breach worker (a later issue) records it.
    pub breached_at: Option<DateTime<Utc>>,
    /// The calendar has no data for a day this target needs.
    pub calendar_data_missing: bool,
    /// The SLA policy version the target comes from.
    pub policy_version: u64,
    /// The calendar and version its instants were last computed with.
    pub calendar: CalendarRef,
    /// The warning threshold, percent of the target.
    pub warning_percent: u8,
    /// While paused: the business time that was left, as the pause pinned
    /// it (fixed while paused, so it never goes stale); `null` otherwise.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub left_when_paused: Option<Remaining>,
}

impl TargetClock {
    /// Whether the clock still runs (possibly paused).
    pub fn running(&self) -> bool {
        self.stopped_at.is_none()
    }
}

/// A ticket's clocks (the `sla` member of its view).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Clocks {
    /// The kind and urgency the latest pin was for.
    pub key: PolicyKey,
    /// Since when the clocks wait on the customer; `null` while they run.
    pub paused_since: Option<DateTime<Utc>>,
    /// The first-response target.
    pub first_response: Option<TargetClock>,
    /// The resolution target of the current cycle.
    pub resolution: Option<TargetClock>,
}

impl Clocks {
    fn target_mut(&mut self, target: Target) -> Option<&mut TargetClock> {
        match target {
            Target::FirstResponse => self.first_response.as_mut(),
            Target::Resolution => self.resolution.as_mut(),
        }
    }

    fn targets(&self) -> impl Iterator<Item = &TargetClock> {
        self.first_response.iter().chain(self.resolution.iter())
    }

    /// The running targets that are not paused and have a `due_at`.
    fn burning(&self) -> impl Iterator<Item = &TargetClock> {
        self.targets()
            .filter(|t| t.running() && !t.paused && t.due_at.is_some())
    }

    /// What the queue sorts and filters by: the earliest `due_at` and
    /// `warn_at` of the targets that burn, and whether any running target
    /// is paused.
    pub fn queue_columns(&self) -> QueueColumns {
        QueueColumns {
            due_at: self.burning().filter_map(|t| t.due_at).min(),
            warn_at: self.burning().filter_map(|t| t.warn_at).min(),
            paused: self.targets().any(|t| t.running() && t.paused),
        }
    }
}

/// The columns of the `tickets` table the SLA queue reads.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct QueueColumns {
    pub due_at: Option<DateTime<Utc>>,
    pub warn_at: Option<DateTime<Utc>>,
    pub paused: bool,
}

/// What a ticket's clocks follow, taken from its view by its aggregate.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TicketFacts {
    /// The policy key: a complaint's priority, a fault's severity (none
    /// before its first triage).
    pub key: Option<PolicyKey>,
    /// When the ticket was reported; clocks pinned at filing or first
    /// triage run from here.
    pub reported_at: DateTime<Utc>,
    /// Whether the first response was given.
    pub responded: bool,
    /// Whether the ticket is resolved or closed.
    pub resolved: bool,
    /// Whether the ticket waits on the customer.
    pub waiting: bool,
    /// The resolution cycle: reopen count + 1.
    pub cycle: u32,
}

/// A calendar as the app layer found it for a code.
#[derive(Debug, Clone)]
pub struct CalendarAt {
    pub code: String,
    /// 0 for the shipped definition.
    pub version: u64,
    /// `None` when no calendar has the code: every target on it is
    /// flagged `calendar_data_missing`.
    pub calendar: Option<BusinessCalendar>,
}

/// What the clocks are computed with: the policy in force and the current
/// version of every calendar it or the ticket's clocks name.
#[derive(Debug, Clone)]
///
/// Shared, not copied: the app layer keeps each policy and calendar version
/// it has folded and hands the same ones to every command (the CN calendar
/// holds years of holidays, and copying it per filing showed in the filing
/// benchmark).
pub struct SlaInputs {
    pub policy: Arc<SlaPolicyView>,
    pub calendars: Vec<Arc<CalendarAt>>,
}

impl SlaInputs {
    /// The calendar `code` names, at the version the inputs hold.
    ///
    /// Every reaction that looks a calendar up names it, at that version,
    /// in the event it decides ([`ClockEvent::calendar`]): the append is
    /// checked against the calendars its events name
    /// (`app::commands::sla::streams_read`), so a lookup that no event
    /// recorded would go unchecked.
    fn calendar(&self, code: &str) -> Arc<CalendarAt> {
        self.calendars
            .iter()
            .find(|c| c.code == code)
            .cloned()
            .unwrap_or_else(|| {
                Arc::new(CalendarAt {
                    code: code.to_owned(),
                    version: 0,
                    calendar: None,
                })
            })
    }
}

/// The calendar codes a reaction may need besides the policy's own.
pub fn calendars_of(clocks: Option<&Clocks>) -> Vec<String> {
    let mut codes: Vec<String> = clocks
        .into_iter()
        .flat_map(|c| c.targets().map(|t| t.calendar.code.clone()))
        .collect();
    codes.sort();
    codes.dedup();
    codes
}

/// [`react`] needs the policy and calendars; the caller loads them and asks
/// again.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct NeedsInputs;

/// The `sla.*` events that follow from a command that took a ticket from
/// `before` (`None`: the command created it) to `after`, at `now`. Without
/// `inputs`, answers [`NeedsInputs`] when it would compute an instant, and
/// the events otherwise (a stop needs none), so the caller loads the
/// policy and calendars only when they are used.
pub fn react(
    clocks: Option<&Clocks>,
    before: Option<&TicketFacts>,
    after: &TicketFacts,
    now: DateTime<Utc>,
    inputs: Option<&SlaInputs>,
) -> Result<Vec<ClockEvent>, NeedsInputs> {
    let mut events = Vec::new();
    let mut current = clocks.cloned();
    let meta_actor = "";
    let hash = [0u8; 32];
    let meta = EventMeta {
        recorded_at: now,
        actor: meta_actor,
        version: 0,
        hash: &hash,
    };
    let mut push = |current: &mut Option<Clocks>, event: ClockEvent| {
        *current = Some(evolve(current.take(), &event, &meta));
        events.push(event);
    };

    // Stops come first: they need nothing, and a target stopped now is
    // neither paused nor pinned again below.
    if let Some(c) = current.clone() {
        let stop = |target: Option<&TargetClock>| target.filter(|t| t.running()).cloned();
        if let Some(t) = stop(c.first_response.as_ref()).filter(|_| after.responded || after.resolved) {
            push(&mut current, stopped(Target::FirstResponse, &t, now));
        }
        if let Some(t) = stop(c.resolution.as_ref()).filter(|_| after.resolved) {
            push(&mut current, stopped(Target::Resolution, &t, now));
        }
    }

    let Some(key) = after.key else {
        return Ok(events);
    };
    let open = !after.resolved;
    let pin = match (&current, before) {
        // First clocks: at filing, at the first triage, or for a ticket
        // that had none (upgrade); all run from the report.
        (None, _) if open => Some(match before {
            None => (PinCause::Filed, after.reported_at),
            Some(b) if b.key.is_none() => (PinCause::Triaged, after.reported_at),
            Some(_) => (PinCause::Upgraded, after.reported_at),
        }),
        (Some(_), Some(b)) if open && b.key.is_some() && b.key != after.key => {
            let cause = match key {
                PolicyKey::Complaint { .. } => PinCause::PriorityChanged,
                PolicyKey::Fault { .. } => PinCause::Retriaged,
            };
            Some((cause, now))
        }
        (Some(_), Some(b)) if open && after.cycle > b.cycle => Some((PinCause::Reopened, now)),
        _ => None,
    };
    if let Some((cause, runs_from)) = pin {
        let inputs = inputs.ok_or(NeedsInputs)?;
        if let Some(event) = pinned(current.as_ref(), after, key, cause, runs_from, inputs) {
            push(&mut current, event);
        }
    }

    let paused = current.as_ref().is_some_and(|c| c.paused_since.is_some());
    let has_running = current.as_ref().is_some_and(|c| c.targets().any(TargetClock::running));
    if after.waiting && !paused && has_running {
        let inputs = inputs.ok_or(NeedsInputs)?;
        if let Some(c) = &current {
            let event = pause(c, now, inputs);
            push(&mut current, event);
        }
    } else if !after.waiting && paused && has_running {
        let inputs = inputs.ok_or(NeedsInputs)?;
        if let Some(c) = &current {
            let event = resume(c, now, inputs);
            push(&mut current, event);
        }
    }
    Ok(events)
}

fn stopped(target: Target, clock: &TargetClock, now: DateTime<Utc>) -> ClockEvent {
    // A paused clock stopped now was not burning: it is met if its
    // remainder was not used up.
    let met = match &clock.left_when_paused {
        Some(left) if clock.paused => left.due_seconds.map(|s| s > 0),
        _ => clock.due_at.map(|due| now <= due),
    };
    ClockEvent::Stopped(SlaClockStopped {
        target,
        cycle: clock.cycle,
        met,
    })
}

/// Where a target of `minutes` business minutes from `from` falls due on
/// `calendar`, and where its warning does.
#[derive(Debug, Clone, Copy)]
struct Instants {
    due_at: Option<DateTime<Utc>>,
    warn_at: Option<DateTime<Utc>>,
    calendar_data_missing: bool,
}

/// The instants of both targets (the first response's minutes, then the
/// resolution's) from `from`, in one walk over the calendar.
fn instants(calendar: &CalendarAt, from: DateTime<Utc>, minutes: [u32; 2], warning_percent: u8) -> [Instants; 2] {
    let Some(cal) = &calendar.calendar else {
        return [Instants {
            due_at: None,
            warn_at: None,
            calendar_data_missing: true,
        }; 2];
    };
    let time = |m: u32| TimeDelta::minutes(i64::from(m));
    let [response, response_warn, resolution, resolution_warn] = cal.add_business_times(
        from,
        [
            time(minutes[0]),
            share(minutes[0], warning_percent),
            time(minutes[1]),
            share(minutes[1], warning_percent),
        ],
    );
    // The warning comes first (at most 100 %), so it may be known when
    // the due time is not.
    let target = |due: Result<DateTime<Utc>, _>, warn: Result<DateTime<Utc>, _>| Instants {
        due_at: due.ok(),
        warn_at: warn.ok(),
        calendar_data_missing: due.is_err() || warn.is_err(),
    };
    [target(response, response_warn), target(resolution, resolution_warn)]
}

/// `percent` of `minutes`, as business time (to the second).
fn share(minutes: u32, percent: u8) -> TimeDelta {
    TimeDelta::seconds(i64::from(minutes) * 60 * i64::from(percent) / 100)
}

fn pinned(
    current: Option<&Clocks>,
    after: &TicketFacts,
    key: PolicyKey,
    cause: PinCause,
    runs_from: DateTime<Utc>,
    inputs: &SlaInputs,
) -> Option<ClockEvent> {
    let targets: &Targets = inputs.policy.table.targets(key)?;
    let calendar = inputs.calendar(&targets.calendar);
    // Both targets, owed or not, in one walk: the resolution's days
    // include the first response's.
    let (response_minutes, resolution_minutes) = (targets.first_response_minutes, targets.resolution_minutes);
    let [response_at, resolution_at] = instants(
        &calendar,
        runs_from,
        [response_minutes, resolution_minutes],
        targets.warning_percent,
    );
    let target = |minutes: u32, at: Instants, cycle: u32| PinnedTarget {
        minutes,
        runs_from,
        due_at: at.due_at,
        warn_at: at.warn_at,
        cycle,
        calendar_data_missing: at.calendar_data_missing,
    };
    // The first response is pinned while it is still owed: at the first
    // pin unless already given, later only while its clock runs.
    let response_owed = match current.and_then(|c| c.first_response.as_ref()) {
        Some(t) => t.running(),
        None => current.is_none() && !after.responded,
    };
    let first_response =
        (response_owed && cause != PinCause::Reopened).then(|| target(response_minutes, response_at, 1));
    let resolution_owed = match cause {
        PinCause::Reopened => true,
        _ => current
            .and_then(|c| c.resolution.as_ref())
            .is_none_or(TargetClock::running),
    };
    let resolution = resolution_owed.then(|| target(resolution_minutes, resolution_at, after.cycle.max(1)));
    Some(ClockEvent::Pinned(SlaClocksPinned {
        cause,
        key,
        policy_version: inputs.policy.version,
        calendar: CalendarRef {
            code: calendar.code.clone(),
            version: calendar.version,
        },
        warning_percent: targets.warning_percent,
        first_response,
        resolution,
    }))
}

fn pause(clocks: &Clocks, now: DateTime<Utc>, inputs: &SlaInputs) -> ClockEvent {
    // Both targets run on the calendar of the latest pin.
    let code = clocks
        .targets()
        .find(|t| t.running())
        .map_or_else(String::new, |t| t.calendar.code.clone());
    let calendar = inputs.calendar(&code);
    let left = |t: &TargetClock| {
        let seconds = |until: Option<DateTime<Utc>>| {
            let cal = calendar.calendar.as_ref()?;
            let time = cal.business_time_between(now, until?).ok()?;
            u64::try_from(time.num_seconds()).ok()
        };
        Remaining {
            due_seconds: seconds(t.due_at),
            warn_seconds: seconds(t.warn_at),
        }
    };
    ClockEvent::Paused(SlaClocksPaused {
        calendar: CalendarRef {
            code: calendar.code.clone(),
            version: calendar.version,
        },
        first_response: clocks.first_response.as_ref().filter(|t| t.running()).map(left),
        resolution: clocks.resolution.as_ref().filter(|t| t.running()).map(left),
    })
}

fn resume(clocks: &Clocks, now: DateTime<Utc>, inputs: &SlaInputs) -> ClockEvent {
    let code = clocks
        .targets()
        .find(|t| t.running())
        .map_or_else(String::new, |t| t.calendar.code.clone());
    let calendar = inputs.calendar(&code);
    let again = |t: &TargetClock| {
        let left = t.left_when_paused.clone().unwrap_or(Remaining {
            due_seconds: None,
            warn_seconds: None,
        });
        let at = |seconds: Option<u64>| {
            let cal = calendar.calendar.as_ref()?;
            let time = TimeDelta::seconds(i64::try_from(seconds?).ok()?);
            cal.add_business_time(now, time).ok()
        };
        let due_at = at(left.due_seconds);
        ResumedTarget {
            due_at,
            warn_at: at(left.warn_seconds),
            calendar_data_missing: due_at.is_none(),
        }
    };
    ClockEvent::Resumed(SlaClocksResumed {
        calendar: CalendarRef {
            code: calendar.code.clone(),
            version: calendar.version,
        },
        first_response: clocks.first_response.as_ref().filter(|t| t.running()).map(again),
        resolution: clocks.resolution.as_ref().filter(|t| t.running()).map(again),
    })
}

/// Folds one `sla.*` event into a ticket's clocks. Pure copying of pinned
/// values: nothing is computed here, so every fold agrees with the live
/// system.
pub fn evolve(clocks: Option<Clocks>, event: &ClockEvent, meta: &EventMeta) -> Clocks {
    match event {
        ClockEvent::Pinned(e) => {
            let mut c = clocks.unwrap_or(Clocks {
                key: e.key,
                paused_since: None,
                first_response: None,
                resolution: None,
            });
            c.key = e.key;
            // A pin starts its targets afresh; one made while the ticket
            // waits is paused again by the same command.
            c.paused_since = None;
            let clock = |t: &PinnedTarget| TargetClock {
                minutes: t.minutes,
                runs_from: t.runs_from,
                due_at: t.due_at,
                warn_at: t.warn_at,
                paused: false,
                cycle: t.cycle,
                stopped_at: None,
                met: None,
                warned_at: None,
                breached_at: None,
                calendar_data_missing: t.calendar_data_missing,
                policy_version: e.policy_version,
                calendar: e.calendar.clone(),
                warning_percent: e.warning_percent,
                left_when_paused: None,
            };
            if let Some(t) = &e.first_response {
                c.first_response = Some(clock(t));
            }
            if let Some(t) = &e.resolution {
                c.resolution = Some(clock(t));
            }
            c
        }
        ClockEvent::Paused(e) => {
            let mut c = clocks.unwrap_or_else(|| empty(meta));
            c.paused_since = Some(meta.recorded_at);
            for (clock, left) in [
                (c.first_response.as_mut(), &e.first_response),
                (c.resolution.as_mut(), &e.resolution),
            ] {
                if let (Some(clock), Some(left)) = (clock, left) {
                    clock.paused = true;
                    clock.left_when_paused = Some(left.clone());
                }
            }
            c
        }
        ClockEvent::Resumed(e) => {
            let mut c = clocks.unwrap_or_else(|| empty(meta));
            c.paused_since = None;
            for (clock, resumed) in [
                (c.first_response.as_mut(), &e.first_response),
                (c.resolution.as_mut(), &e.resolution),
            ] {
                if let (Some(clock), Some(r)) = (clock, resumed) {
                    clock.paused = false;
                    clock.left_when_paused = None;
                    clock.due_at = r.due_at;
                    clock.warn_at = r.warn_at;
                    clock.calendar_data_missing = r.calendar_data_missing;
                    clock.calendar = e.calendar.clone();
                }
            }
            c
        }
        ClockEvent::Stopped(e) => {
            let mut c = clocks.unwrap_or_else(|| empty(meta));
            if let Some(clock) = c.target_mut(e.target) {
                clock.stopped_at = Some(meta.recorded_at);
                clock.met = e.met;
                clock.paused = false;
                clock.left_when_paused = None;
            }
            if !c.targets().any(TargetClock::running) {
                c.paused_since = None;
            }
            c
        }
    }
}

/// Clocks for a stream whose `sla.*` events start without a pin: only a
/// tampered stream, folded without panicking.
fn empty(_meta: &EventMeta) -> Clocks {
    Clocks {
        key: PolicyKey::Fault { severity: 4 },
        paused_since: None,
        first_response: None,
        resolution: None,
    }
}

/// One event of each `sla.*` type, in the order of [`EVENT_TYPES`]: for
/// the tests of the streams that carry them.
#[cfg(test)]
pub(crate) fn one_of_each() -> Vec<ClockEvent> {
    let at = DateTime::<Utc>::UNIX_EPOCH;
    let cn = CalendarRef {
        code: "CN".to_owned(),
        version: 0,
    };
    vec![
        ClockEvent::Pinned(SlaClocksPinned {
            cause: PinCause::Filed,
            key: PolicyKey::Fault { severity: 1 },
            policy_version: 0,
            calendar: cn.clone(),
            warning_percent: 80,
            first_response: None,
            resolution: Some(PinnedTarget {
                minutes: 240,
                runs_from: at,
                due_at: Some(at + TimeDelta::hours(4)),
                warn_at: None,
                cycle: 1,
                calendar_data_missing: true,
            }),
        }),
        ClockEvent::Paused(SlaClocksPaused {
            calendar: cn.clone(),
            first_response: None,
            resolution: Some(Remaining {
                due_seconds: Some(60),
                warn_seconds: None,
            }),
        }),
        ClockEvent::Resumed(SlaClocksResumed {
            calendar: cn,
            first_response: None,
            resolution: None,
        }),
        ClockEvent::Stopped(SlaClockStopped {
            target: Target::Resolution,
            cycle: 1,
            met: None,
        }),
    ]
}

#[cfg(test)]
#[path = "tests.rs"]
mod tests;
