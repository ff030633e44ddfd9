//! PodGC (pkg/controller/podgc): every 20 s deletes terminated pods above
//! --terminated-pod-gc-threshold (evicted, then oldest, first), pods bound to nodes
//! that no longer exist (after a 40 s quarantine and a live re-check, marking them
//! Failed with a DisruptionTarget condition first), and terminating pods that were
//! never scheduled.

use std::collections::{HashMap, HashSet};
use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{Node, Pod, PodCondition};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use kube::api::{Api, DeleteParams, Patch, PatchParams};

use crate::context::ControllerContext;
use crate::controller_utils::{meta_key, pod_phase};

/// gcCheckPeriod.
pub const GC_CHECK_PERIOD: Duration = Duration::from_secs(20);
/// quarantineTime: how long a node must be missing before its pods are deleted.
pub const QUARANTINE_TIME: Duration = Duration::from_secs(40);

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let pods = ctx.informers().get::<Pod>();
    let nodes = ctx.informers().get::<Node>();
    pods.wait_synced().await;
    nodes.wait_synced().await;
    let mut quarantine: HashMap<String, Instant> = HashMap::new();
    loop {
        let all: Vec<Arc<Pod>> = pods.list();
        let node_names: HashSet<String> = nodes
            .list()
            .iter()
            .filter_map(|n| n.metadata.name.clone())
            .collect();
        if let Err(e) = gc(&ctx, &all, &node_names, &mut quarantine).await {
            tracing::warn!(error = %format!("{e:#}"), "pod garbage collection");
        }
        tokio::select! {
            _ = tokio::time::sleep(GC_CHECK_PERIOD) => {}
            _ = ctx.stopped() => return Ok(()),
        }
    }
}

async fn gc(
    ctx: &ControllerContext,
    pods: &[Arc<Pod>],
    nodes: &HashSet<String>,
    quarantine: &mut HashMap<String, Instant>,
) -> anyhow::Result<()> {
    let refs: Vec<&Pod> = pods.iter().map(|p| p.as_ref()).collect();
    let threshold = ctx.options.terminated_pod_gc_threshold;
    for p in terminated_to_delete(&refs, threshold) {
        tracing::info!(pod = %meta_key(&p.metadata), "PodGC is force deleting terminated pod");
        force_delete(ctx, p).await?;
    }
    // Orphaned: bound to a node that is not in the cache, quarantined, then re-checked.
    let missing = missing_nodes(&refs, nodes);
    quarantine.retain(|n, _| missing.contains(n));
    let node_api: Api<Node> = Api::all(ctx.client.clone());
    for node in &missing {
        let since = *quarantine.entry(node.clone()).or_insert_with(Instant::now);
        if since.elapsed() < QUARANTINE_TIME {
            continue;
        }
        if node_api
            .get_opt(node)
            .await
            .context("checking a missing node")?
            .is_some()
        {
            quarantine.remove(node);
            continue;
        }
        for p in refs.iter().filter(|p| bound_to(p) == Some(node.as_str())) {
            tracing::info!(pod = %meta_key(&p.metadata), node, "PodGC is force deleting orphaned pod");
            mark_failed(ctx, p, "DeletionByPodGC", "PodGC: node no longer exists").await?;
            force_delete(ctx, p).await?;
        }
        quarantine.remove(node);
    }
    for p in unscheduled_terminating(&refs) {
        tracing::info!(pod = %meta_key(&p.metadata), "PodGC is force deleting unscheduled terminating pod");
        force_delete(ctx, p).await?;
    }
    Ok(())
}

fn bound_to(p: &Pod) -> Option<&str> {
    p.spec
        .as_ref()
        .and_then(|s| s.node_name.as_deref())
        .filter(|n| !n.is_empty())
}

pub fn is_terminated(p: &Pod) -> bool {
    matches!(pod_phase(p), "Succeeded" | "Failed")
}

/// gcTerminated: the terminated pods beyond `threshold`, evicted first, then oldest.
pub fn terminated_to_delete<'a>(pods: &[&'a Pod], threshold: i64) -> Vec<&'a Pod> {
    if threshold <= 0 {
        return Vec::new();
    }
    let mut terminated: Vec<&Pod> = pods.iter().copied().filter(|p| is_terminated(p)).collect();
    let excess = terminated.len() as i64 - threshold;
    if excess <= 0 {
        return Vec::new();
    }
    let evicted = |p: &Pod| p.status.as_ref().and_then(|s| s.reason.as_deref()) == Some("Evicted");
    terminated.sort_by_key(|p| {
        (
            !evicted(p),
            p.metadata.creation_timestamp.as_ref().map(|t| t.0),
            p.metadata.name.clone(),
        )
    });
    terminated.truncate(excess as usize);
    terminated
}

/// Node names pods are bound to that are not known nodes.
pub fn missing_nodes(pods: &[&Pod], nodes: &HashSet<String>) -> HashSet<String> {
    pods.iter()
        .filter_map(|p| bound_to(p))
        .filter(|n| !nodes.contains(*n))
        .map(str::to_string)
        .collect()
}

/// gcUnscheduledTerminating: deleted but never bound.
pub fn unscheduled_terminating<'a>(pods: &[&'a Pod]) -> Vec<&'a Pod> {
    pods.iter()
        .copied()
        .filter(|p| p.metadata.deletion_timestamp.is_some() && bound_to(p).is_none())
        .collect()
}

async fn mark_failed(
    ctx: &ControllerContext,
    p: &Pod,
    reason: &str,
    message: &str,
) -> anyhow::Result<()> {
    if is_terminated(p) {
        return Ok(());
    }
    let ns = p.metadata.namespace.clone().unwrap_or_default();
    let name = p.metadata.name.clone().unwrap_or_default();
    let mut conditions: Vec<PodCondition> = p
        .status
        .as_ref()
        .and_then(|s| s.conditions.clone())
        .unwrap_or_default();
    conditions.retain(|c| c.type_ != "DisruptionTarget");
    conditions.push(PodCondition {
        type_: "DisruptionTarget".into(),
        status: "True".into(),
        reason: Some(reason.into()),
        message: Some(message.into()),
        last_transition_time: Some(Time(jiff::Timestamp::now())),
        ..Default::default()
    });
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    let patch = serde_json::json!({"status": {"phase": "Failed", "conditions": conditions}});
    match api
        .patch_status(&name, &PatchParams::default(), &Patch::Merge(patch))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("marking pod {ns}/{name} Failed")),
    }
}

async fn force_delete(ctx: &ControllerContext, p: &Pod) -> anyhow::Result<()> {
    let ns = p.metadata.namespace.clone().unwrap_or_default();
    let name = p.metadata.name.clone().unwrap_or_default();
    let api: Api<Pod> = Api::namespaced(ctx.client.clone(), &ns);
    match api
        .delete(&name, &DeleteParams::default().grace_period(0))
        .await
    {
        Ok(_) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 404 => Ok(()),
        Err(e) => Err(e).with_context(|| format!("deleting pod {ns}/{name}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{PodSpec, PodStatus};
    use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;

    fn pod(name: &str, node: &str, phase: &str, created: i64) -> Pod {
        Pod {
            metadata: ObjectMeta {
                name: Some(name.into()),
                namespace: Some("ns".into()),
                creation_timestamp: Some(Time(jiff::Timestamp::from_second(created).unwrap())),
                ..Default::default()
            },
            spec: Some(PodSpec {
                node_name: (!node.is_empty()).then(|| node.to_string()),
                ..Default::default()
            }),
            status: Some(PodStatus {
                phase: Some(phase.into()),
                ..Default::default()
            }),
        }
    }

    #[test]
    fn terminated_over_threshold_oldest_and_evicted_first() {
        let a = pod("a", "n", "Succeeded", 10);
        let b = pod("b", "n", "Failed", 5);
        let mut c = pod("c", "n", "Failed", 20);
        c.status.as_mut().unwrap().reason = Some("Evicted".into());
        let running = pod("r", "n", "Running", 1);
        let pods = vec![&a, &b, &c, &running];
        let names = |v: Vec<&Pod>| {
            v.iter()
                .map(|p| p.metadata.name.clone().unwrap())
                .collect::<Vec<_>>()
        };
        assert_eq!(names(terminated_to_delete(&pods, 1)), vec!["c", "b"]);
        assert!(terminated_to_delete(&pods, 3).is_empty());
        assert!(terminated_to_delete(&pods, 0).is_empty(), "<= 0 disables");
    }

    #[test]
    fn orphaned_and_unscheduled() {
        let a = pod("a", "gone", "Running", 1);
        let b = pod("b", "here", "Running", 1);
        let mut c = pod("c", "", "Pending", 1);
        let nodes: HashSet<String> = ["here".to_string()].into();
        assert_eq!(
            missing_nodes(&[&a, &b, &c], &nodes),
            ["gone".to_string()].into()
        );
        assert!(unscheduled_terminating(&[&a, &c]).is_empty());
        c.metadata.deletion_timestamp = Some(Time(jiff::Timestamp::now()));
        assert_eq!(unscheduled_terminating(&[&a, &c]).len(), 1);
    }
}
