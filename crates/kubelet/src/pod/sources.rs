//! Fetching the ConfigMaps and Secrets a pod references, with the kubelet's API client
//! (upstream's configMap / secret managers; here a GET per sync, which the periodic
//! volume resync relies on to see updates).

use k8s_openapi::api::core::v1::{ConfigMap, Pod, Secret};
use kube::{Api, Client};

use super::env::{referenced_objects, ApiObjects};

/// Fetches every ConfigMap and Secret `pod` references in its namespace. Absent objects
/// are left out (the pure code turns that into upstream's not-found message unless the
/// reference is optional); any other API error is returned.
pub async fn fetch(client: Option<&Client>, pod: &Pod) -> anyhow::Result<ApiObjects> {
    let mut objs = ApiObjects::default();
    let (cms, secrets) = referenced_objects(pod);
    if cms.is_empty() && secrets.is_empty() {
        return Ok(objs);
    }
    let Some(client) = client else {
        let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
        anyhow::bail!("couldn't get configMap or secret in {ns}: no kubeClient defined");
    };
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let cm_api: Api<ConfigMap> = Api::namespaced(client.clone(), ns);
    for name in cms {
        match cm_api.get_opt(&name).await {
            Ok(Some(cm)) => {
                objs.config_maps.insert(name, cm);
            }
            Ok(None) => {}
            Err(e) => anyhow::bail!("couldn't get configMap {ns}/{name}: {e}"),
        }
    }
    let secret_api: Api<Secret> = Api::namespaced(client.clone(), ns);
    for name in secrets {
        match secret_api.get_opt(&name).await {
            Ok(Some(s)) => {
                objs.secrets.insert(name, s);
            }
            Ok(None) => {}
            Err(e) => anyhow::bail!("couldn't get secret {ns}/{name}: {e}"),
        }
    }
    Ok(objs)
}
