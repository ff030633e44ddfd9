//! The node lifecycle controller (upstream pkg/controller/nodelifecycle): every
//! --node-monitor-period it checks each node's Lease (kube-node-lease) and Ready
//! heartbeat; a node silent for --node-monitor-grace-period gets its conditions set to
//! Unknown, the node.kubernetes.io/unreachable NoExecute + NoSchedule taints (or
//! not-ready for Ready=False) and its pods marked Ready=False, with a NodeNotReady
//! event. When the kubelet comes back the taints follow its Ready condition again.
//! Evicting pods from NoExecute-tainted nodes is [`taint_eviction`]'s job.

pub mod health;
pub mod taint_eviction;

use std::collections::HashMap;
use std::sync::Arc;

use crate::record::EventRecorder;
use anyhow::Context as _;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::{Node, NodeCondition, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::{SignedDuration, Timestamp};
use kube::api::{Api, ListParams, Patch, PatchParams, PostParams};
use kube::runtime::events::{Event, EventType};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;
use kube::Resource;

use super::endpointslice::informer::{is_conflict, is_not_found, Informer};
use crate::context::ControllerContext;
use health::{check_node_health, desired_taints, ready_status, NodeHealth};

pub const NODE_LEASE_NAMESPACE: &str = "kube-node-lease";

struct Controller {
    client: kube::Client,
    nodes: Store<Node>,
    leases: Store<Lease>,
    recorder: std::sync::Arc<EventRecorder>,
    grace: SignedDuration,
    health: HashMap<String, NodeHealth>,
    /// The Ready status seen at the previous pass, for the NodeNotReady transition.
    last_ready: HashMap<String, String>,
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let client = ctx.client.clone();
    let nodes = Informer::start(
        Api::<Node>::all(client.clone()),
        watcher::Config::default(),
        |_| {},
    );
    let leases = Informer::start(
        Api::<Lease>::namespaced(client.clone(), NODE_LEASE_NAMESPACE),
        watcher::Config::default(),
        |_| {},
    );
    nodes.synced().await?;
    leases.synced().await?;
    let grace = SignedDuration::try_from(ctx.options.node_monitor_grace_period)
        .context("--node-monitor-grace-period")?;
    let mut controller = Controller {
        client,
        nodes: nodes.store.clone(),
        leases: leases.store.clone(),
        recorder: ctx.recorder("node-controller"),
        grace,
        health: HashMap::new(),
        last_ready: HashMap::new(),
    };
    let mut tick = tokio::time::interval(ctx.options.node_monitor_period);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    loop {
        tokio::select! {
            _ = tick.tick() => controller.monitor().await,
            _ = ctx.stopped() => return Ok(()),
        }
    }
}

impl Controller {
    /// One monitorNodeHealth pass over every node.
    async fn monitor(&mut self) {
        let nodes = self.nodes.state();
        let names: Vec<String> = nodes
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        self.health.retain(|k, _| names.contains(k));
        self.last_ready.retain(|k, _| names.contains(k));
        for node in nodes {
            let name = node.metadata.name.clone().unwrap_or_default();
            if let Err(e) = self.monitor_node(&node, &name).await {
                tracing::warn!(node = %name, error = %format!("{e:#}"), "monitoring node health");
            }
        }
    }

    async fn monitor_node(&mut self, node: &Node, name: &str) -> anyhow::Result<()> {
        let lease_renew = self
            .leases
            .find(|l| l.metadata.name.as_deref() == Some(name))
            .and_then(|l| l.spec.as_ref()?.renew_time.as_ref().map(|t| t.0));
        let now = Timestamp::now();
        let check = check_node_health(self.health.get(name), node, lease_renew, now, self.grace);
        self.health.insert(name.to_string(), check.health);
        let api: Api<Node> = Api::all(self.client.clone());
        let mut node = node.clone();
        if let Some(conditions) = check.conditions {
            node.status.get_or_insert_with(Default::default).conditions = Some(conditions);
            match api
                .replace_status(name, &PostParams::default(), &node)
                .await
            {
                Ok(n) => node = n,
                // Someone (the kubelet) wrote meanwhile; the next pass sees it.
                Err(e) if is_conflict(&e) || is_not_found(&e) => return Ok(()),
                Err(e) => return Err(e).context("updating node conditions"),
            }
            tracing::info!(
                node = name,
                "node stopped posting status; conditions set to Unknown"
            );
        }
        let conditions: Vec<NodeCondition> = node
            .status
            .as_ref()
            .and_then(|s| s.conditions.clone())
            .unwrap_or_default();
        if let Some(taints) = desired_taints(&node, &conditions, now) {
            let patch = serde_json::json!({
                "metadata": {"resourceVersion": node.metadata.resource_version},
                "spec": {"taints": taints},
            });
            match api
                .patch(name, &PatchParams::default(), &Patch::Merge(&patch))
                .await
            {
                Ok(_) => {
                    tracing::info!(node = name, taints = ?taints.iter().map(|t| format!("{}:{}", t.key, t.effect)).collect::<Vec<_>>(), "updated node taints")
                }
                Err(e) if is_conflict(&e) || is_not_found(&e) => {}
                Err(e) => return Err(e).context("updating node taints"),
            }
        }
        let ready = ready_status(Some(&conditions)).to_string();
        let was = self.last_ready.insert(name.to_string(), ready.clone());
        if ready != "True" {
            if was.as_deref() == Some("True") {
                self.node_status_event(&node, "NodeNotReady").await;
            }
            self.mark_pods_not_ready(name).await?;
        }
        Ok(())
    }

    /// upstream RecordNodeStatusChange.
    async fn node_status_event(&self, node: &Node, status: &str) {
        let name = node.metadata.name.clone().unwrap_or_default();
        let mut reference = node.object_ref(&());
        reference.uid = Some(name.clone());
        let ev = Event {
            type_: EventType::Normal,
            reason: status.to_string(),
            note: Some(format!("Node {name} status is now: {status}")),
            action: "NodeStatusChange".to_string(),
            secondary: None,
        };
        if let Err(e) = self.recorder.publish(&ev, &reference).await {
            tracing::debug!(node = %name, error = %e, "recording event");
        }
    }

    /// upstream MarkPodsNotReady: the Ready condition of every pod on the node turns
    /// False.
    async fn mark_pods_not_ready(&self, node: &str) -> anyhow::Result<()> {
        let pods: Api<Pod> = Api::all(self.client.clone());
        let list = pods
            .list(&ListParams::default().fields(&format!("spec.nodeName={node}")))
            .await
            .with_context(|| format!("listing pods on node {node}"))?;
        for pod in list.items {
            let Some(updated) = pod_marked_not_ready(&pod, Timestamp::now()) else {
                continue;
            };
            let ns = pod.metadata.namespace.clone().unwrap_or_default();
            let name = pod.metadata.name.clone().unwrap_or_default();
            let api: Api<Pod> = Api::namespaced(self.client.clone(), &ns);
            match api
                .replace_status(&name, &PostParams::default(), &updated)
                .await
            {
                Ok(_) => {}
                Err(e) if is_conflict(&e) || is_not_found(&e) => {}
                Err(e) => {
                    return Err(e).with_context(|| format!("marking pod {ns}/{name} not ready"))
                }
            }
        }
        Ok(())
    }
}

/// Pure: the pod with its Ready condition set False (None when it already is, or the
/// pod is finished).
pub fn pod_marked_not_ready(pod: &Pod, now: Timestamp) -> Option<Pod> {
    let status = pod.status.as_ref()?;
    if matches!(status.phase.as_deref(), Some("Succeeded" | "Failed")) {
        return None;
    }
    let mut pod = pod.clone();
    let conds = pod.status.as_mut()?.conditions.as_mut()?;
    let ready = conds.iter_mut().find(|c| c.type_ == "Ready")?;
    if ready.status == "False" {
        return None;
    }
    ready.status = "False".to_string();
    ready.last_transition_time = Some(Time(now));
    Some(pod)
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodCondition, PodStatus};

    #[test]
    fn pods_are_marked_not_ready_once() {
        let pod = Pod {
            status: Some(PodStatus {
                phase: Some("Running".into()),
                conditions: Some(vec![PodCondition {
                    type_: "Ready".into(),
                    status: "True".into(),
                    ..Default::default()
                }]),
                ..Default::default()
            }),
            ..Default::default()
        };
        let marked = pod_marked_not_ready(&pod, Timestamp::UNIX_EPOCH).unwrap();
        let c = &marked.status.as_ref().unwrap().conditions.as_ref().unwrap()[0];
        assert_eq!(c.status, "False");
        assert!(pod_marked_not_ready(&marked, Timestamp::UNIX_EPOCH).is_none());
        let mut done = pod.clone();
        done.status.as_mut().unwrap().phase = Some("Succeeded".into());
        assert!(pod_marked_not_ready(&done, Timestamp::UNIX_EPOCH).is_none());
    }
}
