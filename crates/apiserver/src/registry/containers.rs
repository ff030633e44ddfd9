//! Container validation (upstream's validateContainers / validateInitContainers /
//! validateContainerCommon): names, images, ports, env, mounts and devices. Probes live
//! in `probes.rs`, resources and security context in `resources.rs`.

use std::collections::{BTreeMap, BTreeSet};

use api_types::names::is_dns1123_subdomain;
use api_types::validation::{child, index, FieldError};
use k8s_openapi::api::core::v1::{
    Container, ContainerPort, EnvFromSource, EnvVar, VolumeDevice, VolumeMount,
};
use k8s_openapi::apimachinery::pkg::util::intstr::IntOrString;

use super::metadata::{invalid_each, is_config_map_key, validate_dns1123_label};
use super::pod_spec::{inclusive_range_error, opt};
use super::probes::{validate_lifecycle, validate_probe, ProbeKind};
use super::resources::{validate_resources, validate_security_context};

/// Valid volumes of the pod by name; `true` for block-capable sources (PVC, ephemeral).
pub type VolumeNames = BTreeMap<String, bool>;

/// Relaxed env var names are upstream's default since 1.32 (RelaxedEnvironmentVariableValidation).
const RELAXED_ENV_VAR_NAMES: bool = true;

const PROTOCOLS: &[&str] = &["SCTP", "TCP", "UDP"];

/// `IsValidPortNum`.
pub fn is_valid_port_num(port: i64) -> Vec<String> {
    if (1..=65535).contains(&port) {
        Vec::new()
    } else {
        vec![inclusive_range_error(1, 65535)]
    }
}

/// `IsValidPortName` (IANA service names: lowercase, a letter, no "--", at most 15).
pub fn is_valid_port_name(port: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if port.len() > 15 {
        errs.push("must be no more than 15 characters".to_string());
    }
    if port.is_empty()
        || !port
            .bytes()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == b'-')
    {
        errs.push(
            "must contain only alpha-numeric characters (a-z, 0-9), and hyphens (-)".to_string(),
        );
    }
    if !port.bytes().any(|c| c.is_ascii_lowercase()) {
        errs.push("must contain at least one letter (a-z)".to_string());
    }
    if port.contains("--") {
        errs.push("must not contain consecutive hyphens".to_string());
    }
    if port.starts_with('-') || port.ends_with('-') {
        errs.push("must not begin or end with a hyphen".to_string());
    }
    errs
}

/// `ValidatePortNumOrName` (probe ports, service targetPorts).
pub fn validate_port_num_or_name(port: &IntOrString, path: &str) -> Vec<FieldError> {
    match port {
        IntOrString::Int(n) => is_valid_port_num(i64::from(*n))
            .into_iter()
            .map(|m| FieldError::invalid(path, *n, m))
            .collect(),
        IntOrString::String(s) => invalid_each(path, s, is_valid_port_name(s)),
    }
}

/// `IsEnvVarName` (the strict rule before RelaxedEnvironmentVariableValidation).
pub fn is_env_var_name(name: &str) -> Vec<String> {
    let b = name.as_bytes();
    let ok = !b.is_empty()
        && !b[0].is_ascii_digit()
        && b.iter()
            .all(|&c| c.is_ascii_alphanumeric() || c == b'-' || c == b'.' || c == b'_');
    let mut errs = Vec::new();
    if !ok {
        errs.push("a valid environment variable name must consist of alphabetic characters, digits, '_', '-', or '.', and must not start with a digit (e.g. 'my.env-name',  or 'MY_ENV.NAME',  or 'MyEnvName1', regex used for validation is '[-._a-zA-Z][-._a-zA-Z0-9]*')".to_string());
    }
    match name {
        "." => errs.push("must not be '.'".to_string()),
        ".." => errs.push("must not be '..'".to_string()),
        n if n.starts_with("..") => errs.push("must not start with '..'".to_string()),
        _ => {}
    }
    errs
}

/// `IsRelaxedEnvVarName`: printable ASCII other than '='.
pub fn is_relaxed_env_var_name(name: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if name.is_empty() {
        errs.push("environment variable name must be non-empty".to_string());
    }
    if name.chars().any(|c| !(' '..='~').contains(&c) || c == '=') {
        errs.push("a valid environment variable name must consist only of printable ASCII characters other than '='".to_string());
    }
    errs
}

fn env_name_check(name: &str) -> Vec<String> {
    if RELAXED_ENV_VAR_NAMES {
        is_relaxed_env_var_name(name)
    } else {
        is_env_var_name(name)
    }
}

fn validate_ports(ports: &[ContainerPort], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, p) in ports.iter().enumerate() {
        let ip = index(path, i);
        let name = opt(&p.name);
        if !name.is_empty() {
            let msgs = is_valid_port_name(name);
            if !msgs.is_empty() {
                errs.extend(invalid_each(&child(&ip, "name"), name, msgs));
            } else if !names.insert(name) {
                errs.push(FieldError::duplicate(child(&ip, "name"), name));
            }
        }
        if p.container_port == 0 {
            errs.push(FieldError::required(child(&ip, "containerPort"), ""));
        } else {
            for m in is_valid_port_num(i64::from(p.container_port)) {
                errs.push(FieldError::invalid(
                    child(&ip, "containerPort"),
                    p.container_port,
                    m,
                ));
            }
        }
        if let Some(hp) = p.host_port.filter(|hp| *hp != 0) {
            for m in is_valid_port_num(i64::from(hp)) {
                errs.push(FieldError::invalid(child(&ip, "hostPort"), hp, m));
            }
        }
        match opt(&p.protocol) {
            "" => errs.push(FieldError::required(child(&ip, "protocol"), "")),
            proto if !PROTOCOLS.contains(&proto) => errs.push(FieldError::not_supported(
                child(&ip, "protocol"),
                proto,
                PROTOCOLS,
            )),
            _ => {}
        }
    }
    errs
}

/// `AccumulateUniqueHostPorts`: one protocol/hostIP/hostPort per pod.
fn host_port_conflicts(
    containers: &[&Container],
    seen: &mut BTreeSet<String>,
    path: &str,
    offset: usize,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (ci, c) in containers.iter().enumerate() {
        for (pi, p) in c.ports.iter().flatten().enumerate() {
            let Some(hp) = p.host_port.filter(|hp| *hp != 0) else {
                continue;
            };
            let id = format!("{}/{}/{}", opt(&p.protocol), opt(&p.host_ip), hp);
            if !seen.insert(id.clone()) {
                let pp = index(&child(&index(path, ci + offset), "ports"), pi);
                errs.push(FieldError::duplicate(child(&pp, "hostPort"), id));
            }
        }
    }
    errs
}

fn validate_key_selector(name: &str, key_: &str, path: &str) -> Vec<FieldError> {
    let mut errs = invalid_each(&child(path, "name"), name, is_dns1123_subdomain(name));
    if key_.is_empty() {
        errs.push(FieldError::required(child(path, "key"), ""));
    } else {
        errs.extend(invalid_each(
            &child(path, "key"),
            key_,
            is_config_map_key(key_),
        ));
    }
    errs
}

const ENV_FIELD_PATHS: &[&str] = &[
    "metadata.name",
    "metadata.namespace",
    "metadata.uid",
    "spec.nodeName",
    "spec.serviceAccountName",
    "status.hostIP",
    "status.hostIPs",
    "status.podIP",
    "status.podIPs",
];
const CONVERTIBLE_FIELD_PATHS: &[&str] = &[
    "metadata.annotations",
    "metadata.labels",
    "spec.restartPolicy",
    "spec.schedulerName",
    "status.phase",
];
const RESOURCE_FIELD_PATHS: &[&str] = &[
    "limits.cpu",
    "limits.ephemeral-storage",
    "limits.memory",
    "requests.cpu",
    "requests.ephemeral-storage",
    "requests.memory",
];

/// `validateObjectFieldSelector` for env vars (volumes pass their own allowed paths).
pub fn validate_field_ref(
    api_version: &str,
    field_path: &str,
    allowed: &[&str],
    path: &str,
) -> Vec<FieldError> {
    if api_version.is_empty() {
        return vec![FieldError::required(child(path, "apiVersion"), "")];
    }
    if field_path.is_empty() {
        return vec![FieldError::required(child(path, "fieldPath"), "")];
    }
    // Subscripted labels/annotations ("metadata.labels['x']") reduce to their map.
    let base = field_path.split_once('[').map_or(field_path, |(b, _)| b);
    if allowed.contains(&base)
        || (field_path != base && (base == "metadata.labels" || base == "metadata.annotations"))
    {
        return Vec::new();
    }
    if api_version != "v1"
        || !(ENV_FIELD_PATHS.contains(&base) || CONVERTIBLE_FIELD_PATHS.contains(&base))
    {
        return vec![FieldError::invalid(
            child(path, "fieldPath"),
            field_path,
            format!("error converting fieldPath: field label not supported: {field_path}"),
        )];
    }
    vec![FieldError::not_supported(
        child(path, "fieldPath"),
        base,
        allowed,
    )]
}

/// `validateContainerResourceFieldSelector`'s resource check.
pub fn validate_resource_field_ref(resource: &str, path: &str) -> Vec<FieldError> {
    if resource.is_empty() {
        vec![FieldError::required(child(path, "resource"), "")]
    } else if RESOURCE_FIELD_PATHS.contains(&resource)
        || resource.starts_with("limits.hugepages-")
        || resource.starts_with("requests.hugepages-")
    {
        Vec::new()
    } else {
        vec![FieldError::not_supported(
            child(path, "resource"),
            resource,
            RESOURCE_FIELD_PATHS,
        )]
    }
}

/// `ValidateEnv`.
pub fn validate_env(env: &[EnvVar], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in env.iter().enumerate() {
        let ip = index(path, i);
        if e.name.is_empty() {
            errs.push(FieldError::required(child(&ip, "name"), ""));
        } else {
            errs.extend(invalid_each(
                &child(&ip, "name"),
                &e.name,
                env_name_check(&e.name),
            ));
        }
        let Some(from) = &e.value_from else { continue };
        let fp = child(&ip, "valueFrom");
        let mut sources = 0;
        if let Some(f) = &from.field_ref {
            sources += 1;
            errs.extend(validate_field_ref(
                opt(&f.api_version),
                &f.field_path,
                ENV_FIELD_PATHS,
                &child(&fp, "fieldRef"),
            ));
        }
        if let Some(r) = &from.resource_field_ref {
            sources += 1;
            errs.extend(validate_resource_field_ref(
                &r.resource,
                &child(&fp, "resourceFieldRef"),
            ));
        }
        if let Some(c) = &from.config_map_key_ref {
            sources += 1;
            errs.extend(validate_key_selector(
                &c.name,
                &c.key,
                &child(&fp, "configMapKeyRef"),
            ));
        }
        if let Some(s) = &from.secret_key_ref {
            sources += 1;
            errs.extend(validate_key_selector(
                &s.name,
                &s.key,
                &child(&fp, "secretKeyRef"),
            ));
        }
        if sources == 0 {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "must specify one of: `fieldRef`, `resourceFieldRef`, `configMapKeyRef` or `secretKeyRef`",
            ));
        } else if !opt(&e.value).is_empty() {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "may not be specified when `value` is not empty",
            ));
        } else if sources > 1 {
            errs.push(FieldError::invalid(
                &fp,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

fn validate_env_from(env_from: &[EnvFromSource], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (i, e) in env_from.iter().enumerate() {
        let ip = index(path, i);
        let prefix = opt(&e.prefix);
        if !prefix.is_empty() {
            errs.extend(invalid_each(
                &child(&ip, "prefix"),
                prefix,
                env_name_check(prefix),
            ));
        }
        let refs = [
            ("configMapRef", e.config_map_ref.as_ref().map(|r| &r.name)),
            ("secretRef", e.secret_ref.as_ref().map(|r| &r.name)),
        ];
        let mut sources = 0;
        for (field, name) in refs {
            let Some(name) = name else { continue };
            sources += 1;
            let np = child(&child(&ip, field), "name");
            if name.is_empty() {
                errs.push(FieldError::required(np, ""));
            } else {
                errs.extend(invalid_each(&np, name, is_dns1123_subdomain(name)));
            }
        }
        if sources == 0 {
            errs.push(FieldError::invalid(
                path,
                "",
                "must specify one of: `configMapRef` or `secretRef`",
            ));
        } else if sources > 1 {
            errs.push(FieldError::invalid(
                path,
                "",
                "may not have more than one field specified at a time",
            ));
        }
    }
    errs
}

/// `validateLocalDescendingPath`: relative, no `..` element.
pub fn validate_local_descending_path(p: &str, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if p.starts_with('/') {
        errs.push(FieldError::invalid(path, p, "must be a relative path"));
    }
    errs.extend(validate_no_backsteps(p, path));
    errs
}

/// `validatePathNoBacksteps`.
pub fn validate_no_backsteps(p: &str, path: &str) -> Vec<FieldError> {
    if p.split('/').any(|part| part == "..") {
        vec![FieldError::invalid(path, p, "must not contain '..'")]
    } else {
        Vec::new()
    }
}

fn validate_volume_mounts(
    mounts: &[VolumeMount],
    devices: &[VolumeDevice],
    vols: &VolumeNames,
    privileged: bool,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut points = BTreeSet::new();
    for (i, m) in mounts.iter().enumerate() {
        let ip = index(path, i);
        if m.name.is_empty() {
            errs.push(FieldError::required(child(&ip, "name"), ""));
        }
        if !vols.contains_key(&m.name) {
            errs.push(FieldError::not_found(child(&ip, "name"), m.name.as_str()));
        }
        if m.mount_path.is_empty() {
            errs.push(FieldError::required(child(&ip, "mountPath"), ""));
        }
        if !points.insert(m.mount_path.as_str()) {
            errs.push(FieldError::invalid(
                child(&ip, "mountPath"),
                m.mount_path.as_str(),
                "must be unique",
            ));
        }
        if devices.iter().any(|d| d.name == m.name) {
            errs.push(FieldError::invalid(
                child(&ip, "name"),
                m.name.as_str(),
                "must not already exist in volumeDevices",
            ));
        }
        if devices.iter().any(|d| d.device_path == m.mount_path) {
            errs.push(FieldError::invalid(
                child(&ip, "mountPath"),
                m.mount_path.as_str(),
                "must not already exist as a path in volumeDevices",
            ));
        }
        // Upstream reports these at the list path, not the item: kept for fidelity.
        let sub = opt(&m.sub_path);
        if !sub.is_empty() {
            errs.extend(validate_local_descending_path(sub, &child(path, "subPath")));
        }
        let expr = opt(&m.sub_path_expr);
        if !expr.is_empty() {
            if !sub.is_empty() {
                errs.push(FieldError::invalid(
                    child(&ip, "subPathExpr"),
                    expr,
                    "subPathExpr and subPath are mutually exclusive",
                ));
            }
            errs.extend(validate_local_descending_path(
                expr,
                &child(path, "subPathExpr"),
            ));
        }
        match m.mount_propagation.as_deref() {
            None | Some("None") | Some("HostToContainer") => {}
            Some("Bidirectional") if privileged => {}
            Some("Bidirectional") => errs.push(FieldError::forbidden(
                child(path, "mountPropagation"),
                "Bidirectional mount propagation is available only to privileged containers",
            )),
            Some(other) => errs.push(FieldError::not_supported(
                child(path, "mountPropagation"),
                other,
                &["Bidirectional", "HostToContainer", "None"],
            )),
        }
    }
    errs
}

fn validate_volume_devices(
    devices: &[VolumeDevice],
    mounts: &[VolumeMount],
    vols: &VolumeNames,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (mut names, mut paths) = (BTreeSet::new(), BTreeSet::new());
    for (i, d) in devices.iter().enumerate() {
        let ip = index(path, i);
        let (np, dp) = (child(&ip, "name"), child(&ip, "devicePath"));
        if d.name.is_empty() {
            errs.push(FieldError::required(&np, ""));
        }
        if names.contains(&d.name) {
            errs.push(FieldError::invalid(&np, d.name.as_str(), "must be unique"));
        }
        match vols.get(&d.name) {
            Some(false) => errs.push(FieldError::invalid(
                &np,
                d.name.as_str(),
                "can only use volume source type of PersistentVolumeClaim or Ephemeral for block mode",
            )),
            Some(true) => {}
            None => errs.push(FieldError::not_found(&np, d.name.as_str())),
        }
        if d.device_path.is_empty() {
            errs.push(FieldError::required(&dp, ""));
        }
        if paths.contains(&d.device_path) {
            errs.push(FieldError::invalid(
                &dp,
                d.device_path.as_str(),
                "must be unique",
            ));
        }
        if d.device_path.split('/').any(|p| p == "..") {
            errs.push(FieldError::invalid(
                &dp,
                d.device_path.as_str(),
                "can not contain backsteps ('..')",
            ));
        } else {
            paths.insert(d.device_path.clone());
        }
        if mounts.iter().any(|m| m.name == d.name) {
            errs.push(FieldError::invalid(
                &np,
                d.name.as_str(),
                "must not already exist in volumeMounts",
            ));
        }
        if mounts.iter().any(|m| m.mount_path == d.device_path) {
            errs.push(FieldError::invalid(
                &dp,
                d.device_path.as_str(),
                "must not already exist as a path in volumeMounts",
            ));
        }
        if !d.name.is_empty() {
            names.insert(d.name.clone());
        }
    }
    errs
}

/// `validateContainerCommon`.
fn validate_container_common(c: &Container, vols: &VolumeNames, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    if c.name.is_empty() {
        errs.push(FieldError::required(child(path, "name"), ""));
    } else {
        errs.extend(validate_dns1123_label(&c.name, &child(path, "name")));
    }
    if opt(&c.image).is_empty() {
        errs.push(FieldError::required(child(path, "image"), ""));
    }
    match opt(&c.termination_message_policy) {
        "File" | "FallbackToLogsOnError" => {}
        "" => errs.push(FieldError::required(
            child(path, "terminationMessagePolicy"),
            "",
        )),
        other => errs.push(FieldError::not_supported(
            child(path, "terminationMessagePolicy"),
            other,
            &["File", "FallbackToLogsOnError"],
        )),
    }
    let mounts = c.volume_mounts.as_deref().unwrap_or_default();
    let devices = c.volume_devices.as_deref().unwrap_or_default();
    let privileged = c.security_context.as_ref().and_then(|s| s.privileged) == Some(true);
    errs.extend(validate_ports(
        c.ports.as_deref().unwrap_or_default(),
        &child(path, "ports"),
    ));
    errs.extend(validate_env(
        c.env.as_deref().unwrap_or_default(),
        &child(path, "env"),
    ));
    errs.extend(validate_env_from(
        c.env_from.as_deref().unwrap_or_default(),
        &child(path, "envFrom"),
    ));
    errs.extend(validate_volume_mounts(
        mounts,
        devices,
        vols,
        privileged,
        &child(path, "volumeMounts"),
    ));
    errs.extend(validate_volume_devices(
        devices,
        mounts,
        vols,
        &child(path, "volumeDevices"),
    ));
    match opt(&c.image_pull_policy) {
        "Always" | "IfNotPresent" | "Never" => {}
        "" => errs.push(FieldError::required(child(path, "imagePullPolicy"), "")),
        other => errs.push(FieldError::not_supported(
            child(path, "imagePullPolicy"),
            other,
            &["Always", "IfNotPresent", "Never"],
        )),
    }
    errs.extend(validate_resources(
        &c.resources.clone().unwrap_or_default(),
        &child(path, "resources"),
    ));
    errs.extend(validate_security_context(
        c.security_context.as_ref(),
        &child(path, "securityContext"),
    ));
    errs
}

/// `validateContainers`: at least one, unique names, probes, host ports.
pub fn validate_containers(
    containers: &[Container],
    vols: &VolumeNames,
    grace: Option<i64>,
    path: &str,
) -> Vec<FieldError> {
    if containers.is_empty() {
        return vec![FieldError::required(path, "")];
    }
    let mut errs = Vec::new();
    let mut names = BTreeSet::new();
    for (i, c) in containers.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, vols, &p));
        if !names.insert(c.name.as_str()) {
            errs.push(FieldError::duplicate(child(&p, "name"), c.name.as_str()));
        }
        if let Some(l) = &c.lifecycle {
            errs.extend(validate_lifecycle(l, grace, &child(&p, "lifecycle")));
        }
        errs.extend(validate_probe(
            c.liveness_probe.as_ref(),
            ProbeKind::Liveness,
            &child(&p, "livenessProbe"),
        ));
        errs.extend(validate_probe(
            c.readiness_probe.as_ref(),
            ProbeKind::Readiness,
            &child(&p, "readinessProbe"),
        ));
        errs.extend(validate_probe(
            c.startup_probe.as_ref(),
            ProbeKind::Startup,
            &child(&p, "startupProbe"),
        ));
        if c.restart_policy.is_some() {
            errs.push(FieldError::forbidden(
                child(&p, "restartPolicy"),
                "may not be set for non-init containers",
            ));
        }
    }
    let all: Vec<&Container> = containers.iter().collect();
    errs.extend(host_port_conflicts(&all, &mut BTreeSet::new(), path, 0));
    errs
}

/// `validateInitContainers`: names unique across init and regular containers; probes
/// and hooks only on restartable (sidecar) init containers.
pub fn validate_init_containers(
    init: &[Container],
    regular: &[Container],
    vols: &VolumeNames,
    grace: Option<i64>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut names: BTreeSet<&str> = regular.iter().map(|c| c.name.as_str()).collect();
    for (i, c) in init.iter().enumerate() {
        let p = index(path, i);
        errs.extend(validate_container_common(c, vols, &p));
        let mut sidecar = false;
        if let Some(rp) = c.restart_policy.as_deref() {
            if rp == "Always" {
                sidecar = true;
            } else {
                errs.push(FieldError::not_supported(
                    child(&p, "restartPolicy"),
                    rp,
                    &["Always"],
                ));
            }
        }
        if names.contains(c.name.as_str()) {
            errs.push(FieldError::duplicate(child(&p, "name"), c.name.as_str()));
        } else if !c.name.is_empty() {
            names.insert(c.name.as_str());
        }
        // Init containers run one at a time: host ports only conflict within one.
        errs.extend(host_port_conflicts(&[c], &mut BTreeSet::new(), path, i));
        if sidecar {
            if let Some(l) = &c.lifecycle {
                errs.extend(validate_lifecycle(l, grace, &child(&p, "lifecycle")));
            }
            errs.extend(validate_probe(
                c.liveness_probe.as_ref(),
                ProbeKind::Liveness,
                &child(&p, "livenessProbe"),
            ));
            errs.extend(validate_probe(
                c.readiness_probe.as_ref(),
                ProbeKind::Readiness,
                &child(&p, "readinessProbe"),
            ));
            errs.extend(validate_probe(
                c.startup_probe.as_ref(),
                ProbeKind::Startup,
                &child(&p, "startupProbe"),
            ));
        } else {
            let without = "may not be set for init containers without restartPolicy=Always";
            if c.lifecycle.is_some() {
                errs.push(FieldError::forbidden(child(&p, "lifecycle"), without));
            }
            if c.liveness_probe.is_some() {
                errs.push(FieldError::forbidden(child(&p, "livenessProbe"), without));
            }
            if c.readiness_probe.is_some() {
                errs.push(FieldError::forbidden(
                    child(&p, "readinessProbe"),
                    "may not be set for init containers",
                ));
            }
            if c.startup_probe.is_some() {
                errs.push(FieldError::forbidden(child(&p, "startupProbe"), without));
            }
        }
        if c.resize_policy.as_ref().is_some_and(|r| !r.is_empty()) {
            let shown = serde_json::to_value(&c.resize_policy).unwrap_or_default();
            errs.push(FieldError::invalid(
                child(&p, "resizePolicy"),
                shown,
                "must not be set for init containers",
            ));
        }
    }
    errs
}
