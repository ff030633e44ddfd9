//! PodSpec and PodTemplateSpec, shared by pods and the workload templates: upstream's
//! defaulting (core/v1 defaults.go: SetDefaults_PodSpec, _Container, _Probe, _Volume...),
//! the spec-level part of `ValidatePodSpec` / `ValidatePodTemplateSpec`, and QoS class.
//! Container checks live in `containers.rs`, volume checks in `volumes.rs`.

use std::cmp::Ordering;
use std::collections::{BTreeMap, BTreeSet};

use api_types::names::{is_dns1123_subdomain, is_qualified_name};
use api_types::validation::{child, index, FieldError};
use k8s_openapi::api::core::v1::{
    Container, EnvVar, EphemeralContainer, HTTPGetAction, Lifecycle, PodSecurityContext, PodSpec,
    PodTemplateSpec, Probe, ResourceRequirements, Toleration, Volume,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;

use super::containers::{validate_containers, validate_init_containers};
use super::metadata::{
    invalid_each, validate_annotations, validate_dns1123_label, validate_labels,
    validate_qualified_name,
};
use super::quantity::{parse_quantity, ParsedQuantity};
use super::volumes::validate_volumes;

pub const MAX_INT32: i64 = i32::MAX as i64;

/// The string in an optional string field ("" when unset, like Go's zero value).
pub fn opt(s: &Option<String>) -> &str {
    s.as_deref().unwrap_or("")
}

/// Sets an optional string that is unset or empty (upstream defaults `== ""`).
pub fn default_str(field: &mut Option<String>, value: &str) {
    if opt(field).is_empty() {
        *field = Some(value.to_string());
    }
}

/// `InclusiveRangeError`.
pub fn inclusive_range_error(lo: i64, hi: i64) -> String {
    format!("must be between {lo} and {hi}, inclusive")
}

// ---------------------------------------------------------------- defaulting

/// Pull policy for an image without one: Always for `:latest` or no tag, else IfNotPresent
/// (a digest counts as a tag; an unparsable reference gets IfNotPresent, as upstream).
pub fn default_pull_policy(image: &str) -> &'static str {
    let has_digest = image.contains('@');
    let name = image.split('@').next().unwrap_or("");
    let (path, tag) = match name.rfind(':') {
        Some(i) if !name[i + 1..].contains('/') => (&name[..i], Some(&name[i + 1..])),
        _ => (name, None),
    };
    // The registry host may have capitals; the repository path may not.
    let repo = match path.split_once('/') {
        Some((host, rest)) if host.contains('.') || host.contains(':') || host == "localhost" => {
            rest
        }
        _ => path,
    };
    if repo.is_empty()
        || path.bytes().any(|c| c.is_ascii_whitespace())
        || repo.bytes().any(|c| c.is_ascii_uppercase())
    {
        return "IfNotPresent";
    }
    match tag {
        Some("latest") => "Always",
        Some(_) => "IfNotPresent",
        None if has_digest => "IfNotPresent",
        None => "Always",
    }
}

fn default_http_get(h: &mut HTTPGetAction) {
    default_str(&mut h.path, "/");
    default_str(&mut h.scheme, "HTTP");
}

fn default_probe(p: &mut Probe) {
    for (field, value) in [
        (&mut p.timeout_seconds, 1),
        (&mut p.period_seconds, 10),
        (&mut p.success_threshold, 1),
        (&mut p.failure_threshold, 3),
    ] {
        if field.unwrap_or(0) == 0 {
            *field = Some(value);
        }
    }
    if let Some(h) = &mut p.http_get {
        default_http_get(h);
    }
    if let Some(g) = &mut p.grpc {
        g.service.get_or_insert_with(String::new);
    }
}

fn default_lifecycle(l: &mut Lifecycle) {
    for h in [&mut l.post_start, &mut l.pre_stop].into_iter().flatten() {
        if let Some(g) = &mut h.http_get {
            default_http_get(g);
        }
    }
}

fn default_env(env: &mut [EnvVar]) {
    for e in env {
        if let Some(from) = &mut e.value_from {
            if let Some(f) = &mut from.field_ref {
                default_str(&mut f.api_version, "v1");
            }
            if let Some(r) = &mut from.resource_field_ref {
                r.divisor.get_or_insert_with(|| Quantity("0".to_string()));
            }
        }
    }
}

/// The defaults every container kind shares (regular, init, ephemeral).
macro_rules! default_container_common {
    ($c:expr) => {{
        let c = $c;
        if opt(&c.image_pull_policy).is_empty() {
            c.image_pull_policy = Some(default_pull_policy(opt(&c.image)).to_string());
        }
        default_str(&mut c.termination_message_path, "/dev/termination-log");
        default_str(&mut c.termination_message_policy, "File");
        for p in c.ports.iter_mut().flatten() {
            default_str(&mut p.protocol, "TCP");
        }
        c.resources
            .get_or_insert_with(ResourceRequirements::default);
        default_env(c.env.as_deref_mut().unwrap_or_default());
        for p in [
            &mut c.liveness_probe,
            &mut c.readiness_probe,
            &mut c.startup_probe,
        ]
        .into_iter()
        .flatten()
        {
            default_probe(p);
        }
        if let Some(l) = &mut c.lifecycle {
            default_lifecycle(l);
        }
    }};
}

pub fn default_container(c: &mut Container) {
    default_container_common!(c);
}

fn default_ephemeral_container(c: &mut EphemeralContainer) {
    default_container_common!(c);
}

pub fn default_volume(v: &mut Volume) {
    let no_source = [
        v.aws_elastic_block_store.is_none(),
        v.azure_disk.is_none(),
        v.azure_file.is_none(),
        v.cephfs.is_none(),
        v.cinder.is_none(),
        v.config_map.is_none(),
        v.csi.is_none(),
        v.downward_api.is_none(),
        v.empty_dir.is_none(),
        v.ephemeral.is_none(),
        v.fc.is_none(),
        v.flex_volume.is_none(),
        v.flocker.is_none(),
        v.gce_persistent_disk.is_none(),
        v.git_repo.is_none(),
        v.glusterfs.is_none(),
        v.host_path.is_none(),
        v.image.is_none(),
        v.iscsi.is_none(),
        v.nfs.is_none(),
        v.persistent_volume_claim.is_none(),
        v.photon_persistent_disk.is_none(),
        v.portworx_volume.is_none(),
        v.projected.is_none(),
        v.quobyte.is_none(),
        v.rbd.is_none(),
        v.scale_io.is_none(),
        v.secret.is_none(),
        v.storageos.is_none(),
        v.vsphere_volume.is_none(),
    ]
    .iter()
    .all(|b| *b);
    if no_source {
        v.empty_dir = Some(Default::default());
    }
    if let Some(s) = &mut v.secret {
        s.default_mode.get_or_insert(0o644);
    }
    if let Some(c) = &mut v.config_map {
        c.default_mode.get_or_insert(0o644);
    }
    if let Some(d) = &mut v.downward_api {
        d.default_mode.get_or_insert(0o644);
        for item in d.items.iter_mut().flatten() {
            if let Some(f) = &mut item.field_ref {
                default_str(&mut f.api_version, "v1");
            }
            if let Some(r) = &mut item.resource_field_ref {
                r.divisor.get_or_insert_with(|| Quantity("0".to_string()));
            }
        }
    }
    if let Some(p) = &mut v.projected {
        p.default_mode.get_or_insert(0o644);
        for src in p.sources.iter_mut().flatten() {
            if let Some(t) = &mut src.service_account_token {
                t.expiration_seconds.get_or_insert(3600);
            }
            for item in src
                .downward_api
                .iter_mut()
                .flat_map(|d| d.items.iter_mut().flatten())
            {
                if let Some(f) = &mut item.field_ref {
                    default_str(&mut f.api_version, "v1");
                }
            }
        }
    }
    if let Some(h) = &mut v.host_path {
        h.type_.get_or_insert_with(String::new);
    }
    if let Some(i) = &mut v.iscsi {
        default_str(&mut i.iscsi_interface, "default");
    }
    if let Some(r) = &mut v.rbd {
        default_str(&mut r.pool, "rbd");
        default_str(&mut r.user, "admin");
        default_str(&mut r.keyring, "/etc/ceph/keyring");
    }
}

/// SetDefaults_PodSpec and everything nested in it (pods and pod templates alike).
pub fn default_pod_spec(spec: &mut PodSpec) {
    default_str(&mut spec.dns_policy, "ClusterFirst");
    default_str(&mut spec.restart_policy, "Always");
    spec.security_context
        .get_or_insert_with(PodSecurityContext::default);
    spec.termination_grace_period_seconds.get_or_insert(30);
    default_str(&mut spec.scheduler_name, "default-scheduler");
    // serviceAccount is the deprecated alias of serviceAccountName (v1 conversion).
    if opt(&spec.service_account_name).is_empty() && !opt(&spec.service_account).is_empty() {
        spec.service_account_name = spec.service_account.clone();
    }
    spec.service_account = spec.service_account_name.clone().filter(|s| !s.is_empty());
    spec.containers.iter_mut().for_each(default_container);
    spec.init_containers
        .iter_mut()
        .flatten()
        .for_each(default_container);
    spec.ephemeral_containers
        .iter_mut()
        .flatten()
        .for_each(default_ephemeral_container);
    spec.volumes.iter_mut().flatten().for_each(default_volume);
}

pub fn default_pod_template(t: &mut PodTemplateSpec) {
    default_pod_spec(t.spec.get_or_insert_with(Default::default));
}

// ---------------------------------------------------------------- validation

/// `ValidateTolerations`.
pub fn validate_tolerations(tolerations: &[Toleration], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, t) in tolerations.iter().enumerate() {
        let p = index(path, i);
        let (key, op, value, effect) =
            (opt(&t.key), opt(&t.operator), opt(&t.value), opt(&t.effect));
        if !key.is_empty() {
            errs.extend(validate_qualified_name(key, &child(&p, "key")));
        }
        if key.is_empty() && op != "Exists" {
            errs.push(FieldError::invalid(
                child(&p, "operator"),
                op,
                "operator must be Exists when `key` is empty, which means \"match all values and all keys\"",
            ));
        }
        if t.toleration_seconds.is_some() && effect != "NoExecute" {
            errs.push(FieldError::invalid(
                child(&p, "effect"),
                effect,
                "effect must be 'NoExecute' when `tolerationSeconds` is set",
            ));
        }
        match op {
            "Equal" | "" => {
                let msgs = api_types::names::is_valid_label_value(value);
                if !msgs.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        value,
                        msgs.join(";"),
                    ));
                }
            }
            "Exists" => {
                if !value.is_empty() {
                    errs.push(FieldError::invalid(
                        child(&p, "operator"),
                        value,
                        "value must be empty when `operator` is 'Exists'",
                    ));
                }
            }
            other => errs.push(FieldError::not_supported(
                child(&p, "operator"),
                other,
                &["Equal", "Exists"],
            )),
        }
        if !effect.is_empty() && !["NoSchedule", "PreferNoSchedule", "NoExecute"].contains(&effect)
        {
            errs.push(FieldError::not_supported(
                child(&p, "effect"),
                effect,
                &["NoSchedule", "PreferNoSchedule", "NoExecute"],
            ));
        }
    }
    errs
}

fn validate_id(value: Option<i64>, path: &str) -> Option<FieldError> {
    value
        .filter(|v| !(0..=MAX_INT32).contains(v))
        .map(|v| FieldError::invalid(path, v, inclusive_range_error(0, MAX_INT32)))
}

fn validate_pod_security_context(sc: Option<&PodSecurityContext>, path: &str) -> Vec<FieldError> {
    let Some(sc) = sc else { return Vec::new() };
    let mut errs = Vec::new();
    errs.extend(validate_id(sc.fs_group, &child(path, "fsGroup")));
    errs.extend(validate_id(sc.run_as_user, &child(path, "runAsUser")));
    errs.extend(validate_id(sc.run_as_group, &child(path, "runAsGroup")));
    for (i, g) in sc.supplemental_groups.iter().flatten().enumerate() {
        errs.extend(validate_id(
            Some(*g),
            &index(&child(path, "supplementalGroups"), i),
        ));
    }
    if let Some(p) = sc.fs_group_change_policy.as_deref() {
        if !["OnRootMismatch", "Always"].contains(&p) {
            errs.push(FieldError::not_supported(
                child(path, "fsGroupChangePolicy"),
                p,
                &["OnRootMismatch", "Always"],
            ));
        }
    }
    errs
}

fn is_ip(s: &str) -> bool {
    s.parse::<std::net::IpAddr>().is_ok()
}

/// Upstream's `IsValidIP` message.
pub const INVALID_IP: &str = "must be a valid IP address, (e.g. 10.9.8.7 or 2001:db8::ffff)";

fn validate_dns_config(spec: &PodSpec, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let none = opt(&spec.dns_policy) == "None";
    let Some(cfg) = &spec.dns_config else {
        if none {
            errs.push(FieldError::required(
                path,
                "must provide `dnsConfig` when `dnsPolicy` is None",
            ));
        }
        return errs;
    };
    let ns = cfg.nameservers.as_deref().unwrap_or_default();
    if none && ns.is_empty() {
        errs.push(FieldError::required(
            child(path, "nameservers"),
            "must provide at least one DNS nameserver when `dnsPolicy` is None",
        ));
    }
    if ns.len() > 3 {
        errs.push(FieldError::invalid(
            child(path, "nameservers"),
            serde_json::json!(ns),
            "must not have more than 3 nameservers",
        ));
    }
    for (i, n) in ns.iter().enumerate() {
        if !is_ip(n) {
            errs.push(FieldError::invalid(
                index(&child(path, "nameservers"), i),
                n.as_str(),
                "must be valid IP address",
            ));
        }
    }
    errs
}

/// `ValidatePodSpec`: the parts that do not depend on whether this is a pod or a template.
pub fn validate_pod_spec(spec: &PodSpec, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (vols, verrs) = validate_volumes(
        spec.volumes.as_deref().unwrap_or_default(),
        &child(path, "volumes"),
    );
    errs.extend(verrs);
    let grace = spec.termination_grace_period_seconds;
    let restart = opt(&spec.restart_policy);
    errs.extend(validate_containers(
        &spec.containers,
        &vols,
        grace,
        &child(path, "containers"),
    ));
    errs.extend(validate_init_containers(
        spec.init_containers.as_deref().unwrap_or_default(),
        &spec.containers,
        &vols,
        grace,
        &child(path, "initContainers"),
    ));
    match restart {
        "Always" | "OnFailure" | "Never" => {}
        "" => errs.push(FieldError::required(child(path, "restartPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(path, "restartPolicy"),
            other,
            &["Always", "OnFailure", "Never"],
        )),
    }
    match opt(&spec.dns_policy) {
        "ClusterFirstWithHostNet" | "ClusterFirst" | "Default" | "None" => {}
        "" => errs.push(FieldError::required(child(path, "dnsPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(path, "dnsPolicy"),
            other,
            &["ClusterFirstWithHostNet", "ClusterFirst", "Default", "None"],
        )),
    }
    errs.extend(validate_labels(
        spec.node_selector.as_ref(),
        &child(path, "nodeSelector"),
    ));
    errs.extend(validate_pod_security_context(
        spec.security_context.as_ref(),
        &child(path, "securityContext"),
    ));
    errs.extend(validate_dns_config(spec, &child(path, "dnsConfig")));
    for (field, value) in [
        ("serviceAccountName", &spec.service_account_name),
        ("nodeName", &spec.node_name),
        ("priorityClassName", &spec.priority_class_name),
        ("runtimeClassName", &spec.runtime_class_name),
    ] {
        let v = opt(value);
        if !v.is_empty() {
            errs.extend(invalid_each(
                &child(path, field),
                v,
                is_dns1123_subdomain(v),
            ));
        }
    }
    if let Some(v) = spec.active_deadline_seconds {
        if !(1..=MAX_INT32).contains(&v) {
            errs.push(FieldError::invalid(
                child(path, "activeDeadlineSeconds"),
                v,
                inclusive_range_error(1, MAX_INT32),
            ));
        }
    }
    for (field, value) in [("hostname", &spec.hostname), ("subdomain", &spec.subdomain)] {
        if !opt(value).is_empty() {
            errs.extend(validate_dns1123_label(opt(value), &child(path, field)));
        }
    }
    errs.extend(validate_tolerations(
        spec.tolerations.as_deref().unwrap_or_default(),
        &child(path, "tolerations"),
    ));
    for (i, a) in spec.host_aliases.iter().flatten().enumerate() {
        let p = index(&child(path, "hostAliases"), i);
        if !is_ip(&a.ip) {
            errs.push(FieldError::invalid(
                child(&p, "ip"),
                a.ip.as_str(),
                INVALID_IP,
            ));
        }
        for h in a.hostnames.iter().flatten() {
            errs.extend(invalid_each(
                &child(&p, "hostnames"),
                h,
                is_dns1123_subdomain(h),
            ));
        }
    }
    for (i, g) in spec.readiness_gates.iter().flatten().enumerate() {
        let p = child(&index(&child(path, "readinessGates"), i), "conditionType");
        errs.extend(validate_qualified_name(&g.condition_type, &p));
    }
    let mut gates = BTreeSet::new();
    for (i, g) in spec.scheduling_gates.iter().flatten().enumerate() {
        let p = index(&child(path, "schedulingGates"), i);
        errs.extend(invalid_each(&p, &g.name, is_qualified_name(&g.name)));
        if !gates.insert(g.name.as_str()) {
            errs.push(FieldError::duplicate(p, g.name.as_str()));
        }
    }
    errs
}

/// `ValidatePodTemplateSpec` (labels are reported at `<path>.labels`, as upstream).
pub fn validate_pod_template_spec(t: &PodTemplateSpec, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let meta = t.metadata.clone().unwrap_or_default();
    errs.extend(validate_labels(
        meta.labels.as_ref(),
        &child(path, "labels"),
    ));
    errs.extend(validate_annotations(
        meta.annotations.as_ref(),
        &child(path, "annotations"),
    ));
    let spec = t.spec.clone().unwrap_or_default();
    errs.extend(validate_pod_spec(&spec, &child(path, "spec")));
    if spec
        .ephemeral_containers
        .as_ref()
        .is_some_and(|e| !e.is_empty())
    {
        errs.push(FieldError::forbidden(
            child(&child(path, "spec"), "ephemeralContainers"),
            "ephemeral containers not allowed in pod template",
        ));
    }
    errs
}

// ---------------------------------------------------------------- QoS

fn qos_resources(
    list: Option<&BTreeMap<String, Quantity>>,
) -> impl Iterator<Item = (&str, ParsedQuantity)> {
    list.into_iter().flatten().filter_map(|(name, q)| {
        if name != "cpu" && name != "memory" {
            return None;
        }
        parse_quantity(&q.0)
            .ok()
            .filter(|q| q.cmp_value(&ParsedQuantity::zero()) == Ordering::Greater)
            .map(|q| (name.as_str(), q))
    })
}

fn accumulate(sum: &mut BTreeMap<String, Option<ParsedQuantity>>, name: &str, q: ParsedQuantity) {
    let entry = sum
        .entry(name.to_string())
        .or_insert(Some(ParsedQuantity::zero()));
    // An overflowing sum cannot be compared exactly: it is dropped, which makes the
    // pod Burstable rather than wrongly Guaranteed.
    *entry = entry.and_then(|s| s.checked_add(&q));
}

/// Upstream's `ComputePodQOS`: Guaranteed, Burstable or BestEffort.
pub fn compute_qos(spec: &PodSpec) -> &'static str {
    let mut requests: BTreeMap<String, Option<ParsedQuantity>> = BTreeMap::new();
    let mut limits: BTreeMap<String, Option<ParsedQuantity>> = BTreeMap::new();
    let mut guaranteed = true;
    for c in spec
        .containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
    {
        let res = c.resources.clone().unwrap_or_default();
        for (name, q) in qos_resources(res.requests.as_ref()) {
            accumulate(&mut requests, name, q);
        }
        let mut found = BTreeSet::new();
        for (name, q) in qos_resources(res.limits.as_ref()) {
            found.insert(name.to_string());
            accumulate(&mut limits, name, q);
        }
        if !(found.contains("cpu") && found.contains("memory")) {
            guaranteed = false;
        }
    }
    if requests.is_empty() && limits.is_empty() {
        return "BestEffort";
    }
    if guaranteed {
        for (name, req) in &requests {
            let equal = match (req, limits.get(name)) {
                (Some(r), Some(Some(l))) => r.cmp_value(l) == Ordering::Equal,
                _ => false,
            };
            if !equal {
                guaranteed = false;
                break;
            }
        }
    }
    if guaranteed && requests.len() == limits.len() {
        "Guaranteed"
    } else {
        "Burstable"
    }
}

/// Rewrites every resource quantity in a spec to its canonical form, so two specs can be
/// compared the way upstream's semantic equality compares quantities ("1" == "1000m").
pub fn canonicalize_quantities(spec: &mut PodSpec) {
    let canon = |list: &mut Option<BTreeMap<String, Quantity>>| {
        for q in list.iter_mut().flat_map(|m| m.values_mut()) {
            q.0 = super::quantity::canonical_string(&q.0);
        }
    };
    for c in spec
        .containers
        .iter_mut()
        .chain(spec.init_containers.iter_mut().flatten())
    {
        if let Some(r) = &mut c.resources {
            canon(&mut r.limits);
            canon(&mut r.requests);
        }
    }
    canon(&mut spec.overhead);
}

#[cfg(test)]
#[path = "pod_spec_tests.rs"]
mod tests;
