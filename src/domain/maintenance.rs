//! Kinds of maintenance work, as ISO/IEC 14764 names them. Fault repairs
//! record one per repair; change management will use the same list.

use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Why a piece of maintenance work was done.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize, ToSchema)]
#[serde(rename_all = "snake_case")]
pub enum MaintenanceType {
    /// Fixes a fault.
    Corrective,
    /// Adapts the system to a changed environment.
    Adaptive,
    /// Improves performance or maintainability.
    Perfective,
    /// Prevents future faults.
    Preventive,
}

impl MaintenanceType {
    pub const ALL: [MaintenanceType; 4] = [
        MaintenanceType::Corrective,
        MaintenanceType::Adaptive,
        MaintenanceType::Perfective,
        MaintenanceType::Preventive,
    ];

    /// The JSON spelling.
    pub fn as_str(self) -> &'static str {
        match self {
            MaintenanceType::Corrective => "corrective",
            MaintenanceType::Adaptive => "adaptive",
            MaintenanceType::Perfective => "perfective",
            MaintenanceType::Preventive => "preventive",
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn json_spelling_is_as_str() {
        for t in MaintenanceType::ALL {
            assert_eq!(serde_json::to_value(t).unwrap(), t.as_str());
            assert_eq!(
                serde_json::from_value::<MaintenanceType>(serde_json::json!(t.as_str())).unwrap(),
                t
            );
        }
        assert!(serde_json::from_value::<MaintenanceType>(serde_json::json!("Corrective")).is_err());
    }
}
