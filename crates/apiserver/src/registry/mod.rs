//! Per-kind strategies: defaulting, validation and the fields a field selector may
//! name, as upstream's registry strategies. Kinds without a strategy of their own get
//! the generic one (metadata checks only).

pub mod configmaps;
pub mod containers;
pub mod decode;
pub mod deployments;
pub mod fields;
pub mod ipallocator;
pub mod metadata;
pub mod namespaces;
pub mod pod_spec;
pub mod pods;
pub mod probes;
pub mod quantity;
pub mod replicasets;
pub mod resources;
pub mod secrets;
pub mod service_validation;
pub mod services;
pub mod volumes;

use api_types::resources::ResourceInfo;
use api_types::validation::FieldError;
use api_types::{ApiError, DynamicObject};
use serde::de::DeserializeOwned;
use serde::Serialize;

/// What a kind adds to the generic create / update path.
pub trait Strategy: Send + Sync {
    /// Upstream's defaulting functions (run on every write, before validation).
    fn default(&self, _obj: &mut DynamicObject) -> Result<(), ApiError> {
        Ok(())
    }

    /// Fields a create resets or fills (upstream's PrepareForCreate), after defaulting.
    fn prepare_for_create(&self, _obj: &mut DynamicObject) -> Result<(), ApiError> {
        Ok(())
    }

    /// Fields an update carries over from the old object (PrepareForUpdate).
    fn prepare_for_update(
        &self,
        _new: &mut DynamicObject,
        _old: &DynamicObject,
    ) -> Result<(), ApiError> {
        Ok(())
    }

    /// Every failing field of a new object (metadata included).
    fn validate(&self, _obj: &DynamicObject) -> Vec<FieldError> {
        Vec::new()
    }

    /// Every failing field of an update (immutable fields included).
    fn validate_update(&self, new: &DynamicObject, _old: &DynamicObject) -> Vec<FieldError> {
        self.validate(new)
    }

    /// Whether spec changes bump metadata.generation (kinds with a spec do).
    fn tracks_generation(&self) -> bool {
        true
    }
}

/// The strategy of kinds that have none of their own.
pub struct Generic;
impl Strategy for Generic {}

/// Decodes a stored object into its k8s-openapi type.
pub fn to_typed<T: DeserializeOwned>(obj: &DynamicObject) -> Result<T, ApiError> {
    let value = serde_json::to_value(obj).map_err(ApiError::internal)?;
    serde_json::from_value(value).map_err(|e| ApiError::bad_request(e.to_string()))
}

/// Encodes a typed object back, keeping its apiVersion and kind.
pub fn from_typed<T: Serialize>(
    typed: &T,
    like: &DynamicObject,
) -> Result<DynamicObject, ApiError> {
    let value = serde_json::to_value(typed).map_err(ApiError::internal)?;
    let mut obj: DynamicObject = serde_json::from_value(value).map_err(ApiError::internal)?;
    if obj.types.is_none() {
        obj.types = like.types.clone();
    }
    Ok(obj)
}

/// Runs `f` on the typed form of `obj` and stores the result back into `obj`.
pub fn with_typed<T, F>(obj: &mut DynamicObject, f: F) -> Result<(), ApiError>
where
    T: DeserializeOwned + Serialize,
    F: FnOnce(&mut T),
{
    let mut typed: T = to_typed(obj)?;
    f(&mut typed);
    *obj = from_typed(&typed, obj)?;
    Ok(())
}

static NAMESPACED: metadata::MetadataOnlyStrategy = metadata::MetadataOnlyStrategy {
    namespaced: true,
    name_check: api_types::names::is_dns1123_subdomain,
};
static CLUSTER_SCOPED: metadata::MetadataOnlyStrategy = metadata::MetadataOnlyStrategy {
    namespaced: false,
    name_check: api_types::names::is_dns1123_subdomain,
};
// RBAC names are path segments upstream (`system:kube-scheduler`, `cluster-admin`).
static RBAC_NAMESPACED: metadata::MetadataOnlyStrategy = metadata::MetadataOnlyStrategy {
    namespaced: true,
    name_check: metadata::is_path_segment_name,
};
static RBAC_CLUSTER_SCOPED: metadata::MetadataOnlyStrategy = metadata::MetadataOnlyStrategy {
    namespaced: false,
    name_check: metadata::is_path_segment_name,
};

/// The strategy of a resource: its own where upstream has one here, else metadata
/// checks only.
pub fn strategy_for(r: &ResourceInfo) -> &'static dyn Strategy {
    match (r.group, r.plural) {
        ("", "pods") => &pods::PodStrategy,
        ("", "services") => &services::ServiceStrategy,
        ("", "configmaps") => &configmaps::ConfigMapStrategy,
        ("", "secrets") => &secrets::SecretStrategy,
        ("", "namespaces") => &namespaces::NamespaceStrategy,
        ("", "replicationcontrollers") => &replicasets::ReplicationControllerStrategy,
        ("apps", "deployments") => &deployments::DeploymentStrategy,
        ("apps", "replicasets") => &replicasets::ReplicaSetStrategy,
        ("rbac.authorization.k8s.io", _) if r.namespaced => &RBAC_NAMESPACED,
        ("rbac.authorization.k8s.io", _) => &RBAC_CLUSTER_SCOPED,
        _ if r.namespaced => &NAMESPACED,
        _ => &CLUSTER_SCOPED,
    }
}
