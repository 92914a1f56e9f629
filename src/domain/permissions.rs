//! The permission matrix: the one place that says which role may do what.
//!
//! Handlers ask [`allows`] (through the principal) before they act; list
//! queries use the same answers to decide what a caller may see. The README
//! shows this table as rendered by [`render_markdown`], and a test keeps the
//! two identical.

use super::actor::Role;
use super::ticket::TicketKind;

/// Everything a principal can be allowed to do.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Permission {
    /// Read complaints, and the views, lists and histories of every ticket
    /// the principal may read at all.
    TicketRead,
    /// Read every fault.
    FaultRead,
    /// Read the faults linked to a complaint (escalated from one, or linked to one).
    FaultReadLinked,
    /// See personal data (complainant name, phone, email, customer reference) in clear.
    PiiRead,
    /// File a new complaint.
    ComplaintFile,
    /// Acknowledge, wait on customer, resume, resolve, record satisfaction, close, reopen.
    ComplaintHandle,
    /// Assign a complaint to a team or a person.
    ComplaintAssign,
    /// Add an internal note or a progress update to a complaint.
    ComplaintNote,
    /// Escalate a complaint into a new fault.
    ComplaintEscalate,
    /// Report a fault.
    FaultReport,
    /// Triage a fault (severity, evaluator, technician) and assign its technician.
    FaultTriage,
    /// Evaluate, investigate, mitigate, resolve, close and reopen faults; log
    /// repairs; write post-incident reviews and complete their action items.
    FaultWork,
    /// Link two tickets the principal may read.
    TicketLink,
    /// Erase a data subject's personal data, or export all of it.
    SubjectAdmin,
    /// Read the log of who saw whose personal data, and verify the log.
    AuditRead,
    /// Follow the event feed, filtered by what the principal may read.
    EventsRead,
    /// Follow the whole event feed, every stream, gap-free.
    EventsReadAll,
    /// Read changes and the change calendar (bookings and freeze windows).
    ChangeRead,
    /// Draft, amend and submit a change; add notes to it.
    ChangeRequest,
    /// Assess a change and amend its plan.
    ChangeAssess,
    /// Approve or reject a change.
    ChangeApprove,
    /// Schedule, unschedule and assign a change.
    ChangeSchedule,
    /// Start implementing a change, record rollout steps, complete, roll
    /// back or fail it, write its review and close it.
    ChangeImplement,
    /// Declare and lift freeze windows.
    FreezeManage,
    /// Define and amend business calendars, the working time service
    /// levels are counted in.
    BusinessCalendarManage,
    /// Amend the service-level policy: the targets and calendars clocks
    /// are pinned with.
    SlaPolicyManage,
}

/// One row of the matrix: the roles granted a permission, and the scope an
/// `integration` principal's token must carry to be granted it.
pub struct Grant {
    pub permission: Permission,
    pub name: &'static str,
    pub roles: &'static [Role],
    pub integration_scope: Option<&'static str>,
}

use Role::{Admin, Agent, Auditor, Engineer, Manager};

pub const MATRIX: &[Grant] = &[
    Grant {
        permission: Permission::TicketRead,
        name: "read complaints; lists and histories of readable tickets",
        roles: &[Agent, Engineer, Manager, Auditor, Admin],
        integration_scope: Some("tickets:read"),
    },
    Grant {
        permission: Permission::PiiRead,
        name: "see personal data in clear, and the data subject it belongs to; name a subject when filing",
        roles: &[Agent, Manager, Admin],
        integration_scope: Some("pii:read"),
    },
    Grant {
        permission: Permission::ComplaintFile,
        name: "file a complaint",
        roles: &[Agent, Manager, Admin],
        integration_scope: Some("complaints:write"),
    },
    Grant {
        permission: Permission::ComplaintHandle,
        name: "acknowledge, wait, resume, resolve, rate, close, reopen a complaint; correct its record, change its priority",
        roles: &[Agent, Manager, Admin],
        integration_scope: Some("complaints:write"),
    },
    Grant {
        permission: Permission::ComplaintAssign,
        name: "assign a complaint",
        roles: &[Agent, Manager, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::ComplaintNote,
        name: "add a note or progress update to a complaint",
        roles: &[Agent, Engineer, Manager, Admin],
        integration_scope: Some("complaints:write"),
    },
    Grant {
        permission: Permission::FaultRead,
        name: "read every fault",
        roles: &[Engineer, Manager, Auditor, Admin],
        integration_scope: Some("tickets:read"),
    },
    Grant {
        permission: Permission::FaultReadLinked,
        name: "read the faults linked to a complaint",
        roles: &[Agent, Engineer, Manager, Auditor, Admin],
        integration_scope: Some("tickets:read"),
    },
    Grant {
        permission: Permission::ComplaintEscalate,
        name: "escalate a complaint into a fault",
        roles: &[Agent, Manager, Admin],
        integration_scope: Some("complaints:write"),
    },
    Grant {
        permission: Permission::FaultReport,
        name: "report a fault",
        roles: &[Engineer, Manager, Admin],
        integration_scope: Some("faults:write"),
    },
    Grant {
        permission: Permission::FaultTriage,
        name: "triage a fault, assign its technician",
        roles: &[Manager, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::FaultWork,
        name: "evaluate, investigate, mitigate, resolve, close, reopen a fault; log and void repairs; correct its affected service; write reviews",
        roles: &[Engineer, Manager, Admin],
        integration_scope: Some("faults:write"),
    },
    Grant {
        permission: Permission::TicketLink,
        name: "link two tickets one may read",
        roles: &[Agent, Engineer, Manager, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::SubjectAdmin,
        name: "find data subjects by contact; export, erase or merge them",
        roles: &[Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::AuditRead,
        name: "read the personal-data access log (subject ids included), verify the log",
        roles: &[Auditor, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::EventsRead,
        name: "follow the event feed, filtered by what one may read (every ticket reader may too)",
        roles: &[Auditor, Admin],
        integration_scope: Some("events:read"),
    },
    Grant {
        permission: Permission::EventsReadAll,
        name: "follow the whole event feed unfiltered: every stream, gap-free",
        roles: &[Auditor, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::ChangeRead,
        name: "read changes and the change calendar",
        roles: &[Engineer, Manager, Auditor, Admin],
        integration_scope: Some("changes:read"),
    },
    Grant {
        permission: Permission::ChangeRequest,
        name: "draft, amend, submit a change; add notes to it",
        roles: &[Engineer, Manager, Admin],
        integration_scope: Some("changes:write"),
    },
    Grant {
        permission: Permission::ChangeAssess,
        name: "assess a change, amend its plan",
        roles: &[Engineer, Manager, Admin],
        integration_scope: Some("changes:write"),
    },
    Grant {
        permission: Permission::ChangeApprove,
        name: "approve or reject a change",
        roles: &[Manager, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::ChangeSchedule,
        name: "schedule, unschedule, assign a change; authorise a start outside its window",
        roles: &[Manager, Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::ChangeImplement,
        name: "implement, roll out, complete, roll back, fail, review, close a change",
        roles: &[Engineer, Manager, Admin],
        integration_scope: Some("changes:write"),
    },
    Grant {
        permission: Permission::FreezeManage,
        name: "declare and lift freeze windows",
        roles: &[Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::BusinessCalendarManage,
        name: "define and amend business calendars (working hours, holidays, make-up workdays)",
        roles: &[Admin],
        integration_scope: None,
    },
    Grant {
        permission: Permission::SlaPolicyManage,
        name: "amend the service-level policy (response and resolution targets, calendars, warning thresholds)",
        roles: &[Admin],
        integration_scope: None,
    },
];

impl Permission {
    /// The permission's stable name, as the API documents it
    /// (`x-required-permission`).
    pub fn key(self) -> &'static str {
        match self {
            Permission::TicketRead => "ticket_read",
            Permission::FaultRead => "fault_read",
            Permission::FaultReadLinked => "fault_read_linked",
            Permission::PiiRead => "pii_read",
            Permission::ComplaintFile => "complaint_file",
            Permission::ComplaintHandle => "complaint_handle",
            Permission::ComplaintAssign => "complaint_assign",
            Permission::ComplaintNote => "complaint_note",
            Permission::ComplaintEscalate => "complaint_escalate",
            Permission::FaultReport => "fault_report",
            Permission::FaultTriage => "fault_triage",
            Permission::FaultWork => "fault_work",
            Permission::TicketLink => "ticket_link",
            Permission::SubjectAdmin => "subject_admin",
            Permission::AuditRead => "audit_read",
            Permission::EventsRead => "events_read",
            Permission::EventsReadAll => "events_read_all",
            Permission::ChangeRead => "change_read",
            Permission::ChangeRequest => "change_request",
            Permission::ChangeAssess => "change_assess",
            Permission::ChangeApprove => "change_approve",
            Permission::ChangeSchedule => "change_schedule",
            Permission::ChangeImplement => "change_implement",
            Permission::FreezeManage => "freeze_manage",
            Permission::BusinessCalendarManage => "business_calendar_manage",
            Permission::SlaPolicyManage => "sla_policy_manage",
        }
    }

    /// The permission's row of the matrix.
    pub fn grant(self) -> &'static Grant {
        grant(self)
    }
}

fn grant(permission: Permission) -> &'static Grant {
    MATRIX
        .iter()
        .find(|g| g.permission == permission)
        .expect("every permission has a row in MATRIX (checked by a test)")
}

/// Whether a principal holding `roles` and token `scopes` has `permission`.
pub fn allows(roles: &[Role], scopes: &[String], permission: Permission) -> bool {
    let grant = grant(permission);
    roles.iter().any(|role| match role {
        Role::Integration => grant
            .integration_scope
            .is_some_and(|needed| scopes.iter().any(|s| s == needed)),
        other => grant.roles.contains(other),
    })
}

/// How much of the faults a principal may read.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FaultReach {
    None,
    /// Only faults linked to a complaint (escalated from one, or linked to one).
    LinkedToComplaints,
    All,
}

/// Which tickets a principal may read, derived from the matrix. Single
/// reads and list queries both apply it, so a list never shows what a
/// direct read would refuse.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ReadScope {
    pub complaints: bool,
    pub faults: FaultReach,
    pub changes: bool,
}

impl ReadScope {
    pub fn of(roles: &[Role], scopes: &[String]) -> ReadScope {
        let faults = if allows(roles, scopes, Permission::FaultRead) {
            FaultReach::All
        } else if allows(roles, scopes, Permission::FaultReadLinked) {
            FaultReach::LinkedToComplaints
        } else {
            FaultReach::None
        };
        ReadScope {
            complaints: allows(roles, scopes, Permission::TicketRead),
            faults,
            changes: allows(roles, scopes, Permission::ChangeRead),
        }
    }

    /// Whether a ticket of `kind` may be read; `complaint_linked` says
    /// whether it is linked to a complaint.
    pub fn allows(&self, kind: TicketKind, complaint_linked: bool) -> bool {
        match kind {
            TicketKind::Complaint => self.complaints,
            TicketKind::Fault => match self.faults {
                FaultReach::All => true,
                FaultReach::LinkedToComplaints => complaint_linked,
                FaultReach::None => false,
            },
            // Changes are internal work: being linked to a complaint
            // grants no reading of them.
            TicketKind::Change => self.changes,
        }
    }
}

/// What of the event feed a principal follows.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FeedView {
    /// Every event of every stream, gap-free: auditors and administrators.
    Whole,
    /// The events of the tickets the principal may read, as a single read
    /// would show them; positions skip what is hidden.
    Filtered(ReadScope),
}

impl FeedView {
    /// The feed a principal may follow, if any: the whole feed with its
    /// permission, else the filtered feed for anyone who may read tickets
    /// or holds the feed permission.
    pub fn of(roles: &[Role], scopes: &[String]) -> Option<FeedView> {
        if allows(roles, scopes, Permission::EventsReadAll) {
            Some(FeedView::Whole)
        } else if allows(roles, scopes, Permission::EventsRead) || allows(roles, scopes, Permission::TicketRead) {
            Some(FeedView::Filtered(ReadScope::of(roles, scopes)))
        } else {
            None
        }
    }
}

/// Whose read rules a request runs under: what the caller may read, and who
/// they are. A principal that may write tickets but not read them acts only
/// on tickets it created itself, and learns nothing of any other: to it,
/// those do not exist.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Reader {
    pub scope: ReadScope,
    /// The caller's actor id (`issuer|subject`).
    pub actor: String,
}

impl Reader {
    pub fn new(roles: &[Role], scopes: &[String], actor: String) -> Reader {
        Reader {
            scope: ReadScope::of(roles, scopes),
            actor,
        }
    }

    /// Whether the caller may read a ticket of `kind`.
    pub fn may_read(&self, kind: TicketKind, complaint_linked: bool) -> bool {
        self.scope.allows(kind, complaint_linked)
    }

    /// Whether the caller may act on a ticket: one it may read, or one it
    /// created (whose view it still gets only as a receipt).
    pub fn may_act_on(&self, kind: TicketKind, complaint_linked: bool, created_by: Option<&str>) -> bool {
        self.may_read(kind, complaint_linked) || created_by == Some(self.actor.as_str())
    }
}

/// The matrix as a Markdown table, as shown in the README.
pub fn render_markdown() -> String {
    let mut out = String::from("| permission |");
    for role in Role::ALL {
        out.push_str(&format!(" {} |", role.as_str()));
    }
    out.push_str("\n|---|");
    for _ in Role::ALL {
        out.push_str("---|");
    }
    out.push('\n');
    for g in MATRIX {
        out.push_str(&format!("| {} (`{}`) |", g.name, g.permission.key()));
        for role in Role::ALL {
            let cell = match role {
                Role::Integration => match g.integration_scope {
                    Some(scope) => format!("scope `{scope}`"),
                    None => "—".to_owned(),
                },
                other if g.roles.contains(&other) => "yes".to_owned(),
                _ => "—".to_owned(),
            };
            out.push_str(&format!(" {cell} |"));
        }
        out.push('\n');
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    const EVERY_PERMISSION: [Permission; 26] = [
        Permission::TicketRead,
        Permission::FaultRead,
        Permission::FaultReadLinked,
        Permission::ComplaintEscalate,
        Permission::FaultReport,
        Permission::FaultTriage,
        Permission::FaultWork,
        Permission::TicketLink,
        Permission::PiiRead,
        Permission::ComplaintFile,
        Permission::ComplaintHandle,
        Permission::ComplaintAssign,
        Permission::ComplaintNote,
        Permission::SubjectAdmin,
        Permission::AuditRead,
        Permission::EventsRead,
        Permission::EventsReadAll,
        Permission::ChangeRead,
        Permission::ChangeRequest,
        Permission::ChangeAssess,
        Permission::ChangeApprove,
        Permission::ChangeSchedule,
        Permission::ChangeImplement,
        Permission::FreezeManage,
        Permission::BusinessCalendarManage,
        Permission::SlaPolicyManage,
    ];

    #[test]
    fn a_principal_that_may_write_but_not_read_acts_on_its_own_tickets_only() {
        let writer = Reader::new(&[Role::Integration], &["faults:write".to_owned()], "crm|bot".to_owned());
        assert!(!writer.may_read(TicketKind::Fault, false));
        assert!(writer.may_act_on(TicketKind::Fault, false, Some("crm|bot")));
        assert!(!writer.may_act_on(TicketKind::Fault, false, Some("idp|eng-1")));
        assert!(!writer.may_act_on(TicketKind::Fault, false, None));
        let agent = Reader::new(&[Role::Agent], &[], "idp|agent-1".to_owned());
        assert!(
            agent.may_act_on(TicketKind::Fault, true, None),
            "a fault linked to a complaint"
        );
        assert!(!agent.may_act_on(TicketKind::Change, false, Some("idp|eng-1")));
    }

    #[test]
    fn auditors_follow_the_whole_feed_and_ticket_readers_a_filtered_one() {
        assert_eq!(FeedView::of(&[Role::Auditor], &[]), Some(FeedView::Whole));
        let Some(FeedView::Filtered(agent)) = FeedView::of(&[Role::Agent], &[]) else {
            panic!("agents follow a filtered feed")
        };
        assert!(!agent.allows(TicketKind::Change, false));
        let only_feed = FeedView::of(&[Role::Integration], &["events:read".to_owned()]);
        let Some(FeedView::Filtered(scope)) = only_feed else {
            panic!("events:read alone gets the filtered feed: {only_feed:?}")
        };
        assert!(TicketKind::ALL.iter().all(|k| !scope.allows(*k, true)));
        assert_eq!(FeedView::of(&[Role::Integration], &["faults:write".to_owned()]), None);
    }

    #[test]
    fn every_permission_has_exactly_one_row() {
        for p in EVERY_PERMISSION {
            assert_eq!(MATRIX.iter().filter(|g| g.permission == p).count(), 1, "{p:?}");
        }
        assert_eq!(MATRIX.len(), EVERY_PERMISSION.len());
    }

    #[test]
    fn auditors_read_everything_but_personal_data_and_write_nothing() {
        for p in EVERY_PERMISSION {
            let expected = matches!(
                p,
                Permission::TicketRead
                    | Permission::FaultRead
                    | Permission::FaultReadLinked
                    | Permission::AuditRead
                    | Permission::EventsRead
                    | Permission::EventsReadAll
                    | Permission::ChangeRead
            );
            assert_eq!(allows(&[Role::Auditor], &[], p), expected, "{p:?}");
        }
    }

    #[test]
    fn admin_may_do_everything() {
        for p in EVERY_PERMISSION {
            assert!(allows(&[Role::Admin], &[], p), "{p:?}");
        }
    }

    #[test]
    fn integration_needs_the_scope() {
        assert!(!allows(&[Role::Integration], &[], Permission::TicketRead));
        let scopes = vec!["tickets:read".to_owned()];
        assert!(allows(&[Role::Integration], &scopes, Permission::TicketRead));
        assert!(!allows(&[Role::Integration], &scopes, Permission::PiiRead));
    }

    #[test]
    fn engineers_see_personal_data_masked_and_cannot_file() {
        assert!(!allows(&[Role::Engineer], &[], Permission::PiiRead));
        assert!(!allows(&[Role::Engineer], &[], Permission::ComplaintFile));
        assert!(allows(&[Role::Engineer], &[], Permission::ComplaintNote));
    }

    #[test]
    fn agents_read_only_the_faults_linked_to_complaints() {
        let agent = ReadScope::of(&[Role::Agent], &[]);
        assert!(agent.allows(TicketKind::Complaint, false));
        assert!(agent.allows(TicketKind::Fault, true));
        assert!(!agent.allows(TicketKind::Fault, false));
        assert!(allows(&[Role::Agent], &[], Permission::ComplaintEscalate));
        assert!(!allows(&[Role::Agent], &[], Permission::FaultWork));
    }

    #[test]
    fn engineers_and_auditors_read_every_fault_and_only_managers_triage() {
        for role in [Role::Engineer, Role::Auditor, Role::Manager] {
            assert!(ReadScope::of(&[role], &[]).allows(TicketKind::Fault, false), "{role:?}");
        }
        assert!(allows(&[Role::Manager], &[], Permission::FaultTriage));
        assert!(!allows(&[Role::Engineer], &[], Permission::FaultTriage));
        assert!(allows(&[Role::Engineer], &[], Permission::FaultWork));
        assert!(!allows(&[Role::Auditor], &[], Permission::FaultWork));
    }

    #[test]
    fn a_principal_without_roles_may_do_nothing() {
        for p in EVERY_PERMISSION {
            assert!(!allows(&[], &["tickets:read".to_owned()], p));
        }
    }

    #[test]
    fn changes_are_read_by_engineers_managers_auditors_and_admins_only() {
        for role in [Role::Engineer, Role::Manager, Role::Auditor, Role::Admin] {
            let scope = ReadScope::of(&[role], &[]);
            assert!(scope.allows(TicketKind::Change, false), "{role:?}");
            assert!(scope.allows(TicketKind::Change, true), "{role:?}");
        }
        let agent = ReadScope::of(&[Role::Agent], &[]);
        assert!(!agent.allows(TicketKind::Change, true));
        let integration = ReadScope::of(&[Role::Integration], &["changes:read".to_owned()]);
        assert!(integration.allows(TicketKind::Change, false));
        assert!(!integration.allows(TicketKind::Complaint, false));
        assert!(!ReadScope::of(&[Role::Integration], &["tickets:read".to_owned()]).allows(TicketKind::Change, false));
        assert!(allows(&[Role::Manager], &[], Permission::ChangeApprove));
        assert!(!allows(&[Role::Engineer], &[], Permission::ChangeApprove));
        assert!(!allows(&[Role::Engineer], &[], Permission::ChangeSchedule));
        assert!(allows(&[Role::Engineer], &[], Permission::ChangeImplement));
        assert!(!allows(&[Role::Manager], &[], Permission::FreezeManage));
        assert!(allows(&[Role::Admin], &[], Permission::FreezeManage));
    }
}
