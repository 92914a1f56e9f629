//! Links between any two tickets, recorded on both.

use crate::domain::change::{Change, ChangeEvent};
use crate::domain::complaint::{Complaint, ComplaintEvent};
use crate::domain::fault::{Fault, FaultEvent};
use crate::domain::link::{self, Link, LinkTickets, TicketLinked, TicketRef as LinkedTicket};
use crate::domain::ticket::TicketKind;
use crate::projections::tickets::{TicketRef, TicketRow};
use crate::store::StreamHead;
use crate::store::idempotency::StoredResponse;

use super::{
    CommandContext, CommandError, Commands, Outcome, Plan, Precondition, StreamWrite, lock_target, now_after, state_of,
};

/// A locked ticket of any kind, with its state.
struct Linkable {
    row: TicketRow,
    head: StreamHead,
    state: State,
}

enum State {
    Complaint(Complaint),
    Fault(Fault),
    Change(Change),
}

impl Linkable {
    fn new(row: TicketRow, head: StreamHead) -> Result<Linkable, CommandError> {
        let state = match TicketKind::parse(&row.kind) {
            Some(TicketKind::Complaint) => State::Complaint(state_of(&row)?),
            Some(TicketKind::Fault) => State::Fault(state_of(&row)?),
            Some(TicketKind::Change) => State::Change(state_of(&row)?),
            None => {
                return Err(CommandError::Corrupt(format!(
                    "ticket {} has kind {:?}",
                    row.id, row.kind
                )));
            }
        };
        Ok(Linkable { row, head, state })
    }

    fn reference(&self) -> LinkedTicket {
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

    fn write(self, event: TicketLinked, ctx: &CommandContext) -> Result<StreamWrite, CommandError> {
        let now = now_after(Some(&self.head));
        let (id, head) = (self.row.id, Some(&self.head));
        match self.state {
            State::Complaint(c) => StreamWrite::new(id, Some(c), head, vec![ComplaintEvent::Linked(event)], ctx, now),
            State::Fault(f) => StreamWrite::new(id, Some(f), head, vec![FaultEvent::Linked(event)], ctx, now),
            State::Change(c) => StreamWrite::new(id, Some(c), head, vec![ChangeEvent::Linked(event)], ctx, now),
        }
    }
}

impl Commands {
    /// Links the target ticket to another one, recording the link on both
    /// (with the inverse relation on the other). `may_read` says whether
    /// the caller may see a ticket: one they may not is reported as missing.
    pub async fn link(
        &self,
        ctx: &CommandContext,
        target: &TicketRef,
        cmd: &LinkTickets,
        precondition: &Precondition,
        may_read: impl Fn(&TicketRow) -> bool,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let other_ref = TicketRef::parse(&cmd.target).ok_or_else(|| CommandError::OtherNotFound(cmd.target.clone()))?;
        let retry = matches!(precondition, Precondition::Commutes);
        self.execute(ctx, retry, render, async |tx| {
            let (this_row, this_head) = lock_target(tx, target, precondition, None).await?;
            if !may_read(&this_row) {
                return Err(CommandError::NotFound);
            }
            let (other_row, other_head) = self.lock_other(tx, &other_ref, &cmd.target).await?;
            if !may_read(&other_row) {
                return Err(CommandError::OtherNotFound(cmd.target.clone()));
            }
            let this = Linkable::new(this_row, this_head)?;
            let other = Linkable::new(other_row, other_head)?;
            let (this_event, other_event) =
                link::link_pair(&this.reference(), this.links(), &other.reference(), other.links(), cmd)?;
            Plan::tickets(vec![this.write(this_event, ctx)?, other.write(other_event, ctx)?])
        })
        .await
    }
}
