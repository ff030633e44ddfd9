//! ObjectMeta validation shared by every kind (upstream's apimachinery
//! `ValidateObjectMeta` / `ValidateObjectMetaUpdate` plus core's finalizer rule), the
//! small field checks the kind strategies share, and [`MetadataOnlyStrategy`] for kinds
//! with no strategy of their own.
//!
//! Upstream prints some bad values with Go's `%#v` (maps, structs). `FieldError` shows a
//! JSON value, so for those the Go rendering is carried in the detail ([`invalid_go`]),
//! which keeps the message byte-for-byte upstream's.

use std::collections::{BTreeMap, BTreeSet};

use api_types::names::{
    is_dns1123_label, is_dns1123_subdomain, is_qualified_name, is_valid_label_value,
};
use api_types::validation::{child, index, FieldError, FieldErrorType};
use api_types::DynamicObject;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    LabelSelector, ObjectMeta, OwnerReference, Time,
};

use super::Strategy;

pub const TOTAL_ANNOTATION_SIZE_LIMIT: usize = 256 * 1024;
pub const FIELD_IMMUTABLE: &str = "field is immutable";
pub const IS_NEGATIVE_ERROR: &str = "must be greater than or equal to 0";
/// Finalizers that may be written without a domain prefix on core kinds.
pub const STANDARD_FINALIZERS: &[&str] = &["kubernetes", "orphan", "foregroundDeletion"];

/// A name check: the problems with a name, empty when it is valid.
pub type NameCheck = fn(&str) -> Vec<String>;

/// `generateName` may end in '-' (random characters follow): check it as if it did not.
pub fn mask_trailing_dash(name: &str) -> String {
    match name.strip_suffix('-') {
        Some(rest) => format!("{rest}a"),
        None => name.to_string(),
    }
}

/// Whether a value is "unset" the way Go's zero value is (absent or empty).
fn is_empty(s: &Option<String>) -> bool {
    s.as_deref().unwrap_or("").is_empty()
}

/// Builds an Invalid error whose value upstream prints with `%#v`.
pub fn invalid_go(field: impl Into<String>, rendered: &str, detail: &str) -> FieldError {
    let detail = if detail.is_empty() {
        rendered.to_string()
    } else {
        format!("{rendered}: {detail}")
    };
    FieldError {
        kind: FieldErrorType::Invalid,
        field: field.into(),
        value: None,
        detail,
    }
}

/// Builds a Duplicate error whose value upstream prints with `%#v`.
pub fn duplicate_go(field: impl Into<String>, rendered: &str) -> FieldError {
    FieldError {
        kind: FieldErrorType::Duplicate,
        field: field.into(),
        value: None,
        detail: rendered.to_string(),
    }
}

/// Builds a NotSupported error whose value upstream prints with `%#v`.
pub fn not_supported_go(
    field: impl Into<String>,
    rendered: &str,
    supported: &[&str],
) -> FieldError {
    let list = supported
        .iter()
        .map(|s| format!("\"{s}\""))
        .collect::<Vec<_>>()
        .join(", ");
    FieldError {
        kind: FieldErrorType::NotSupported,
        field: field.into(),
        value: None,
        detail: format!("{rendered}: supported values: {list}"),
    }
}

/// Go's `strconv.Quote`.
pub fn go_quote(s: &str) -> String {
    let mut out = String::with_capacity(s.len() + 2);
    out.push('"');
    for c in s.chars() {
        match c {
            '"' => out.push_str("\\\""),
            '\\' => out.push_str("\\\\"),
            '\n' => out.push_str("\\n"),
            '\t' => out.push_str("\\t"),
            '\r' => out.push_str("\\r"),
            '\u{7}' => out.push_str("\\a"),
            '\u{8}' => out.push_str("\\b"),
            '\u{c}' => out.push_str("\\f"),
            '\u{b}' => out.push_str("\\v"),
            c if (c as u32) < 0x20 || c as u32 == 0x7f => {
                out.push_str(&format!("\\x{:02x}", c as u32))
            }
            c if c.is_control() => out.push_str(&format!("\\u{:04x}", c as u32)),
            c => out.push(c),
        }
    }
    out.push('"');
    out
}

/// `%#v` of a `map[string]string`.
pub fn go_string_map(m: Option<&BTreeMap<String, String>>) -> String {
    match m {
        None => "map[string]string(nil)".to_string(),
        Some(m) => {
            let items: Vec<String> = m
                .iter()
                .map(|(k, v)| format!("{}:{}", go_quote(k), go_quote(v)))
                .collect();
            format!("map[string]string{{{}}}", items.join(", "))
        }
    }
}

/// `%#v` of a `[]string`.
pub fn go_string_slice(v: Option<&[String]>) -> String {
    match v {
        None => "[]string(nil)".to_string(),
        Some(v) => format!(
            "[]string{{{}}}",
            v.iter().map(|s| go_quote(s)).collect::<Vec<_>>().join(", ")
        ),
    }
}

/// `%#v` of a `metav1.LabelSelector` (as in "spec.selector: Invalid value: v1.LabelSelector{...}").
pub fn go_label_selector(sel: Option<&LabelSelector>) -> String {
    let Some(sel) = sel else {
        return "(*v1.LabelSelector)(nil)".to_string();
    };
    let exprs = match &sel.match_expressions {
        None => "[]v1.LabelSelectorRequirement(nil)".to_string(),
        Some(list) => {
            let items: Vec<String> = list
                .iter()
                .map(|r| {
                    format!(
                        "v1.LabelSelectorRequirement{{Key:{}, Operator:{}, Values:{}}}",
                        go_quote(&r.key),
                        go_quote(&r.operator),
                        go_string_slice(r.values.as_deref())
                    )
                })
                .collect();
            format!("[]v1.LabelSelectorRequirement{{{}}}", items.join(", "))
        }
    };
    format!(
        "v1.LabelSelector{{MatchLabels:{}, MatchExpressions:{}}}",
        go_string_map(sel.match_labels.as_ref()),
        exprs
    )
}

/// `%#v` of an optional bool pointer (addresses cannot be reproduced; print the value).
fn go_bool_ptr(b: Option<bool>) -> String {
    match b {
        None => "(*bool)(nil)".to_string(),
        Some(b) => format!("&{b}"),
    }
}

fn go_owner_reference(r: &OwnerReference) -> String {
    format!(
        "v1.OwnerReference{{APIVersion:{}, Kind:{}, Name:{}, UID:{}, Controller:{}, BlockOwnerDeletion:{}}}",
        go_quote(&r.api_version),
        go_quote(&r.kind),
        go_quote(&r.name),
        go_quote(&r.uid),
        go_bool_ptr(r.controller),
        go_bool_ptr(r.block_owner_deletion)
    )
}

/// Go's `time.Time.String()` for a metav1.Time (UTC, as stored).
pub fn go_time(t: Option<&Time>) -> String {
    match t {
        None => "0001-01-01 00:00:00 +0000 UTC".to_string(),
        Some(t) => t.0.strftime("%Y-%m-%d %H:%M:%S +0000 UTC").to_string(),
    }
}

/// Each message of a name/format check as an Invalid error on `path`.
pub fn invalid_each(path: &str, value: &str, msgs: Vec<String>) -> Vec<FieldError> {
    msgs.into_iter()
        .map(|m| FieldError::invalid(path, value, m))
        .collect()
}

pub fn validate_dns1123_label(value: &str, path: &str) -> Vec<FieldError> {
    invalid_each(path, value, is_dns1123_label(value))
}

pub fn validate_dns1123_subdomain(value: &str, path: &str) -> Vec<FieldError> {
    invalid_each(path, value, is_dns1123_subdomain(value))
}

pub fn validate_qualified_name(value: &str, path: &str) -> Vec<FieldError> {
    invalid_each(path, value, is_qualified_name(value))
}

/// `IsConfigMapKey`: ConfigMap / Secret data keys and key selectors.
pub fn is_config_map_key(k: &str) -> Vec<String> {
    let mut errs = Vec::new();
    if k.len() > 253 {
        errs.push("must be no more than 253 characters".to_string());
    }
    if k.is_empty()
        || !k
            .bytes()
            .all(|c| c.is_ascii_alphanumeric() || c == b'-' || c == b'_' || c == b'.')
    {
        errs.push("a valid config key must consist of alphanumeric characters, '-', '_' or '.' (e.g. 'key.name',  or 'KEY_NAME',  or 'key-name', regex used for validation is '[-._a-zA-Z0-9]+')".to_string());
    }
    match k {
        "." => errs.push("must not be '.'".to_string()),
        ".." => errs.push("must not be '..'".to_string()),
        _ if k.starts_with("..") => errs.push("must not start with '..'".to_string()),
        _ => {}
    }
    errs
}

/// `ValidateNonnegativeField`.
pub fn validate_nonnegative(value: i64, path: &str) -> Vec<FieldError> {
    if value < 0 {
        vec![FieldError::invalid(path, value, IS_NEGATIVE_ERROR)]
    } else {
        Vec::new()
    }
}

/// Label keys (qualified names) and values, all reported at `path` as upstream does.
pub fn validate_labels(labels: Option<&BTreeMap<String, String>>, path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for (k, v) in labels.into_iter().flatten() {
        errs.extend(validate_qualified_name(k, path));
        errs.extend(invalid_each(path, v, is_valid_label_value(v)));
    }
    errs
}

/// Annotation keys (qualified names, any case) and the 256 KiB total.
pub fn validate_annotations(
    annotations: Option<&BTreeMap<String, String>>,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut total = 0usize;
    for (k, v) in annotations.into_iter().flatten() {
        errs.extend(invalid_each(path, k, is_qualified_name(&k.to_lowercase())));
        total = total.saturating_add(k.len()).saturating_add(v.len());
    }
    if total > TOTAL_ANNOTATION_SIZE_LIMIT {
        errs.push(FieldError::too_long(path, TOTAL_ANNOTATION_SIZE_LIMIT));
    }
    errs
}

/// apimachinery's `ValidateFinalizers`: qualified names, not both orphan and foreground.
pub fn validate_finalizers(finalizers: &[String], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in finalizers {
        errs.extend(validate_qualified_name(f, path));
    }
    if finalizers.iter().any(|f| f == "orphan")
        && finalizers.iter().any(|f| f == "foregroundDeletion")
    {
        errs.push(invalid_go(
            path,
            &go_string_slice(Some(finalizers)),
            "finalizer orphan and foregroundDeletion cannot be both set",
        ));
    }
    errs
}

/// Core's extra finalizer rule: without a domain prefix only the standard names are allowed.
pub fn validate_kube_finalizer_name(name: &str, path: &str) -> Vec<FieldError> {
    if !name.contains('/') && !STANDARD_FINALIZERS.contains(&name) {
        return vec![FieldError::invalid(
            path,
            name,
            "name is neither a standard finalizer name nor is it fully qualified",
        )];
    }
    Vec::new()
}

/// Splits an apiVersion as `schema.ParseGroupVersion` does; `None` when malformed.
fn parse_group_version(api_version: &str) -> Option<(&str, &str)> {
    if api_version.is_empty() {
        return Some(("", ""));
    }
    match api_version.split('/').collect::<Vec<_>>().as_slice() {
        [v] => Some(("", v)),
        [g, v] => Some((g, v)),
        _ => None,
    }
}

/// `ValidateOwnerReferences`: fields set, Events never owners, one controller at most.
pub fn validate_owner_references(refs: &[OwnerReference], path: &str) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let mut first_controller: Option<String> = None;
    for r in refs {
        let (group, version) = parse_group_version(&r.api_version).unwrap_or(("", ""));
        if version.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "apiVersion"),
                r.api_version.as_str(),
                "version must not be empty",
            ));
        }
        if r.kind.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "kind"),
                "",
                "must not be empty",
            ));
        }
        if r.name.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "name"),
                "",
                "must not be empty",
            ));
        }
        if r.uid.is_empty() {
            errs.push(FieldError::invalid(
                child(path, "uid"),
                "",
                "must not be empty",
            ));
        }
        if group.is_empty() && version == "v1" && r.kind == "Event" {
            errs.push(invalid_go(
                path,
                &go_owner_reference(r),
                "/v1, Kind=Event is disallowed from being an owner",
            ));
        }
        if r.controller == Some(true) {
            let this = format!("{}/{}", r.kind, r.name);
            match &first_controller {
                Some(first) => {
                    let all = refs
                        .iter()
                        .map(go_owner_reference)
                        .collect::<Vec<_>>()
                        .join(", ");
                    errs.push(invalid_go(
                        path,
                        &format!("[]v1.OwnerReference{{{all}}}"),
                        &format!("Only one reference can have Controller set to true. Found \"true\" in references for {first} and {this}"),
                    ));
                }
                None => first_controller = Some(this),
            }
        }
    }
    errs
}

/// apimachinery's `ValidateObjectMeta` (custom resources use this one).
pub fn validate_object_meta_generic(
    meta: &ObjectMeta,
    namespaced: bool,
    name_check: NameCheck,
    path: &str,
) -> Vec<FieldError> {
    // Field paths are only built for fields that have something to report: the checks
    // below find nothing in absent, empty or valid fields.
    let mut errs = Vec::new();
    if let Some(gen) = meta.generate_name.as_deref().filter(|g| !g.is_empty()) {
        let msgs = name_check(&mask_trailing_dash(gen));
        if !msgs.is_empty() {
            errs.extend(invalid_each(&child(path, "generateName"), gen, msgs));
        }
    }
    match meta.name.as_deref().filter(|n| !n.is_empty()) {
        None => errs.push(FieldError::required(
            child(path, "name"),
            "name or generateName is required",
        )),
        Some(name) => {
            let msgs = name_check(name);
            if !msgs.is_empty() {
                errs.extend(invalid_each(&child(path, "name"), name, msgs));
            }
        }
    }
    let ns = meta.namespace.as_deref().unwrap_or("");
    if namespaced {
        if ns.is_empty() {
            errs.push(FieldError::required(child(path, "namespace"), ""));
        } else {
            let msgs = is_dns1123_label(ns);
            if !msgs.is_empty() {
                errs.extend(invalid_each(&child(path, "namespace"), ns, msgs));
            }
        }
    } else if !ns.is_empty() {
        errs.push(FieldError::forbidden(
            child(path, "namespace"),
            "not allowed on this type",
        ));
    }
    let generation = meta.generation.unwrap_or(0);
    if generation < 0 {
        errs.extend(validate_nonnegative(generation, &child(path, "generation")));
    }
    if meta.labels.as_ref().is_some_and(|l| !l.is_empty()) {
        errs.extend(validate_labels(
            meta.labels.as_ref(),
            &child(path, "labels"),
        ));
    }
    if meta.annotations.as_ref().is_some_and(|a| !a.is_empty()) {
        errs.extend(validate_annotations(
            meta.annotations.as_ref(),
            &child(path, "annotations"),
        ));
    }
    let owners = meta.owner_references.as_deref().unwrap_or_default();
    if !owners.is_empty() {
        errs.extend(validate_owner_references(
            owners,
            &child(path, "ownerReferences"),
        ));
    }
    let finalizers = meta.finalizers.as_deref().unwrap_or_default();
    if !finalizers.is_empty() {
        errs.extend(validate_finalizers(finalizers, &child(path, "finalizers")));
    }
    errs
}

/// Core's `ValidateObjectMeta`: the generic checks plus the standard-finalizer rule.
pub fn validate_object_meta(
    meta: &ObjectMeta,
    namespaced: bool,
    name_check: NameCheck,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = validate_object_meta_generic(meta, namespaced, name_check, path);
    for f in meta.finalizers.iter().flatten() {
        errs.extend(validate_kube_finalizer_name(f, &child(path, "finalizers")));
    }
    errs
}

/// apimachinery's `ValidateObjectMetaUpdate`. Identity fields may not change; an empty
/// uid or creationTimestamp in the new object means "not sent" (upstream copies the old
/// value before validating). The resourceVersion precondition is left to the caller.
pub fn validate_object_meta_update_generic(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = Vec::new();
    let new_finalizers = new.finalizers.as_deref().unwrap_or_default();
    if old.deletion_timestamp.is_some() {
        let old_set: BTreeSet<&String> = old.finalizers.iter().flatten().collect();
        let extra: BTreeSet<&String> = new_finalizers
            .iter()
            .filter(|f| !old_set.contains(f))
            .collect();
        if !extra.is_empty() {
            let list: Vec<String> = extra.into_iter().cloned().collect();
            errs.push(FieldError::forbidden(
                child(path, "finalizers"),
                format!(
                    "no new finalizers can be added if the object is being deleted, found new finalizers {}",
                    go_string_slice(Some(&list))
                ),
            ));
        }
    }
    let (new_gen, old_gen) = (new.generation.unwrap_or(0), old.generation.unwrap_or(0));
    if new_gen < old_gen {
        errs.push(FieldError::invalid(
            child(path, "generation"),
            new_gen,
            "must not be decremented",
        ));
    }
    let immutable_str =
        |errs: &mut Vec<FieldError>, field: &str, n: &Option<String>, o: &Option<String>| {
            let (n, o) = (n.as_deref().unwrap_or(""), o.as_deref().unwrap_or(""));
            if n != o {
                errs.push(FieldError::invalid(child(path, field), n, FIELD_IMMUTABLE));
            }
        };
    immutable_str(&mut errs, "name", &new.name, &old.name);
    immutable_str(&mut errs, "namespace", &new.namespace, &old.namespace);
    if !is_empty(&new.uid) {
        immutable_str(&mut errs, "uid", &new.uid, &old.uid);
    }
    if new.creation_timestamp.is_some() && new.creation_timestamp != old.creation_timestamp {
        errs.push(invalid_go(
            child(path, "creationTimestamp"),
            &go_time(new.creation_timestamp.as_ref()),
            FIELD_IMMUTABLE,
        ));
    }
    if new.deletion_timestamp != old.deletion_timestamp {
        let shown = match &new.deletion_timestamp {
            None => "null".to_string(),
            Some(t) => go_time(Some(t)),
        };
        errs.push(invalid_go(
            child(path, "deletionTimestamp"),
            &shown,
            FIELD_IMMUTABLE,
        ));
    }
    if new.deletion_grace_period_seconds != old.deletion_grace_period_seconds {
        let v = new
            .deletion_grace_period_seconds
            .map_or(serde_json::Value::Null, serde_json::Value::from);
        errs.push(FieldError::invalid(
            child(path, "deletionGracePeriodSeconds"),
            v,
            FIELD_IMMUTABLE,
        ));
    }
    errs.extend(validate_labels(new.labels.as_ref(), &child(path, "labels")));
    errs.extend(validate_annotations(
        new.annotations.as_ref(),
        &child(path, "annotations"),
    ));
    errs.extend(validate_owner_references(
        new.owner_references.as_deref().unwrap_or_default(),
        &child(path, "ownerReferences"),
    ));
    errs
}

/// Core's `ValidateObjectMetaUpdate`: the generic update checks plus the finalizer rule.
pub fn validate_object_meta_update(
    new: &ObjectMeta,
    old: &ObjectMeta,
    path: &str,
) -> Vec<FieldError> {
    let mut errs = validate_object_meta_update_generic(new, old, path);
    for f in new.finalizers.iter().flatten() {
        errs.extend(validate_kube_finalizer_name(f, &child(path, "finalizers")));
    }
    errs
}

/// `ValidateLabelSelector` (label values checked strictly, as for workloads).
pub fn validate_label_selector(sel: &LabelSelector, path: &str) -> Vec<FieldError> {
    let mut errs = validate_labels(sel.match_labels.as_ref(), &child(path, "matchLabels"));
    for (i, r) in sel.match_expressions.iter().flatten().enumerate() {
        let p = index(&child(path, "matchExpressions"), i);
        let values = r.values.as_deref().unwrap_or_default();
        match r.operator.as_str() {
            "In" | "NotIn" => {
                if values.is_empty() {
                    errs.push(FieldError::required(
                        child(&p, "values"),
                        "must be specified when `operator` is 'In' or 'NotIn'",
                    ));
                }
            }
            "Exists" | "DoesNotExist" => {
                if !values.is_empty() {
                    errs.push(FieldError::forbidden(
                        child(&p, "values"),
                        "may not be specified when `operator` is 'Exists' or 'DoesNotExist'",
                    ));
                }
            }
            other => errs.push(FieldError::invalid(
                child(&p, "operator"),
                other,
                "not a valid selector operator",
            )),
        }
        errs.extend(validate_qualified_name(&r.key, &child(&p, "key")));
        for (vi, v) in values.iter().enumerate() {
            errs.extend(invalid_each(
                &index(&child(&p, "values"), vi),
                v,
                is_valid_label_value(v),
            ));
        }
    }
    errs
}

/// Drops repeated errors: update validation re-runs the create checks on the new
/// object, and upstream's aggregated message lists each distinct error once.
pub fn dedup(errs: Vec<FieldError>) -> Vec<FieldError> {
    let mut seen = BTreeSet::new();
    errs.into_iter()
        .filter(|e| seen.insert(e.to_string()))
        .collect()
}

/// Upstream's `path.IsValidPathSegmentName`: the name rule of RBAC kinds, so names such
/// as `system:coredns` are allowed there.
pub fn is_path_segment_name(name: &str) -> Vec<String> {
    if name == "." || name == ".." {
        return vec![format!("may not be '{name}'")];
    }
    let mut errs = Vec::new();
    for bad in ["/", "%"] {
        if name.contains(bad) {
            errs.push(format!("may not contain '{bad}'"));
        }
    }
    errs
}

/// The strategy of kinds without their own: metadata only, names checked by
/// `name_check` (DNS-1123 subdomains for most kinds).
pub struct MetadataOnlyStrategy {
    pub namespaced: bool,
    pub name_check: NameCheck,
}

impl MetadataOnlyStrategy {
    pub fn new(namespaced: bool) -> Self {
        MetadataOnlyStrategy {
            namespaced,
            name_check: is_dns1123_subdomain,
        }
    }
}

impl Strategy for MetadataOnlyStrategy {
    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_object_meta(&obj.metadata, self.namespaced, self.name_check, "metadata")
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        let mut errs = validate_object_meta_update(&new.metadata, &old.metadata, "metadata");
        errs.extend(self.validate(new));
        dedup(errs)
    }
}

#[cfg(test)]
#[path = "metadata_tests.rs"]
mod tests;
