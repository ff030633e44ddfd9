//! Container resources and security context: resource names, quantities, requests <=
//! limits (upstream's ValidateContainerResourceRequirements), and the id ranges and
//! privilege rules of ValidateSecurityContext.

use std::cmp::Ordering;
use std::collections::BTreeMap;

use api_types::names::is_qualified_name;
use api_types::validation::{child, key, FieldError};
use k8s_openapi::api::core::v1::{ResourceRequirements, SecurityContext};

use super::metadata::invalid_each;
use super::pod_spec::{inclusive_range_error, MAX_INT32};
use super::quantity::parse_quantity;

fn is_native(name: &str) -> bool {
    !name.contains('/') || name.contains("kubernetes.io/")
}

fn is_extended(name: &str) -> bool {
    !is_native(name)
        && !name.starts_with("requests.")
        && is_qualified_name(&format!("requests.{name}")).is_empty()
}

fn validate_container_resource_name(name: &str, path: &str) -> Vec<FieldError> {
    let errs = invalid_each(path, name, is_qualified_name(name));
    if !errs.is_empty() {
        return errs;
    }
    let standard =
        ["cpu", "memory", "ephemeral-storage"].contains(&name) || name.starts_with("hugepages-");
    if !name.contains('/') {
        if !standard {
            return vec![FieldError::invalid(
                path,
                name,
                "must be a standard resource for containers",
            )];
        }
    } else if !is_native(name) && !is_extended(name) {
        return vec![FieldError::invalid(
            path,
            name,
            "doesn't follow extended resource name standard",
        )];
    }
    Vec::new()
}

/// `ValidateContainerResourceRequirements`: names, quantities, requests <= limits.
pub fn validate_resources(res: &ResourceRequirements, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let (lim_path, req_path) = (child(path, "limits"), child(path, "requests"));
    let limits = res.limits.clone().unwrap_or_default();
    let mut parsed_limits = BTreeMap::new();
    for (sets, base, is_req) in [
        (&limits, &lim_path, false),
        (&res.requests.clone().unwrap_or_default(), &req_path, true),
    ] {
        for (name, q) in sets {
            let kp = key(base, name);
            errs.extend(validate_container_resource_name(name, &kp));
            let parsed = match parse_quantity(&q.0) {
                Ok(p) => p,
                Err(e) => {
                    errs.push(FieldError::invalid(&kp, q.0.as_str(), e));
                    continue;
                }
            };
            if parsed.is_negative() {
                errs.push(FieldError::invalid(
                    &kp,
                    parsed.canonical(),
                    "must be greater than or equal to 0",
                ));
            }
            if is_extended(name) && !parsed.is_integer() {
                errs.push(FieldError::invalid(
                    &kp,
                    parsed.canonical(),
                    "must be an integer",
                ));
            }
            if !is_req {
                parsed_limits.insert(name.clone(), parsed);
                continue;
            }
            let overcommit = is_native(name) && !name.starts_with("hugepages-");
            match parsed_limits.get(name) {
                Some(lim) if !overcommit && parsed.cmp_value(lim) != Ordering::Equal => {
                    errs.push(FieldError::invalid(
                        &req_path,
                        parsed.canonical(),
                        format!("must be equal to {name} limit of {}", lim.canonical()),
                    ))
                }
                Some(lim) if parsed.cmp_value(lim) == Ordering::Greater => {
                    errs.push(FieldError::invalid(
                        &req_path,
                        parsed.canonical(),
                        format!(
                            "must be less than or equal to {name} limit of {}",
                            lim.canonical()
                        ),
                    ))
                }
                Some(_) => {}
                None if !overcommit && !limits.contains_key(name) => {
                    errs.push(FieldError::required(
                        &lim_path,
                        "Limit must be set for non overcommitable resources",
                    ))
                }
                None => {}
            }
        }
    }
    errs
}

/// `ValidateSecurityContext` (user / group ids, privilege escalation).
pub fn validate_security_context(sc: Option<&SecurityContext>, path: &str) -> Vec<FieldError> {
    let Some(sc) = sc else { return Vec::new() };
    let mut errs = Vec::new();
    for (field, v) in [
        ("runAsUser", sc.run_as_user),
        ("runAsGroup", sc.run_as_group),
    ] {
        if let Some(v) = v.filter(|v| !(0..=MAX_INT32).contains(v)) {
            errs.push(FieldError::invalid(
                child(path, field),
                v,
                inclusive_range_error(0, MAX_INT32),
            ));
        }
    }
    if sc.allow_privilege_escalation == Some(false) {
        // Upstream prints the whole security context with %#v; JSON is shown instead.
        let shown = serde_json::to_value(sc).unwrap_or_default();
        if sc.privileged == Some(true) {
            errs.push(FieldError::invalid(
                path,
                shown.clone(),
                "cannot set `allowPrivilegeEscalation` to false and `privileged` to true",
            ));
        }
        let adds = sc.capabilities.as_ref().and_then(|c| c.add.as_ref());
        if adds.into_iter().flatten().any(|c| c == "CAP_SYS_ADMIN") {
            errs.push(FieldError::invalid(path, shown, "cannot set `allowPrivilegeEscalation` to false and `capabilities.Add` CAP_SYS_ADMIN"));
        }
    }
    errs
}
