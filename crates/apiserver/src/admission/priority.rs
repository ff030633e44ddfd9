//! Upstream's Priority admission plugin: a new pod's `spec.priorityClassName` is
//! resolved into `spec.priority` and `spec.preemptionPolicy` from the PriorityClass
//! objects (or the global default class), so the scheduler and the kubelet read an
//! integer. An unknown class name is refused with upstream's Forbidden message.

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::scheduling::v1::PriorityClass;

/// The classes every cluster has (upstream creates them at apiserver start).
pub const SYSTEM_CLUSTER_CRITICAL: (&str, i32) = ("system-cluster-critical", 2_000_000_000);
pub const SYSTEM_NODE_CRITICAL: (&str, i32) = ("system-node-critical", 2_000_001_000);

#[derive(Debug, PartialEq, thiserror::Error)]
pub enum PriorityError {
    #[error("no PriorityClass with name {0} was found")]
    NotFound(String),
    #[error("the integer value of priority ({given}) must not be provided in pod spec; priority admission controller computed {computed} from the given PriorityClass name")]
    Mismatch { given: i32, computed: i32 },
}

/// Pure: sets priority and preemptionPolicy on `spec` from `classes`.
pub fn admit(spec: &mut PodSpec, classes: &[PriorityClass]) -> Result<(), PriorityError> {
    let wanted = spec.priority_class_name.clone().filter(|n| !n.is_empty());
    let (priority, policy) = match &wanted {
        Some(name) => {
            let class = classes
                .iter()
                .find(|c| c.metadata.name.as_deref() == Some(name.as_str()))
                .map(|c| (c.value, c.preemption_policy.clone()))
                .or_else(|| {
                    [SYSTEM_CLUSTER_CRITICAL, SYSTEM_NODE_CRITICAL]
                        .iter()
                        .find(|(n, _)| n == name)
                        .map(|(_, v)| (*v, None))
                });
            class.ok_or_else(|| PriorityError::NotFound(name.clone()))?
        }
        None => {
            // The newest global default wins, as upstream's getDefaultPriorityClass.
            let default = classes
                .iter()
                .filter(|c| c.global_default == Some(true))
                .max_by_key(|c| c.metadata.creation_timestamp.as_ref().map(|t| t.0));
            match default {
                Some(c) => {
                    spec.priority_class_name = c.metadata.name.clone();
                    (c.value, c.preemption_policy.clone())
                }
                None => (0, None),
            }
        }
    };
    if let Some(given) = spec.priority {
        if given != priority {
            return Err(PriorityError::Mismatch {
                given,
                computed: priority,
            });
        }
    }
    spec.priority = Some(priority);
    if spec.preemption_policy.is_none() {
        spec.preemption_policy = Some(policy.unwrap_or_else(|| "PreemptLowerPriority".to_string()));
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn class(name: &str, value: i32, default: bool) -> PriorityClass {
        PriorityClass {
            metadata: ObjectMeta {
                name: Some(name.into()),
                ..Default::default()
            },
            value,
            global_default: Some(default),
            preemption_policy: None,
            ..Default::default()
        }
    }

    #[test]
    fn resolves_a_named_class() {
        let mut spec = PodSpec {
            priority_class_name: Some("high".into()),
            ..Default::default()
        };
        admit(&mut spec, &[class("high", 1000, false)]).unwrap();
        assert_eq!(spec.priority, Some(1000));
        assert_eq!(
            spec.preemption_policy.as_deref(),
            Some("PreemptLowerPriority")
        );
    }

    #[test]
    fn unknown_class_is_refused_with_upstreams_words() {
        let mut spec = PodSpec {
            priority_class_name: Some("nope".into()),
            ..Default::default()
        };
        let e = admit(&mut spec, &[]).unwrap_err();
        assert_eq!(e.to_string(), "no PriorityClass with name nope was found");
    }

    #[test]
    fn global_default_applies_and_system_classes_exist() {
        let mut spec = PodSpec::default();
        admit(&mut spec, &[class("d", 7, true)]).unwrap();
        assert_eq!(
            (spec.priority, spec.priority_class_name.as_deref()),
            (Some(7), Some("d"))
        );
        let mut spec = PodSpec {
            priority_class_name: Some("system-node-critical".into()),
            ..Default::default()
        };
        admit(&mut spec, &[]).unwrap();
        assert_eq!(spec.priority, Some(2_000_001_000));
        let mut spec = PodSpec::default();
        admit(&mut spec, &[]).unwrap();
        assert_eq!(spec.priority, Some(0));
    }

    #[test]
    fn a_conflicting_integer_is_refused() {
        let mut spec = PodSpec {
            priority_class_name: Some("high".into()),
            priority: Some(5),
            ..Default::default()
        };
        assert!(matches!(
            admit(&mut spec, &[class("high", 1000, false)]),
            Err(PriorityError::Mismatch {
                given: 5,
                computed: 1000
            })
        ));
    }
}
