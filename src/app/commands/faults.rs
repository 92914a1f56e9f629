//! Reporting faults, escalating complaints into faults, and applying
//! commands to faults, with their effects on the complaints they concern.

use deadpool_postgres::Transaction;
use uuid::Uuid;

use crate::domain::complaint::{self, Complaint};
use crate::domain::fault::{self, EscalateComplaint, Escalation, Fault, FaultCommand, FaultEvent, ValidReport};
use crate::domain::ticket::TicketKind;
use crate::projections::tickets::{TicketLookup, TicketRow};

use super::{CommandContext, CommandError, Commands, Locked, Outcome, Plan, StreamWrite, next_number, state_of};

impl Commands {
    /// Reports a new fault: validated already, so it takes a number only
    /// to be recorded.
    pub(super) async fn report_fault(
        &self,
        ctx: &CommandContext,
        report: &ValidReport,
    ) -> Result<Outcome<TicketRow>, CommandError> {
        let id = Uuid::now_v7();
        let now = self.now_after(None);
        self.execute(ctx, false, async |tx| {
            let number = next_number(tx, TicketKind::Fault, now).await?;
            let events = report.record(id, &number, now);
            Plan::single(StreamWrite::new::<Fault>(id, None, None, events, ctx, now)?)
        })
        .await
    }

    /// Escalates a locked complaint into a new fault: the fault's report
    /// and the complaint's escalation are written in one transaction, so
    /// either both streams have their events or neither has. The answer is
    /// the fault. The escalation is decided before the fault takes a
    /// number, so a refused one consumes none.
    pub(super) async fn escalate(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Complaint>,
        cmd: &EscalateComplaint,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let escalation = Escalation::decide(&locked.state, cmd)?;
        let fault_id = Uuid::now_v7();
        let number = next_number(tx, TicketKind::Fault, now).await?;
        let (complaint_events, fault_events) = escalation.record(fault_id, &number, now);
        let fault = StreamWrite::new::<Fault>(fault_id, None, None, fault_events, ctx, now)?;
        let complaint = StreamWrite::new(
            locked.row.id,
            Some(locked.state),
            Some(&locked.head),
            complaint_events,
            ctx,
            now,
        )?;
        Plan::tickets(vec![fault, complaint])
    }

    /// Applies a command to a fault. Resolving it also records the
    /// resolution on every complaint the fault concerns (escalated from, or
    /// linked to), each on its own stream, in the same transaction; so does
    /// reopening it, which tells them the resolution no longer holds.
    pub(super) async fn decide_fault(
        &self,
        tx: &Transaction<'_>,
        ctx: &CommandContext,
        locked: Locked<Fault>,
        cmd: &FaultCommand,
    ) -> Result<Plan, CommandError> {
        let now = self.now_after(Some(&locked.head));
        let events = fault::decide(&locked.state, cmd, &ctx.actor.id, now)?;
        // What the complaints must learn of: a resolution, or that one
        // no longer holds.
        let news = events.iter().find_map(|e| match e {
            FaultEvent::Resolved(r) => Some(FaultNews::Resolved(r.resolution.clone())),
            FaultEvent::Reopened(r) => Some(FaultNews::Reopened(r.reason.clone())),
            _ => None,
        });
        // Resolving changes neither the fault's identity nor its links.
        let this = locked.state.ticket_ref();
        let mut complaints = locked.state.complaints_to_inform();
        let fault = self
            .timed_write(tx, ctx, locked.row.id, Some((locked.state, &locked.head)), events, now)
            .await?;
        let mut writes = vec![fault];
        if let Some(news) = news {
            // A fixed order keeps two such commands from deadlocking.
            complaints.sort_by_key(|c| c.id);
            for c in complaints {
                let (row, head) = match self.lock_other(tx, &TicketLookup::Id(c.id), &c.number).await {
                    Err(CommandError::OtherNotFound(_)) => {
                        return Err(CommandError::Corrupt(format!(
                            "fault {} names a missing complaint {}",
                            this.id, c.id
                        )));
                    }
                    other => other?,
                };
                let state: Complaint = state_of(&row)?;
                let event = match &news {
                    FaultNews::Resolved(resolution) => complaint::linked_fault_resolved(&this, resolution),
                    FaultNews::Reopened(reason) => complaint::linked_fault_reopened(&this, reason),
                };
                let now = self.now_after(Some(&head));
                writes.push(StreamWrite::new(
                    row.id,
                    Some(state),
                    Some(&head),
                    vec![event],
                    ctx,
                    now,
                )?);
            }
        }
        Plan::tickets(writes)
    }
}

/// What a fault's command passes on to the complaints it concerns.
enum FaultNews {
    Resolved(String),
    Reopened(String),
}
