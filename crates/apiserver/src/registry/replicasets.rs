//! ReplicaSets and ReplicationControllers (SetDefaults_ReplicaSet / _ReplicationController,
//! ValidateReplicaSet / ValidateReplicationController), and the selector / template checks
//! Deployments share with them (ValidatePodTemplateSpecForReplicaSet).

use std::collections::BTreeMap;

use api_types::names::is_dns1123_subdomain;
use api_types::selectors::LabelSelector as Selector;
use api_types::validation::{child, FieldError};
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::apps::v1::{ReplicaSet, ReplicaSetStatus};
use k8s_openapi::api::core::v1::{
    PodTemplateSpec, ReplicationController, ReplicationControllerStatus,
};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::LabelSelector;

use super::decode::{validate_decoded, validate_decoded_update, with_decoded};
use super::metadata::{
    go_label_selector, go_string_map, invalid_go, validate_label_selector, validate_nonnegative,
    validate_object_meta, validate_object_meta_update, FIELD_IMMUTABLE,
};
use super::pod_spec::{default_pod_template, opt, validate_pod_template_spec};
use super::Strategy;

/// Whether the stored object names a selector at `spec.selector` (decoding fills an
/// absent one with `{}`, but upstream tells "missing" from "empty").
pub fn selector_present(obj: &DynamicObject) -> bool {
    obj.data
        .pointer("/spec/selector")
        .is_some_and(|v| !v.is_null())
}

/// Drops a `spec.selector` that defaulting's decode filled in but the client never sent.
pub fn keep_selector_absent(obj: &mut DynamicObject, was_present: bool) {
    if !was_present {
        if let Some(spec) = obj.data.get_mut("spec").and_then(|s| s.as_object_mut()) {
            spec.remove("selector");
        }
    }
}

/// The selector checks of Deployments and ReplicaSets; returns the parsed selector
/// (`Nothing` when absent) unless it cannot be parsed.
pub fn validate_workload_selector(
    sel: Option<&LabelSelector>,
    path: &str,
) -> (Vec<FieldError>, Option<Selector>) {
    let mut errs = Vec::new();
    match sel {
        None => errs.push(FieldError::required(path, "")),
        Some(s) => {
            errs.extend(validate_label_selector(s, path));
            let n = s.match_labels.as_ref().map_or(0, BTreeMap::len)
                + s.match_expressions.as_ref().map_or(0, Vec::len);
            if n == 0 {
                // Upstream's wording, ReplicaSets included.
                errs.push(invalid_go(
                    path,
                    &go_label_selector(Some(s)),
                    "empty selector is invalid for deployment",
                ));
            }
        }
    }
    match Selector::from_optional_meta(sel) {
        Ok(parsed) => (errs, Some(parsed)),
        Err(_) => {
            errs.push(invalid_go(
                path,
                &go_label_selector(sel),
                "invalid label selector",
            ));
            (errs, None)
        }
    }
}

/// `ValidatePodTemplateSpecForReplicaSet` (and its ReplicationController twin).
pub fn validate_template_for_controller(
    t: &PodTemplateSpec,
    sel: &Selector,
    kind: &str,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let labels = t.metadata.as_ref().and_then(|m| m.labels.as_ref());
    if !sel.is_everything() && !sel.matches(labels.unwrap_or(&BTreeMap::new())) {
        errs.push(invalid_go(
            child(&child(path, "metadata"), "labels"),
            &go_string_map(labels),
            "`selector` does not match template `labels`",
        ));
    }
    errs.extend(validate_pod_template_spec(t, path));
    let spec = t.spec.clone().unwrap_or_default();
    let spec_path = child(path, "spec");
    let restart = opt(&spec.restart_policy);
    if restart != "Always" {
        errs.push(FieldError::not_supported(
            child(&spec_path, "restartPolicy"),
            restart,
            &["Always"],
        ));
    }
    if spec.active_deadline_seconds.is_some() {
        errs.push(FieldError::forbidden(
            child(&spec_path, "activeDeadlineSeconds"),
            format!("activeDeadlineSeconds in {kind} is not Supported"),
        ));
    }
    errs
}

/// Selector equality as Go's semantic equality sees it (nil and empty alike).
pub fn same_selector(a: Option<&LabelSelector>, b: Option<&LabelSelector>) -> bool {
    let norm = |s: Option<&LabelSelector>| {
        s.map(|s| {
            (
                s.match_labels.clone().unwrap_or_default(),
                s.match_expressions.clone().unwrap_or_default(),
            )
        })
    };
    norm(a) == norm(b)
}

/// apps/v1 forbids changing the selector of a Deployment or ReplicaSet.
pub fn validate_selector_immutable(
    new: Option<&LabelSelector>,
    old: Option<&LabelSelector>,
) -> Vec<FieldError> {
    if same_selector(new, old) {
        return Vec::new();
    }
    let shown = if new.is_some() {
        go_label_selector(new)
    } else {
        "null".to_string()
    };
    vec![invalid_go("spec.selector", &shown, FIELD_IMMUTABLE)]
}

// ---------------------------------------------------------------- ReplicaSet

pub struct ReplicaSetStrategy;

pub fn default_replica_set(rs: &mut ReplicaSet) {
    let spec = rs.spec.get_or_insert_with(Default::default);
    spec.replicas.get_or_insert(1);
    default_pod_template(spec.template.get_or_insert_with(Default::default));
}

/// `ValidateReplicaSet` (`selector_given`: whether the client sent spec.selector).
pub fn validate_replica_set(rs: &ReplicaSet, selector_given: bool) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&rs.metadata, true, is_dns1123_subdomain, "metadata");
    errs.extend(validate_replica_set_spec(rs, selector_given));
    errs
}

/// `ValidateReplicaSetSpec`.
pub fn validate_replica_set_spec(rs: &ReplicaSet, selector_given: bool) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = rs.spec.clone().unwrap_or_default();
    errs.extend(validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        "spec.replicas",
    ));
    errs.extend(validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        "spec.minReadySeconds",
    ));
    let sel = selector_given.then_some(&spec.selector);
    let (e, parsed) = validate_workload_selector(sel, "spec.selector");
    errs.extend(e);
    if let Some(parsed) = parsed {
        let template = spec.template.clone().unwrap_or_default();
        errs.extend(validate_template_for_controller(
            &template,
            &parsed,
            "ReplicaSet",
            "spec.template",
        ));
    }
    errs
}

impl Strategy for ReplicaSetStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        let given = selector_present(obj);
        with_decoded(obj, default_replica_set)?;
        keep_selector_absent(obj, given);
        Ok(())
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        let given = selector_present(obj);
        with_decoded(obj, |rs: &mut ReplicaSet| {
            rs.status = Some(ReplicaSetStatus::default())
        })?;
        keep_selector_absent(obj, given);
        Ok(())
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        let given = selector_present(obj);
        validate_decoded(obj, |rs: &ReplicaSet| validate_replica_set(rs, given))
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        let (given, old_given) = (selector_present(new), selector_present(old));
        validate_decoded_update(new, old, |n: &ReplicaSet, o: &ReplicaSet| {
            let mut errs = validate_object_meta_update(&n.metadata, &o.metadata, "metadata");
            errs.extend(validate_replica_set_spec(n, given));
            let sel = |rs: &ReplicaSet, g: bool| {
                rs.spec.as_ref().filter(|_| g).map(|s| s.selector.clone())
            };
            errs.extend(validate_selector_immutable(
                sel(n, given).as_ref(),
                sel(o, old_given).as_ref(),
            ));
            errs
        })
    }
}

// ---------------------------------------------------------------- ReplicationController

pub struct ReplicationControllerStrategy;

/// SetDefaults_ReplicationController: selector and labels from the template's labels.
pub fn default_replication_controller(rc: &mut ReplicationController) {
    let spec = rc.spec.get_or_insert_with(Default::default);
    if let Some(t) = &mut spec.template {
        let labels = t.metadata.as_ref().and_then(|m| m.labels.clone());
        if let Some(labels) = labels {
            if spec.selector.as_ref().is_none_or(BTreeMap::is_empty) {
                spec.selector = Some(labels.clone());
            }
            if rc.metadata.labels.as_ref().is_none_or(BTreeMap::is_empty) {
                rc.metadata.labels = Some(labels);
            }
        }
        default_pod_template(t);
    }
    spec.replicas.get_or_insert(1);
}

pub fn validate_replication_controller(rc: &ReplicationController) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&rc.metadata, true, is_dns1123_subdomain, "metadata");
    errs.extend(validate_replication_controller_spec(rc));
    errs
}

/// `ValidateReplicationControllerSpec`.
pub fn validate_replication_controller_spec(rc: &ReplicationController) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let spec = rc.spec.clone().unwrap_or_default();
    errs.extend(validate_nonnegative(
        i64::from(spec.min_ready_seconds.unwrap_or(0)),
        "spec.minReadySeconds",
    ));
    let selector = spec.selector.clone().unwrap_or_default();
    if selector.is_empty() {
        errs.push(FieldError::required("spec.selector", ""));
    }
    errs.extend(validate_nonnegative(
        i64::from(spec.replicas.unwrap_or(0)),
        "spec.replicas",
    ));
    match &spec.template {
        None => errs.push(FieldError::required("spec.template", "")),
        Some(t) => {
            let sel = Selector::from_set(&selector);
            errs.extend(validate_template_for_controller(
                t,
                &sel,
                "ReplicationController",
                "spec.template",
            ));
        }
    }
    errs
}

impl Strategy for ReplicationControllerStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, default_replication_controller)
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, |rc: &mut ReplicationController| {
            rc.status = Some(ReplicationControllerStatus::default())
        })
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_replication_controller)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(
            new,
            old,
            |n: &ReplicationController, o: &ReplicationController| {
                let mut errs = validate_object_meta_update(&n.metadata, &o.metadata, "metadata");
                errs.extend(validate_replication_controller_spec(n));
                errs
            },
        )
    }
}

#[cfg(test)]
#[path = "replicasets_tests.rs"]
mod tests;
