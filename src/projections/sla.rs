//! What service-level clocks are computed with: the SLA policy and the
//! business calendars, read by folding their streams (a handful of small
//! streams, like `business_calendars`). A version already folded is taken
//! from memory: folding and checking the CN calendar costs more than the
//! filing it serves. Once loaded, the inputs are used without reading
//! their versions at all; the append that uses them checks the versions
//! instead (see [`SlaSources::cached`]).

use std::collections::{HashMap, HashSet};
use std::sync::{Arc, Mutex, PoisonError};

use deadpool_postgres::GenericClient;

use crate::domain::Validator;
use crate::domain::business_calendar::aggregate::check_definition;
use crate::domain::business_calendar::business_calendar_id;
use crate::domain::business_calendar::shipped::shipped_calendars;
use crate::domain::sla::policy::{self, SlaPolicyEvent};
use crate::domain::sla::{CalendarAt, SlaInputs, SlaPolicyView, sla_policy_id};
use crate::store::{self, StoreError, StoredEvent, StreamHead};

use super::{business_calendars, fold};

/// The policy as its stream leaves it (the shipped defaults, version 0,
/// while it is empty), and the stream's head for a command to append after.
pub async fn policy(client: &impl GenericClient) -> Result<(SlaPolicyView, Option<StreamHead>), StoreError> {
    let events = store::read_stream(client, sla_policy_id()).await?;
    let head = events.last().map(StoredEvent::head);
    let view =
        fold::fold_with::<SlaPolicyView, SlaPolicyEvent>(Some(SlaPolicyView::shipped()), &events, policy::evolve)
            .map_err(|e| StoreError::Corrupt(format!("SLA policy: {e}")))?
            .unwrap_or_else(SlaPolicyView::shipped);
    Ok((view, head))
}

/// The calendar with `code` at its current version: its stream's, else the
/// shipped definition as version 0, else none.
pub async fn calendar(client: &impl GenericClient, code: &str, version: u64) -> Result<CalendarAt, StoreError> {
    let found = match version {
        0 => shipped_calendars()
            .map_err(StoreError::Corrupt)?
            .into_iter()
            .find(|c| c.code == code)
            .and_then(|c| check_definition(&mut Validator::new(), "", &c.definition)),
        _ => match business_calendars::one(client, business_calendar_id(code)).await? {
            Some(view) => Some(view.calendar().map_err(|e| StoreError::Corrupt(e.to_string()))?),
            None => None,
        },
    };
    Ok(CalendarAt {
        code: code.to_owned(),
        version,
        calendar: found,
    })
}

/// Whether a calendar with `code` can be counted on: defined, or shipped.
pub async fn calendar_exists(client: &impl GenericClient, code: &str) -> Result<bool, StoreError> {
    if store::stream_head(client, business_calendar_id(code)).await?.is_some() {
        return Ok(true);
    }
    Ok(shipped_calendars()
        .map_err(StoreError::Corrupt)?
        .iter()
        .any(|c| c.code == code))
}

/// The policy and calendars folded so far, by version.
#[derive(Clone, Default)]
pub struct SlaSources {
    cache: Arc<Mutex<Cache>>,
}

#[derive(Default)]
struct Cache {
    policy: Option<Arc<SlaPolicyView>>,
    calendars: HashMap<String, Arc<CalendarAt>>,
    /// What [`SlaSources::cached`] may answer with: the calendars whose
    /// versions a load read (with the policy's) since the last
    /// [`SlaSources::forget`], which sets `None` (the folds stay, for the
    /// next load to reuse at the versions it finds). A calendar held from
    /// an older load is never answered unread.
    read: Option<HashSet<String>>,
}

impl SlaSources {
    /// The inputs of a clock: the policy in force and the current version
    /// of every calendar it names, and of `also` (the calendars a ticket's
    /// clocks run on), read in the caller's transaction.
    pub async fn load(&self, client: &impl GenericClient, also: &[String]) -> Result<SlaInputs, StoreError> {
        // One round trip in the usual case: the versions of the policy and
        // of every calendar the cached policy and `also` name.
        let cached_policy = self.lock().policy.clone();
        let policy_id = sla_policy_id();
        let mut codes = calendar_codes(cached_policy.as_deref(), also);
        let mut ids: Vec<uuid::Uuid> = codes.iter().map(|c| business_calendar_id(c)).collect();
        ids.push(policy_id);
        let mut versions = versions_of(client, &ids).await?;
        let policy_version = versions.get(&policy_id).copied().unwrap_or(0);
        let policy = match cached_policy.filter(|p| p.version == policy_version) {
            Some(p) => p,
            None => {
                let p = Arc::new(policy(client).await?.0);
                self.lock().policy = Some(Arc::clone(&p));
                // Another policy may name other calendars.
                codes = calendar_codes(Some(&p), also);
                let ids: Vec<uuid::Uuid> = codes.iter().map(|c| business_calendar_id(c)).collect();
                versions = versions_of(client, &ids).await?;
                p
            }
        };
        let mut calendars = Vec::with_capacity(codes.len());
        for code in &codes {
            let version = versions.get(&business_calendar_id(code)).copied().unwrap_or(0);
            let cached = self
                .lock()
                .calendars
                .get(code)
                .filter(|c| c.version == version)
                .cloned();
            let at = match cached {
                Some(at) => at,
                None => {
                    let at = Arc::new(calendar(client, code, version).await?);
                    self.lock().calendars.insert(code.clone(), Arc::clone(&at));
                    at
                }
            };
            calendars.push(at);
        }
        self.lock().read.get_or_insert_default().extend(codes);
        Ok(SlaInputs { policy, calendars })
    }

    /// The inputs [`SlaSources::load`] last found, when they include every
    /// calendar of `also`, without reading anything: they may be behind
    /// the store, so a command that uses them has its append check their
    /// versions (`store::insert_unless_moved`) and calls
    /// [`SlaSources::forget`] when they were.
    pub fn cached(&self, also: &[String]) -> Option<SlaInputs> {
        let cache = self.lock();
        let read = cache.read.as_ref()?;
        let policy = Arc::clone(cache.policy.as_ref()?);
        let calendars = calendar_codes(Some(&policy), also)
            .into_iter()
            .map(|code| read.contains(&code).then(|| cache.calendars.get(&code).cloned())?)
            .collect::<Option<Vec<_>>>()?;
        Some(SlaInputs { policy, calendars })
    }

    /// Stops [`SlaSources::cached`] answering until the next load, which
    /// reads the versions in its command's transaction.
    pub fn forget(&self) {
        self.lock().read = None;
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, Cache> {
        self.cache.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

/// The calendars a clock may need: those `policy` names, and `also` (the
/// ones a ticket's clocks run on), sorted, each once.
fn calendar_codes(policy: Option<&SlaPolicyView>, also: &[String]) -> Vec<String> {
    let mut codes: Vec<String> = policy
        .map(|p| p.table.calendars().into_iter().map(str::to_owned).collect())
        .unwrap_or_default();
    codes.extend(also.iter().cloned());
    codes.sort();
    codes.dedup();
    codes
}

/// The version of each of `streams` that has events.
async fn versions_of(
    client: &impl GenericClient,
    streams: &[uuid::Uuid],
) -> Result<HashMap<uuid::Uuid, u64>, StoreError> {
    Ok(store::latest_events(client, streams)
        .await?
        .into_iter()
        .map(|(stream, latest)| (stream, latest.version))
        .collect())
}
