//! The downward API's values (upstream `fieldpath.ExtractFieldPathAsString`,
//! `podFieldSelectorRuntimeValue`, `containerResourceRuntimeValue`): pod fields for env
//! `fieldRef` and downwardAPI volume items, container resources for `resourceFieldRef`.
//! Pure; messages are upstream's.

use std::collections::BTreeMap;

use k8s_openapi::api::core::v1::{Container, ObjectFieldSelector, Pod, ResourceFieldSelector};

use super::containers::scaled_ceil;
use super::env::{namespace, EnvError, PodRuntimeInfo, Result};

/// Go's `%q` for the label/annotation map format (printable ASCII kept, the rest escaped).
fn go_quote(s: &str) -> String {
    let mut out = String::from("\"");
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            c if c.is_control() => out.push_str(&format!("\\x{:02x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// Upstream `fieldpath.FormatMap`: sorted `key="value"` lines.
pub fn format_map(m: &BTreeMap<String, String>) -> String {
    m.iter()
        .map(|(k, v)| format!("{k}={}", go_quote(v)))
        .collect::<Vec<_>>()
        .join("\n")
}

/// `metadata.labels['key']` -> ("metadata.labels", "key").
fn split_subscript(path: &str) -> Option<(&str, &str)> {
    let open = path.find("['")?;
    let key = path[open + 2..].strip_suffix("']")?;
    Some((&path[..open], key))
}

/// Upstream `ExtractFieldPathAsString` for the metadata fields (volumes and env).
pub fn metadata_field(pod: &Pod, path: &str) -> Result<String> {
    let m = &pod.metadata;
    let empty = BTreeMap::new();
    if let Some((map, key)) = split_subscript(path) {
        let source = match map {
            "metadata.labels" => m.labels.as_ref(),
            "metadata.annotations" => m.annotations.as_ref(),
            _ => return Err(EnvError(format!("unsupported fieldPath: {path}"))),
        };
        return Ok(source
            .unwrap_or(&empty)
            .get(key)
            .cloned()
            .unwrap_or_default());
    }
    Ok(match path {
        "metadata.name" => m.name.clone().unwrap_or_default(),
        "metadata.namespace" => namespace(pod).to_string(),
        "metadata.uid" => m.uid.clone().unwrap_or_default(),
        "metadata.labels" => format_map(m.labels.as_ref().unwrap_or(&empty)),
        "metadata.annotations" => format_map(m.annotations.as_ref().unwrap_or(&empty)),
        _ => return Err(EnvError(format!("unsupported fieldPath: {path}"))),
    })
}

/// Upstream `podFieldSelectorRuntimeValue`: spec and status fields, then metadata.
pub fn field_value(pod: &Pod, f: &ObjectFieldSelector, info: &PodRuntimeInfo) -> Result<String> {
    let spec = pod.spec.as_ref();
    Ok(match f.field_path.as_str() {
        "spec.nodeName" => spec.and_then(|s| s.node_name.clone()).unwrap_or_default(),
        "spec.serviceAccountName" => spec
            .and_then(|s| s.service_account_name.clone())
            .unwrap_or_default(),
        "status.hostIP" => info.host_ips.first().cloned().unwrap_or_default(),
        "status.hostIPs" => info.host_ips.join(","),
        "status.podIP" => info.pod_ips.first().cloned().unwrap_or_default(),
        "status.podIPs" => info.pod_ips.join(","),
        path => metadata_field(pod, path)?,
    })
}

/// Upstream `containerResourceRuntimeValue` with `defaultPodLimitsForDownwardAPI`: an
/// unset limit is the node's allocatable; the value is rounded up in divisor units.
pub fn resource_value(
    pod: &Pod,
    container: &Container,
    r: &ResourceFieldSelector,
    info: &PodRuntimeInfo,
) -> Result<String> {
    let target = match r.container_name.as_deref().filter(|n| !n.is_empty()) {
        Some(name) => pod
            .spec
            .as_ref()
            .and_then(|s| {
                s.containers
                    .iter()
                    .chain(s.init_containers.iter().flatten())
                    .find(|c| c.name == name)
            })
            .ok_or_else(|| EnvError(format!("container {name} not found")))?,
        None => container,
    };
    let resources = target.resources.as_ref();
    let (which, name) = r
        .resource
        .split_once('.')
        .ok_or_else(|| EnvError(format!("unsupported container resource : {}", r.resource)))?;
    let map = match which {
        "limits" => resources.and_then(|r| r.limits.as_ref()),
        "requests" => resources.and_then(|r| r.requests.as_ref()),
        _ => {
            return Err(EnvError(format!(
                "unsupported container resource : {}",
                r.resource
            )))
        }
    };
    let bad = |what: &str| EnvError(format!("invalid quantity for {}: {what}", r.resource));
    let divisor = r.divisor.as_ref().filter(|d| {
        // A zero divisor means "1" upstream.
        scaled_ceil(d, -9).is_some_and(|v| v != 0)
    });
    match name {
        "cpu" => {
            let milli = match map.and_then(|m| m.get("cpu")) {
                Some(q) => scaled_ceil(q, -3).ok_or_else(|| bad(&q.0))?,
                None if which == "limits" => info.node_allocatable_milli_cpu,
                None => 0,
            };
            let div = match divisor {
                Some(d) => scaled_ceil(d, -3).ok_or_else(|| bad(&d.0))?,
                None => 1000,
            };
            Ok(ceil_div(milli, div).to_string())
        }
        "memory" | "ephemeral-storage" => {
            let value = match map.and_then(|m| m.get(name)) {
                Some(q) => scaled_ceil(q, 0).ok_or_else(|| bad(&q.0))?,
                None if which == "limits" && name == "memory" => info.node_allocatable_memory,
                None => 0,
            };
            let div = match divisor {
                Some(d) => scaled_ceil(d, 0).ok_or_else(|| bad(&d.0))?,
                None => 1,
            };
            Ok(ceil_div(value, div).to_string())
        }
        _ => Err(EnvError(format!(
            "unsupported container resource : {}",
            r.resource
        ))),
    }
}

fn ceil_div(a: i64, b: i64) -> i64 {
    if b <= 0 {
        return 0;
    }
    a / b + i64::from(a % b != 0 && a > 0)
}
