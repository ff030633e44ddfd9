//! Admission: the built-in plugins that run on writes after decoding and before
//! storage (upstream's NamespaceLifecycle, Priority and DefaultTolerationSeconds, and
//! the Service address allocation that upstream's Service REST storage performs).

pub mod default_tolerations;
pub mod namespace_lifecycle;
pub mod priority;

use k8s_openapi::api::core::v1::PodSpec;
use k8s_openapi::api::scheduling::v1::PriorityClass;

use api_types::resources::ResourceInfo;
use api_types::{ApiError, DynamicObject};

use crate::registry::ipallocator::InUse;
use crate::server::ApiServer;

/// Mutations of a new object that need cluster state.
pub async fn admit_create(
    server: &ApiServer,
    r: &ResourceInfo,
    obj: &mut DynamicObject,
) -> Result<(), ApiError> {
    if r.group.is_empty() && r.plural == "pods" {
        admit_pod(server, obj)?;
    }
    if r.group.is_empty() && r.plural == "services" {
        let mut used = InUse::default();
        if let Some(cache) = server.cache("services") {
            let (all, _) = cache.snapshot(&server.store.resource_prefix("services", None));
            for s in all {
                used.add_service(&s.object.data);
            }
        }
        server
            .services
            .allocate(&mut obj.data, &used)
            .map_err(|e| {
                ApiError::invalid(
                    r.group,
                    r.kind,
                    obj.metadata.name.as_deref().unwrap_or(""),
                    &[*e],
                )
            })?;
    }
    Ok(())
}

/// Priority, then DefaultTolerationSeconds, on a new pod's spec.
fn admit_pod(server: &ApiServer, obj: &mut DynamicObject) -> Result<(), ApiError> {
    let name = obj.metadata.name.clone().unwrap_or_default();
    let Some(spec_value) = obj.data.get_mut("spec") else {
        return Ok(());
    };
    // Validation has passed, so the spec decodes; if it does not, leave it to storage.
    let Ok(mut spec) = serde_json::from_value::<PodSpec>(spec_value.clone()) else {
        return Ok(());
    };
    let mut classes = Vec::new();
    if let Some(cache) = server.cache("priorityclasses") {
        let (all, _) = cache.snapshot(&server.store.resource_prefix("priorityclasses", None));
        for c in all {
            let pc =
                serde_json::to_value(&c.object).and_then(serde_json::from_value::<PriorityClass>);
            if let Ok(pc) = pc {
                classes.push(pc);
            }
        }
    }
    priority::admit(&mut spec, &classes)
        .map_err(|e| ApiError::forbidden(format!("pods \"{name}\" is forbidden: {e}")))?;
    default_tolerations::admit(&mut spec);
    *spec_value = serde_json::to_value(&spec).map_err(ApiError::internal)?;
    Ok(())
}
