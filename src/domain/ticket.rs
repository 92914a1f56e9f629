//! What all tickets share: their kind, their status (each kind has its
//! own) and the number people read aloud.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

use super::change::ChangeStatus;
use super::complaint::ComplaintStatus;
use super::fault::FaultStatus;

/// Which kind of ticket: a customer complaint, a fault, or a change request.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum TicketKind {
    /// A customer's complaint.
    Complaint,
    /// Something broken in a service, however it was noticed.
    Fault,
    /// A planned change to one or more services.
    Change,
}

impl TicketKind {
    pub const ALL: [TicketKind; 3] = [TicketKind::Complaint, TicketKind::Fault, TicketKind::Change];

    pub fn as_str(self) -> &'static str {
        match self {
            TicketKind::Complaint => "complaint",
            TicketKind::Fault => "fault",
            TicketKind::Change => "change",
        }
    }

    pub fn parse(s: &str) -> Option<TicketKind> {
        TicketKind::ALL.into_iter().find(|k| k.as_str() == s)
    }

    /// The prefix of this kind's ticket numbers.
    pub fn prefix(self) -> &'static str {
        match self {
            TicketKind::Complaint => "CMP",
            TicketKind::Fault => "FLT",
            TicketKind::Change => "CHG",
        }
    }
}

/// Where a ticket is in its life: a status of its own kind's life cycle, so
/// a complaint can never be "investigating".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum TicketStatus {
    Complaint(ComplaintStatus),
    Fault(FaultStatus),
    Change(ChangeStatus),
}

impl TicketStatus {
    /// The kind of ticket this status belongs to.
    pub fn kind(self) -> TicketKind {
        match self {
            TicketStatus::Complaint(_) => TicketKind::Complaint,
            TicketStatus::Fault(_) => TicketKind::Fault,
            TicketStatus::Change(_) => TicketKind::Change,
        }
    }

    /// The JSON spelling of the status (without its kind).
    pub fn as_str(self) -> &'static str {
        match self {
            TicketStatus::Complaint(s) => s.as_str(),
            TicketStatus::Fault(s) => s.as_str(),
            TicketStatus::Change(s) => s.as_str(),
        }
    }

    /// The status of a ticket of `kind` spelt `s`, if that kind has one.
    pub fn parse(kind: TicketKind, s: &str) -> Option<TicketStatus> {
        match kind {
            TicketKind::Complaint => ComplaintStatus::parse(s).map(TicketStatus::Complaint),
            TicketKind::Fault => FaultStatus::parse(s).map(TicketStatus::Fault),
            TicketKind::Change => ChangeStatus::parse(s).map(TicketStatus::Change),
        }
    }

    /// Every status name of every kind, each once, complaints' first: what
    /// a filter across kinds may name.
    pub fn names() -> Vec<&'static str> {
        let all = ComplaintStatus::ALL
            .iter()
            .map(|s| s.as_str())
            .chain(FaultStatus::ALL.iter().map(|s| s.as_str()))
            .chain(ChangeStatus::ALL.iter().map(|s| s.as_str()));
        let mut names: Vec<&'static str> = Vec::new();
        for name in all {
            if !names.contains(&name) {
                names.push(name);
            }
        }
        names
    }
}

/// Formats a ticket number such as `CMP-2026-000123`: a kind prefix, the
/// year of filing and a counter of at least six digits. Letters and digits
/// only, so it can be spelled out on the phone.
pub fn format_number(kind: TicketKind, year: i32, counter: u64) -> String {
    format!("{}-{year:04}-{counter:06}", kind.prefix())
}

/// What names a ticket in a request body (a link's `target`, a change's
/// `linked_faults`), as an ECMA-262 regular expression for the schema: a
/// UUID in any form `Uuid::parse_str` reads (hyphenated, 32 bare hex
/// digits, braced, or a `urn:uuid:` URN), or a ticket number as
/// [`parse_number`] reads it, in either case. The application resolves
/// such a name with `TicketLookup::parse`, which is exactly those two.
pub const REFERENCE_PATTERN: &str = r"^(?:[0-9A-Fa-f]{32}|(?:[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:)?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}|(?:[Cc][Mm][Pp]|[Ff][Ll][Tt]|[Cc][Hh][Gg])-[0-9]{4}-[0-9]{6,12})$";

/// The longest name [`REFERENCE_PATTERN`] admits: a UUID URN.
pub const REFERENCE_MAX_LENGTH: usize = 45;

/// Whether `s` has the shape of a ticket number (case-insensitive, as
/// people type them). Returns it in canonical upper case.
pub fn parse_number(s: &str) -> Option<String> {
    let upper = s.to_ascii_uppercase();
    let mut parts = upper.split('-');
    let (prefix, year, counter) = (parts.next()?, parts.next()?, parts.next()?);
    let ok = parts.next().is_none()
        && TicketKind::ALL.iter().any(|k| k.prefix() == prefix)
        && year.len() == 4
        && year.bytes().all(|b| b.is_ascii_digit())
        && (6..=12).contains(&counter.len())
        && counter.bytes().all(|b| b.is_ascii_digit());
    ok.then_some(upper)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_read_aloud() {
        assert_eq!(format_number(TicketKind::Complaint, 2026, 123), "CMP-2026-000123");
        assert_eq!(
            format_number(TicketKind::Complaint, 2026, 1_234_567),
            "CMP-2026-1234567"
        );
        assert_eq!(format_number(TicketKind::Fault, 2026, 7), "FLT-2026-000007");
        assert_eq!(format_number(TicketKind::Change, 2026, 9), "CHG-2026-000009");
    }

    #[test]
    fn kinds_parse_from_their_json_spelling() {
        for kind in TicketKind::ALL {
            assert_eq!(TicketKind::parse(kind.as_str()), Some(kind));
            assert_eq!(serde_json::to_value(kind).unwrap(), kind.as_str());
        }
        assert_eq!(TicketKind::parse("fault"), Some(TicketKind::Fault));
        assert_eq!(TicketKind::parse("Fault"), None);
        // Prefixes must stay distinct, or a number would not say its kind.
        assert_eq!(TicketKind::parse("change"), Some(TicketKind::Change));
        for a in TicketKind::ALL {
            for b in TicketKind::ALL {
                assert_eq!(a.prefix() == b.prefix(), a == b, "{a:?} {b:?}");
            }
        }
    }

    #[test]
    fn statuses_parse_only_within_their_kind_and_spell_as_in_json() {
        for s in ComplaintStatus::ALL {
            let status = TicketStatus::parse(TicketKind::Complaint, s.as_str());
            assert_eq!(status, Some(TicketStatus::Complaint(s)));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in FaultStatus::ALL {
            assert_eq!(
                TicketStatus::parse(TicketKind::Fault, s.as_str()),
                Some(TicketStatus::Fault(s))
            );
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        for s in ChangeStatus::ALL {
            let status = TicketStatus::parse(TicketKind::Change, s.as_str());
            assert_eq!(status.map(TicketStatus::kind), Some(TicketKind::Change));
            assert_eq!(serde_json::to_value(s).unwrap(), s.as_str());
        }
        assert_eq!(TicketStatus::parse(TicketKind::Complaint, "investigating"), None);
        assert_eq!(TicketStatus::parse(TicketKind::Fault, "draft"), None);
        let names = TicketStatus::names();
        assert_eq!(names.iter().filter(|n| **n == "resolved").count(), 1);
        assert!(names.contains(&"rolled_back") && names.contains(&"waiting_on_customer"));
    }

    #[test]
    fn priorities_and_channels_parse_from_their_json_spelling() {
        use crate::domain::complaint::{Channel, Priority};
        for p in Priority::ALL {
            assert_eq!(Priority::parse(p.as_str()), Some(p));
            assert_eq!(serde_json::to_value(p).unwrap(), p.as_str());
        }
        for c in Channel::ALL {
            assert_eq!(Channel::parse(c.as_str()), Some(c));
            assert_eq!(serde_json::to_value(c).unwrap(), c.as_str());
        }
        assert_eq!(Priority::parse("p1"), None);
        assert_eq!(Channel::parse("InPerson"), None);
    }

    #[test]
    fn the_reference_pattern_admits_exactly_the_ids_and_numbers_the_server_reads() {
        let schema = serde_json::json!({
            "type": "string",
            "pattern": REFERENCE_PATTERN,
            "maxLength": REFERENCE_MAX_LENGTH,
        });
        let schema = jsonschema::draft202012::new(&schema).expect("the pattern compiles");
        let id = "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5b";
        for sample in [
            id.to_owned(),
            id.to_uppercase(),
            id.replace('-', ""),
            format!("{{{id}}}"),
            format!("urn:uuid:{id}"),
            format!("URN:UUID:{id}"),
            format!("{{{id}"),
            format!("{id}}}"),
            format!("urn:uuid:{{{id}}}"),
            format!("uuid:{id}"),
            id.replace('-', "_"),
            id[1..].to_owned(),
            format!("{id}0"),
            "0193a1b27c3d7e4f8a9b0c1d2e3f4a5".to_owned(),
            "0193a1b2-7c3d-7e4f-8a9b-0c1d2e3f4a5g".to_owned(),
            "CMP-2026-000123".to_owned(),
            "flt-2026-000123".to_owned(),
            "Chg-2026-123456789012".to_owned(),
            "CHG-2026-1234567890123".to_owned(),
            "CMP-2026-12345".to_owned(),
            "CMP-26-000123".to_owned(),
            "XXX-2026-000123".to_owned(),
            "CMP-2026-000123-1".to_owned(),
            " CMP-2026-000123".to_owned(),
            "CMP-2026-00012a".to_owned(),
            "CMP-２０２６-000123".to_owned(),
            String::new(),
        ] {
            // What `TicketLookup::parse` reads.
            let read = uuid::Uuid::parse_str(&sample).is_ok() || parse_number(&sample).is_some();
            assert_eq!(schema.is_valid(&serde_json::json!(sample)), read, "{sample:?}");
        }
    }

    #[test]
    fn numbers_parse_case_insensitively_and_refuse_other_shapes() {
        assert_eq!(parse_number("cmp-2026-000123").as_deref(), Some("CMP-2026-000123"));
        assert_eq!(parse_number("flt-2026-000123").as_deref(), Some("FLT-2026-000123"));
        assert_eq!(parse_number("chg-2026-000123").as_deref(), Some("CHG-2026-000123"));
        assert_eq!(
            parse_number("FLT-2026-123456789012").as_deref(),
            Some("FLT-2026-123456789012")
        );
        for bad in [
            "CMP-26-000123",
            "XXX-2026-000123",
            "CMP-2026-12",
            "CMP-2026-000123-1",
            "",
            "CMP-2026-00012a",
            "FLT-2026",
            "FAULT-2026-000123",
        ] {
            assert_eq!(parse_number(bad), None, "{bad}");
        }
    }
}
