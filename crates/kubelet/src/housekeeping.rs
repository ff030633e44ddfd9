//! Housekeeping at kubelet start (upstream's HandlePodCleanups after a restart): what a
//! previous kubelet left in containerd and in the network namespaces is matched against
//! the pods the API server still binds to this node.
//!
//! * A pod that is gone from the API (deleted while the kubelet was down) is removed:
//!   its tasks killed, containers and snapshots deleted, CNI DEL (releasing its IP), its
//!   netns deleted.
//! * A pod still in the API (or a static pod whose manifest is still there) is left
//!   alone: its worker adopts it (`PodRunner::adopt`) without restarting anything.
//!
//! Only pods with a container in this kubelet's containerd namespace are considered, so
//! other kubelets' netns on the same host are never touched.

use std::collections::{BTreeMap, BTreeSet, HashSet};

use crate::network::{CapabilityArgs, Cni, NetNs, Sandbox};
use crate::runtime::Containerd;

/// The netns name prefix pod sandboxes use (`fk-<uid>`).
pub const NETNS_PREFIX: &str = "fk-";

/// The pod uid of a container id `<uid>-<container name>` (uids are 36-char UUIDs).
pub fn pod_uid_of(container_id: &str) -> Option<&str> {
    let uid = container_id.get(..36)?;
    let rest = container_id.get(36..)?;
    let is_uuid = uid.char_indices().all(|(i, c)| match i {
        8 | 13 | 18 | 23 => c == '-',
        _ => c.is_ascii_hexdigit(),
    });
    (is_uuid && rest.starts_with('-') && rest.len() > 1).then_some(uid)
}

/// What a previous kubelet left: pod uid -> its container ids.
pub fn leftovers(container_ids: &[String]) -> BTreeMap<String, Vec<String>> {
    let mut out: BTreeMap<String, Vec<String>> = BTreeMap::new();
    for id in container_ids {
        if let Some(uid) = pod_uid_of(id) {
            out.entry(uid.to_string()).or_default().push(id.clone());
        }
    }
    out
}

/// The cleanup plan: (pods gone from the API, pods still there) among the leftovers.
pub fn plan(
    left: &BTreeMap<String, Vec<String>>,
    api_uids: &HashSet<String>,
) -> (BTreeSet<String>, BTreeSet<String>) {
    left.keys()
        .cloned()
        .partition(|uid| !api_uids.contains(uid))
}

/// What [`clean_up_at_start`] did.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct CleanupReport {
    /// Pods deleted while the kubelet was down, removed.
    pub orphans: Vec<String>,
    /// Pods left for their workers to adopt.
    pub kept: Vec<String>,
    pub errors: Vec<String>,
}

/// Removes one pod's containers, its CNI attachment and its netns; every step is tried.
pub async fn remove_pod(
    runtime: &Containerd,
    cni: &Cni,
    uid: &str,
    container_ids: &[String],
) -> Vec<String> {
    let mut errors = Vec::new();
    for id in container_ids {
        if let Err(e) = runtime.delete(id).await {
            errors.push(format!("deleting container {id}: {e}"));
        }
    }
    let Ok(netns) = NetNs::named(&format!("{NETNS_PREFIX}{uid}")) else {
        return errors;
    };
    if !netns.exists() {
        return errors;
    }
    let cni = cni.clone();
    let uid = uid.to_string();
    let torn = tokio::task::spawn_blocking(move || {
        let mut errs = Vec::new();
        match cni.load_network() {
            Ok(net) => {
                let sb = Sandbox {
                    container_id: uid.clone(),
                    netns: netns.path().to_path_buf(),
                    ifname: "eth0".into(),
                    pod: None,
                    capabilities: CapabilityArgs::default(),
                };
                if let Err(e) = cni.del(&net, &sb) {
                    errs.push(format!("CNI DEL for pod {uid}: {e}"));
                }
            }
            Err(e) => errs.push(format!("loading the CNI network: {e}")),
        }
        if let Err(e) = netns.delete() {
            errs.push(format!("deleting netns of pod {uid}: {e}"));
        }
        errs
    })
    .await;
    match torn {
        Ok(errs) => errors.extend(errs),
        Err(e) => errors.push(format!("teardown task: {e}")),
    }
    errors
}

/// Runs the start-up cleanup given the uids of the pods this node should run (the API's
/// and the static ones).
pub async fn clean_up_at_start(
    runtime: &Containerd,
    cni: &Cni,
    api_uids: &HashSet<String>,
) -> Result<CleanupReport, crate::runtime::RuntimeError> {
    let ids: Vec<String> = runtime.list().await?.into_iter().map(|c| c.id).collect();
    let left = leftovers(&ids);
    let (orphans, present) = plan(&left, api_uids);
    let mut report = CleanupReport {
        kept: present.into_iter().collect(),
        ..Default::default()
    };
    for uid in orphans {
        let containers = left.get(&uid).cloned().unwrap_or_default();
        tracing::info!(pod_uid = %uid, containers = containers.len(), "removing a pod deleted while the kubelet was down");
        report
            .errors
            .extend(remove_pod(runtime, cni, &uid, &containers).await);
        report.orphans.push(uid);
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    const UID: &str = "0868ff2d-e384-4145-aba5-fa5e21e4ed6d";

    #[test]
    fn container_ids_name_their_pod() {
        assert_eq!(pod_uid_of(&format!("{UID}-app")), Some(UID));
        assert_eq!(pod_uid_of(&format!("{UID}-")), None);
        assert_eq!(pod_uid_of(UID), None);
        assert_eq!(pod_uid_of("short-app"), None);
        assert_eq!(pod_uid_of("0868ff2dxe384-4145-aba5-fa5e21e4ed6d-w"), None);
    }

    #[test]
    fn leftovers_split_into_orphans_and_live_pods() {
        let other = "11111111-2222-3333-4444-555555555555";
        let ids = vec![
            format!("{UID}-app"),
            format!("{UID}-init"),
            format!("{other}-web"),
            "not-a-pod".to_string(),
        ];
        let left = leftovers(&ids);
        assert_eq!(left.len(), 2);
        assert_eq!(left[UID].len(), 2);
        let api = HashSet::from([other.to_string()]);
        let (orphans, present) = plan(&left, &api);
        assert_eq!(
            orphans.into_iter().collect::<Vec<_>>(),
            vec![UID.to_string()]
        );
        assert_eq!(
            present.into_iter().collect::<Vec<_>>(),
            vec![other.to_string()]
        );
    }
}
