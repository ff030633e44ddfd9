//! The namespace deleter's status conditions as a pure function (upstream
//! pkg/controller/namespace/deletion/status_condition_utils.go).

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::NamespaceCondition;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

pub const DISCOVERY_FAILURE: &str = "NamespaceDeletionDiscoveryFailure";
pub const GV_PARSING_FAILURE: &str = "NamespaceDeletionGroupVersionParsingFailure";
pub const CONTENT_FAILURE: &str = "NamespaceDeletionContentFailure";
pub const CONTENT_REMAINING: &str = "NamespaceContentRemaining";
pub const FINALIZERS_REMAINING: &str = "NamespaceFinalizersRemaining";

/// The condition types the deleter maintains, in upstream's order.
pub const CONDITION_TYPES: [&str; 5] = [
    DISCOVERY_FAILURE,
    GV_PARSING_FAILURE,
    CONTENT_FAILURE,
    CONTENT_REMAINING,
    FINALIZERS_REMAINING,
];

fn ok_reason_message(type_: &str) -> (&'static str, &'static str) {
    match type_ {
        DISCOVERY_FAILURE => (
            "ResourcesDiscovered",
            "All resources successfully discovered",
        ),
        GV_PARSING_FAILURE => (
            "ParsedGroupVersions",
            "All legacy kube types successfully parsed",
        ),
        CONTENT_FAILURE => (
            "ContentDeleted",
            "All content successfully deleted, may be waiting on finalization",
        ),
        _ => ("ContentRemoved", "All content successfully removed"),
    }
}

/// What one pass of deleting a namespace's content found.
#[derive(Debug, Default, Clone, PartialEq)]
pub struct DeletionOutcome {
    /// Group versions whose discovery failed: "group/version" -> error.
    pub discovery_failures: BTreeMap<String, String>,
    /// Group versions that could not be parsed.
    pub gv_parsing_failures: Vec<String>,
    /// Errors deleting or listing content.
    pub content_errors: Vec<String>,
    /// "resource.group" -> instances still present.
    pub remaining: BTreeMap<String, usize>,
    /// finalizer -> instances still carrying it.
    pub finalizers: BTreeMap<String, usize>,
    /// Seconds until remaining pods should be gone (their grace periods).
    pub estimate_seconds: i64,
}

impl DeletionOutcome {
    /// Whether everything is gone and the namespace can be finalized.
    pub fn is_complete(&self) -> bool {
        self.discovery_failures.is_empty()
            && self.gv_parsing_failures.is_empty()
            && self.content_errors.is_empty()
            && self.remaining.values().all(|n| *n == 0)
    }
}

fn condition(
    type_: &str,
    status: &str,
    reason: &str,
    message: String,
    now: Timestamp,
) -> NamespaceCondition {
    NamespaceCondition {
        type_: type_.to_string(),
        status: status.to_string(),
        reason: Some(reason.to_string()),
        message: Some(message),
        last_transition_time: Some(Time(now)),
    }
}

/// The failing conditions an outcome produces (types not listed are "ok").
pub fn failing_conditions(o: &DeletionOutcome, now: Timestamp) -> Vec<NamespaceCondition> {
    let mut out = Vec::new();
    if !o.discovery_failures.is_empty() {
        let errs: Vec<String> = o
            .discovery_failures
            .iter()
            .map(|(gv, e)| format!("{gv}: {e}"))
            .collect();
        out.push(condition(
            DISCOVERY_FAILURE,
            "True",
            "DiscoveryFailed",
            format!(
                "Discovery failed for some groups, {} failing: unable to retrieve the complete list of server APIs: {}",
                errs.len(),
                errs.join(", ")
            ),
            now,
        ));
    }
    if !o.gv_parsing_failures.is_empty() {
        out.push(condition(
            GV_PARSING_FAILURE,
            "True",
            "GroupVersionParsingFailed",
            o.gv_parsing_failures.join(", "),
            now,
        ));
    }
    if !o.content_errors.is_empty() {
        let mut msgs = o.content_errors.clone();
        msgs.sort();
        out.push(condition(
            CONTENT_FAILURE,
            "True",
            "ContentDeletionFailed",
            format!(
                "Failed to delete all resource types, {} remaining: {}",
                msgs.len(),
                msgs.join(", ")
            ),
            now,
        ));
    }
    let remaining: Vec<String> = o
        .remaining
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(r, n)| format!("{r} has {n} resource instances"))
        .collect();
    if !remaining.is_empty() {
        out.push(condition(
            CONTENT_REMAINING,
            "True",
            "SomeResourcesRemain",
            format!("Some resources are remaining: {}", remaining.join(", ")),
            now,
        ));
    }
    let finalizers: Vec<String> = o
        .finalizers
        .iter()
        .filter(|(_, n)| **n > 0)
        .map(|(f, n)| format!("{f} in {n} resource instances"))
        .collect();
    if !finalizers.is_empty() {
        out.push(condition(
            FINALIZERS_REMAINING,
            "True",
            "SomeFinalizerRemain",
            format!("Some finalizers are remaining: {}", finalizers.join(", ")),
            now,
        ));
    }
    out
}

/// upstream updateConditions: every maintained type is present, failing ones True,
/// the others False with the "ok" reason; lastTransitionTime moves only when the
/// status does. Returns whether anything changed.
pub fn update_conditions(
    conditions: &mut Vec<NamespaceCondition>,
    outcome: &DeletionOutcome,
    now: Timestamp,
) -> bool {
    let failing = failing_conditions(outcome, now);
    let mut changed = false;
    for type_ in CONDITION_TYPES {
        let new = failing
            .iter()
            .find(|c| c.type_ == type_)
            .cloned()
            .unwrap_or_else(|| {
                let (reason, message) = ok_reason_message(type_);
                condition(type_, "False", reason, message.to_string(), now)
            });
        match conditions.iter_mut().find(|c| c.type_ == type_) {
            None => {
                conditions.push(new);
                changed = true;
            }
            Some(old) => {
                if old.status != new.status
                    || old.message != new.message
                    || old.reason != new.reason
                {
                    if old.status != new.status {
                        old.last_transition_time = Some(Time(now));
                    }
                    old.status = new.status;
                    old.reason = new.reason;
                    old.message = new.message;
                    changed = true;
                }
            }
        }
    }
    changed
}

#[cfg(test)]
mod tests {
    use super::*;

    fn get<'a>(cs: &'a [NamespaceCondition], t: &str) -> &'a NamespaceCondition {
        cs.iter().find(|c| c.type_ == t).unwrap()
    }

    #[test]
    fn a_clean_pass_sets_every_condition_false_with_ok_reasons() {
        let mut cs = Vec::new();
        assert!(update_conditions(
            &mut cs,
            &DeletionOutcome::default(),
            Timestamp::UNIX_EPOCH
        ));
        assert_eq!(cs.len(), 5);
        assert!(cs.iter().all(|c| c.status == "False"));
        assert_eq!(
            get(&cs, CONTENT_REMAINING).reason.as_deref(),
            Some("ContentRemoved")
        );
        assert_eq!(
            get(&cs, DISCOVERY_FAILURE).reason.as_deref(),
            Some("ResourcesDiscovered")
        );
        // The same outcome again changes nothing.
        assert!(!update_conditions(
            &mut cs,
            &DeletionOutcome::default(),
            Timestamp::UNIX_EPOCH
        ));
    }

    #[test]
    fn remaining_content_and_finalizers_are_reported() {
        let outcome = DeletionOutcome {
            remaining: BTreeMap::from([("pods.".to_string(), 3), ("configmaps.".to_string(), 0)]),
            finalizers: BTreeMap::from([("example.com/x".to_string(), 2)]),
            ..Default::default()
        };
        assert!(!outcome.is_complete());
        let mut cs = Vec::new();
        update_conditions(&mut cs, &outcome, Timestamp::UNIX_EPOCH);
        let r = get(&cs, CONTENT_REMAINING);
        assert_eq!(r.status, "True");
        assert_eq!(r.reason.as_deref(), Some("SomeResourcesRemain"));
        assert_eq!(
            r.message.as_deref(),
            Some("Some resources are remaining: pods. has 3 resource instances")
        );
        let f = get(&cs, FINALIZERS_REMAINING);
        assert_eq!(f.reason.as_deref(), Some("SomeFinalizerRemain"));
        assert_eq!(
            f.message.as_deref(),
            Some("Some finalizers are remaining: example.com/x in 2 resource instances")
        );
    }

    #[test]
    fn failures_and_transition_times() {
        let outcome = DeletionOutcome {
            discovery_failures: BTreeMap::from([(
                "metrics.k8s.io/v1beta1".to_string(),
                "503".to_string(),
            )]),
            content_errors: vec!["b: boom".into(), "a: bang".into()],
            ..Default::default()
        };
        let t0 = Timestamp::UNIX_EPOCH;
        let mut cs = Vec::new();
        update_conditions(&mut cs, &DeletionOutcome::default(), t0);
        let t1: Timestamp = "2026-01-01T00:00:00Z".parse().unwrap();
        assert!(update_conditions(&mut cs, &outcome, t1));
        let d = get(&cs, DISCOVERY_FAILURE);
        assert_eq!(d.status, "True");
        assert_eq!(d.reason.as_deref(), Some("DiscoveryFailed"));
        assert!(d
            .message
            .as_deref()
            .unwrap()
            .starts_with("Discovery failed for some groups, 1 failing"));
        assert_eq!(d.last_transition_time, Some(Time(t1)));
        let c = get(&cs, CONTENT_FAILURE);
        assert_eq!(
            c.message.as_deref(),
            Some("Failed to delete all resource types, 2 remaining: a: bang, b: boom")
        );
        // Unchanged types keep their old transition time.
        assert_eq!(
            get(&cs, CONTENT_REMAINING).last_transition_time,
            Some(Time(t0))
        );
    }
}
