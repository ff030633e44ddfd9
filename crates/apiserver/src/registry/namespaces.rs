//! Namespaces: spec.finalizers ["kubernetes"] and status.phase Active on create, names
//! as DNS-1123 labels, and finalizers / status kept on update (they change only through
//! the finalize and status subresources).

use api_types::names::is_dns1123_label;
use api_types::validation::FieldError;
use api_types::{ApiError, DynamicObject};
use k8s_openapi::api::core::v1::{Namespace, NamespaceSpec, NamespaceStatus};

use super::decode::{decode, validate_decoded, validate_decoded_update, with_decoded};
use super::metadata::{
    validate_kube_finalizer_name, validate_object_meta, validate_object_meta_update,
    validate_qualified_name,
};
use super::Strategy;

pub struct NamespaceStrategy;

/// `validateFinalizerName` for spec.finalizers: qualified, or a standard name. Upstream
/// reports these at the list path on create.
fn validate_spec_finalizers(ns: &Namespace) -> Vec<FieldError> {
    let mut errs = Vec::new();
    for f in ns.spec.iter().flat_map(|s| s.finalizers.iter().flatten()) {
        errs.extend(validate_qualified_name(f, "spec.finalizers"));
        errs.extend(validate_kube_finalizer_name(f, "spec.finalizers"));
    }
    errs
}

pub fn validate_namespace(ns: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_object_meta(&ns.metadata, false, is_dns1123_label, "metadata");
    errs.extend(validate_spec_finalizers(ns));
    errs
}

/// The namespace strategy's ValidateUpdate: the create checks, then the metadata update
/// checks (spec and status were carried over from the old object).
pub fn validate_namespace_update(new: &Namespace, old: &Namespace) -> Vec<FieldError> {
    let mut errs = validate_namespace(new);
    errs.extend(validate_object_meta_update(
        &new.metadata,
        &old.metadata,
        "metadata",
    ));
    errs
}

impl Strategy for NamespaceStrategy {
    fn default(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        // SetDefaults_NamespaceStatus: a namespace without a phase is Active.
        with_decoded(obj, |ns: &mut Namespace| {
            let status = ns.status.get_or_insert_with(NamespaceStatus::default);
            if status.phase.as_deref().unwrap_or("").is_empty() {
                status.phase = Some("Active".to_string());
            }
        })
    }

    fn prepare_for_create(&self, obj: &mut DynamicObject) -> Result<(), ApiError> {
        with_decoded(obj, |ns: &mut Namespace| {
            ns.status = Some(NamespaceStatus {
                phase: Some("Active".to_string()),
                ..Default::default()
            });
            // The "kubernetes" finalizer makes deletion wait for the namespace controller.
            let spec = ns.spec.get_or_insert_with(NamespaceSpec::default);
            let finalizers = spec.finalizers.get_or_insert_with(Vec::new);
            if !finalizers.iter().any(|f| f == "kubernetes") {
                finalizers.push("kubernetes".to_string());
            }
        })
    }

    fn prepare_for_update(
        &self,
        new: &mut DynamicObject,
        old: &DynamicObject,
    ) -> Result<(), ApiError> {
        let old: Namespace = decode(old)?;
        with_decoded(new, |ns: &mut Namespace| {
            ns.spec = old.spec.clone();
            ns.status = old.status.clone();
        })
    }

    fn validate(&self, obj: &DynamicObject) -> Vec<FieldError> {
        validate_decoded(obj, validate_namespace)
    }

    fn validate_update(&self, new: &DynamicObject, old: &DynamicObject) -> Vec<FieldError> {
        validate_decoded_update(new, old, validate_namespace_update)
    }

    fn tracks_generation(&self) -> bool {
        false
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    fn ns(v: serde_json::Value) -> DynamicObject {
        serde_json::from_value(v).unwrap()
    }

    fn strings(errs: &[FieldError]) -> Vec<String> {
        errs.iter().map(|e| e.to_string()).collect()
    }

    #[test]
    fn create_adds_finalizer_and_active_phase() {
        let mut o =
            ns(json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "team-a"}}));
        NamespaceStrategy.default(&mut o).unwrap();
        NamespaceStrategy.prepare_for_create(&mut o).unwrap();
        assert_eq!(o.data["spec"], json!({"finalizers": ["kubernetes"]}));
        assert_eq!(o.data["status"], json!({"phase": "Active"}));
        assert!(NamespaceStrategy.validate(&o).is_empty());
    }

    #[test]
    fn names_and_finalizers() {
        let o = ns(json!({"apiVersion": "v1", "kind": "Namespace",
            "metadata": {"name": "a.b", "namespace": "x"}, "spec": {"finalizers": ["custom", "example.com/ok", "-bad/x"]}}));
        let errs = strings(&NamespaceStrategy.validate(&o));
        assert_eq!(errs[0], "metadata.name: Invalid value: \"a.b\": a lowercase RFC 1123 label must consist of lower case alphanumeric characters or '-', and must start and end with an alphanumeric character (e.g. 'my-name',  or '123-abc', regex used for validation is '[a-z0-9]([-a-z0-9]*[a-z0-9])?')");
        assert_eq!(
            errs[1],
            "metadata.namespace: Forbidden: not allowed on this type"
        );
        assert_eq!(errs[2], "spec.finalizers: Invalid value: \"custom\": name is neither a standard finalizer name nor is it fully qualified");
        assert!(errs[3].starts_with("spec.finalizers: Invalid value: \"-bad/x\": prefix part a lowercase RFC 1123 subdomain"));
        assert_eq!(errs.len(), 4);
    }

    #[test]
    fn update_keeps_spec_and_status_and_name() {
        let old = ns(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "a", "uid": "u1", "resourceVersion": "3"},
            "spec": {"finalizers": ["kubernetes"]}, "status": {"phase": "Active"}}),
        );
        let mut new = ns(
            json!({"apiVersion": "v1", "kind": "Namespace", "metadata": {"name": "b", "uid": "u1", "resourceVersion": "3"},
            "spec": {"finalizers": []}, "status": {"phase": "Terminating"}}),
        );
        NamespaceStrategy
            .prepare_for_update(&mut new, &old)
            .unwrap();
        assert_eq!(new.data["spec"], json!({"finalizers": ["kubernetes"]}));
        assert_eq!(new.data["status"], json!({"phase": "Active"}));
        assert_eq!(
            strings(&NamespaceStrategy.validate_update(&new, &old)),
            vec!["metadata.name: Invalid value: \"b\": field is immutable"]
        );
    }
}
