//! Adopting a pod this kubelet started before it restarted (upstream rebuilds its view
//! from the runtime the same way): the sandbox is found by name (`fk-<uid>`; its IPs read
//! from the interface), volumes are set up again (idempotent: existing tmpfs mounts and
//! files are kept), and every container whose containerd task exists becomes a record
//! again, with the restart count taken from the newest `<n>.log`. Running containers
//! are not touched; the next sync pass observes exits as usual. The FIFOs of stdin/tty
//! containers are opened again (the shim kept its ends, so nothing was lost beyond what
//! the pipe buffers could not hold) and their output keeps reaching the log file; their
//! stdin stays open (the shim holds a writer of its own until CloseIO).

use std::net::IpAddr;
use std::path::Path;
use std::time::Instant;

use k8s_openapi::api::core::v1::{Container, Pod};

use super::probes::ProbeSet;
use super::sandbox::{PodSandbox, POD_IFNAME};
use super::sync::{ContainerRecord, PodState};
use super::worker::{normalize_image, now, PodRunner, RunningPod, StartedContainer};
use super::{container_id, container_log_path, pod_log_dir, volumes, PodError, Result};
use crate::network::cni::parse_result;
use crate::network::{CapabilityArgs, NetNs, PodArgs, Sandbox};

/// The newest `<n>.log` in a container's log directory: its restart count.
pub fn latest_restart(dir: &Path) -> i32 {
    std::fs::read_dir(dir)
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|e| {
            e.file_name()
                .to_str()
                .and_then(|n| n.strip_suffix(".log"))
                .and_then(|n| n.parse::<i32>().ok())
        })
        .max()
        .unwrap_or(0)
}

/// The pod's addresses from `ip -j addr` output for its interface, as CNI `ips` JSON.
pub fn addresses_from_ip_json(text: &str) -> Vec<String> {
    let Ok(serde_json::Value::Array(links)) = serde_json::from_str(text) else {
        return Vec::new();
    };
    links
        .iter()
        .flat_map(|l| l["addr_info"].as_array().cloned().unwrap_or_default())
        .filter(|a| a["scope"] == "global")
        .filter_map(|a| {
            Some(format!(
                "{}/{}",
                a["local"].as_str()?,
                a["prefixlen"].as_u64()?
            ))
        })
        .collect()
}

fn read_pod_addresses(netns: &NetNs) -> Vec<String> {
    std::process::Command::new("ip")
        .args(["-j", "-n", netns.name(), "addr", "show", "dev", POD_IFNAME])
        .output()
        .ok()
        .filter(|o| o.status.success())
        .map(|o| addresses_from_ip_json(&String::from_utf8_lossy(&o.stdout)))
        .unwrap_or_default()
}

impl PodRunner {
    /// Takes over `pod` when its sandbox (or, for hostNetwork, any container) still
    /// exists; Ok(None) when there is nothing to adopt (start it instead).
    pub async fn adopt(&self, pod: &Pod) -> Result<Option<RunningPod>> {
        let meta = &pod.metadata;
        let namespace = meta.namespace.clone().unwrap_or_else(|| "default".into());
        let name = meta.name.clone().unwrap_or_default();
        let uid = meta.uid.clone().unwrap_or_default();
        let key = format!("{namespace}/{name}");
        let Some(spec) = pod.spec.as_ref().filter(|_| !uid.is_empty()) else {
            return Ok(None);
        };
        let host_network = spec.host_network == Some(true);

        // Containers with a task: the ones to keep.
        let all: Vec<(&Container, bool)> = spec
            .init_containers
            .iter()
            .flatten()
            .map(|c| (c, true))
            .chain(spec.containers.iter().map(|c| (c, false)))
            .collect();
        let mut live = Vec::new();
        for (c, init) in &all {
            let id = container_id(&uid, &c.name);
            if self.runtime.task_status(&id).await.is_ok() {
                live.push(((*c).clone(), *init, id));
            }
        }

        let net_err = |source| PodError::Network {
            pod: key.clone(),
            context: "adopting the sandbox".into(),
            source: Box::new(source),
        };
        let sandbox = if host_network {
            if live.is_empty() {
                return Ok(None);
            }
            let (ns2, name2, uid2) = (namespace.clone(), name.clone(), uid.clone());
            tokio::task::spawn_blocking(move || PodSandbox::host(&ns2, &name2, &uid2))
                .await
                .map_err(|e| PodError::Io {
                    pod: key.clone(),
                    context: "sandbox task".into(),
                    source: std::io::Error::other(e.to_string()),
                })??
        } else {
            let netns = NetNs::named(&PodSandbox::netns_name(&uid)).map_err(net_err)?;
            if !netns.exists() {
                return Ok(None);
            }
            let network = self.cni.load_network().map_err(net_err)?;
            let ips: Vec<serde_json::Value> = read_pod_addresses(&netns)
                .into_iter()
                .map(|a| serde_json::json!({ "address": a }))
                .collect();
            let result = parse_result(
                serde_json::json!({"cniVersion": network.cni_version, "ips": ips})
                    .to_string()
                    .as_bytes(),
            )
            .unwrap_or_default();
            PodSandbox {
                id: uid.clone(),
                pod: key.clone(),
                cni_sandbox: Some(Sandbox {
                    container_id: uid.clone(),
                    netns: netns.path().to_path_buf(),
                    ifname: POD_IFNAME.into(),
                    pod: Some(PodArgs {
                        namespace: namespace.clone(),
                        name: name.clone(),
                        uid: uid.clone(),
                    }),
                    capabilities: CapabilityArgs::default(),
                }),
                netns,
                network: Some(network),
                result: Some(result),
                host_network: false,
            }
        };

        let mut info = self.runtime_info();
        info.pod_ips = if host_network {
            info.host_ips.clone()
        } else {
            sandbox.pod_ips().iter().map(IpAddr::to_string).collect()
        };
        let pod_dir = volumes::pod_dir(&self.settings.root_dir, &uid);
        let objs = super::sources::fetch(self.settings.client.as_ref(), pod)
            .await
            .unwrap_or_default();
        let vols = {
            let (pod2, dir2, info2) = (pod.clone(), pod_dir.clone(), info.clone());
            tokio::task::spawn_blocking(move || volumes::setup(&pod2, &dir2, &objs, &info2))
                .await
                .map_err(|e| PodError::Io {
                    pod: key.clone(),
                    context: "volume setup task".into(),
                    source: std::io::Error::other(e.to_string()),
                })?
                .map_err(|e| PodError::Io {
                    pod: key.clone(),
                    context: "re-establishing volumes".into(),
                    source: std::io::Error::other(e.to_string()),
                })?
        };

        let log_dir = pod_log_dir(&self.pod_logs_dir, &namespace, &name, &uid);
        // kubelet-attach: stdin/tty containers' FIFOs are ours to read again.
        for (c, _, id) in &live {
            let restart_count = latest_restart(&log_dir.join(&c.name));
            let log_path = container_log_path(&log_dir, &c.name, restart_count);
            if let Some(cfg) = super::containers::stdio_config(c, &log_path, &pod_dir) {
                if let Err(e) = self.runtime.reattach_io(id, &cfg) {
                    tracing::warn!(pod = %key, container = %c.name, error = %e, "re-opening the container's stdio");
                }
            }
        }
        let start_time = now();
        let started = |c: &Container| StartedContainer {
            name: c.name.clone(),
            id: container_id(&uid, &c.name),
            image: normalize_image(c.image.as_deref().unwrap_or("")),
            log_path: container_log_path(&log_dir, &c.name, 0),
            started_at: start_time.clone(),
        };
        let records = live
            .iter()
            .map(|(c, init, id)| {
                let restart_count = latest_restart(&log_dir.join(&c.name));
                ContainerRecord {
                    name: c.name.clone(),
                    init: *init,
                    id: id.clone(),
                    image: c.image.clone().unwrap_or_default(),
                    image_id: normalize_image(c.image.as_deref().unwrap_or("")),
                    restart_count,
                    exists: true,
                    started_at: Some(start_time.clone()),
                    log_path: container_log_path(&log_dir, &c.name, restart_count),
                    terminated: None,
                    finished: None,
                    last_state: None,
                    waiting: None,
                    probes: None,
                }
            })
            .collect();
        let running = RunningPod::assemble(
            pod.clone(),
            uid.clone(),
            key.clone(),
            sandbox,
            spec.init_containers.iter().flatten().map(started).collect(),
            spec.containers.iter().map(started).collect(),
            start_time.clone(),
            log_dir.clone(),
            pod_dir,
            PodState {
                containers: records,
                backoff: Default::default(),
                volumes: vols,
                info: info.clone(),
                last_resync: Instant::now(),
                stopping: false,
            },
        );
        // Probes start again for running app containers.
        {
            let mut st = running.state.lock().await;
            for rec in st.containers.iter_mut().filter(|r| !r.init) {
                if let Some(c) = spec.containers.iter().find(|c| c.name == rec.name) {
                    rec.probes = ProbeSet::spawn(self, &running, &info, c, &rec.id);
                }
            }
        }
        tracing::info!(pod = %key, containers = live.len(), "adopted running pod");
        Ok(Some(running))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn restart_count_from_log_files() {
        let dir = tempfile::tempdir().unwrap();
        assert_eq!(latest_restart(dir.path()), 0);
        for n in ["0.log", "1.log", "3.log", "junk.txt"] {
            std::fs::write(dir.path().join(n), "").unwrap();
        }
        assert_eq!(latest_restart(dir.path()), 3);
    }

    #[test]
    fn addresses_from_ip() {
        let text = r#"[{"ifindex":2,"ifname":"eth0","addr_info":[
            {"family":"inet","local":"10.244.0.7","prefixlen":24,"scope":"global"},
            {"family":"inet6","local":"fe80::1","prefixlen":64,"scope":"link"}]}]"#;
        assert_eq!(addresses_from_ip_json(text), ["10.244.0.7/24"]);
        assert!(addresses_from_ip_json("garbage").is_empty());
    }
}
