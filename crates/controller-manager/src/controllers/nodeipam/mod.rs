//! Node IPAM (upstream pkg/controller/nodeipam, the RangeAllocator): with
//! --allocate-node-cidrs and --cluster-cidr, every node without spec.podCIDR gets the
//! next free /--node-cidr-mask-size subnet of the cluster CIDR (one per family for a
//! dual-stack "v4,v6" --cluster-cidr; IPv6 subnets are /64). The allocation map is
//! rebuilt from the nodes' podCIDRs at start; a deleted node's subnet is released;
//! exhaustion is reported with a CIDRNotAvailable event on the node.

pub mod cidrset;

use std::sync::{Arc, Mutex};

use crate::record::EventRecorder;
use anyhow::Context as _;
use k8s_openapi::api::core::v1::Node;
use kube::api::{Api, Patch, PatchParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::watcher;
use kube::Resource;

use super::endpointslice::informer::{is_not_found, Change, Informer};
use crate::context::ControllerContext;
use crate::workqueue::{run_workers, WorkQueue};
use cidrset::{CidrError, CidrSet};

/// upstream's default IPv6 node mask (--node-cidr-mask-size-ipv6).
const IPV6_NODE_MASK: u8 = 64;

/// One CidrSet per cluster CIDR (family).
pub struct Allocator {
    sets: Vec<CidrSet>,
}

impl Allocator {
    /// From --cluster-cidr (comma-separated, at most one per family) and
    /// --node-cidr-mask-size (used for IPv4).
    pub fn new(cluster_cidr: &str, node_mask_v4: u8) -> Result<Allocator, CidrError> {
        let mut sets = Vec::new();
        for c in cluster_cidr
            .split(',')
            .map(str::trim)
            .filter(|c| !c.is_empty())
        {
            let v6 = cidrset::Cidr::parse(c)?.v6;
            sets.push(CidrSet::new(
                c,
                if v6 { IPV6_NODE_MASK } else { node_mask_v4 },
            )?);
        }
        if sets.is_empty() {
            return Err(CidrError::Invalid(cluster_cidr.to_string()));
        }
        Ok(Allocator { sets })
    }

    /// Marks a node's existing podCIDRs used (those outside the ranges are ignored).
    pub fn occupy_node(&mut self, node: &Node) {
        for cidr in node_pod_cidrs(node) {
            for s in &mut self.sets {
                if s.occupy(&cidr).is_ok() {
                    break;
                }
            }
        }
    }

    pub fn release_node(&mut self, node: &Node) {
        for cidr in node_pod_cidrs(node) {
            for s in &mut self.sets {
                if s.release(&cidr).is_ok() {
                    break;
                }
            }
        }
    }

    /// One subnet per family; all or nothing.
    pub fn allocate(&mut self) -> Result<Vec<String>, CidrError> {
        let mut got = Vec::new();
        for i in 0..self.sets.len() {
            match self.sets[i].allocate() {
                Ok(c) => got.push(c),
                Err(e) => {
                    for (j, c) in got.iter().enumerate() {
                        let _ = self.sets[j].release(c);
                    }
                    return Err(e);
                }
            }
        }
        Ok(got)
    }

    pub fn release(&mut self, cidrs: &[String]) {
        for (s, c) in self.sets.iter_mut().zip(cidrs) {
            let _ = s.release(c);
        }
    }
}

/// spec.podCIDRs, else spec.podCIDR.
pub fn node_pod_cidrs(node: &Node) -> Vec<String> {
    let Some(spec) = &node.spec else {
        return Vec::new();
    };
    match &spec.pod_cidrs {
        Some(c) if !c.is_empty() => c.clone(),
        _ => spec
            .pod_cidr
            .iter()
            .filter(|c| !c.is_empty())
            .cloned()
            .collect(),
    }
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let cluster_cidr = match (&ctx.options.cluster_cidr, ctx.options.allocate_node_cidrs) {
        (Some(c), true) => c.clone(),
        _ => {
            tracing::info!(
                "node IPAM is idle: it needs --allocate-node-cidrs=true and --cluster-cidr"
            );
            ctx.stopped().await;
            return Ok(());
        }
    };
    let allocator = Allocator::new(&cluster_cidr, ctx.options.node_cidr_mask_size)
        .with_context(|| format!("--cluster-cidr {cluster_cidr:?} / --node-cidr-mask-size"))?;
    let allocator = Arc::new(Mutex::new(allocator));
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("node_ipam");
    let q = queue.clone();
    let a = allocator.clone();
    let nodes = Informer::start(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            let mut alloc = a.lock().unwrap_or_else(|p| p.into_inner());
            match c {
                Change::Applied(n) if node_pod_cidrs(n).is_empty() => {
                    if let Some(name) = &n.metadata.name {
                        q.add(name.clone());
                    }
                }
                Change::Applied(n) => alloc.occupy_node(n),
                Change::Deleted(n) => alloc.release_node(n),
                Change::Resynced => {}
            }
        },
    );
    nodes.synced().await?;
    let recorder = ctx.recorder("cidrAllocator");
    tokio::select! {
        _ = run_workers(queue.clone(), 1, move |name: String| {
            let client = client.clone();
            let allocator = allocator.clone();
            let recorder = recorder.clone();
            async move { sync(&client, &allocator, &recorder, &name).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

async fn sync(
    client: &kube::Client,
    allocator: &Mutex<Allocator>,
    recorder: &EventRecorder,
    name: &str,
) -> anyhow::Result<()> {
    let api: Api<Node> = Api::all(client.clone());
    // Read the node itself, not the cache: a podCIDR we just set may not be there yet.
    let node = match api.get(name).await {
        Ok(n) => n,
        Err(e) if is_not_found(&e) => return Ok(()),
        Err(e) => return Err(e).with_context(|| format!("getting node {name}")),
    };
    if !node_pod_cidrs(&node).is_empty() {
        allocator
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .occupy_node(&node);
        return Ok(());
    }
    let allocated = allocator
        .lock()
        .unwrap_or_else(|p| p.into_inner())
        .allocate();
    let cidrs = match allocated {
        Ok(c) => c,
        Err(e) => {
            let mut reference = node.object_ref(&());
            reference.uid = Some(name.to_string());
            let _ = recorder
                .publish(
                    &Event {
                        type_: EventType::Normal,
                        reason: "CIDRNotAvailable".to_string(),
                        note: Some(format!("Node {name} status is now: CIDRNotAvailable")),
                        action: "AllocateCIDR".to_string(),
                        secondary: None,
                    },
                    &reference,
                )
                .await;
            return Err(
                anyhow::Error::new(e).context(format!("allocating a pod CIDR for node {name}"))
            );
        }
    };
    let patch = serde_json::json!({"spec": {"podCIDR": cidrs[0], "podCIDRs": cidrs}});
    match api
        .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
        .await
    {
        Ok(_) => {
            tracing::info!(node = name, pod_cidrs = ?cidrs, "set node podCIDRs");
            Ok(())
        }
        Err(e) => {
            allocator
                .lock()
                .unwrap_or_else(|p| p.into_inner())
                .release(&cidrs);
            if is_not_found(&e) {
                return Ok(());
            }
            Err(e).with_context(|| format!("setting the podCIDRs of node {name}"))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::NodeSpec;

    fn node(cidrs: &[&str]) -> Node {
        Node {
            spec: Some(NodeSpec {
                pod_cidr: cidrs.first().map(|c| c.to_string()),
                pod_cidrs: Some(cidrs.iter().map(|c| c.to_string()).collect()),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn rebuilt_from_nodes_then_allocates_around_them_dual_stack() {
        let mut a = Allocator::new("10.244.0.0/16,fd00::/48", 24).unwrap();
        a.occupy_node(&node(&["10.244.0.0/24", "fd00::/64"]));
        let got = a.allocate().unwrap();
        assert_eq!(got, ["10.244.1.0/24", "fd00:0:0:1::/64"]);
        a.release_node(&node(&["10.244.0.0/24", "fd00::/64"]));
        // Round-robin continues past the last allocation, as upstream.
        assert_eq!(a.allocate().unwrap()[0], "10.244.2.0/24");
    }

    #[test]
    fn exhaustion_is_all_or_nothing() {
        let mut a = Allocator::new("10.0.0.0/24,fd00::/64", 25).unwrap();
        // The v6 range holds exactly one /64, the v4 one two /25s.
        assert!(a.allocate().is_ok());
        assert_eq!(a.allocate(), Err(CidrError::Full));
        // The failed attempt gave its v4 /25 back: freeing the v6 /64 is enough.
        a.release_node(&node(&["fd00::/64"]));
        assert_eq!(a.allocate().unwrap(), ["10.0.0.128/25", "fd00::/64"]);
    }
}
