//! Registering the Node object and posting its status (upstream:
//! pkg/kubelet/kubelet_node_status.go).

use std::collections::BTreeMap;

use anyhow::{Context, Result};
use k8s_openapi::api::core::v1::{Node, NodeSpec, NodeStatus, Taint};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use serde_json::json;

use super::NodeOptions;

/// The labels the kubelet sets on its own Node (upstream `initialNode`).
pub fn default_labels(opts: &NodeOptions, arch: &str) -> BTreeMap<String, String> {
    let mut labels = BTreeMap::new();
    labels.insert("kubernetes.io/hostname".to_string(), opts.hostname.clone());
    labels.insert("kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert("kubernetes.io/arch".to_string(), arch.to_string());
    // Upstream still sets the deprecated beta labels; old selectors rely on them.
    labels.insert("beta.kubernetes.io/os".to_string(), "linux".to_string());
    labels.insert("beta.kubernetes.io/arch".to_string(), arch.to_string());
    labels
}

/// The Node object the kubelet creates when its Node does not exist yet.
pub fn initial_node(opts: &NodeOptions, arch: &str) -> Node {
    let cfg = &opts.config;
    let mut labels = cfg.node_labels.clone();
    // The kubelet's own labels win over user-supplied ones, as upstream.
    labels.extend(default_labels(opts, arch));
    let mut annotations = BTreeMap::new();
    if cfg.enable_controller_attach_detach {
        annotations.insert(
            "volumes.kubernetes.io/controller-managed-attach-detach".to_string(),
            "true".to_string(),
        );
    }
    // registerWithTaints entries are Taint objects; bad ones were kept raw, skip them.
    let taints: Vec<Taint> = cfg
        .register_with_taints
        .iter()
        .filter_map(|t| serde_json::from_value(t.clone()).ok())
        .collect();
    Node {
        metadata: ObjectMeta {
            name: Some(opts.node_name.clone()),
            labels: Some(labels),
            annotations: Some(annotations),
            ..ObjectMeta::default()
        },
        spec: Some(NodeSpec {
            pod_cidr: cfg.pod_cidr.clone(),
            pod_cidrs: cfg.pod_cidr.clone().map(|c| vec![c]),
            provider_id: cfg.provider_id.clone(),
            taints: (!taints.is_empty()).then_some(taints),
            ..NodeSpec::default()
        }),
        status: None,
    }
}

/// Creates the Node if it is missing; if it exists, re-applies the kubelet's default
/// labels (upstream `reconcileExistingNode` / `updateDefaultLabels`). Returns the Node.
pub async fn register_node(api: &Api<Node>, opts: &NodeOptions, arch: &str) -> Result<Node> {
    let name = &opts.node_name;
    let existing = api
        .get_opt(name)
        .await
        .with_context(|| format!("getting node {name}"))?;
    if let Some(node) = existing {
        let wanted = default_labels(opts, arch);
        let have = node.metadata.labels.clone().unwrap_or_default();
        if wanted.iter().all(|(k, v)| have.get(k) == Some(v)) {
            return Ok(node);
        }
        let patch = json!({"metadata": {"labels": wanted}});
        return api
            .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
            .await
            .with_context(|| format!("updating the default labels of node {name}"));
    }
    match api
        .create(&PostParams::default(), &initial_node(opts, arch))
        .await
    {
        Ok(node) => {
            tracing::info!(node = %name, "registered node");
            Ok(node)
        }
        // Created concurrently (another kubelet start racing this one): use it.
        Err(kube::Error::Api(s)) if s.is_already_exists() => api
            .get(name)
            .await
            .with_context(|| format!("getting node {name} after AlreadyExists")),
        Err(e) => Err(e).with_context(|| format!("creating node {name}")),
    }
}

/// Posts the status through the nodes/status subresource with a strategic merge patch
/// (conditions merge by type, so conditions other components own survive).
pub async fn patch_node_status(api: &Api<Node>, name: &str, status: &NodeStatus) -> Result<Node> {
    let patch = json!({ "status": status });
    api.patch_status(name, &PatchParams::default(), &Patch::Strategic(&patch))
        .await
        .with_context(|| format!("patching the status of node {name}"))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::config::KubeletConfiguration;

    #[test]
    fn initial_node_labels_spec_annotations() {
        let config = KubeletConfiguration::from_yaml(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             podCIDR: 10.244.1.0/24\nnodeLabels: {kubernetes.io/os: windows, team: a}\n\
             registerWithTaints: [{key: dedicated, value: x, effect: NoSchedule}]\n",
        )
        .unwrap();
        let opts = NodeOptions {
            node_name: "n1".into(),
            hostname: "n1".into(),
            node_ip: "10.0.0.1".parse().unwrap(),
            runtime_version: "containerd://1.6.20".into(),
            config,
        };
        let node = initial_node(&opts, "amd64");
        let labels = node.metadata.labels.unwrap();
        assert_eq!(labels["kubernetes.io/hostname"], "n1");
        // The kubelet's own labels win over user-supplied ones.
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert_eq!(labels["kubernetes.io/arch"], "amd64");
        assert_eq!(labels["beta.kubernetes.io/arch"], "amd64");
        assert_eq!(labels["team"], "a");
        assert_eq!(
            node.metadata.annotations.unwrap()
                ["volumes.kubernetes.io/controller-managed-attach-detach"],
            "true"
        );
        let spec = node.spec.unwrap();
        assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.1.0/24"));
        assert_eq!(spec.pod_cidrs, Some(vec!["10.244.1.0/24".to_string()]));
        let taints = spec.taints.unwrap();
        assert_eq!(
            (taints[0].key.as_str(), taints[0].effect.as_str()),
            ("dedicated", "NoSchedule")
        );
        assert!(node.status.is_none());
    }
}
