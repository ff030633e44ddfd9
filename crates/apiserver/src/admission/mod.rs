//! Admission: the built-in plugins that run on writes after decoding and before
//! storage (upstream's NamespaceLifecycle, and the Service address allocation that
//! upstream's Service REST storage performs).

pub mod namespace_lifecycle;

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
