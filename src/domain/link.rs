//! Links between any two tickets: "this complaint was caused by that fault",
//! "these two faults are the same". A link is recorded on both tickets'
//! streams, each side with the relation as seen from it, so each stream
//! alone tells its whole story.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use uuid::Uuid;

use super::text::{self, LONG_TEXT};
use super::ticket::TicketKind;
use super::{DomainError, EventMeta, Validator, messages};

/// How one ticket relates to another, read as "this ticket {relation} the other".
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum LinkRelation {
    /// Related in some way worth knowing.
    RelatesTo,
    /// This ticket is a consequence of the other.
    CausedBy,
    /// The other ticket is a consequence of this one.
    Causes,
    /// This ticket reports the same thing as the other, which is the one worked on.
    Duplicates,
    /// The other ticket reports the same thing as this one.
    DuplicatedBy,
}

impl LinkRelation {
    pub const ALL: [LinkRelation; 5] = [
        LinkRelation::RelatesTo,
        LinkRelation::CausedBy,
        LinkRelation::Causes,
        LinkRelation::Duplicates,
        LinkRelation::DuplicatedBy,
    ];

    /// What a client may ask for. The inverses are only ever written on the
    /// other ticket, so that each link has one obvious way to be requested.
    pub const REQUESTABLE: [LinkRelation; 3] = [
        LinkRelation::RelatesTo,
        LinkRelation::CausedBy,
        LinkRelation::Duplicates,
    ];

    /// The JSON spelling, also used in error messages.
    pub fn as_str(self) -> &'static str {
        match self {
            LinkRelation::RelatesTo => "relates_to",
            LinkRelation::CausedBy => "caused_by",
            LinkRelation::Causes => "causes",
            LinkRelation::Duplicates => "duplicates",
            LinkRelation::DuplicatedBy => "duplicated_by",
        }
    }

    /// The same link as seen from the other ticket.
    pub fn inverse(self) -> LinkRelation {
        match self {
            LinkRelation::RelatesTo => LinkRelation::RelatesTo,
            LinkRelation::CausedBy => LinkRelation::Causes,
            LinkRelation::Causes => LinkRelation::CausedBy,
            LinkRelation::Duplicates => LinkRelation::DuplicatedBy,
            LinkRelation::DuplicatedBy => LinkRelation::Duplicates,
        }
    }

    /// Whether a client may ask for this relation (see [`LinkRelation::REQUESTABLE`]).
    pub fn is_requestable(self) -> bool {
        LinkRelation::REQUESTABLE.contains(&self)
    }
}

/// Another ticket, as events record it: enough to show and follow the
/// reference without reading the other stream.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
pub struct TicketRef {
    /// The other ticket's identifier (UUID).
    pub id: Uuid,
    /// The human-facing reference, e.g. `FLT-2026-000123`.
    pub number: String,
    /// Which kind of ticket it is: `complaint`, `fault` or `change`.
    pub kind: TicketKind,
}

/// The relations a client may ask for when it links two tickets; the
/// inverses are recorded on the other ticket.
// Only a schema, listing `LinkRelation::REQUESTABLE`: requests are read as
// `LinkRelation`, and the domain refuses the others.
#[derive(ToSchema)]
#[serde(rename_all = "snake_case")]
#[allow(dead_code, reason = "only its schema is used")]
pub enum RequestableLinkRelation {
    /// Related in some way worth knowing.
    RelatesTo,
    /// This ticket is a consequence of the other.
    CausedBy,
    /// This ticket reports the same thing as the other, which is the one worked on.
    Duplicates,
}

/// Links the ticket named in the route to another ticket. A ticket cannot
/// be linked to itself, and two tickets are linked at most once.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"relation": "caused_by", "target": "FLT-2026-000007", "comment": "Same outage window."})))]
pub struct LinkTickets {
    /// How the ticket in the route relates to the target: `relates_to`,
    /// `caused_by` or `duplicates`; the inverses (`causes`,
    /// `duplicated_by`) are recorded on the other ticket.
    #[schema(value_type = RequestableLinkRelation)]
    pub relation: LinkRelation,
    /// The other ticket's id (a UUID) or number (`FLT-2026-000007`, in any
    /// case); the application resolves it.
    #[schema(
        max_length = 45,
        pattern = r"^(?:[0-9A-Fa-f]{32}|(?:[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:)?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}|(?:[Cc][Mm][Pp]|[Ff][Ll][Tt]|[Cc][Hh][Gg])-[0-9]{4}-[0-9]{6,12})$"
    )]
    pub target: String,
    /// Why the tickets are linked, 1 to 10,000 characters (Unicode scalar
    /// values), not blank.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub comment: Option<String>,
}

/// The ticket was linked to another. Recorded on both streams, each with
/// the relation as seen from the stream it is stored on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketLinked {
    pub other: TicketRef,
    pub relation: LinkRelation,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub comment: Option<String>,
}

/// A link as a ticket's view shows it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Link {
    /// The linked ticket.
    pub other: TicketRef,
    /// As seen from the ticket whose view this is.
    pub relation: LinkRelation,
    /// Why the tickets are linked, as given when they were linked; `null` when
    /// no reason was given.
    pub comment: Option<String>,
    /// When the tickets were linked (RFC 3339 date-time, UTC).
    pub at: DateTime<Utc>,
    /// Actor id of whoever linked the tickets.
    pub by: String,
}

impl Link {
    /// The view item of a stored link event.
    pub fn recorded(event: &TicketLinked, meta: &EventMeta) -> Link {
        Link {
            other: event.other.clone(),
            relation: event.relation,
            comment: event.comment.clone(),
            at: meta.recorded_at,
            by: meta.actor.to_owned(),
        }
    }
}

/// Decides a link between `this` ticket (the one the command names) and
/// `other` (its resolved target), given the links each already has.
/// Returns the event for this ticket's stream and the event for the other's,
/// which carries the inverse relation.
pub fn link_pair(
    this: &TicketRef,
    this_links: &[Link],
    other: &TicketRef,
    other_links: &[Link],
    cmd: &LinkTickets,
) -> Result<(TicketLinked, TicketLinked), DomainError> {
    let mut v = Validator::new();
    if !cmd.relation.is_requestable() {
        v.push(
            "/relation",
            messages::field_relation_not_requestable(
                requestable_list(),
                cmd.relation.as_str(),
                cmd.relation.inverse().as_str(),
            ),
        );
    }
    text::check_opt(&mut v, "/comment", cmd.comment.as_deref(), LONG_TEXT);
    v.finish()?;

    if this.id == other.id {
        return Err(DomainError::RuleViolated(messages::rule_link_to_itself()));
    }
    // Checked on both sides: the two streams are written together, but a
    // view may lag behind its stream, and one side is enough to know.
    let existing = this_links
        .iter()
        .find(|l| l.other.id == other.id)
        .map(|l| l.relation)
        .or_else(|| {
            other_links
                .iter()
                .find(|l| l.other.id == this.id)
                .map(|l| l.relation.inverse())
        });
    if let Some(relation) = existing {
        // One link per pair: a second relation between the same tickets
        // would contradict or repeat the first.
        return Err(DomainError::RuleViolated(messages::rule_already_linked(
            &this.number,
            relation.as_str(),
            &other.number,
        )));
    }

    Ok((
        TicketLinked {
            other: other.clone(),
            relation: cmd.relation,
            comment: cmd.comment.clone(),
        },
        TicketLinked {
            other: this.clone(),
            relation: cmd.relation.inverse(),
            comment: cmd.comment.clone(),
        },
    ))
}

/// Removes the link between the ticket named in the route and another;
/// the two must be linked.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
#[schema(examples(json!({"target": "FLT-2026-000007", "reason": "Linked in error: a different outage."})))]
pub struct UnlinkTickets {
    /// The other ticket's id (a UUID) or number (`FLT-2026-000007`, in any
    /// case).
    #[schema(
        max_length = 45,
        pattern = r"^(?:[0-9A-Fa-f]{32}|(?:[Uu][Rr][Nn]:[Uu][Uu][Ii][Dd]:)?[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}|\{[0-9A-Fa-f]{8}(?:-[0-9A-Fa-f]{4}){3}-[0-9A-Fa-f]{12}\}|(?:[Cc][Mm][Pp]|[Ff][Ll][Tt]|[Cc][Hh][Gg])-[0-9]{4}-[0-9]{6,12})$"
    )]
    pub target: String,
    /// Why the link is removed (for instance, it was made in error),
    /// 1 to 10,000 characters (Unicode scalar values), not blank.
    #[schema(
        min_length = 1,
        max_length = 10000,
        pattern = r"^[\t\n\r \u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000]*[^\u0000-\u0020\u007F-\u00A0\u1680\u2000-\u200A\u2028\u2029\u202F\u205F\u3000][^\u0000-\u0008\u000B\u000C\u000E-\u001F\u007F-\u009F]*$"
    )]
    pub reason: String,
}

/// The link to another ticket was removed. Recorded on both streams; the
/// link event stays in each history.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct TicketUnlinked {
    pub other: TicketRef,
    pub reason: String,
}

/// Applies a stored unlink event to a view's links.
pub fn remove_link(links: &mut Vec<Link>, event: &TicketUnlinked) {
    links.retain(|l| l.other.id != event.other.id);
}

/// Decides removing the link between `this` ticket and `other`. The link
/// must exist on at least one side (both streams are written together, so
/// normally on both). Returns the event for each stream.
pub fn unlink_pair(
    this: &TicketRef,
    this_links: &[Link],
    other: &TicketRef,
    other_links: &[Link],
    cmd: &UnlinkTickets,
) -> Result<(TicketUnlinked, TicketUnlinked), DomainError> {
    let mut v = Validator::new();
    text::check(&mut v, "/reason", &cmd.reason, LONG_TEXT);
    v.finish()?;
    let linked = this_links.iter().any(|l| l.other.id == other.id) || other_links.iter().any(|l| l.other.id == this.id);
    if !linked {
        return Err(DomainError::RuleViolated(messages::rule_not_linked(
            &this.number,
            &other.number,
        )));
    }
    Ok((
        TicketUnlinked {
            other: other.clone(),
            reason: cmd.reason.clone(),
        },
        TicketUnlinked {
            other: this.clone(),
            reason: cmd.reason.clone(),
        },
    ))
}

fn requestable_list() -> String {
    LinkRelation::REQUESTABLE
        .iter()
        .map(|r| r.as_str())
        .collect::<Vec<_>>()
        .join(", ")
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;
    use crate::domain::FieldError;

    const ACTOR: &str = "https://idp.example|alice";

    fn complaint() -> TicketRef {
        TicketRef {
            id: Uuid::from_u128(1),
            number: "CMP-2026-000001".to_owned(),
            kind: TicketKind::Complaint,
        }
    }

    fn fault() -> TicketRef {
        TicketRef {
            id: Uuid::from_u128(2),
            number: "FLT-2026-000002".to_owned(),
            kind: TicketKind::Fault,
        }
    }

    fn cmd(relation: LinkRelation, comment: Option<&str>) -> LinkTickets {
        LinkTickets {
            relation,
            target: "FLT-2026-000002".to_owned(),
            comment: comment.map(str::to_owned),
        }
    }

    fn link_to(other: TicketRef, relation: LinkRelation) -> Link {
        Link {
            other,
            relation,
            comment: None,
            at: DateTime::from_timestamp(1_740_819_600, 0).unwrap(),
            by: ACTOR.to_owned(),
        }
    }

    #[test]
    fn only_linked_tickets_can_be_unlinked_and_both_sides_record_it() {
        let unlink = |reason: &str| UnlinkTickets {
            target: "FLT-2026-000002".to_owned(),
            reason: reason.to_owned(),
        };
        let refused = unlink_pair(&complaint(), &[], &fault(), &[], &unlink("made in error"));
        assert!(matches!(refused, Err(DomainError::RuleViolated(m)) if m.id() == "rule-not-linked"));
        match unlink_pair(&complaint(), &[], &fault(), &[], &unlink("")) {
            Err(DomainError::Validation(errors)) => assert_eq!(errors[0].pointer, "/reason"),
            other => panic!("expected a validation error, got {other:?}"),
        }

        // Linked on this side only (or only the other): still unlinkable.
        let this_side = [link_to(fault(), LinkRelation::CausedBy)];
        let other_side = [link_to(complaint(), LinkRelation::Causes)];
        for (this_links, other_links) in [(&this_side[..], &[][..]), (&[][..], &other_side[..])] {
            let (mine, theirs) = unlink_pair(
                &complaint(),
                this_links,
                &fault(),
                other_links,
                &unlink("made in error"),
            )
            .expect("unlinked");
            assert_eq!(mine.other, fault());
            assert_eq!(theirs.other, complaint());
            assert_eq!(mine.reason, "made in error");
        }

        let mut links = vec![
            link_to(fault(), LinkRelation::CausedBy),
            link_to(complaint(), LinkRelation::RelatesTo),
        ];
        remove_link(
            &mut links,
            &TicketUnlinked {
                other: fault(),
                reason: "x".into(),
            },
        );
        assert_eq!(links, vec![link_to(complaint(), LinkRelation::RelatesTo)]);
    }

    fn pointers(result: Result<(TicketLinked, TicketLinked), DomainError>) -> Vec<String> {
        match result {
            Err(DomainError::Validation(errors)) => errors.into_iter().map(|e| e.pointer).collect(),
            other => panic!("expected a validation error, got {other:?}"),
        }
    }

    #[test]
    fn a_link_is_recorded_on_both_sides_with_the_inverse_relation() {
        let (this, other) = link_pair(
            &complaint(),
            &[],
            &fault(),
            &[],
            &cmd(LinkRelation::CausedBy, Some("Same outage window.")),
        )
        .unwrap();
        assert_eq!(
            this,
            TicketLinked {
                other: fault(),
                relation: LinkRelation::CausedBy,
                comment: Some("Same outage window.".to_owned()),
            }
        );
        assert_eq!(
            other,
            TicketLinked {
                other: complaint(),
                relation: LinkRelation::Causes,
                comment: Some("Same outage window.".to_owned()),
            }
        );

        for (asked, written) in [
            (LinkRelation::RelatesTo, LinkRelation::RelatesTo),
            (LinkRelation::Duplicates, LinkRelation::DuplicatedBy),
        ] {
            let (this, other) = link_pair(&complaint(), &[], &fault(), &[], &cmd(asked, None)).unwrap();
            assert_eq!((this.relation, other.relation), (asked, written));
            assert_eq!(this.comment, None);
        }
    }

    #[test]
    fn the_link_bodies_schemas_state_the_limits_the_domain_enforces() {
        use crate::domain::body_limits::{body, check_every_limit};
        check_every_limit(|cmd: LinkTickets| link_pair(&complaint(), &[], &fault(), &[], &cmd).map(drop));
        let linked = [link_to(fault(), LinkRelation::CausedBy)];
        check_every_limit(|cmd: UnlinkTickets| unlink_pair(&complaint(), &linked, &fault(), &[], &cmd).map(drop));

        // The schema lists only the relations a client may ask for.
        let link = body(|cmd: LinkTickets| link_pair(&complaint(), &[], &fault(), &[], &cmd).map(drop));
        for relation in LinkRelation::ALL {
            let asked = link.example_with(json!({"relation": relation.as_str()}));
            if relation.is_requestable() {
                link.accepts(asked);
            } else {
                link.refuses(asked, "/relation");
            }
        }
        // A target that is neither an id nor a number is refused by the
        // application (before the domain sees it) and by the schema.
        let schema = crate::domain::body_limits::standalone::<LinkTickets>();
        let validator = jsonschema::draft202012::new(&schema).unwrap();
        assert!(!validator.is_valid(&link.example_with(json!({"target": "the outage"}))));
    }

    #[test]
    fn inverse_is_an_involution_and_maps_the_documented_pairs() {
        for r in LinkRelation::ALL {
            assert_eq!(r.inverse().inverse(), r);
            assert_eq!(serde_json::to_value(r).unwrap(), r.as_str());
        }
        assert_eq!(LinkRelation::RelatesTo.inverse(), LinkRelation::RelatesTo);
        assert_eq!(LinkRelation::CausedBy.inverse(), LinkRelation::Causes);
        assert_eq!(LinkRelation::Duplicates.inverse(), LinkRelation::DuplicatedBy);
        // Every relation is requestable itself or through its inverse, never both,
        // except the symmetric one.
        for r in LinkRelation::ALL {
            let both = r.is_requestable() && r.inverse().is_requestable();
            assert_eq!(both, r == LinkRelation::RelatesTo, "{r:?}");
            assert!(r.is_requestable() || r.inverse().is_requestable(), "{r:?}");
        }
    }

    #[test]
    fn only_requestable_relations_may_be_asked_for() {
        for relation in [LinkRelation::Causes, LinkRelation::DuplicatedBy] {
            let result = link_pair(&complaint(), &[], &fault(), &[], &cmd(relation, None));
            assert_eq!(pointers(result), ["/relation"], "{relation:?}");
        }
        let Err(DomainError::Validation(errors)) =
            link_pair(&complaint(), &[], &fault(), &[], &cmd(LinkRelation::Causes, None))
        else {
            panic!("causes must be refused");
        };
        assert_eq!(
            errors,
            [FieldError::new(
                "/relation",
                messages::field_relation_not_requestable("relates_to, caused_by, duplicates", "causes", "caused_by")
            )]
        );
    }

    #[test]
    fn the_comment_is_checked_together_with_the_relation() {
        let result = link_pair(
            &complaint(),
            &[],
            &fault(),
            &[],
            &cmd(LinkRelation::RelatesTo, Some(" ")),
        );
        assert_eq!(pointers(result), ["/comment"]);
        let long = "x".repeat(10_001);
        let result = link_pair(
            &complaint(),
            &[],
            &fault(),
            &[],
            &cmd(LinkRelation::DuplicatedBy, Some(&long)),
        );
        assert_eq!(pointers(result), ["/relation", "/comment"]);
    }

    #[test]
    fn a_ticket_cannot_be_linked_to_itself() {
        assert_eq!(
            link_pair(&fault(), &[], &fault(), &[], &cmd(LinkRelation::RelatesTo, None)),
            Err(DomainError::RuleViolated(messages::rule_link_to_itself()))
        );
    }

    #[test]
    fn a_pair_is_linked_at_most_once_whichever_side_records_it() {
        // Seen on this side, with a different relation than asked for.
        let this_links = [link_to(fault(), LinkRelation::RelatesTo)];
        assert_eq!(
            link_pair(
                &complaint(),
                &this_links,
                &fault(),
                &[],
                &cmd(LinkRelation::CausedBy, None)
            ),
            Err(DomainError::RuleViolated(messages::rule_already_linked(
                "CMP-2026-000001",
                "relates_to",
                "FLT-2026-000002"
            )))
        );
        // Seen only on the other side: reported as seen from this one.
        let other_links = [link_to(complaint(), LinkRelation::Causes)];
        assert_eq!(
            link_pair(
                &complaint(),
                &[],
                &fault(),
                &other_links,
                &cmd(LinkRelation::Duplicates, None)
            ),
            Err(DomainError::RuleViolated(messages::rule_already_linked(
                "CMP-2026-000001",
                "caused_by",
                "FLT-2026-000002"
            )))
        );
        // Links to third tickets do not count.
        let third = TicketRef {
            id: Uuid::from_u128(3),
            number: "CMP-2026-000003".to_owned(),
            kind: TicketKind::Complaint,
        };
        let this_links = [link_to(third.clone(), LinkRelation::RelatesTo)];
        let other_links = [link_to(third, LinkRelation::Causes)];
        assert!(
            link_pair(
                &complaint(),
                &this_links,
                &fault(),
                &other_links,
                &cmd(LinkRelation::RelatesTo, None)
            )
            .is_ok()
        );
    }

    #[test]
    fn the_command_body_deserializes_as_documented() {
        let c: LinkTickets =
            serde_json::from_value(json!({"relation": "caused_by", "target": "FLT-2026-000002"})).unwrap();
        assert_eq!(c, cmd(LinkRelation::CausedBy, None));
        assert!(
            serde_json::from_value::<LinkTickets>(json!({"relation": "caused_by", "target": "x", "force": true}))
                .is_err()
        );
        assert!(serde_json::from_value::<LinkTickets>(json!({"relation": "blocks", "target": "x"})).is_err());
    }

    #[test]
    fn link_events_leave_out_an_absent_comment_and_fold_into_view_items() {
        let (event, _) = link_pair(&complaint(), &[], &fault(), &[], &cmd(LinkRelation::CausedBy, None)).unwrap();
        assert_eq!(
            serde_json::to_value(&event).unwrap(),
            json!({
                "other": {"id": fault().id.to_string(), "number": "FLT-2026-000002", "kind": "fault"},
                "relation": "caused_by"
            })
        );
        let meta = EventMeta {
            recorded_at: DateTime::from_timestamp(1_740_819_600, 0).unwrap(),
            actor: ACTOR,
            version: 4,
            hash: &[7; 32],
        };
        assert_eq!(Link::recorded(&event, &meta), link_to(fault(), LinkRelation::CausedBy));
    }
}
