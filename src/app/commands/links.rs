//! Links between any two tickets, recorded on both.

use crate::app::clock::Clock;
use crate::domain::change::{Change, ChangeEvent};
use crate::domain::complaint::{Complaint, ComplaintEvent};
use crate::domain::fault::{Fault, FaultEvent};
use crate::domain::link::{self, Link, LinkTickets, TicketLinked, TicketRef, TicketUnlinked, UnlinkTickets};
use crate::domain::messages;
use crate::domain::ticket::TicketKind;
use crate::projections::tickets::{TicketLookup, TicketRow};
use crate::store::StreamHead;
use deadpool_postgres::Transaction;

use super::{CommandContext, CommandError, Commands, Plan, StreamWrite, now_after, state_of};

/// A locked ticket of any kind, with its state.
struct Linkable {
    row: TicketRow,
    head: StreamHead,
    state: State,
}

/// Boxed: the views differ much in size, and one lives per locked ticket.
enum State {
    Complaint(Box<Complaint>),
    Fault(Box<Fault>),
    Change(Box<Change>),
}

impl Linkable {
    fn new(row: TicketRow, head: StreamHead) -> Result<Linkable, CommandError> {
        let state = match row.kind {
            TicketKind::Complaint => State::Complaint(Box::new(state_of(&row)?)),
            TicketKind::Fault => State::Fault(Box::new(state_of(&row)?)),
            TicketKind::Change => State::Change(Box::new(state_of(&row)?)),
        };
        Ok(Linkable { row, head, state })
    }

    fn reference(&self) -> TicketRef {
        match &self.state {
            State::Complaint(c) => c.ticket_ref(),
            State::Fault(f) => f.ticket_ref(),
            State::Change(c) => c.ticket_ref(),
        }
    }

    fn links(&self) -> &[Link] {
        match &self.state {
            State::Complaint(c) => &c.links,
            State::Fault(f) => &f.links,
            State::Change(c) => &c.links,
        }
    }

    fn write(self, event: LinkEvent, ctx: &CommandContext, clock: &dyn Clock) -> Result<StreamWrite, CommandError> {
        let now = now_after(clock, Some(&self.head));
        let (id, head) = (self.row.id, Some(&self.head));
        match (self.state, event) {
            (State::Complaint(c), LinkEvent::Linked(e)) => {
                StreamWrite::new(id, Some(*c), head, vec![ComplaintEvent::Linked(e)], ctx, now)
            }
            (State::Complaint(c), LinkEvent::Unlinked(e)) => {
                StreamWrite::new(id, Some(*c), head, vec![ComplaintEvent::Unlinked(e)], ctx, now)
            }
            (State::Fault(f), LinkEvent::Linked(e)) => {
                StreamWrite::new(id, Some(*f), head, vec![FaultEvent::Linked(e)], ctx, now)
            }
            (State::Fault(f), LinkEvent::Unlinked(e)) => {
                StreamWrite::new(id, Some(*f), head, vec![FaultEvent::Unlinked(e)], ctx, now)
            }
            (State::Change(c), LinkEvent::Linked(e)) => {
                StreamWrite::new(id, Some(*c), head, vec![ChangeEvent::Linked(e)], ctx, now)
            }
            (State::Change(c), LinkEvent::Unlinked(e)) => {
                StreamWrite::new(id, Some(*c), head, vec![ChangeEvent::Unlinked(e)], ctx, now)
            }
        }
    }
}

/// What a link command records on each of the two tickets.
enum LinkEvent {
    Linked(TicketLinked),
    Unlinked(TicketUnlinked),
}

/// A command on the link between two tickets.
#[derive(Debug)]
pub enum LinkCommand {
    Link(LinkTickets),
    Unlink(UnlinkTickets),
}

impl LinkCommand {
    /// The other ticket, as the caller named it.
    fn target(&self) -> &str {
        match self {
            LinkCommand::Link(c) => &c.target,
            LinkCommand::Unlink(c) => &c.target,
        }
    }
}

impl Commands {
    /// Links the locked ticket to another one, recording the link on both
    /// (with the inverse relation on the other), or removes their link,
    /// recording the removal on both. The other must be a ticket the
    /// caller may read: one it may not is reported as missing.
    pub(super) async fn link(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        row: TicketRow,
        head: StreamHead,
        cmd: &LinkCommand,
    ) -> Result<Plan, CommandError> {
        let named = cmd.target();
        // A reference that cannot name a ticket is a malformed field (422);
        // one that could, but names none the caller may read, is missing.
        let other_ref = TicketLookup::parse(named).ok_or_else(|| CommandError::BadReference {
            pointer: "/target".to_owned(),
            detail: messages::field_not_a_ticket_reference(named),
        })?;
        let (other_row, other_head) = self.lock_named(tx, ctx, &other_ref, named).await?;
        let this = Linkable::new(row, head)?;
        let other = Linkable::new(other_row, other_head)?;
        let (this_ref, other_ref) = (this.reference(), other.reference());
        let (this_event, other_event) = match cmd {
            LinkCommand::Link(c) => {
                let (a, b) = link::link_pair(&this_ref, this.links(), &other_ref, other.links(), c)?;
                (LinkEvent::Linked(a), LinkEvent::Linked(b))
            }
            LinkCommand::Unlink(c) => {
                let (a, b) = link::unlink_pair(&this_ref, this.links(), &other_ref, other.links(), c)?;
                (LinkEvent::Unlinked(a), LinkEvent::Unlinked(b))
            }
        };
        Plan::tickets(vec![
            this.write(this_event, ctx, self.clock.as_ref())?,
            other.write(other_event, ctx, self.clock.as_ref())?,
        ])
    }
}
