//! The scheduler's view of the cluster: nodes with the pods bound (or assumed bound) to
//! them and what those pods request (upstream's `internal/cache` + `NodeInfo`). Fed by
//! the node and pod watches; an assumed pod counts from the moment the scheduler picks
//! its node, so the next cycle already sees its resources.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::Arc;

use k8s_openapi::api::core::v1::{Node, Pod};

use crate::resources::{pod_requests, Resource};

/// `namespace/name`.
pub fn pod_key(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or(""),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

/// A pod with what the plugins keep asking about it computed once.
#[derive(Clone, Debug)]
pub struct PodInfo {
    pub pod: Arc<Pod>,
    pub key: String,
    pub requests: Resource,
    pub non_zero_requests: Resource,
    pub priority: i32,
    /// Parsed pod (anti-)affinity terms, for pods that have them.
    pub terms: Option<Arc<crate::framework::inter_pod_affinity::PodTerms>>,
}

impl PodInfo {
    pub fn new(pod: Arc<Pod>) -> PodInfo {
        let mut info = PodInfo {
            key: pod_key(&pod),
            requests: pod_requests(&pod, false),
            non_zero_requests: pod_requests(&pod, true),
            priority: pod.spec.as_ref().and_then(|s| s.priority).unwrap_or(0),
            pod,
            terms: None,
        };
        if info.has_affinity() {
            info.terms = Some(Arc::new(crate::framework::inter_pod_affinity::parse_terms(
                &info,
            )));
        }
        info
    }

    pub fn node_name(&self) -> Option<&str> {
        self.pod.spec.as_ref().and_then(|s| s.node_name.as_deref())
    }

    pub fn namespace(&self) -> &str {
        self.pod.metadata.namespace.as_deref().unwrap_or("")
    }

    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.pod.metadata.labels.as_ref().unwrap_or(&EMPTY)
    }

    pub fn has_affinity(&self) -> bool {
        self.pod
            .spec
            .as_ref()
            .and_then(|s| s.affinity.as_ref())
            .is_some_and(|a| a.pod_affinity.is_some() || a.pod_anti_affinity.is_some())
    }

    /// Host ports the pod asks for: (hostIP or 0.0.0.0, protocol, port).
    pub fn host_ports(&self) -> Vec<(String, String, i32)> {
        let mut out = Vec::new();
        let Some(spec) = self.pod.spec.as_ref() else {
            return out;
        };
        for c in spec
            .containers
            .iter()
            .chain(spec.init_containers.iter().flatten())
        {
            for p in c.ports.iter().flatten() {
                let Some(hp) = p.host_port.filter(|p| *p > 0) else {
                    continue;
                };
                let ip = p
                    .host_ip
                    .clone()
                    .filter(|s| !s.is_empty())
                    .unwrap_or_else(|| "0.0.0.0".to_string());
                let proto = p.protocol.clone().unwrap_or_else(|| "TCP".to_string());
                out.push((ip, proto, hp));
            }
        }
        out
    }
}

/// One node and what is bound to it.
#[derive(Clone, Debug)]
pub struct NodeInfo {
    pub node: Arc<Node>,
    pub name: String,
    pub pods: Vec<PodInfo>,
    pub requested: Resource,
    pub non_zero_requested: Resource,
    pub allocatable: Resource,
    /// (hostIP, protocol, port) in use.
    pub used_ports: HashSet<(String, String, i32)>,
    /// Image name (every name of the image) -> size in bytes.
    pub images: HashMap<String, i64>,
    /// How many of `pods` have pod affinity or anti-affinity.
    pub affinity_pods: usize,
}

impl NodeInfo {
    pub fn new(node: Arc<Node>) -> NodeInfo {
        let mut info = NodeInfo {
            name: node.metadata.name.clone().unwrap_or_default(),
            node: node.clone(),
            pods: Vec::new(),
            requested: Resource::default(),
            non_zero_requested: Resource::default(),
            allocatable: Resource::default(),
            used_ports: HashSet::new(),
            images: HashMap::new(),
            affinity_pods: 0,
        };
        info.set_node(node);
        info
    }

    pub fn set_node(&mut self, node: Arc<Node>) {
        let status = node.status.as_ref();
        self.allocatable = Resource::from_list(status.and_then(|s| s.allocatable.as_ref()));
        self.images = status
            .and_then(|s| s.images.as_ref())
            .into_iter()
            .flatten()
            .flat_map(|img| {
                let size = img.size_bytes.unwrap_or(0);
                img.names
                    .iter()
                    .flatten()
                    .map(move |n| (n.clone(), size))
                    .collect::<Vec<_>>()
            })
            .collect();
        self.node = node;
    }

    pub fn labels(&self) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.node.metadata.labels.as_ref().unwrap_or(&EMPTY)
    }

    pub fn add_pod(&mut self, pod: PodInfo) {
        self.requested.add(&pod.requests);
        self.requested.allowed_pod_number += 1;
        self.non_zero_requested.add(&pod.non_zero_requests);
        for p in pod.host_ports() {
            self.used_ports.insert(p);
        }
        if pod.has_affinity() {
            self.affinity_pods += 1;
        }
        self.pods.push(pod);
    }

    pub fn remove_pod(&mut self, key: &str) -> Option<PodInfo> {
        let i = self.pods.iter().position(|p| p.key == key)?;
        let pod = self.pods.swap_remove(i);
        if pod.has_affinity() {
            self.affinity_pods = self.affinity_pods.saturating_sub(1);
        }
        self.requested.sub(&pod.requests);
        self.requested.allowed_pod_number -= 1;
        self.non_zero_requested.sub(&pod.non_zero_requests);
        self.used_ports.clear();
        let ports: Vec<_> = self.pods.iter().flat_map(|p| p.host_ports()).collect();
        self.used_ports.extend(ports);
        Some(pod)
    }
}

/// Whether a pod is done and no longer holds resources.
pub fn is_terminal(pod: &Pod) -> bool {
    matches!(
        pod.status.as_ref().and_then(|s| s.phase.as_deref()),
        Some("Succeeded") | Some("Failed")
    )
}

/// Nodes plus bound and assumed pods.
#[derive(Default, Debug)]
pub struct Cache {
    nodes: BTreeMap<String, NodeInfo>,
    /// Pod key -> node name it counts against.
    pod_nodes: HashMap<String, String>,
    assumed: HashSet<String>,
    /// Pods bound to a node not seen yet: added to it when it appears.
    orphans: HashMap<String, PodInfo>,
    /// Node names in a stable order, for the round-robin start of each cycle.
    order: Vec<String>,
    /// Namespace labels, for pod affinity namespaceSelectors.
    namespaces: HashMap<String, BTreeMap<String, String>>,
}

impl Cache {
    pub fn new() -> Cache {
        Cache::default()
    }

    pub fn set_namespace(&mut self, name: &str, labels: BTreeMap<String, String>) {
        self.namespaces.insert(name.to_string(), labels);
    }

    pub fn remove_namespace(&mut self, name: &str) {
        self.namespaces.remove(name);
    }

    pub fn namespace_labels(&self, name: &str) -> &BTreeMap<String, String> {
        static EMPTY: BTreeMap<String, String> = BTreeMap::new();
        self.namespaces.get(name).unwrap_or(&EMPTY)
    }

    pub fn node_count(&self) -> usize {
        self.nodes.len()
    }

    pub fn node(&self, name: &str) -> Option<&NodeInfo> {
        self.nodes.get(name)
    }

    pub fn nodes(&self) -> impl Iterator<Item = &NodeInfo> {
        self.order.iter().filter_map(|n| self.nodes.get(n))
    }

    /// Node names in their stable order.
    pub fn node_names(&self) -> &[String] {
        &self.order
    }

    pub fn upsert_node(&mut self, node: Node) {
        let Some(name) = node.metadata.name.clone() else {
            return;
        };
        let node = Arc::new(node);
        match self.nodes.get_mut(&name) {
            Some(info) => info.set_node(node),
            None => {
                let mut info = NodeInfo::new(node);
                let keys: Vec<String> = self
                    .orphans
                    .iter()
                    .filter(|(_, p)| p.node_name() == Some(name.as_str()))
                    .map(|(k, _)| k.clone())
                    .collect();
                for k in keys {
                    if let Some(p) = self.orphans.remove(&k) {
                        info.add_pod(p);
                    }
                }
                self.nodes.insert(name.clone(), info);
                self.order.push(name);
            }
        }
    }

    pub fn remove_node(&mut self, name: &str) {
        if let Some(info) = self.nodes.remove(name) {
            for p in &info.pods {
                self.pod_nodes.remove(&p.key);
                self.assumed.remove(&p.key);
            }
        }
        self.order.retain(|n| n != name);
    }

    /// A pod from the watch: bound and running pods count against their node; pending,
    /// terminal or unknown-node pods do not.
    pub fn upsert_pod(&mut self, pod: Pod) {
        let key = pod_key(&pod);
        let node = pod
            .spec
            .as_ref()
            .and_then(|s| s.node_name.clone())
            .filter(|n| !n.is_empty());
        let Some(node) = node.filter(|_| !is_terminal(&pod)) else {
            // Not (or no longer) holding resources; an assumed pod's binding has not
            // been observed yet, so keep it.
            if !self.assumed.contains(&key) || is_terminal(&pod) {
                self.remove_pod(&key);
            }
            return;
        };
        self.assumed.remove(&key);
        self.remove_pod(&key);
        let info = PodInfo::new(Arc::new(pod));
        // A pod on a node we do not know (yet) is remembered with the node's name;
        // it is added to that node's info when it appears.
        match self.nodes.get_mut(&node) {
            Some(n) => n.add_pod(info),
            None => {
                self.orphans.insert(key.clone(), info);
            }
        }
        self.pod_nodes.insert(key, node);
    }

    pub fn remove_pod(&mut self, key: &str) {
        self.assumed.remove(key);
        self.orphans.remove(key);
        if let Some(node) = self.pod_nodes.remove(key) {
            if let Some(n) = self.nodes.get_mut(&node) {
                n.remove_pod(key);
            }
        }
    }

    /// Counts `pod` against `node` before the binding is observed.
    pub fn assume(&mut self, pod: &PodInfo, node: &str) {
        self.remove_pod(&pod.key);
        if let Some(n) = self.nodes.get_mut(node) {
            let mut info = pod.clone();
            let mut p = (*pod.pod).clone();
            p.spec.get_or_insert_with(Default::default).node_name = Some(node.to_string());
            info.pod = Arc::new(p);
            n.add_pod(info);
            self.pod_nodes.insert(pod.key.clone(), node.to_string());
            self.assumed.insert(pod.key.clone());
        }
    }

    /// Undoes [`Cache::assume`] after a failed binding.
    pub fn forget(&mut self, key: &str) {
        if self.assumed.contains(key) {
            self.remove_pod(key);
        }
    }

    /// Whether the pod counts against some node (bound, assumed or orphaned).
    pub fn has_pod(&self, key: &str) -> bool {
        self.pod_nodes.contains_key(key)
    }

    pub fn is_assumed(&self, key: &str) -> bool {
        self.assumed.contains(key)
    }

    /// Every pod counted on any node.
    pub fn all_pods(&self) -> impl Iterator<Item = (&NodeInfo, &PodInfo)> {
        self.nodes()
            .flat_map(|n| n.pods.iter().map(move |p| (n, p)))
    }
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{NodeStatus, PodSpec};
    use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    pub fn node(name: &str, cpu: &str, mem: &str, pods: &str) -> Node {
        Node {
            metadata: ObjectMeta {
                name: Some(name.into()),
                labels: Some(BTreeMap::from([(
                    "kubernetes.io/hostname".to_string(),
                    name.to_string(),
                )])),
                ..Default::default()
            },
            status: Some(NodeStatus {
                allocatable: Some(BTreeMap::from([
                    ("cpu".to_string(), Quantity(cpu.into())),
                    ("memory".to_string(), Quantity(mem.into())),
                    ("pods".to_string(), Quantity(pods.into())),
                ])),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    pub fn pod(ns: &str, name: &str, node: Option<&str>, cpu: &str) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some(ns.into()),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: node.map(str::to_string),
                containers: vec![crate::resources::tests::container("c", cpu, "")],
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn bound_and_assumed_pods_count_against_their_node() {
        let mut c = Cache::new();
        c.upsert_node(node("n1", "4", "8Gi", "110"));
        c.upsert_pod(pod("a", "p1", Some("n1"), "1"));
        c.upsert_pod(pod("a", "p2", None, "1"));
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1000));
        let p2 = PodInfo::new(Arc::new(pod("a", "p2", None, "500m")));
        c.assume(&p2, "n1");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1500));
        assert!(c.is_assumed("a/p2"));
        // The pending pod's own watch echo does not drop the assumption.
        c.upsert_pod(pod("a", "p2", None, "500m"));
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1500));
        // The bound pod confirms it.
        c.upsert_pod(pod("a", "p2", Some("n1"), "500m"));
        assert!(!c.is_assumed("a/p2"));
        assert_eq!(
            c.node("n1").map(|n| n.requested.allowed_pod_number),
            Some(2)
        );
        c.forget("a/p1");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(1500));
        c.remove_pod("a/p1");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(500));
        let p3 = PodInfo::new(Arc::new(pod("a", "p3", None, "1")));
        c.assume(&p3, "n1");
        c.forget("a/p3");
        assert_eq!(c.node("n1").map(|n| n.requested.milli_cpu), Some(500));
    }
}
