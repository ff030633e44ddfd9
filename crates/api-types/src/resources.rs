//! The table of built-in resources the API server serves, with upstream's scope, short
//! names, categories, verbs and subresources (as `kubectl api-resources` shows them).

use k8s_openapi::api;
use k8s_openapi::apiextensions_apiserver::pkg::apis::apiextensions;
use schemars::{JsonSchema, Schema, SchemaGenerator};

/// Verbs of an ordinary stored resource.
pub const CRUD_VERBS: &[&str] = &[
    "create",
    "delete",
    "deletecollection",
    "get",
    "list",
    "patch",
    "update",
    "watch",
];

/// One resource (one plural in one group version).
#[derive(Clone, Copy)]
pub struct ResourceInfo {
    pub group: &'static str,
    pub version: &'static str,
    pub kind: &'static str,
    pub plural: &'static str,
    pub singular: &'static str,
    pub namespaced: bool,
    pub short_names: &'static [&'static str],
    pub categories: &'static [&'static str],
    /// Subresources served under `<plural>/<name>/<sub>`, e.g. "status", "scale".
    pub subresources: &'static [&'static str],
    pub verbs: &'static [&'static str],
    /// The OpenAPI definition name, e.g. `io.k8s.api.core.v1.Pod`.
    pub schema_name: fn() -> std::borrow::Cow<'static, str>,
    /// The object's JSON schema (k8s-openapi's schemars implementation).
    pub schema: fn(&mut SchemaGenerator) -> Schema,
    /// The list kind, e.g. `PodList`.
    pub list_kind: &'static str,
    /// Whether this group version is the group's preferred version.
    pub preferred: bool,
}

impl std::fmt::Debug for ResourceInfo {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        write!(f, "{}/{} {}", self.group, self.version, self.plural)
    }
}

impl ResourceInfo {
    /// `v1` or `apps/v1`.
    pub fn api_version(&self) -> String {
        if self.group.is_empty() {
            self.version.to_string()
        } else {
            format!("{}/{}", self.group, self.version)
        }
    }

    /// `pods` or `deployments.apps`, as upstream names a resource in error messages.
    pub fn group_resource(&self) -> String {
        if self.group.is_empty() {
            self.plural.to_string()
        } else {
            format!("{}.{}", self.plural, self.group)
        }
    }

    /// `Pod` or `Deployment.apps`, as upstream names a kind in Invalid errors.
    pub fn group_kind(&self) -> String {
        if self.group.is_empty() {
            self.kind.to_string()
        } else {
            format!("{}.{}", self.kind, self.group)
        }
    }

    pub fn has_subresource(&self, sub: &str) -> bool {
        self.subresources.contains(&sub)
    }

    pub fn has_verb(&self, verb: &str) -> bool {
        self.verbs.contains(&verb)
    }

    /// Objects of this resource live in etcd (the review kinds do not).
    pub fn is_stored(&self) -> bool {
        self.has_verb("get")
    }

    /// The etcd key segment of this resource (`/registry/<segment>/<ns>/<name>`).
    /// Upstream stores every version of a resource once and converts on read, and so
    /// does the apiserver here: events.k8s.io Events are stored with core Events (as
    /// core/v1), autoscaling/v1 HPAs with autoscaling/v2 ones (as autoscaling/v2), so
    /// every resource's segment is its plural.
    pub fn storage_resource(&self) -> &'static str {
        self.plural
    }
}

fn schema_of<T: JsonSchema>(generator: &mut SchemaGenerator) -> Schema {
    T::json_schema(generator)
}

fn schema_name_of<T: JsonSchema>() -> std::borrow::Cow<'static, str> {
    T::schema_name()
}

macro_rules! resource {
    ($ty:ty, $group:expr, $version:expr, $kind:expr, $plural:expr, $singular:expr, $ns:expr,
     short: [$($short:expr),*], cat: [$($cat:expr),*], sub: [$($sub:expr),*], verbs: $verbs:expr, preferred: $pref:expr) => {
        ResourceInfo {
            group: $group,
            version: $version,
            kind: $kind,
            plural: $plural,
            singular: $singular,
            namespaced: $ns,
            short_names: &[$($short),*],
            categories: &[$($cat),*],
            subresources: &[$($sub),*],
            verbs: $verbs,
            schema_name: schema_name_of::<$ty>,
            schema: schema_of::<$ty>,
            list_kind: concat!($kind, "List"),
            preferred: $pref,
        }
    };
}

const NS: bool = true;
const CLUSTER: bool = false;
const CREATE_ONLY: &[&str] = &["create"];
const GET_LIST: &[&str] = &["get", "list"];

/// Every built-in resource served, in upstream's discovery order per group.
pub static BUILTIN: &[ResourceInfo] = &[
    // core/v1
    resource!(api::core::v1::Binding, "", "v1", "Binding", "bindings", "binding", NS, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    resource!(api::core::v1::ComponentStatus, "", "v1", "ComponentStatus", "componentstatuses", "componentstatus", CLUSTER, short: ["cs"], cat: [], sub: [], verbs: GET_LIST, preferred: true),
    resource!(api::core::v1::ConfigMap, "", "v1", "ConfigMap", "configmaps", "configmap", NS, short: ["cm"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Endpoints, "", "v1", "Endpoints", "endpoints", "endpoints", NS, short: ["ep"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Event, "", "v1", "Event", "events", "event", NS, short: ["ev"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::LimitRange, "", "v1", "LimitRange", "limitranges", "limitrange", NS, short: ["limits"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Namespace, "", "v1", "Namespace", "namespaces", "namespace", CLUSTER, short: ["ns"], cat: [], sub: ["finalize", "status"], verbs: &["create", "delete", "get", "list", "patch", "update", "watch"], preferred: true),
    resource!(api::core::v1::Node, "", "v1", "Node", "nodes", "node", CLUSTER, short: ["no"], cat: [], sub: ["proxy", "status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::PersistentVolumeClaim, "", "v1", "PersistentVolumeClaim", "persistentvolumeclaims", "persistentvolumeclaim", NS, short: ["pvc"], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::PersistentVolume, "", "v1", "PersistentVolume", "persistentvolumes", "persistentvolume", CLUSTER, short: ["pv"], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Pod, "", "v1", "Pod", "pods", "pod", NS, short: ["po"], cat: ["all"], sub: ["attach", "binding", "ephemeralcontainers", "eviction", "exec", "log", "portforward", "proxy", "resize", "status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::PodTemplate, "", "v1", "PodTemplate", "podtemplates", "podtemplate", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::ReplicationController, "", "v1", "ReplicationController", "replicationcontrollers", "replicationcontroller", NS, short: ["rc"], cat: ["all"], sub: ["scale", "status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::ResourceQuota, "", "v1", "ResourceQuota", "resourcequotas", "resourcequota", NS, short: ["quota"], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Secret, "", "v1", "Secret", "secrets", "secret", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::ServiceAccount, "", "v1", "ServiceAccount", "serviceaccounts", "serviceaccount", NS, short: ["sa"], cat: [], sub: ["token"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::core::v1::Service, "", "v1", "Service", "services", "service", NS, short: ["svc"], cat: ["all"], sub: ["proxy", "status"], verbs: &["create", "delete", "deletecollection", "get", "list", "patch", "update", "watch"], preferred: true),
    // admissionregistration.k8s.io/v1
    resource!(api::admissionregistration::v1::MutatingWebhookConfiguration, "admissionregistration.k8s.io", "v1", "MutatingWebhookConfiguration", "mutatingwebhookconfigurations", "mutatingwebhookconfiguration", CLUSTER, short: [], cat: ["api-extensions"], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::admissionregistration::v1::ValidatingAdmissionPolicy, "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicy", "validatingadmissionpolicies", "validatingadmissionpolicy", CLUSTER, short: [], cat: ["api-extensions"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::admissionregistration::v1::ValidatingAdmissionPolicyBinding, "admissionregistration.k8s.io", "v1", "ValidatingAdmissionPolicyBinding", "validatingadmissionpolicybindings", "validatingadmissionpolicybinding", CLUSTER, short: [], cat: ["api-extensions"], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::admissionregistration::v1::ValidatingWebhookConfiguration, "admissionregistration.k8s.io", "v1", "ValidatingWebhookConfiguration", "validatingwebhookconfigurations", "validatingwebhookconfiguration", CLUSTER, short: [], cat: ["api-extensions"], sub: [], verbs: CRUD_VERBS, preferred: true),
    // apiextensions.k8s.io/v1
    resource!(apiextensions::v1::CustomResourceDefinition, "apiextensions.k8s.io", "v1", "CustomResourceDefinition", "customresourcedefinitions", "customresourcedefinition", CLUSTER, short: ["crd", "crds"], cat: ["api-extensions"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    // apps/v1
    resource!(api::apps::v1::ControllerRevision, "apps", "v1", "ControllerRevision", "controllerrevisions", "controllerrevision", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::apps::v1::DaemonSet, "apps", "v1", "DaemonSet", "daemonsets", "daemonset", NS, short: ["ds"], cat: ["all"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::apps::v1::Deployment, "apps", "v1", "Deployment", "deployments", "deployment", NS, short: ["deploy"], cat: ["all"], sub: ["scale", "status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::apps::v1::ReplicaSet, "apps", "v1", "ReplicaSet", "replicasets", "replicaset", NS, short: ["rs"], cat: ["all"], sub: ["scale", "status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::apps::v1::StatefulSet, "apps", "v1", "StatefulSet", "statefulsets", "statefulset", NS, short: ["sts"], cat: ["all"], sub: ["scale", "status"], verbs: CRUD_VERBS, preferred: true),
    // authentication.k8s.io/v1
    resource!(api::authentication::v1::SelfSubjectReview, "authentication.k8s.io", "v1", "SelfSubjectReview", "selfsubjectreviews", "selfsubjectreview", CLUSTER, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    resource!(api::authentication::v1::TokenReview, "authentication.k8s.io", "v1", "TokenReview", "tokenreviews", "tokenreview", CLUSTER, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    // authorization.k8s.io/v1
    resource!(api::authorization::v1::LocalSubjectAccessReview, "authorization.k8s.io", "v1", "LocalSubjectAccessReview", "localsubjectaccessreviews", "localsubjectaccessreview", NS, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    resource!(api::authorization::v1::SelfSubjectAccessReview, "authorization.k8s.io", "v1", "SelfSubjectAccessReview", "selfsubjectaccessreviews", "selfsubjectaccessreview", CLUSTER, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    resource!(api::authorization::v1::SelfSubjectRulesReview, "authorization.k8s.io", "v1", "SelfSubjectRulesReview", "selfsubjectrulesreviews", "selfsubjectrulesreview", CLUSTER, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    resource!(api::authorization::v1::SubjectAccessReview, "authorization.k8s.io", "v1", "SubjectAccessReview", "subjectaccessreviews", "subjectaccessreview", CLUSTER, short: [], cat: [], sub: [], verbs: CREATE_ONLY, preferred: true),
    // autoscaling/v2 (preferred) and v1
    resource!(api::autoscaling::v2::HorizontalPodAutoscaler, "autoscaling", "v2", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", NS, short: ["hpa"], cat: ["all"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::autoscaling::v1::HorizontalPodAutoscaler, "autoscaling", "v1", "HorizontalPodAutoscaler", "horizontalpodautoscalers", "horizontalpodautoscaler", NS, short: ["hpa"], cat: ["all"], sub: ["status"], verbs: CRUD_VERBS, preferred: false),
    // batch/v1
    resource!(api::batch::v1::CronJob, "batch", "v1", "CronJob", "cronjobs", "cronjob", NS, short: ["cj"], cat: ["all"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::batch::v1::Job, "batch", "v1", "Job", "jobs", "job", NS, short: [], cat: ["all"], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    // certificates.k8s.io/v1
    resource!(api::certificates::v1::CertificateSigningRequest, "certificates.k8s.io", "v1", "CertificateSigningRequest", "certificatesigningrequests", "certificatesigningrequest", CLUSTER, short: ["csr"], cat: [], sub: ["approval", "status"], verbs: CRUD_VERBS, preferred: true),
    // coordination.k8s.io/v1
    resource!(api::coordination::v1::Lease, "coordination.k8s.io", "v1", "Lease", "leases", "lease", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // discovery.k8s.io/v1
    resource!(api::discovery::v1::EndpointSlice, "discovery.k8s.io", "v1", "EndpointSlice", "endpointslices", "endpointslice", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // events.k8s.io/v1
    resource!(api::events::v1::Event, "events.k8s.io", "v1", "Event", "events", "event", NS, short: ["ev"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // networking.k8s.io/v1
    resource!(api::networking::v1::IngressClass, "networking.k8s.io", "v1", "IngressClass", "ingressclasses", "ingressclass", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::networking::v1::Ingress, "networking.k8s.io", "v1", "Ingress", "ingresses", "ingress", NS, short: ["ing"], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    resource!(api::networking::v1::IPAddress, "networking.k8s.io", "v1", "IPAddress", "ipaddresses", "ipaddress", CLUSTER, short: ["ip"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::networking::v1::NetworkPolicy, "networking.k8s.io", "v1", "NetworkPolicy", "networkpolicies", "networkpolicy", NS, short: ["netpol"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::networking::v1::ServiceCIDR, "networking.k8s.io", "v1", "ServiceCIDR", "servicecidrs", "servicecidr", CLUSTER, short: [], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    // node.k8s.io/v1
    resource!(api::node::v1::RuntimeClass, "node.k8s.io", "v1", "RuntimeClass", "runtimeclasses", "runtimeclass", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // policy/v1
    resource!(api::policy::v1::PodDisruptionBudget, "policy", "v1", "PodDisruptionBudget", "poddisruptionbudgets", "poddisruptionbudget", NS, short: ["pdb"], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
    // rbac.authorization.k8s.io/v1
    resource!(api::rbac::v1::ClusterRoleBinding, "rbac.authorization.k8s.io", "v1", "ClusterRoleBinding", "clusterrolebindings", "clusterrolebinding", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::rbac::v1::ClusterRole, "rbac.authorization.k8s.io", "v1", "ClusterRole", "clusterroles", "clusterrole", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::rbac::v1::RoleBinding, "rbac.authorization.k8s.io", "v1", "RoleBinding", "rolebindings", "rolebinding", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::rbac::v1::Role, "rbac.authorization.k8s.io", "v1", "Role", "roles", "role", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // scheduling.k8s.io/v1
    resource!(api::scheduling::v1::PriorityClass, "scheduling.k8s.io", "v1", "PriorityClass", "priorityclasses", "priorityclass", CLUSTER, short: ["pc"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    // storage.k8s.io/v1
    resource!(api::storage::v1::CSIDriver, "storage.k8s.io", "v1", "CSIDriver", "csidrivers", "csidriver", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::storage::v1::CSINode, "storage.k8s.io", "v1", "CSINode", "csinodes", "csinode", CLUSTER, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::storage::v1::CSIStorageCapacity, "storage.k8s.io", "v1", "CSIStorageCapacity", "csistoragecapacities", "csistoragecapacity", NS, short: [], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::storage::v1::StorageClass, "storage.k8s.io", "v1", "StorageClass", "storageclasses", "storageclass", CLUSTER, short: ["sc"], cat: [], sub: [], verbs: CRUD_VERBS, preferred: true),
    resource!(api::storage::v1::VolumeAttachment, "storage.k8s.io", "v1", "VolumeAttachment", "volumeattachments", "volumeattachment", CLUSTER, short: [], cat: [], sub: ["status"], verbs: CRUD_VERBS, preferred: true),
];

/// Looks a resource up by group, version and plural.
pub fn find(group: &str, version: &str, plural: &str) -> Option<&'static ResourceInfo> {
    BUILTIN
        .iter()
        .find(|r| r.group == group && r.version == version && r.plural == plural)
}

/// Looks a resource up by group, version and kind.
pub fn find_kind(group: &str, version: &str, kind: &str) -> Option<&'static ResourceInfo> {
    BUILTIN
        .iter()
        .find(|r| r.group == group && r.version == version && r.kind == kind)
}

/// A served group version, in discovery order.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct GroupVersion {
    pub group: &'static str,
    pub version: &'static str,
}

/// Groups in upstream's discovery order, each with its versions (preferred first).
pub fn groups() -> Vec<(&'static str, Vec<&'static str>)> {
    let mut out: Vec<(&'static str, Vec<&'static str>)> = Vec::new();
    for r in BUILTIN {
        match out.iter_mut().find(|(g, _)| *g == r.group) {
            Some((_, versions)) => {
                if !versions.contains(&r.version) {
                    if r.preferred {
                        versions.insert(0, r.version);
                    } else {
                        versions.push(r.version);
                    }
                }
            }
            None => out.push((r.group, vec![r.version])),
        }
    }
    out
}

/// The resources of one group version.
pub fn in_group_version<'a>(
    group: &'a str,
    version: &'a str,
) -> impl Iterator<Item = &'static ResourceInfo> + 'a {
    BUILTIN
        .iter()
        .filter(move |r| r.group == group && r.version == version)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn plurals_are_unique_per_group_version() {
        for (i, a) in BUILTIN.iter().enumerate() {
            for b in &BUILTIN[i + 1..] {
                assert!(
                    !(a.group == b.group && a.version == b.version && a.plural == b.plural),
                    "{a:?} twice"
                );
            }
        }
    }

    #[test]
    fn schema_names_match_kinds() {
        for r in BUILTIN {
            let name = (r.schema_name)();
            assert!(name.ends_with(&format!(".{}", r.kind)), "{r:?}: {name}");
        }
    }

    #[test]
    fn storage_keys_follow_upstream() {
        assert_eq!(
            find("", "v1", "pods").map(|r| r.storage_resource()),
            Some("pods")
        );
        assert_eq!(
            find("apps", "v1", "deployments").map(|r| r.storage_resource()),
            Some("deployments")
        );
        // Cohabitating: events.k8s.io Events are stored with (and as) core Events,
        // autoscaling/v1 HPAs with autoscaling/v2 ones.
        assert_eq!(
            find("events.k8s.io", "v1", "events").map(|r| r.storage_resource()),
            Some("events")
        );
        assert_eq!(
            find("autoscaling", "v1", "horizontalpodautoscalers").map(|r| r.storage_resource()),
            find("autoscaling", "v2", "horizontalpodautoscalers").map(|r| r.storage_resource()),
        );
    }

    #[test]
    fn autoscaling_prefers_v2() {
        let g = groups();
        let autoscaling = g
            .iter()
            .find(|(g, _)| *g == "autoscaling")
            .map(|(_, v)| v.clone());
        assert_eq!(autoscaling, Some(vec!["v2", "v1"]));
    }
}
