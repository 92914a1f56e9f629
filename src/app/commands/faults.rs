//! Reporting faults, escalating complaints into faults, and applying
//! commands to faults, with their effects on the complaints they concern.

use uuid::Uuid;

use crate::domain::complaint::{self, Complaint};
use crate::domain::fault::{self, EscalateComplaint, Fault, FaultCommand, FaultEvent, ReportFault};
use crate::domain::ticket::TicketKind;
use crate::projections::tickets::{TicketLookup, TicketRow};
use crate::store::idempotency::StoredResponse;

use super::{CommandContext, CommandError, Commands, Outcome, Plan, Precondition, StreamWrite, next_number, state_of};

impl Commands {
    /// Reports a new fault.
    pub async fn report_fault(
        &self,
        ctx: &CommandContext,
        cmd: &ReportFault,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let id = Uuid::now_v7();
        let now = self.now_after(None);
        // Validate before taking a number, so a refused request consumes nothing.
        fault::report(id, "FLT-0000-000000", cmd, now)?;
        self.execute(ctx, false, render, async |tx| {
            let number = next_number(tx, TicketKind::Fault, now).await?;
            let events = fault::report(id, &number, cmd, now)?;
            Plan::single(StreamWrite::new::<Fault>(id, None, None, events, ctx, now)?)
        })
        .await
    }

    /// Escalates a complaint into a new fault: the fault's report and the
    /// complaint's escalation are written in one transaction, so either both
    /// streams have their events or neither has. The response is the fault.
    pub async fn escalate(
        &self,
        ctx: &CommandContext,
        target: &TicketLookup,
        cmd: &EscalateComplaint,
        precondition: &Precondition,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let fault_id = Uuid::now_v7();
        self.execute(ctx, false, render, async |tx| {
            let locked = self.lock::<Complaint>(tx, ctx, target, precondition).await?;
            let now = self.now_after(Some(&locked.head));
            // Decide once with a placeholder number, so a refused escalation
            // consumes no number.
            fault::escalate(&locked.state, fault_id, "FLT-0000-000000", cmd, now)?;
            let number = next_number(tx, TicketKind::Fault, now).await?;
            let (complaint_events, fault_events) = fault::escalate(&locked.state, fault_id, &number, cmd, now)?;
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
        })
        .await
    }

    /// Applies a command to a fault. Resolving it also records the
    /// resolution on every complaint the fault concerns (escalated from, or
    /// linked to), each on its own stream, in the same transaction; so does
    /// reopening it, which tells them the resolution no longer holds.
    pub async fn handle_fault(
        &self,
        ctx: &CommandContext,
        target: &TicketLookup,
        cmd: &FaultCommand,
        precondition: &Precondition,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let retry = matches!(precondition, Precondition::Commutes);
        self.execute(ctx, retry, render, async |tx| {
            let locked = self.lock::<Fault>(tx, ctx, target, precondition).await?;
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
            let fault = StreamWrite::new(locked.row.id, Some(locked.state), Some(&locked.head), events, ctx, now)?;
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
        })
        .await
    }
}

/// What a fault's command passes on to the complaints it concerns.
enum FaultNews {
    Resolved(String),
    Reopened(String),
}
