//! Who is acting. The HTTP layer turns a verified token into an [`Actor`];
//! the domain only ever sees this value.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The roles a principal can hold. What each may do is decided in one place:
/// [`crate::domain::permissions`].
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum Role {
    /// Customer-service staff.
    Agent,
    Engineer,
    Manager,
    /// Reads everything, writes nothing.
    Auditor,
    /// A third-party system, further limited by the scopes of its token.
    Integration,
    Admin,
}

impl Role {
    pub const ALL: [Role; 6] = [
        Role::Agent,
        Role::Engineer,
        Role::Manager,
        Role::Auditor,
        Role::Integration,
        Role::Admin,
    ];

    pub fn as_str(self) -> &'static str {
        match self {
            Role::Agent => "agent",
            Role::Engineer => "engineer",
            Role::Manager => "manager",
            Role::Auditor => "auditor",
            Role::Integration => "integration",
            Role::Admin => "admin",
        }
    }

    pub fn parse(s: &str) -> Option<Role> {
        Role::ALL.into_iter().find(|r| r.as_str() == s)
    }
}

/// The acting principal as the domain sees it.
///
/// `id` is the issuer and the subject of the token joined by `|`, so that two
/// identity providers can never produce the same actor.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Actor {
    pub id: String,
    pub roles: Vec<Role>,
}

impl Actor {
    pub fn new(issuer: &str, subject: &str, roles: Vec<Role>) -> Actor {
        Actor {
            id: format!("{issuer}|{subject}"),
            roles,
        }
    }

    /// The actor used for events the system emits on its own (SLA clocks, erasure bookkeeping).
    pub fn system() -> Actor {
        Actor {
            id: "opsledger|system".to_owned(),
            roles: Vec::new(),
        }
    }
}
