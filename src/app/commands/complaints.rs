//! Filing complaints and applying commands to them.

use chrono::Utc;
use deadpool_postgres::GenericClient;
use uuid::Uuid;

use crate::domain::complaint::{self, Complaint, ComplaintCommand, ComplaintEvent, FileComplaint};
use crate::domain::ticket::TicketKind;
use crate::privacy::crypto::IndexKind;
use crate::privacy::{self, keys};
use crate::projections::tickets::{TicketRef, TicketRow};
use crate::store;
use crate::store::idempotency::StoredResponse;

use super::{CommandContext, CommandError, Commands, Outcome, Plan, Precondition, StreamWrite, next_number, now_after};

impl Commands {
    /// Files a new complaint. `render` produces the response stored for
    /// idempotent replays.
    pub async fn file_complaint(
        &self,
        ctx: &CommandContext,
        cmd: &FileComplaint,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        // Validate before taking a number, so a refused request consumes nothing.
        let id = Uuid::now_v7();
        let now = store::envelope::to_micros(Utc::now());
        complaint::file(id, "CMP-0000-000000", Uuid::nil(), cmd, now)?;
        let c = &cmd.complainant;
        let contacts: Vec<(IndexKind, &str)> = [
            (IndexKind::CustomerRef, c.customer_ref.as_deref()),
            (IndexKind::Email, c.email.as_deref()),
            (IndexKind::Phone, c.phone.as_deref()),
        ]
        .into_iter()
        .filter_map(|(kind, value)| value.map(|v| (kind, v)))
        .collect();
        let digests = keys::contact_digests(self.privacy.index_key(), &contacts);
        self.execute(ctx, false, render, async |tx| {
            let number = next_number(tx, TicketKind::Complaint, now).await?;
            let subject = keys::resolve_subject(tx, self.privacy.master(), &digests).await?;
            let mut events = complaint::file(id, &number, subject.subject, cmd, now)?;
            for event in &mut events {
                privacy::seal_fields(event.personal_mut(), &subject)?;
            }
            Plan::single(StreamWrite::new::<Complaint>(id, None, None, events, ctx, now)?)
        })
        .await
    }

    /// Applies a command to an existing complaint.
    pub async fn handle_complaint(
        &self,
        ctx: &CommandContext,
        target: &TicketRef,
        cmd: &ComplaintCommand,
        precondition: &Precondition,
        render: impl Fn(&TicketRow) -> StoredResponse,
    ) -> Result<Outcome, CommandError> {
        let commutes = matches!(precondition, Precondition::Commutes);
        self.execute(ctx, commutes, render, async |tx| {
            let locked = self.lock::<Complaint>(tx, target, precondition).await?;
            let now = now_after(Some(&locked.head));
            let mut events = complaint::decide(&locked.state, cmd, now)?;
            self.seal_personal(tx, locked.state.subject, &mut events).await?;
            Plan::single(StreamWrite::new(
                locked.row.id,
                Some(locked.state),
                Some(&locked.head),
                events,
                ctx,
                now,
            )?)
        })
        .await
    }

    /// Seals the personal values of `events` under the subject's key,
    /// fetching the key only when there is something to seal.
    async fn seal_personal(
        &self,
        client: &impl GenericClient,
        subject: Uuid,
        events: &mut [ComplaintEvent],
    ) -> Result<(), CommandError> {
        let mut fields: Vec<_> = events.iter_mut().flat_map(|e| e.personal_mut()).collect();
        if fields.is_empty() {
            return Ok(());
        }
        let found = keys::subject_keys(client, self.privacy.master(), &[subject]).await?;
        let key = found.get(&subject).ok_or(CommandError::SubjectErased)?;
        privacy::seal_fields(fields.drain(..), key)?;
        Ok(())
    }
}
