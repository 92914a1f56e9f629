//! What an event changed in its ticket's view: a list of `{path, old,
//! new}` with RFC 6901 JSON Pointers to the smallest changed element
//! (`/notes/41`, `/plan/risk`), computed by comparing the view before the
//! event with the view after it, both folded with the aggregate's own
//! `evolve`.
//!
//! The cost stays linear in the length of the history: the stream is folded
//! twice in lockstep (one fold an event behind the other), so no view is
//! ever cloned, and the two views are compared field by field with their
//! typed `==`; only elements that differ are turned into JSON and compared
//! member by member. Sealed personal values (and erased markers) are
//! compared whole: their ciphertext is no one's business.
//!
//! `version` and `updated_at` change with every event and are left out;
//! the history entry carries both already.

use serde::Serialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use crate::domain::change::{Change, ChangeEvent};
use crate::domain::complaint::{Complaint, ComplaintEvent};
use crate::domain::fault::{Fault, FaultEvent};
use crate::domain::{EventMeta, StreamCorrupt};
use crate::privacy::render::is_sealed_or_erased;

use super::fold::Projected;

/// One changed element of a view.
#[derive(Debug, Clone, PartialEq, Serialize, ToSchema)]
pub struct ViewChange {
    /// RFC 6901 JSON Pointer into the ticket's view, to the smallest element
    /// that changed, e.g. `/notes/41` or `/plan/risk`.
    pub path: String,
    /// The element before the event; `null` when it did not exist. Personal
    /// data masked unless the caller may read it.
    pub old: Value,
    /// The element after the event; `null` when it was removed. Personal data
    /// masked unless the caller may read it.
    pub new: Value,
}

/// A view whose changes can be listed.
pub trait Diffable: Projected + PartialEq {
    /// Appends the changes from `before` (none: the ticket did not exist) to
    /// `after`. With `appends_only`, the event is one that never changes or
    /// removes what a list of the view already holds, so only the elements
    /// past the old end of each list are compared: what keeps a ticket with
    /// a thousand notes linear. (Debug builds still compare every element
    /// and assert that nothing before the end changed.)
    fn diff(before: Option<&Self>, after: &Self, appends_only: bool, out: &mut Vec<ViewChange>);

    /// Whether `event` only adds to the view's lists. A list of the event
    /// types known to, so that a type added later is compared in full until
    /// someone says otherwise.
    fn appends_only(event: &Self::Event) -> bool;

    /// The top-level members [`Diffable::diff`] compares, for the test that
    /// holds it to the view.
    const MEMBERS: &'static [&'static str];
}

/// The changes each event of `events` made, in order: `changes[i]` is what
/// `events[i]` did to the view.
pub fn changes_of<A: Diffable>(
    events: &[(A::Event, EventMeta<'_>)],
    first: usize,
) -> Result<Vec<Vec<ViewChange>>, StreamCorrupt> {
    let mut before: Option<A> = None;
    let mut after: Option<A> = None;
    let mut all = Vec::with_capacity(events.len().saturating_sub(first));
    for (i, (event, meta)) in events.iter().enumerate() {
        let next = A::evolve(after.take(), event, meta)?;
        if i >= first {
            let mut changes = Vec::new();
            A::diff(before.as_ref(), &next, A::appends_only(event), &mut changes);
            all.push(changes);
        }
        before = Some(A::evolve(before.take(), event, meta)?);
        after = Some(next);
    }
    Ok(all)
}

fn to_json(value: &impl Serialize) -> Value {
    // Views serialize to JSON by construction (they are stored as such).
    serde_json::to_value(value).unwrap_or(Value::Null)
}

/// Escapes a member name for a JSON Pointer (RFC 6901 §3).
fn escape(name: &str) -> String {
    name.replace('~', "~0").replace('/', "~1")
}

/// A member that is not a list: compared whole, then element by element.
fn member<T: PartialEq + Serialize>(name: &str, before: Option<&T>, after: &T, out: &mut Vec<ViewChange>) {
    match before {
        Some(b) if b == after => {}
        Some(b) => json_diff(format!("/{}", escape(name)), to_json(b), to_json(after), out),
        None => {
            let new = to_json(after);
            if !is_empty(&new) {
                out.push(ViewChange {
                    path: format!("/{}", escape(name)),
                    old: Value::Null,
                    new,
                });
            }
        }
    }
}

/// A list: elements compared pairwise by index, so an appended note is
/// `/notes/41` and nothing else.
fn list<T: PartialEq + Serialize>(
    name: &str,
    before: Option<&Vec<T>>,
    after: &[T],
    appends_only: bool,
    out: &mut Vec<ViewChange>,
) {
    let empty = Vec::new();
    let before = before.unwrap_or(&empty);
    // The path is made only for an element that changed.
    let path = |i: usize| format!("/{}/{i}", escape(name));
    let unchanged = if appends_only && after.len() >= before.len() {
        debug_assert!(
            before[..] == after[..before.len()],
            "an event said to only append changed /{name}"
        );
        before.len()
    } else {
        0
    };
    for i in unchanged..before.len().max(after.len()) {
        match (before.get(i), after.get(i)) {
            (Some(b), Some(a)) if b == a => {}
            (Some(b), Some(a)) => json_diff(path(i), to_json(b), to_json(a), out),
            (b, a) => out.push(ViewChange {
                path: path(i),
                old: b.map_or(Value::Null, to_json),
                new: a.map_or(Value::Null, to_json),
            }),
        }
    }
}

fn is_empty(value: &Value) -> bool {
    match value {
        Value::Null => true,
        Value::Array(items) => items.is_empty(),
        Value::Object(map) => map.is_empty(),
        _ => false,
    }
}

/// Compares two JSON values down to the smallest differing element.
fn json_diff(path: String, old: Value, new: Value, out: &mut Vec<ViewChange>) {
    match (old, new) {
        (old, new) if old == new => {}
        (Value::Object(old), Value::Object(new)) if !sealed(&old) && !sealed(&new) => {
            let mut old = old;
            let mut new: Map<String, Value> = new;
            let mut names: Vec<String> = old.keys().chain(new.keys()).cloned().collect();
            names.sort();
            names.dedup();
            for name in names {
                let o = old.remove(&name).unwrap_or(Value::Null);
                let n = new.remove(&name).unwrap_or(Value::Null);
                json_diff(format!("{path}/{}", escape(&name)), o, n, out);
            }
        }
        (Value::Array(old), Value::Array(new)) => {
            let len = old.len().max(new.len());
            let mut old = old.into_iter();
            let mut new = new.into_iter();
            for i in 0..len {
                json_diff(
                    format!("{path}/{i}"),
                    old.next().unwrap_or(Value::Null),
                    new.next().unwrap_or(Value::Null),
                    out,
                );
            }
        }
        (old, new) => out.push(ViewChange { path, old, new }),
    }
}

fn sealed(map: &Map<String, Value>) -> bool {
    is_sealed_or_erased(map)
}

/// Implements [`Diffable`] for a view from the list of its members; the
/// unit test below holds the list to what the view serializes.
macro_rules! diffable {
    ($view:ty, members: [$($member:ident),* $(,)?], lists: [$($list:ident),* $(,)?], appends: $appends:expr) => {
        impl Diffable for $view {
            fn diff(before: Option<&Self>, after: &Self, appends_only: bool, out: &mut Vec<ViewChange>) {
                $( member(stringify!($member), before.map(|b| &b.$member), &after.$member, out); )*
                $( list(stringify!($list), before.map(|b| &b.$list), &after.$list, appends_only, out); )*
            }

            fn appends_only(event: &Self::Event) -> bool {
                $appends(event)
            }

            const MEMBERS: &'static [&'static str] = &[$(stringify!($member),)* $(stringify!($list),)*];
        }
    };
}

diffable!(Complaint,
members: [id, number, subject, status, title, description, channel, complainant, category, priority, team,
    assignee, created_at, created_by, acknowledged_at, first_response, waiting_reason, resolution,
    satisfaction, closed_at, reopen_count, escalated_to, sla],
lists: [notes, linked_fault_resolutions, links, corrections],
appends: ComplaintEvent::only_adds_to_lists);

diffable!(Fault,
members: [id, number, status, title, description, affected_service, detected_by, escalated_from, severity,
    evaluator, evaluation, technician, workaround, mitigated_at, resolution, person_minutes, review,
    created_at, created_by, triaged_at, closed_at, reopen_count, sla],
lists: [repairs, notes, links, affected_service_corrections],
appends: FaultEvent::only_adds_to_lists);

diffable!(Change,
members: [id, number, change_type, title, description, affected_services, maintenance_type, linked_faults,
    status, requester, assignee, plan, plan_hash, plan_revision, approvals_required, approved, window,
    start_authorisation, implementation_started_at, rolled_back, failed, review, closed, created_at],
lists: [approvals, rejections, rollout, notes, links],
appends: ChangeEvent::only_adds_to_lists);

/// Members every view has that change with every event.
pub const BOOKKEEPING: [&str; 2] = ["version", "updated_at"];

#[cfg(test)]
mod tests {
    use super::*;
    use std::collections::BTreeSet;

    /// Every member a view has (as its schema documents it) is compared, or
    /// is bookkeeping.
    fn covers<A: Diffable + utoipa::PartialSchema>() {
        let schema = serde_json::to_value(A::schema()).expect("json");
        let documented: BTreeSet<&str> = schema["properties"]
            .as_object()
            .expect("an object schema")
            .keys()
            .map(String::as_str)
            .collect();
        let compared: BTreeSet<&str> = A::MEMBERS.iter().copied().chain(BOOKKEEPING).collect();
        assert_eq!(
            documented,
            compared,
            "{}: members the diff does not compare",
            A::KIND.as_str()
        );
    }

    #[test]
    fn the_diff_compares_every_member_of_every_view() {
        covers::<Complaint>();
        covers::<Fault>();
        covers::<Change>();
    }

    #[test]
    fn a_json_diff_names_the_smallest_changed_element() {
        let mut out = Vec::new();
        json_diff(
            "/plan".into(),
            serde_json::json!({"risk": "low", "steps": ["a", "b"], "by": "x"}),
            serde_json::json!({"risk": "high", "steps": ["a", "b", "c"], "by": "x"}),
            &mut out,
        );
        assert_eq!(
            out,
            [
                ViewChange {
                    path: "/plan/risk".into(),
                    old: "low".into(),
                    new: "high".into()
                },
                ViewChange {
                    path: "/plan/steps/2".into(),
                    old: Value::Null,
                    new: "c".into()
                },
            ]
        );
        let sealed = |c: &str| serde_json::json!({"subject": uuid::Uuid::nil(), "key_id": uuid::Uuid::nil(), "nonce": "n", "ciphertext": c});
        let mut out = Vec::new();
        json_diff("/phone".into(), sealed("a"), sealed("b"), &mut out);
        assert_eq!(out.len(), 1, "a sealed value changes whole");
        assert_eq!(out[0].path, "/phone");
        assert_eq!(escape("a/b~c"), "a~1b~0c");
    }
}
