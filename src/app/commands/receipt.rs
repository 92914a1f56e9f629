//! What commands answer, and what the idempotency record of a request
//! keeps of the answer. Nothing here knows of HTTP: the http layer renders
//! status, `ETag` and `Location` from a receipt, whether the receipt is
//! fresh or replayed.

use serde::Serialize;
use serde::de::DeserializeOwned;
use serde_json::Value;
use uuid::Uuid;

use crate::domain::ticket::TicketKind;
use crate::projections::tickets::TicketRow;

use super::CommandError;

/// What a command on tickets answers with: the ticket it acted on (or
/// created) as the command left it, personal data still sealed.
#[derive(Debug, Clone)]
pub struct Receipt {
    pub kind: TicketKind,
    pub id: Uuid,
    /// The human-facing reference, e.g. `CMP-2026-000123`.
    pub number: String,
    /// The ticket's version after the command.
    pub version: u64,
    /// The ticket's view as clients read it (with its `kind`), personal
    /// data sealed.
    pub view: Value,
}

impl Receipt {
    /// The receipt of a ticket's new view; moves the view, never copies it.
    pub(crate) fn of(mut row: TicketRow) -> Receipt {
        let (kind, id, version) = (row.kind, row.id, row.version);
        let number = std::mem::take(&mut row.number);
        Receipt {
            kind,
            id,
            number,
            version,
            view: row.into_client_view(),
        }
    }

    /// The receipt an idempotency record keeps: the view with its `kind`,
    /// which holds the id, number and version too (so records written
    /// before receipts existed read the same).
    fn from_record(record: &[u8]) -> Result<Receipt, CommandError> {
        let corrupt = |what: &str| CommandError::Corrupt(format!("a stored receipt {what}"));
        let view: Value = serde_json::from_slice(record).map_err(|_| corrupt("is not JSON"))?;
        let text = |name: &str| view.get(name).and_then(Value::as_str);
        Ok(Receipt {
            kind: text("kind")
                .and_then(TicketKind::parse)
                .ok_or_else(|| corrupt("has no kind"))?,
            id: text("id")
                .and_then(|id| id.parse().ok())
                .ok_or_else(|| corrupt("has no id"))?,
            number: text("number").ok_or_else(|| corrupt("has no number"))?.to_owned(),
            version: view
                .get("version")
                .and_then(Value::as_u64)
                .ok_or_else(|| corrupt("has no version"))?,
            view,
        })
    }
}

/// The answer to a command on tickets.
#[derive(Debug)]
pub struct TicketAnswer {
    pub receipt: Receipt,
    /// The answer of an earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
    /// Whether the caller may read the ticket now. One that acted on a
    /// ticket it may not read (a write-only integration filing a
    /// complaint, say), or that lost the right since its first request,
    /// may learn the ticket's identity and version from the receipt, never
    /// its view.
    pub readable: bool,
    /// For an escalation, whose answer is the new fault: the complaint it
    /// escalated and the version the escalation left it at, so the caller
    /// can go on with the complaint without reading it first. Absent on a
    /// replayed answer.
    pub escalated: Option<(Uuid, u64)>,
}

/// The answer to a command whose result is a document of its own, not a
/// ticket (a freeze window, a merge's account).
#[derive(Debug)]
pub struct Answer<D> {
    pub document: D,
    /// The answer of an earlier request with the same `Idempotency-Key`.
    pub replayed: bool,
}

/// A command's result as the idempotency record of its request keeps it.
pub(crate) trait Record: Sized {
    /// What a replay of the record answers.
    type Replay;
    fn record(&self) -> Result<Vec<u8>, CommandError>;
    fn replay(record: &[u8]) -> Result<Self::Replay, CommandError>;
    /// The data subject whose (sealed) personal data the record carries,
    /// so that an erasure finds it.
    fn subject(&self) -> Option<Uuid>;
}

impl Record for TicketRow {
    type Replay = Receipt;

    fn record(&self) -> Result<Vec<u8>, CommandError> {
        /// The view with its `kind`, serialised without copying the view.
        #[derive(Serialize)]
        struct KindedView<'a> {
            kind: TicketKind,
            #[serde(flatten)]
            view: &'a Value,
        }
        serde_json::to_vec(&KindedView {
            kind: self.kind,
            view: &self.view,
        })
        .map_err(|e| CommandError::Corrupt(format!("the view of {}: {e}", self.id)))
    }

    fn replay(record: &[u8]) -> Result<Receipt, CommandError> {
        Receipt::from_record(record)
    }

    fn subject(&self) -> Option<Uuid> {
        self.subject
    }
}

/// A document that carries nobody's personal data is recorded as it is.
pub(crate) trait Document: Serialize + DeserializeOwned {}

impl<D: Document> Record for D {
    type Replay = D;

    fn record(&self) -> Result<Vec<u8>, CommandError> {
        serde_json::to_vec(self).map_err(|e| CommandError::Corrupt(e.to_string()))
    }

    fn replay(record: &[u8]) -> Result<D, CommandError> {
        serde_json::from_slice(record).map_err(|e| CommandError::Corrupt(format!("a stored answer: {e}")))
    }

    fn subject(&self) -> Option<Uuid> {
        None
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_record_written_before_receipts_existed_reads_as_a_receipt() {
        let stored = br#"{"kind":"fault","id":"0190d6a8-0000-7000-8000-000000000001","number":"FLT-2026-000001","version":3,"title":"Router down"}"#;
        let receipt = Receipt::from_record(stored).expect("a receipt");
        assert_eq!(receipt.kind, TicketKind::Fault);
        assert_eq!(receipt.number, "FLT-2026-000001");
        assert_eq!(receipt.version, 3);
        assert_eq!(receipt.view["title"], "Router down");
    }

    #[test]
    fn a_record_without_a_version_is_corrupt_not_a_guess() {
        let stored = br#"{"kind":"fault","id":"0190d6a8-0000-7000-8000-000000000001","number":"FLT-2026-000001"}"#;
        assert!(matches!(Receipt::from_record(stored), Err(CommandError::Corrupt(_))));
    }
}
