//! Upstream's `x-kubernetes-*` schema extensions for the built-in types, in one place: the
//! OpenAPI documents publish them, and strategic-merge-patch / apply code can look them up
//! here (by OpenAPI definition name and JSON property name) without parsing a document.
//!
//! The table itself is generated at dev time from the Go API types (see the header of
//! `extensions_table.rs`); the k8s-openapi schemas carry none of these extensions.

use std::collections::HashMap;
use std::sync::OnceLock;

pub use super::extensions_table::{ATOMIC_STRUCTS, FIELDS, REQUIRED};

/// The list / map / patch extensions of one property of one definition.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct FieldExtensions {
    /// OpenAPI definition name, e.g. `io.k8s.api.core.v1.PodSpec`.
    pub definition: &'static str,
    /// JSON property name, e.g. `containers`.
    pub property: &'static str,
    /// `x-kubernetes-list-type`: `atomic`, `set` or `map`.
    pub list_type: Option<&'static str>,
    /// `x-kubernetes-list-map-keys` (only with list type `map`).
    pub list_map_keys: &'static [&'static str],
    /// `x-kubernetes-map-type`: `atomic` or `granular`.
    pub map_type: Option<&'static str>,
    /// `x-kubernetes-patch-strategy`: `merge`, `retainKeys`, `merge,retainKeys`, or
    /// `replace` (PodDisruptionBudgetSpec.selector: the patch's object replaces the old one).
    pub patch_strategy: Option<&'static str>,
    /// `x-kubernetes-patch-merge-key`.
    pub patch_merge_key: Option<&'static str>,
}

impl FieldExtensions {
    /// Whether strategic merge patch merges this list (or map) instead of replacing it.
    pub fn patch_merges(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "merge"))
    }

    /// Whether strategic merge patch replaces this object instead of merging it.
    pub fn patch_replaces(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "replace"))
    }

    /// Whether strategic merge patch clears fields absent from the patch (`retainKeys`).
    pub fn patch_retains_keys(&self) -> bool {
        self.patch_strategy
            .is_some_and(|s| s.split(',').any(|p| p == "retainKeys"))
    }
}

const fn opt(s: &'static str) -> Option<&'static str> {
    if s.is_empty() {
        None
    } else {
        Some(s)
    }
}

/// Table constructor: empty strings stand for "absent" to keep the table one line a field.
pub(crate) const fn f(
    definition: &'static str,
    property: &'static str,
    list_type: &'static str,
    list_map_keys: &'static [&'static str],
    map_type: &'static str,
    patch_strategy: &'static str,
    patch_merge_key: &'static str,
) -> FieldExtensions {
    FieldExtensions {
        definition,
        property,
        list_type: opt(list_type),
        list_map_keys,
        map_type: opt(map_type),
        patch_strategy: opt(patch_strategy),
        patch_merge_key: opt(patch_merge_key),
    }
}

fn index() -> &'static HashMap<(&'static str, &'static str), &'static FieldExtensions> {
    static INDEX: OnceLock<HashMap<(&'static str, &'static str), &'static FieldExtensions>> =
        OnceLock::new();
    INDEX.get_or_init(|| {
        FIELDS
            .iter()
            .map(|f| ((f.definition, f.property), f))
            .collect()
    })
}

/// The extensions of `property` in `definition`, if upstream gives it any.
pub fn field(definition: &str, property: &str) -> Option<&'static FieldExtensions> {
    index().get(&(definition, property)).copied()
}

/// Whether upstream marks the whole struct atomic (`x-kubernetes-map-type: atomic`):
/// patches and applies replace it as a unit.
pub fn is_atomic_struct(definition: &str) -> bool {
    ATOMIC_STRUCTS.contains(&definition)
}

/// Definitions whose values are either an integer or a string (upstream publishes
/// `format: int-or-string`; a CRD schema would say `x-kubernetes-int-or-string: true`).
pub const INT_OR_STRING: &[&str] = &["io.k8s.apimachinery.pkg.util.intstr.IntOrString"];

/// Definitions that accept a string or a number (`resource.Quantity`).
pub const STRING_OR_NUMBER: &[&str] = &["io.k8s.apimachinery.pkg.api.resource.Quantity"];

/// Upstream's required fields of `definition` when they differ from k8s-openapi's.
pub(crate) fn required_override(definition: &str) -> Option<&'static [&'static str]> {
    REQUIRED
        .iter()
        .find(|(d, _)| *d == definition)
        .map(|(_, fields)| *fields)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn upstream_patch_metadata() {
        let pod = "io.k8s.api.core.v1.PodSpec";
        let c = field(pod, "containers").unwrap();
        assert_eq!(
            (c.patch_strategy, c.patch_merge_key),
            (Some("merge"), Some("name"))
        );
        assert_eq!((c.list_type, c.list_map_keys), (Some("map"), &["name"][..]));
        let v = field(pod, "volumes").unwrap();
        assert!(v.patch_merges() && v.patch_retains_keys());
        let t = field(pod, "tolerations").unwrap();
        assert_eq!((t.list_type, t.patch_strategy), (Some("atomic"), None));
        assert_eq!(
            field(pod, "topologySpreadConstraints")
                .unwrap()
                .patch_merge_key,
            Some("topologyKey")
        );
        let ports = field("io.k8s.api.core.v1.Container", "ports").unwrap();
        assert_eq!(ports.patch_merge_key, Some("containerPort"));
        assert_eq!(ports.list_map_keys, &["containerPort", "protocol"][..]);
        assert_eq!(
            field("io.k8s.api.core.v1.ServiceSpec", "ports")
                .unwrap()
                .patch_merge_key,
            Some("port")
        );
        let meta = "io.k8s.apimachinery.pkg.apis.meta.v1.ObjectMeta";
        assert_eq!(
            field(meta, "ownerReferences").unwrap().patch_merge_key,
            Some("uid")
        );
        let fin = field(meta, "finalizers").unwrap();
        assert_eq!(
            (fin.patch_strategy, fin.patch_merge_key, fin.list_type),
            (Some("merge"), None, Some("set"))
        );
        assert_eq!(
            field("io.k8s.api.core.v1.ServiceAccount", "secrets")
                .unwrap()
                .patch_merge_key,
            Some("name")
        );
        assert_eq!(
            field("io.k8s.api.core.v1.Container", "env")
                .unwrap()
                .patch_merge_key,
            Some("name")
        );
        assert_eq!(
            field("io.k8s.api.core.v1.Container", "volumeMounts")
                .unwrap()
                .patch_merge_key,
            Some("mountPath")
        );
        assert_eq!(
            field("io.k8s.api.core.v1.Container", "volumeDevices")
                .unwrap()
                .patch_merge_key,
            Some("devicePath")
        );
        assert_eq!(
            field(pod, "hostAliases").unwrap().patch_merge_key,
            Some("ip")
        );
        assert_eq!(
            field(pod, "imagePullSecrets").unwrap().patch_merge_key,
            Some("name")
        );
        assert_eq!(
            field("io.k8s.api.apps.v1.DeploymentStatus", "conditions")
                .unwrap()
                .patch_merge_key,
            Some("type")
        );
        assert_eq!(
            field("io.k8s.api.apps.v1.DeploymentSpec", "strategy")
                .unwrap()
                .patch_strategy,
            Some("retainKeys")
        );
        assert!(is_atomic_struct(
            "io.k8s.apimachinery.pkg.apis.meta.v1.LabelSelector"
        ));
    }

    #[test]
    fn table_has_no_duplicates() {
        assert_eq!(index().len(), FIELDS.len());
    }
}
