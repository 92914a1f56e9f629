//! Folding stored events into views, with the same `evolve` that command
//! handling uses. Serves the live view, as-of views and rebuilds.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;

use crate::domain::change::{self, Change, ChangeEvent};
use crate::domain::complaint::{self, Complaint, ComplaintEvent};
use crate::domain::fault::{self, Fault, FaultEvent};
use crate::domain::sla::{Clocks, QueueColumns};
use crate::domain::ticket::{TicketKind, TicketStatus};
use crate::domain::{DomainEvent, EventMeta, StreamCorrupt};
use crate::store::StoredEvent;

use super::tickets::TicketRow;

/// A ticket aggregate as the projections see it: how its stored events
/// decode, how they fold, and which `tickets` row its view makes.
pub trait Projected: Sized + Clone + Serialize + DeserializeOwned {
    type Event: DomainEvent;
    const KIND: TicketKind;

    fn evolve(state: Option<Self>, event: &Self::Event, meta: &EventMeta) -> Result<Self, StreamCorrupt>;

    /// Its `tickets` row with the view left `null`: the columns alone (a
    /// rebuild judges most views from their text, and never needs a tree
    /// of those).
    fn columns(&self) -> TicketRow;

    /// Its `tickets` row.
    fn row(&self) -> Result<TicketRow, serde_json::Error> {
        let mut row = self.columns();
        row.view = serde_json::to_value(self)?;
        Ok(row)
    }
}

/// Folds `events` onto `state`.
pub fn fold<A: Projected>(state: Option<A>, events: &[StoredEvent]) -> Result<Option<A>, StreamCorrupt> {
    fold_with(state, events, A::evolve)
}

/// Folds the events of any stream (a ticket's, a calendar's, the freeze
/// windows') with its `evolve`.
pub fn fold_with<S, E: DomainEvent>(
    mut state: Option<S>,
    events: &[StoredEvent],
    evolve: impl Fn(Option<S>, &E, &EventMeta) -> Result<S, StreamCorrupt>,
) -> Result<Option<S>, StreamCorrupt> {
    for e in events {
        let event = E::from_stored(
            &e.envelope.event_type,
            e.envelope.schema_version,
            e.envelope.payload.clone(),
        )?;
        state = Some(evolve(state, &event, &meta_of(e))?);
    }
    Ok(state)
}

/// Folds the events a command has just decided onto `state`, each with the
/// envelope it was sealed in (`sealed`, in the same order): from the events
/// in hand, as decoding them back from their payloads gives the same
/// events. Debug builds, so every test, fold the payloads too and check.
pub fn fold_decided<'a, A: Projected>(
    state: Option<A>,
    decided: impl IntoIterator<Item = &'a A::Event>,
    sealed: &[StoredEvent],
) -> Result<Option<A>, StreamCorrupt>
where
    A::Event: 'a,
{
    #[cfg(debug_assertions)]
    let from_payloads = fold(state.clone(), sealed)?;
    let mut view = state;
    let mut folded = 0;
    for (event, e) in decided.into_iter().zip(sealed) {
        view = Some(A::evolve(view, event, &meta_of(e))?);
        folded += 1;
    }
    debug_assert_eq!(folded, sealed.len(), "one sealed envelope per decided event");
    #[cfg(debug_assertions)]
    {
        // A view that cannot be serialised fails here rather than passing
        // as "equal" to another that cannot either.
        let json = |v: &Option<A>| v.as_ref().map(|v| serde_json::to_value(v).expect("a view serialises"));
        assert_eq!(
            json(&from_payloads),
            json(&view),
            "a command's view differs from the fold of its events' payloads"
        );
    }
    Ok(view)
}

/// What `evolve` is told of a stored event.
pub fn meta_of(e: &StoredEvent) -> EventMeta<'_> {
    EventMeta {
        recorded_at: e.recorded_at,
        actor: &e.envelope.metadata.actor,
        version: e.envelope.version,
        hash: &e.hash,
    }
}

/// The view of a ticket of `kind` after `events`, as JSON (as-of reads).
pub fn fold_view(kind: TicketKind, events: &[StoredEvent]) -> Result<Option<Value>, StreamCorrupt> {
    let view = match kind {
        TicketKind::Complaint => fold::<Complaint>(None, events)?.map(serde_json::to_value),
        TicketKind::Fault => fold::<Fault>(None, events)?.map(serde_json::to_value),
        TicketKind::Change => fold::<Change>(None, events)?.map(serde_json::to_value),
    };
    view.transpose()
        .map_err(|e| StreamCorrupt(format!("a view does not serialize: {e}")))
}

impl Projected for Complaint {
    type Event = ComplaintEvent;
    const KIND: TicketKind = TicketKind::Complaint;

    fn evolve(state: Option<Complaint>, event: &ComplaintEvent, meta: &EventMeta) -> Result<Complaint, StreamCorrupt> {
        complaint::evolve(state, event, meta)
    }

    fn columns(&self) -> TicketRow {
        TicketRow {
            id: self.id,
            number: self.number.clone(),
            kind: Self::KIND,
            status: TicketStatus::Complaint(self.status),
            priority: Some(self.priority),
            severity: None,
            team: self.team.clone(),
            assignee: self.assignee.clone(),
            channel: Some(self.channel),
            complaint_linked: false,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            view: Value::Null,
            subject: Some(self.subject),
            window: None,
            sla: self.sla.as_ref().map(Clocks::queue_columns).unwrap_or_default(),
        }
    }
}

impl Projected for Fault {
    type Event = FaultEvent;
    const KIND: TicketKind = TicketKind::Fault;

    fn evolve(state: Option<Fault>, event: &FaultEvent, meta: &EventMeta) -> Result<Fault, StreamCorrupt> {
        fault::evolve(state, event, meta)
    }

    fn columns(&self) -> TicketRow {
        TicketRow {
            id: self.id,
            number: self.number.clone(),
            kind: Self::KIND,
            status: TicketStatus::Fault(self.status),
            priority: None,
            severity: self.severity.map(i16::from),
            team: None,
            assignee: self.technician.clone(),
            channel: None,
            complaint_linked: !self.complaints_to_inform().is_empty(),
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            view: Value::Null,
            subject: None,
            window: None,
            sla: self.sla.as_ref().map(Clocks::queue_columns).unwrap_or_default(),
        }
    }
}

impl Projected for Change {
    type Event = ChangeEvent;
    const KIND: TicketKind = TicketKind::Change;

    fn evolve(state: Option<Change>, event: &ChangeEvent, meta: &EventMeta) -> Result<Change, StreamCorrupt> {
        change::evolve(state, event, meta)
    }

    fn columns(&self) -> TicketRow {
        TicketRow {
            id: self.id,
            number: self.number.clone(),
            kind: Self::KIND,
            status: TicketStatus::Change(self.status),
            priority: None,
            severity: None,
            team: None,
            assignee: self.assignee.clone(),
            channel: None,
            complaint_linked: false,
            created_at: self.created_at,
            updated_at: self.updated_at,
            version: self.version,
            view: Value::Null,
            subject: None,
            window: self.window.as_ref().map(|w| (w.start, w.end)),
            sla: QueueColumns::default(),
        }
    }
}
