//! Upstream's DefaultTolerationSeconds admission plugin: a new pod that does not
//! tolerate the node.kubernetes.io/not-ready and /unreachable NoExecute taints gets
//! tolerations for them with tolerationSeconds 300, so the node lifecycle controller
//! evicts its pods five minutes after their node goes away.

use k8s_openapi::api::core::v1::{PodSpec, Toleration};

pub const NOT_READY: &str = "node.kubernetes.io/not-ready";
pub const UNREACHABLE: &str = "node.kubernetes.io/unreachable";
/// --default-not-ready-toleration-seconds / --default-unreachable-toleration-seconds.
pub const DEFAULT_SECONDS: i64 = 300;

fn tolerates(t: &Toleration, key: &str) -> bool {
    let effect_ok = t
        .effect
        .as_deref()
        .is_none_or(|e| e.is_empty() || e == "NoExecute");
    let key_ok = match t.key.as_deref() {
        None | Some("") => t.operator.as_deref() == Some("Exists"),
        Some(k) => k == key,
    };
    effect_ok && key_ok
}

/// Pure: adds the two tolerations when the pod has none matching.
pub fn admit(spec: &mut PodSpec) {
    let tolerations = spec.tolerations.get_or_insert_with(Vec::new);
    for key in [NOT_READY, UNREACHABLE] {
        if !tolerations.iter().any(|t| tolerates(t, key)) {
            tolerations.push(Toleration {
                key: Some(key.to_string()),
                operator: Some("Exists".to_string()),
                effect: Some("NoExecute".to_string()),
                toleration_seconds: Some(DEFAULT_SECONDS),
                value: None,
            });
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn adds_both_with_300_seconds() {
        let mut spec = PodSpec::default();
        admit(&mut spec);
        let t = spec.tolerations.unwrap();
        assert_eq!(t.len(), 2);
        assert!(t.iter().all(|t| t.toleration_seconds == Some(300)));
    }

    #[test]
    fn keeps_a_pods_own_toleration() {
        let mut spec = PodSpec {
            tolerations: Some(vec![Toleration {
                key: Some(UNREACHABLE.into()),
                operator: Some("Exists".into()),
                effect: Some("NoExecute".into()),
                toleration_seconds: Some(5),
                value: None,
            }]),
            ..Default::default()
        };
        admit(&mut spec);
        let t = spec.tolerations.unwrap();
        assert_eq!(t.len(), 2);
        assert_eq!(t[0].toleration_seconds, Some(5));
        assert_eq!(t[1].key.as_deref(), Some(NOT_READY));
    }

    #[test]
    fn tolerate_everything_needs_nothing_more() {
        let mut spec = PodSpec {
            tolerations: Some(vec![Toleration {
                operator: Some("Exists".into()),
                ..Default::default()
            }]),
            ..Default::default()
        };
        admit(&mut spec);
        assert_eq!(spec.tolerations.unwrap().len(), 1);
    }
}
