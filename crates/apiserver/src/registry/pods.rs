//! Pods: upstream's SetDefaults_Pod, podStrategy.PrepareForCreate (Pending + QoS
//! class), ValidatePodCreate and ValidatePodUpdate (a pod's spec is immutable except
//! images, activeDeadlineSeconds, added tolerations and removed scheduling gates).

use std::collections::BTreeMap;

use api_types::names::is_dns1123_subdomain;
use api_types::validation::{child, index, key, FieldError};
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodSpec, PodStatus};
use serde_json::Value;

use super::decode::{validate_decoded, validate_decoded_update, with_decoded};
use super::metadata::{validate_object_meta, validate_object_meta_update};
use super::pod_spec::{
    canonicalize_quantities, compute_qos, default_pod_spec, inclusive_range_error, opt,
    validate_pod_spec, validate_tolerations, MAX_INT32,
};
use super::Strategy;

const MIRROR_POD_ANNOTATION: &str = "kubernetes.io/config.mirror";

/// Upstream's list in the "pod updates may not change fields" message (1.33).
pub const UPDATABLE_POD_FIELDS: &str = "`spec.containers[*].image`,`spec.initContainers[*].image`,`spec.activeDeadlineSeconds`,`spec.tolerations` (only additions to existing tolerations),`spec.terminationGracePeriodSeconds` (allow it to be set to 1 if it was previously negative)";

pub struct PodStrategy;

/// SetDefaults_Pod: what pods get on top of the PodSpec defaults templates get too.
pub fn default_pod(pod: &mut Pod) {
    let spec = pod.spec.get_or_insert_with(PodSpec::default);
    default_pod_spec(spec);
    let host_network = spec.host_network == Some(true);
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        // Limits without requests: requests default to the limits (pods only, not templates).
        if let Some(res) = &mut c.resources {
            if let Some(limits) = &res.limits {
                let requests = res.requests.get_or_insert_with(BTreeMap::new);
                for (name, q) in limits {
                    requests.entry(name.clone()).or_insert_with(|| q.clone());
                }
            }
        }
        if host_network {
            for p in c.ports.iter_mut().flatten() {
                if p.host_port.unwrap_or(0) == 0 {
                    p.host_port = Some(p.container_port);
                }
            }
        }
    }
    spec.enable_service_links.get_or_insert(true);
    // What the Priority admission plugin sets when no PriorityClass applies.
    if opt(&spec.priority_class_name).is_empty() {
        spec.priority.get_or_insert(0);
        if opt(&spec.preemption_policy).is_empty() {
            spec.preemption_policy = Some("PreemptLowerPriority".to_string());
        }
    }
}

fn validate_image_whitespace(containers: &[Container], path: &str) -> Vec<FieldError> {
    containers
        .iter()
        .enumerate()
        .filter(|(_, c)| opt(&c.image).trim() != opt(&c.image))
        .map(|(i, c)| {
            FieldError::invalid(
                child(&index(path, i), "image"),
                opt(&c.image),
                "must not have leading or trailing whitespace",
            )
        })
        .collect()
}

/// `validatePodMetadataAndSpec`: what create and update both check.
fn validate_pod_metadata_and_spec(pod: &Pod) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&pod.metadata, true, is_dns1123_subdomain, "metadata");
    let spec = pod.spec.clone().unwrap_or_default();
    if let Some(v) = pod
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(MIRROR_POD_ANNOTATION))
    {
        if opt(&spec.node_name).is_empty() {
            errs.push(FieldError::invalid(
                key("metadata.annotations", MIRROR_POD_ANNOTATION),
                v.as_str(),
                "must set spec.nodeName if mirror pod annotation is set",
            ));
        }
    }
    errs.extend(validate_pod_spec(&spec, "spec"));
    errs.extend(validate_image_whitespace(
        &spec.containers,
        "spec.containers",
    ));
    errs.extend(validate_image_whitespace(
        spec.init_containers.as_deref().unwrap_or_default(),
        "spec.initContainers",
    ));
    errs
}

/// `ValidatePodCreate`.
pub fn validate_pod_create(pod: &Pod) -> Vec<FieldError> {
    let mut errs = validate_pod_metadata_and_spec(pod);
    let spec = pod.spec.clone().unwrap_or_default();
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            "spec.ephemeralContainers",
            "cannot be set on create",
        ));
    }
    if !opt(&spec.node_name).is_empty()
        && spec
            .scheduling_gates
            .as_ref()
            .is_some_and(|g| !g.is_empty())
    {
        errs.push(FieldError::forbidden(
            "spec.nodeName",
            "cannot be set until all schedulingGates have been cleared",
        ));
    }
    errs
}

/// `ValidateContainerUpdates`: same number of containers, each with an image.
fn validate_container_updates(
    new: &[Container],
    old: &[Container],
    path: &str,
) -> (Vec<FieldError>, bool) {
    if new.len() != old.len() {
        return (
            vec![FieldError::forbidden(
                path,
                "pod updates may not add or remove containers",
            )],
            true,
        );
    }
    let mut errs = Vec::new();
    for (i, c) in new.iter().enumerate() {
        if opt(&c.image).is_empty() {
            errs.push(FieldError::required(child(&index(path, i), "image"), ""));
        }
    }
    errs.extend(validate_image_whitespace(new, path));
    (errs, false)
}

/// JSON with nulls and empty lists / maps removed: Go's semantic equality treats nil and
/// empty alike, and absent optional fields decode to nil.
fn semantic_json(spec: &PodSpec) -> Value {
    fn strip(v: Value) -> Option<Value> {
        match v {
            Value::Null => None,
            Value::Array(a) => {
                let items: Vec<Value> = a
                    .into_iter()
                    .map(|x| strip(x).unwrap_or(Value::Null))
                    .collect();
                (!items.is_empty()).then_some(Value::Array(items))
            }
            Value::Object(m) => {
                let m: serde_json::Map<String, Value> = m
                    .into_iter()
                    .filter_map(|(k, v)| strip(v).map(|v| (k, v)))
                    .collect();
                (!m.is_empty()).then_some(Value::Object(m))
            }
            other => Some(other),
        }
    }
    let mut spec = spec.clone();
    canonicalize_quantities(&mut spec);
    strip(serde_json::to_value(&spec).unwrap_or(Value::Null)).unwrap_or(Value::Null)
}

/// The fields that differ, as a short readable diff (upstream prints a Go cmp.Diff).
fn spec_diff(old: &Value, new: &Value) -> String {
    let empty = serde_json::Map::new();
    let (o, n) = (
        old.as_object().unwrap_or(&empty),
        new.as_object().unwrap_or(&empty),
    );
    let mut keys: Vec<&String> = o.keys().chain(n.keys()).collect();
    keys.sort();
    keys.dedup();
    let mut out = String::new();
    for k in keys {
        let (a, b) = (o.get(k), n.get(k));
        if a != b {
            let show = |v: Option<&Value>| v.map_or("null".to_string(), Value::to_string);
            out.push_str(&format!(
                "- spec.{k}: {}\n+ spec.{k}: {}\n",
                show(a),
                show(b)
            ));
        }
    }
    out
}

/// `ValidatePodUpdate`.
pub fn validate_pod_update(new: &Pod, old: &Pod) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
    errs.extend(validate_pod_metadata_and_spec(new));
    let (ns, os) = (
        new.spec.clone().unwrap_or_default(),
        old.spec.clone().unwrap_or_default(),
    );
    let (e, stop) = validate_container_updates(&ns.containers, &os.containers, "spec.containers");
    errs.extend(e);
    if stop {
        return errs;
    }
    let (ni, oi) = (
        ns.init_containers.clone().unwrap_or_default(),
        os.init_containers.clone().unwrap_or_default(),
    );
    let (e, stop) = validate_container_updates(&ni, &oi, "spec.initContainers");
    errs.extend(e);
    if stop {
        return errs;
    }
    // activeDeadlineSeconds: set once, then only lowered.
    match (ns.active_deadline_seconds, os.active_deadline_seconds) {
        (Some(n), _) if !(0..=MAX_INT32).contains(&n) => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                n,
                inclusive_range_error(0, MAX_INT32),
            ));
            return errs;
        }
        (Some(n), Some(o)) if o < n => {
            errs.push(FieldError::invalid(
                "spec.activeDeadlineSeconds",
                n,
                "must be less than or equal to previous value",
            ));
            return errs;
        }
        (None, Some(_)) => errs.push(FieldError::invalid(
            "spec.activeDeadlineSeconds",
            Value::Null,
            "must not update from a positive integer to nil value",
        )),
        _ => {}
    }
    // Tolerations: every old one must remain (tolerationSeconds may change).
    let (nt, ot) = (
        ns.tolerations.clone().unwrap_or_default(),
        os.tolerations.clone().unwrap_or_default(),
    );
    let kept = ot.iter().all(|o| {
        nt.iter().any(|n| {
            o.key == n.key && o.operator == n.operator && o.value == n.value && o.effect == n.effect
        })
    });
    if !kept {
        errs.push(FieldError::forbidden(
            "spec.tolerations",
            "existing toleration can not be modified except its tolerationSeconds",
        ));
    } else {
        errs.extend(validate_tolerations(&nt, "spec.tolerations"));
    }
    // Scheduling gates may only be removed.
    let old_gates: Vec<&str> = os
        .scheduling_gates
        .iter()
        .flatten()
        .map(|g| g.name.as_str())
        .collect();
    for g in ns.scheduling_gates.iter().flatten() {
        if !old_gates.contains(&g.name.as_str()) {
            errs.push(FieldError::forbidden(
                "spec.schedulingGates",
                format!(
                    "only deletion is allowed, but found new scheduling gate '{}'",
                    g.name
                ),
            ));
        }
    }
    let (new_json, old_json) = (semantic_json(&ns), semantic_json(&os));
    if new_json == old_json {
        return errs;
    }
    if compute_qos(&ns) != compute_qos(&os) {
        let shown = old
            .status
            .as_ref()
            .and_then(|s| s.qos_class.clone())
            .unwrap_or_default();
        errs.push(FieldError::invalid(
            "metadata",
            shown,
            "Pod QOS is immutable",
        ));
    }
    // Put back what may change, then anything still different is forbidden.
    let mut munged = ns.clone();
    for (c, o) in munged.containers.iter_mut().zip(&os.containers) {
        c.image = o.image.clone();
    }
    for (c, o) in munged.init_containers.iter_mut().flatten().zip(&oi) {
        c.image = o.image.clone();
    }
    munged.active_deadline_seconds = os.active_deadline_seconds;
    munged.scheduling_gates = os.scheduling_gates.clone();
    munged.tolerations = os.tolerations.clone();
    if os.termination_grace_period_seconds.is_some_and(|g| g < 0)
        && munged.termination_grace_period_seconds == Some(1)
    {
        munged.termination_grace_period_seconds = os.termination_grace_period_seconds;
    }
    // A gated pod may gain nodeSelector entries (no changes or removals).
    if !old_gates.is_empty() {
        let (nsel, osel) = (
            munged.node_selector.clone().unwrap_or_default(),
            os.node_selector.clone().unwrap_or_default(),
        );
        if osel.iter().all(|(k, v)| nsel.get(k) == Some(v)) {
            munged.node_selector = os.node_selector.clone();
        } else {
            errs.push(FieldError::invalid(
                "spec.nodeSelector",
                serde_json::json!(nsel),
                "only additions to spec.nodeSelector are allowed (no mutations or deletions)",
            ));
        }
    }
    let munged_json = semantic_json(&munged);
    if munged_json != old_json {
        errs.push(FieldError::forbidden(
            "spec",
            format!(
                "pod updates may not change fields other than {UPDATABLE_POD_FIELDS}\n{}",
                spec_diff(&old_json, &munged_json)
            ),
        ));
    }
    errs
}

impl Strategy for PodStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, default_pod)
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, |pod: &mut Pod| {
            let spec = pod.spec.clone().unwrap_or_default();
            let mut status = PodStatus {
                phase: Some("Pending".to_string()),
                qos_class: Some(compute_qos(&spec).to_string()),
                ..Default::default()
            };
            if spec
                .scheduling_gates
                .as_ref()
                .is_some_and(|g| !g.is_empty())
            {
                status.conditions = Some(vec![PodCondition {
                    type_: "PodScheduled".to_string(),
                    status: "False".to_string(),
                    reason: Some("SchedulingGated".to_string()),
                    message: Some(
                        "Scheduling is blocked due to non-empty scheduling gates".to_string(),
                    ),
                    ..Default::default()
                }]);
            }
            pod.status = Some(status);
        })
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_pod_create)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(new, old, validate_pod_update)
    }

    /// Pods carry no metadata.generation in 1.33 (PodObservedGenerationTracking is off).
    fn tracks_generation(&self) -> bool {
        false
    }
}

#[cfg(test)]
#[path = "pods_tests.rs"]
mod tests;
