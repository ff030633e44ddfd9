//! Objects every cluster starts with: the system namespaces, the `kubernetes` Service
//! with its Endpoints and EndpointSlice naming this apiserver (upstream's endpoint
//! reconciler), and the system PriorityClasses, created when missing (as upstream's
//! bootstrap controllers do).

use std::time::Duration;

use serde_json::json;

use crate::storage::{EtcdStore, StorageError};

pub const SYSTEM_NAMESPACES: &[&str] =
    &["default", "kube-system", "kube-public", "kube-node-lease"];

fn namespace(name: &str) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Namespace",
        "metadata": {
            "name": name,
            "uid": uuid::Uuid::new_v4().to_string(),
            "creationTimestamp": jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
            "labels": { "kubernetes.io/metadata.name": name },
        },
        "spec": { "finalizers": ["kubernetes"] },
        "status": { "phase": "Active" },
    })
}

fn kubernetes_service(ip: &str, port: u16) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Service",
        "metadata": {
            "name": "kubernetes",
            "namespace": "default",
            "uid": uuid::Uuid::new_v4().to_string(),
            "creationTimestamp": jiff::Timestamp::from_second(jiff::Timestamp::now().as_second()).unwrap_or_else(|_| jiff::Timestamp::now()).to_string(),
            "labels": { "component": "apiserver", "provider": "kubernetes" },
        },
        "spec": {
            "type": "ClusterIP",
            "clusterIP": ip,
            "clusterIPs": [ip],
            "ports": [{ "name": "https", "port": 443, "protocol": "TCP", "targetPort": port }],
            "sessionAffinity": "None",
            "ipFamilies": [if ip.contains(':') { "IPv6" } else { "IPv4" }],
            "ipFamilyPolicy": "SingleStack",
            "internalTrafficPolicy": "Cluster",
        },
        "status": { "loadBalancer": {} },
    })
}

fn stamp() -> String {
    jiff::Timestamp::from_second(jiff::Timestamp::now().as_second())
        .unwrap_or_else(|_| jiff::Timestamp::now())
        .to_string()
}

fn priority_class(name: &str, value: i32) -> serde_json::Value {
    json!({
        "apiVersion": "scheduling.k8s.io/v1",
        "kind": "PriorityClass",
        "metadata": { "name": name, "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": stamp() },
        "value": value,
        "globalDefault": false,
        "preemptionPolicy": "PreemptLowerPriority",
        "description": "Used for system critical pods that must not be moved from their current node.",
    })
}

fn kubernetes_endpoints(address: &str, port: u16) -> serde_json::Value {
    json!({
        "apiVersion": "v1",
        "kind": "Endpoints",
        "metadata": {
            "name": "kubernetes", "namespace": "default",
            "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": stamp(),
            "labels": { "endpointslice.kubernetes.io/skip-mirror": "true" },
        },
        "subsets": [{ "addresses": [{ "ip": address }], "ports": [{ "name": "https", "port": port, "protocol": "TCP" }] }],
    })
}

fn kubernetes_endpointslice(address: &str, port: u16) -> serde_json::Value {
    json!({
        "apiVersion": "discovery.k8s.io/v1",
        "kind": "EndpointSlice",
        "metadata": {
            "name": "kubernetes", "namespace": "default",
            "uid": uuid::Uuid::new_v4().to_string(), "creationTimestamp": stamp(),
            "labels": { "kubernetes.io/service-name": "kubernetes" },
        },
        "addressType": if address.contains(':') { "IPv6" } else { "IPv4" },
        "endpoints": [{ "addresses": [address], "conditions": { "ready": true } }],
        "ports": [{ "name": "https", "port": port, "protocol": "TCP" }],
    })
}

async fn ensure(
    store: &EtcdStore,
    key: &str,
    value: &serde_json::Value,
) -> Result<(), StorageError> {
    match store
        .create(key, serde_json::to_vec(value).unwrap_or_default())
        .await
    {
        Ok(_) | Err(StorageError::AlreadyExists) => Ok(()),
        Err(e) => Err(e),
    }
}

/// Creates the bootstrap objects, retrying while etcd is unreachable.
pub async fn run(
    store: EtcdStore,
    service_ip: Option<String>,
    advertise: Option<std::net::IpAddr>,
    secure_port: u16,
) {
    loop {
        let mut result = Ok(());
        for (name, value) in [
            crate::admission::priority::SYSTEM_CLUSTER_CRITICAL,
            crate::admission::priority::SYSTEM_NODE_CRITICAL,
        ] {
            let key = store.key("priorityclasses", None, name);
            if let Err(e) = ensure(&store, &key, &priority_class(name, value)).await {
                result = Err(e);
            }
        }
        if let (Some(_), Some(addr)) = (&service_ip, advertise) {
            let addr = addr.to_string();
            let key = store.key("endpoints", Some("default"), "kubernetes");
            if let Err(e) = ensure(&store, &key, &kubernetes_endpoints(&addr, secure_port)).await {
                result = Err(e);
            }
            let key = store.key("endpointslices", Some("default"), "kubernetes");
            if let Err(e) =
                ensure(&store, &key, &kubernetes_endpointslice(&addr, secure_port)).await
            {
                result = Err(e);
            }
        }
        for ns in SYSTEM_NAMESPACES {
            if let Err(e) = ensure(&store, &store.key("namespaces", None, ns), &namespace(ns)).await
            {
                result = Err(e);
            }
        }
        if let Some(ip) = &service_ip {
            let key = store.key("services", Some("default"), "kubernetes");
            if let Err(e) = ensure(&store, &key, &kubernetes_service(ip, secure_port)).await {
                result = Err(e);
            }
        }
        match crate::conversion::migrate::run(&store).await {
            Ok(m) if m == Default::default() => {}
            Ok(m) => tracing::info!(
                moved = m.moved,
                superseded = m.superseded,
                skipped = m.skipped,
                "moved objects of versions that now share storage"
            ),
            Err(e) => result = Err(e),
        }
        match result {
            Ok(()) => return,
            Err(e) => {
                tracing::warn!(error = %e, "bootstrap objects not written yet; retrying");
                tokio::time::sleep(Duration::from_secs(1)).await;
            }
        }
    }
}
