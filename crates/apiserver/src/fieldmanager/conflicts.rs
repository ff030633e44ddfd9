//! Apply errors, worded as upstream words them: conflicts are a 409 whose message lists
//! every conflicting field by manager, with one `FieldManagerConflict` cause per field.

use api_types::k8s_openapi::apimachinery::pkg::apis::meta::v1::StatusDetails;
use api_types::ApiError;

use super::fieldset::{path_string, Path};
use super::managed::{ManagerId, UPDATE};
use crate::openapi::go_quote;

/// One field another manager owns and the apply would change.
#[derive(Debug, Clone, PartialEq)]
pub struct Conflict {
    pub manager: ManagerId,
    pub path: Path,
}

impl Conflict {
    /// `conflict with "mgr" using apps/v1`.
    pub fn cause_message(&self) -> String {
        format!("conflict with {}", print_manager(&self.manager))
    }
}

/// Upstream's `printManager`: the name, the subresource, and for updates the version.
pub fn print_manager(id: &ManagerId) -> String {
    if id.operation.is_empty() {
        // Not a real identifier (an internal placeholder): quoted as is.
        return go_quote(id.key());
    }
    let mut s = go_quote(&id.manager);
    if !id.subresource.is_empty() {
        s = format!("{s} with subresource {}", go_quote(&id.subresource));
    }
    if id.operation == UPDATE {
        s = format!("{s} using {}", id.api_version);
    }
    s
}

/// Why an apply failed.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
pub enum ApplyError {
    /// Fields other managers own would change (409); retry with force to take them.
    #[error("{}", conflicts_message(.0))]
    Conflicts(Vec<Conflict>),
    /// The configuration is not an object of this kind, or does not fit its schema (400).
    #[error("{0}")]
    BadRequest(String),
    /// The stored object's managed fields cannot be read (500, as upstream).
    #[error("{0}")]
    Internal(String),
}

/// `Apply failed with 1 conflict: conflict with "mgr" using apps/v1: .spec.replicas`, or
/// with several, grouped by manager (sorted by identifier), one `- path` per line.
pub fn conflicts_message(conflicts: &[Conflict]) -> String {
    if let [one] = conflicts {
        return format!(
            "Apply failed with 1 conflict: {}: {}",
            one.cause_message(),
            path_string(&one.path)
        );
    }
    let mut by_manager: Vec<(&ManagerId, Vec<&Path>)> = Vec::new();
    for c in conflicts {
        match by_manager.iter_mut().find(|(m, _)| *m == &c.manager) {
            Some((_, paths)) => paths.push(&c.path),
            None => by_manager.push((&c.manager, vec![&c.path])),
        }
    }
    by_manager.sort_by(|a, b| a.0.key().cmp(b.0.key()));
    let mut lines = Vec::new();
    for (manager, paths) in by_manager {
        lines.push(format!("conflicts with {}:", print_manager(manager)));
        lines.extend(paths.into_iter().map(|p| format!("- {}", path_string(p))));
    }
    format!(
        "Apply failed with {} conflicts: {}",
        conflicts.len(),
        lines.join("\n")
    )
}

impl From<ApplyError> for ApiError {
    fn from(e: ApplyError) -> ApiError {
        match e {
            ApplyError::Conflicts(conflicts) => {
                let causes = conflicts
                    .iter()
                    .map(|c| {
                        api_types::status::cause(
                            "FieldManagerConflict",
                            &c.cause_message(),
                            &path_string(&c.path),
                        )
                    })
                    .collect();
                ApiError {
                    code: 409,
                    reason: "Conflict",
                    message: conflicts_message(&conflicts),
                    details: Some(Box::new(StatusDetails {
                        causes: Some(causes),
                        ..Default::default()
                    })),
                }
            }
            ApplyError::BadRequest(message) => ApiError::bad_request(message),
            // Upstream answers these as a bare 500 with the error text.
            ApplyError::Internal(message) => ApiError::new(500, "InternalError", message),
        }
    }
}
