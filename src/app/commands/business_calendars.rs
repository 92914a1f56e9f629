//! Defining and amending business calendars, and loading the shipped ones.
//!
//! Each calendar is a stream of its own whose id is derived from its code,
//! so no lock is needed: two definitions of one code both aim at version 1
//! and the unique (stream, version) key lets one win; the loser is retried
//! and then finds the code taken. Amendments race the same way.

use uuid::Uuid;

use crate::domain::business_calendar::aggregate::{self, BusinessCalendarEvent, BusinessCalendarView};
use crate::domain::business_calendar::shipped::shipped_calendars;
use crate::domain::business_calendar::{CalendarDefinition, DefineBusinessCalendar, business_calendar_id};
use crate::domain::{Actor, DomainError, StreamCorrupt, messages};
use crate::projections::{business_calendars, fold};
use crate::store::{self, StreamHead};

use super::receipt::Document;
use super::{Answer, CommandContext, CommandError, Commands, Outcome, Plan, StreamWrite};

impl Document for BusinessCalendarView {}

impl Commands {
    /// Defines a calendar under a code not yet taken.
    pub async fn define_business_calendar(
        &self,
        ctx: &CommandContext,
        cmd: &DefineBusinessCalendar,
    ) -> Result<Answer<BusinessCalendarView>, CommandError> {
        self.execute(ctx, true, async |tx| {
            // Validated first, so a malformed body is told what is wrong
            // with it even when its code is taken.
            let events = aggregate::define(cmd)?;
            let id = business_calendar_id(&cmd.code);
            if store::stream_head(tx, id).await?.is_some() {
                return Err(DomainError::RuleViolated(messages::rule_calendar_code_taken(&cmd.code)).into());
            }
            let now = self.now_after(None);
            calendar_plan(None, None, events, id, ctx, now)
        })
        .await
        .map(Outcome::into_answer)
    }

    /// Replaces a calendar's definition; its version grows by one.
    pub async fn amend_business_calendar(
        &self,
        ctx: &CommandContext,
        id: Uuid,
        cmd: &CalendarDefinition,
    ) -> Result<Answer<BusinessCalendarView>, CommandError> {
        aggregate::validate_amendment(cmd)?;
        self.execute(ctx, true, async |tx| {
            let (state, head) = business_calendars::one_with_head(tx, id)
                .await?
                .ok_or(CommandError::NoBusinessCalendar(id))?;
            let now = self.now_after(Some(&head));
            let events = aggregate::amend(&state, cmd)?;
            calendar_plan(Some(state), Some(&head), events, id, ctx, now)
        })
        .await
        .map(Outcome::into_answer)
    }

    /// Defines each shipped calendar (`24x7`, `CN`) whose code is not taken
    /// yet, as the system; answers the codes it defined, so a second run
    /// defines nothing (`opsledger calendars load`).
    pub async fn load_shipped_calendars(&self) -> Result<Vec<String>, CommandError> {
        let ctx = &CommandContext::on_behalf_of(Actor::system());
        let shipped = shipped_calendars().map_err(CommandError::Corrupt)?;
        let mut defined = Vec::new();
        for cmd in &shipped {
            match self.define_business_calendar(ctx, cmd).await {
                Ok(_) => defined.push(cmd.code.clone()),
                // Only "this code is taken" means it was loaded before;
                // any other refusal of a shipped calendar is reported.
                Err(CommandError::Domain(DomainError::RuleViolated(refusal)))
                    if refusal.id() == messages::rule_calendar_code_taken(&cmd.code).id() => {}
                Err(other) => return Err(other),
            }
        }
        Ok(defined)
    }
}

/// Seals calendar events and answers with the calendar as they leave it.
fn calendar_plan(
    state: Option<BusinessCalendarView>,
    head: Option<&StreamHead>,
    events: Vec<BusinessCalendarEvent>,
    id: Uuid,
    ctx: &CommandContext,
    now: chrono::DateTime<chrono::Utc>,
) -> Result<Plan<BusinessCalendarView>, CommandError> {
    let write = StreamWrite::without_view(id, head, &events, ctx, now)?;
    let after = fold::fold_with(state, &write.sealed, aggregate::evolve).map_err(corrupt)?;
    let calendar = after.ok_or_else(|| CommandError::Corrupt("a calendar command left no calendar".into()))?;
    Ok(Plan {
        writes: vec![write],
        response: calendar,
    })
}

fn corrupt(e: StreamCorrupt) -> CommandError {
    CommandError::Corrupt(e.to_string())
}
