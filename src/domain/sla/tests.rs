//! The clocks' rules, told as small stories on the shipped calendars.

use std::sync::Arc;

use chrono::{DateTime, Duration, Utc};

use super::*;
use crate::domain::Validator;
use crate::domain::business_calendar::aggregate::check_definition;
use crate::domain::business_calendar::shipped::shipped_calendars;
use crate::domain::complaint::Priority;
use crate::domain::sla::policy::{PolicyKey, SlaPolicyView};

fn at(s: &str) -> DateTime<Utc> {
    DateTime::parse_from_rfc3339(s).expect("instant").with_timezone(&Utc)
}

fn shipped(code: &str) -> CalendarAt {
    let def = shipped_calendars()
        .expect("shipped")
        .into_iter()
        .find(|c| c.code == code)
        .expect("a shipped calendar");
    let calendar = check_definition(&mut Validator::new(), "", &def.definition);
    CalendarAt {
        code: code.to_owned(),
        version: 0,
        calendar,
    }
}

fn inputs() -> SlaInputs {
    SlaInputs {
        policy: Arc::new(SlaPolicyView::shipped()),
        calendars: vec![Arc::new(shipped("CN")), Arc::new(shipped("24x7"))],
    }
}

fn complaint(priority: Priority, reported_at: DateTime<Utc>) -> TicketFacts {
    TicketFacts {
        key: Some(PolicyKey::Complaint { priority }),
        reported_at,
        responded: false,
        resolved: false,
        waiting: false,
        cycle: 1,
    }
}

/// Applies `react`'s events to `clocks`, as the ticket's fold would.
fn step(
    clocks: Option<Clocks>,
    before: Option<&TicketFacts>,
    after: &TicketFacts,
    now: DateTime<Utc>,
) -> (Option<Clocks>, Vec<ClockEvent>) {
    let events = react(clocks.as_ref(), before, after, now, Some(&inputs())).expect("inputs given");
    let hash = [0; 32];
    let meta = EventMeta {
        recorded_at: now,
        actor: "system",
        version: 2,
        hash: &hash,
    };
    let folded = events.iter().fold(clocks, |c, e| Some(evolve(c, e, &meta)));
    (folded, events)
}

#[test]
fn a_p1_complaint_filed_the_friday_before_spring_festival_counts_the_make_up_saturday_and_skips_the_holiday() {
    // Friday 13 February 2026, 17:50 in Shanghai; Saturday 14 is a make-up
    // workday, 15 to 23 February are the holiday.
    let filed = at("2026-02-13T17:50:00+08:00");
    let (clocks, events) = step(None, None, &complaint(Priority::P1, filed), filed);
    assert!(
        matches!(&events[..], [ClockEvent::Pinned(p)] if p.cause == PinCause::Filed && p.policy_version == 0 && p.calendar.code == "CN")
    );
    let clocks = clocks.expect("pinned");
    let response = clocks.first_response.expect("response");
    assert_eq!(
        response.due_at,
        Some(at("2026-02-14T09:20:00+08:00")),
        "10 minutes Friday, 20 on the make-up Saturday"
    );
    assert_eq!(
        response.warn_at,
        Some(at("2026-02-14T09:14:00+08:00")),
        "80 % of 30 minutes"
    );
    let resolution = clocks.resolution.expect("resolution");
    assert_eq!(
        resolution.due_at,
        Some(at("2026-02-24T17:50:00+08:00")),
        "10 minutes Friday, 480 Saturday, the holiday skipped, 470 on Tuesday 24"
    );
    assert_eq!(resolution.cycle, 1);
}

#[test]
fn a_severity_1_fault_triaged_ten_minutes_after_its_report_is_due_five_minutes_after_the_triage() {
    let reported = at("2026-03-02T03:00:00Z");
    let untriaged = TicketFacts {
        key: None,
        reported_at: reported,
        responded: false,
        resolved: false,
        waiting: false,
        cycle: 1,
    };
    let (none, events) = step(None, None, &untriaged, reported);
    assert!(none.is_none() && events.is_empty(), "no severity, no clocks");
    let triaged = TicketFacts {
        key: Some(PolicyKey::Fault { severity: 1 }),
        ..untriaged.clone()
    };
    let triage = reported + Duration::minutes(10);
    let (clocks, events) = step(None, Some(&untriaged), &triaged, triage);
    assert!(matches!(&events[..], [ClockEvent::Pinned(p)] if p.cause == PinCause::Triaged));
    let clocks = clocks.expect("pinned");
    assert_eq!(
        clocks.first_response.expect("response").due_at,
        Some(triage + Duration::minutes(5))
    );
    assert_eq!(
        clocks.resolution.expect("resolution").due_at,
        Some(reported + Duration::hours(4))
    );
}

#[test]
fn a_priority_raised_later_runs_from_the_change_and_does_not_breach_at_once() {
    let filed = at("2026-03-02T09:00:00+08:00");
    let p4 = complaint(Priority::P4, filed);
    let (clocks, _) = step(None, None, &p4, filed);
    let changed = at("2026-03-05T10:00:00+08:00");
    let p1 = complaint(Priority::P1, filed);
    let (clocks, events) = step(clocks, Some(&p4), &p1, changed);
    assert!(matches!(&events[..], [ClockEvent::Pinned(p)] if p.cause == PinCause::PriorityChanged));
    let clocks = clocks.expect("clocks");
    let response = clocks.first_response.expect("response");
    assert_eq!(response.runs_from, changed);
    assert_eq!(response.due_at, Some(at("2026-03-05T10:30:00+08:00")));
    assert_eq!(clocks.key, PolicyKey::Complaint { priority: Priority::P1 });
}

#[test]
fn waiting_on_the_customer_pauses_and_the_resume_moves_due_at_by_the_business_time_waited() {
    let filed = at("2026-03-02T09:00:00+08:00"); // a Monday
    let open = complaint(Priority::P2, filed);
    let (clocks, _) = step(None, None, &open, filed);
    let responded = TicketFacts {
        responded: true,
        ..open.clone()
    };
    let (clocks, events) = step(clocks, Some(&open), &responded, at("2026-03-02T09:30:00+08:00"));
    assert!(
        matches!(&events[..], [ClockEvent::Stopped(s)] if s.target == Target::FirstResponse && s.met == Some(true))
    );
    let due_before = clocks
        .as_ref()
        .and_then(|c| c.resolution.as_ref())
        .and_then(|r| r.due_at);
    assert_eq!(due_before, Some(at("2026-03-04T18:00:00+08:00")), "three business days");
    let waiting = TicketFacts {
        waiting: true,
        ..responded.clone()
    };
    let (clocks, events) = step(clocks, Some(&responded), &waiting, at("2026-03-02T10:00:00+08:00"));
    assert!(matches!(&events[..], [ClockEvent::Paused(_)]));
    let paused = clocks.as_ref().and_then(|c| c.resolution.clone()).expect("resolution");
    assert!(paused.paused);
    assert_eq!(
        clocks.as_ref().and_then(|c| c.queue_columns().due_at),
        None,
        "nothing burns while paused"
    );
    assert!(clocks.as_ref().is_some_and(|c| c.queue_columns().paused));
    // The customer answers the next morning at 10:00: eight business hours
    // waited (seven on Monday after 10:00, one on Tuesday), so the
    // resolution is due a whole business day later.
    let (clocks, events) = step(clocks, Some(&waiting), &responded, at("2026-03-03T10:00:00+08:00"));
    assert!(matches!(&events[..], [ClockEvent::Resumed(_)]));
    let resumed = clocks.and_then(|c| c.resolution).expect("resolution");
    assert!(!resumed.paused);
    assert_eq!(
        resumed.due_at,
        Some(at("2026-03-05T18:00:00+08:00")),
        "eight business hours later than before"
    );
}

#[test]
fn resolving_stops_the_clock_and_a_reopen_starts_cycle_two_from_the_reopen() {
    let filed = at("2026-03-02T09:00:00+08:00");
    let open = TicketFacts {
        responded: true,
        ..complaint(Priority::P3, filed)
    };
    let (clocks, _) = step(None, None, &open, filed);
    let resolved = TicketFacts {
        resolved: true,
        ..open.clone()
    };
    let (clocks, events) = step(clocks, Some(&open), &resolved, at("2026-03-03T09:00:00+08:00"));
    assert!(matches!(&events[..], [ClockEvent::Stopped(s)] if s.target == Target::Resolution && s.met == Some(true)));
    assert!(
        clocks
            .as_ref()
            .is_some_and(|c| c.queue_columns() == QueueColumns::default())
    );
    let reopened = TicketFacts {
        cycle: 2,
        ..open.clone()
    };
    let reopen = at("2026-03-04T09:00:00+08:00");
    let (clocks, events) = step(clocks, Some(&resolved), &reopened, reopen);
    assert!(
        matches!(&events[..], [ClockEvent::Pinned(p)] if p.cause == PinCause::Reopened && p.first_response.is_none())
    );
    let resolution = clocks.and_then(|c| c.resolution).expect("resolution");
    assert_eq!((resolution.cycle, resolution.runs_from), (2, reopen));
    assert_eq!(resolution.stopped_at, None);
}

#[test]
fn a_calendar_without_data_for_the_day_flags_the_clock_instead_of_guessing() {
    // CN's data end on 31 December 2026.
    let filed = at("2026-12-31T17:00:00+08:00");
    let (clocks, _) = step(None, None, &complaint(Priority::P4, filed), filed);
    let clocks = clocks.expect("pinned");
    let resolution = clocks.resolution.expect("resolution");
    assert!(resolution.calendar_data_missing);
    assert_eq!(resolution.due_at, None);
    let response = clocks.first_response.expect("response");
    assert!(
        response.calendar_data_missing,
        "480 minutes do not fit in the last hour of 2026"
    );
}

#[test]
fn a_policy_naming_a_calendar_nobody_defined_flags_its_clocks() {
    let mut inputs = inputs();
    Arc::make_mut(&mut inputs.policy).table.complaint.p1.calendar = "nowhere".into();
    let filed = at("2026-03-02T09:00:00+08:00");
    let events = react(None, None, &complaint(Priority::P1, filed), filed, Some(&inputs)).expect("inputs");
    let [ClockEvent::Pinned(p)] = &events[..] else {
        panic!("pinned")
    };
    assert_eq!(
        p.calendar,
        CalendarRef {
            code: "nowhere".into(),
            version: 0
        }
    );
    assert!(
        p.first_response
            .as_ref()
            .is_some_and(|t| t.calendar_data_missing && t.due_at.is_none())
    );
}

#[test]
fn inputs_are_asked_for_only_when_an_instant_is_computed() {
    let filed = at("2026-03-02T09:00:00+08:00");
    let open = complaint(Priority::P1, filed);
    assert_eq!(react(None, None, &open, filed, None), Err(NeedsInputs));
    let (clocks, _) = step(None, None, &open, filed);
    // A note changes nothing the clocks follow.
    assert_eq!(react(clocks.as_ref(), Some(&open), &open, filed, None), Ok(Vec::new()));
    // A stop needs no calendar.
    let responded = TicketFacts {
        responded: true,
        ..open.clone()
    };
    assert!(matches!(
        react(clocks.as_ref(), Some(&open), &responded, filed, None).as_deref(),
        Ok([ClockEvent::Stopped(_)])
    ));
}

mod properties {
    use proptest::prelude::*;

    use super::*;

    proptest! {
        /// Whatever happens to a ticket, its clocks follow it after every
        /// step: a response stops the response clock, a resolution the
        /// resolution clock, waiting on the customer pauses what runs and
        /// nothing else is paused, and a reopen runs in the ticket's cycle.
        #[test]
        fn the_clocks_follow_the_ticket_whatever_happens_to_it(
            start in 0i64..(300 * 24 * 60),
            steps in proptest::collection::vec((0u8..5, 1i64..(3 * 24 * 60)), 1..12),
        ) {
            let filed = at("2026-01-05T00:00:00Z") + Duration::minutes(start);
            let mut facts = complaint(Priority::P2, filed);
            let (mut clocks, _) = step(None, None, &facts, filed);
            let mut now = filed;
            for (action, gap) in steps {
                now += Duration::minutes(gap);
                let before = facts.clone();
                match action {
                    0 => facts.responded = true,
                    1 => facts.waiting = !facts.waiting && !facts.resolved,
                    2 => { facts.resolved = true; facts.waiting = false; }
                    3 if facts.resolved => { facts.resolved = false; facts.cycle += 1; }
                    _ => facts.key = Some(PolicyKey::Complaint { priority: Priority::ALL[(gap % 4) as usize] }),
                }
                clocks = step(clocks, Some(&before), &facts, now).0;
                let c = clocks.as_ref().expect("a complaint always has clocks");
                if facts.responded {
                    prop_assert!(c.first_response.as_ref().is_none_or(|t| !t.running()));
                }
                if let Some(resolution) = &c.resolution {
                    prop_assert_eq!(resolution.running(), !facts.resolved);
                    prop_assert_eq!(resolution.cycle, facts.cycle);
                }
                for t in c.first_response.iter().chain(c.resolution.iter()).filter(|t| t.running()) {
                    prop_assert_eq!(t.paused, facts.waiting);
                }
            }
            // A burning target is never due before it started.
            if let Some(c) = &clocks {
                for t in c.first_response.iter().chain(c.resolution.iter()) {
                    if let Some(due) = t.due_at { prop_assert!(due >= t.runs_from); }
                    if let (Some(w), Some(d)) = (t.warn_at, t.due_at) { prop_assert!(w <= d); }
                }
            }
        }
    }
}
