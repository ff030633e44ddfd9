//! The Node status as a pure function of the machine, the configuration and the time
//! (upstream: pkg/kubelet/nodestatus/setters.go). No I/O here; see `machine.rs`.

use std::collections::BTreeMap;
use std::net::IpAddr;

use k8s_openapi::api::core::v1::{
    DaemonEndpoint, NodeAddress, NodeCondition, NodeDaemonEndpoints, NodeStatus, NodeSystemInfo,
};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Time;
use k8s_openapi::jiff::Timestamp;

use super::machine::MachineInfo;
use crate::config::KubeletConfiguration;

/// The version the kubelet reports (nodeInfo.kubeletVersion, kubectl's VERSION column).
pub const KUBELET_VERSION: &str = concat!("v1.33.0-ferrokube.", env!("CARGO_PKG_VERSION"));

/// Everything the status depends on.
#[derive(Debug, Clone)]
pub struct StatusInput<'a> {
    pub machine: &'a MachineInfo,
    pub config: &'a KubeletConfiguration,
    pub node_ip: IpAddr,
    /// The Hostname address (upstream: the hostname override or the machine's hostname).
    pub hostname: &'a str,
    /// e.g. "containerd://1.6.20".
    pub runtime_version: &'a str,
    pub now: Timestamp,
}

/// Builds the Node status. `previous` is the status last seen on the server: a condition
/// whose status did not change keeps its lastTransitionTime, as upstream.
pub fn build_node_status(input: &StatusInput<'_>, previous: Option<&NodeStatus>) -> NodeStatus {
    let m = input.machine;
    let cfg = input.config;

    let cpu_milli = i128::from(m.num_cpus) * 1000;
    let mut capacity = BTreeMap::new();
    capacity.insert("cpu".to_string(), Quantity(format_milli_cpu(cpu_milli)));
    capacity.insert(
        "memory".to_string(),
        Quantity(format_binary_si(m.memory_bytes)),
    );
    capacity.insert(
        "ephemeral-storage".to_string(),
        Quantity(format_binary_si(m.root_fs_bytes)),
    );
    capacity.insert("pods".to_string(), Quantity(cfg.max_pods.to_string()));
    capacity.insert("hugepages-1Gi".to_string(), Quantity("0".into()));
    capacity.insert("hugepages-2Mi".to_string(), Quantity("0".into()));

    // Upstream: allocatable = capacity - kubeReserved - systemReserved - hard eviction.
    let mut allocatable = capacity.clone();
    let cpu_alloc = (cpu_milli - cfg.reserved_milli("cpu")).max(0);
    allocatable.insert("cpu".to_string(), Quantity(format_milli_cpu(cpu_alloc)));
    let bytes_after = |capacity: u64, resource: &str, eviction: u64| -> u64 {
        let reserved = (cfg.reserved_milli(resource).max(0) + 999) / 1000;
        let reserved = u64::try_from(reserved).unwrap_or(u64::MAX);
        capacity.saturating_sub(reserved).saturating_sub(eviction)
    };
    allocatable.insert(
        "memory".to_string(),
        Quantity(format_binary_si(bytes_after(
            m.memory_bytes,
            "memory",
            cfg.memory_eviction_bytes(m.memory_bytes),
        ))),
    );
    allocatable.insert(
        "ephemeral-storage".to_string(),
        Quantity(format_binary_si(bytes_after(
            m.root_fs_bytes,
            "ephemeral-storage",
            cfg.nodefs_eviction_bytes(m.root_fs_bytes),
        ))),
    );

    let conditions = [
        (
            "MemoryPressure",
            "False",
            "KubeletHasSufficientMemory",
            "kubelet has sufficient memory available",
        ),
        (
            "DiskPressure",
            "False",
            "KubeletHasNoDiskPressure",
            "kubelet has no disk pressure",
        ),
        (
            "PIDPressure",
            "False",
            "KubeletHasSufficientPID",
            "kubelet has sufficient PID available",
        ),
        (
            "Ready",
            "True",
            "KubeletReady",
            "kubelet is posting ready status",
        ),
    ]
    .into_iter()
    .map(|(type_, status, reason, message)| {
        let prev = previous
            .and_then(|p| p.conditions.as_ref())
            .and_then(|cs| cs.iter().find(|c| c.type_ == type_));
        let transition = match prev {
            Some(p) if p.status == status && p.last_transition_time.is_some() => {
                p.last_transition_time.clone()
            }
            _ => Some(Time(input.now)),
        };
        NodeCondition {
            type_: type_.to_string(),
            status: status.to_string(),
            reason: Some(reason.to_string()),
            message: Some(message.to_string()),
            last_heartbeat_time: Some(Time(input.now)),
            last_transition_time: transition,
        }
    })
    .collect();

    NodeStatus {
        capacity: Some(capacity),
        allocatable: Some(allocatable),
        conditions: Some(conditions),
        addresses: Some(vec![
            NodeAddress {
                type_: "InternalIP".into(),
                address: input.node_ip.to_string(),
            },
            NodeAddress {
                type_: "Hostname".into(),
                address: input.hostname.to_string(),
            },
        ]),
        daemon_endpoints: Some(NodeDaemonEndpoints {
            kubelet_endpoint: Some(DaemonEndpoint {
                port: i32::from(cfg.port),
            }),
        }),
        node_info: Some(NodeSystemInfo {
            architecture: m.architecture.clone(),
            boot_id: m.boot_id.clone(),
            container_runtime_version: input.runtime_version.to_string(),
            kernel_version: m.kernel_version.clone(),
            // Deprecated upstream; the kubelet no longer fills it.
            kube_proxy_version: String::new(),
            kubelet_version: KUBELET_VERSION.to_string(),
            machine_id: m.machine_id.clone(),
            operating_system: "linux".into(),
            os_image: m.os_image.clone(),
            system_uuid: m.system_uuid.clone(),
            swap: None,
        }),
        ..NodeStatus::default()
    }
}

/// True when two statuses differ in more than heartbeat times: upstream posts the status
/// only on a change, or when nodeStatusReportFrequency has passed.
pub fn status_changed(a: &NodeStatus, b: &NodeStatus) -> bool {
    let strip = |s: &NodeStatus| {
        let mut s = s.clone();
        for c in s.conditions.iter_mut().flatten() {
            c.last_heartbeat_time = None;
        }
        s
    };
    strip(a) != strip(b)
}

/// A byte count as upstream's canonical BinarySI quantity: the largest power-of-1024
/// suffix that divides it exactly ("8039596Ki", "1Gi"), else plain bytes.
pub fn format_binary_si(bytes: u64) -> String {
    const SUFFIXES: [&str; 6] = ["Ki", "Mi", "Gi", "Ti", "Pi", "Ei"];
    if bytes == 0 || bytes < 1024 {
        return bytes.to_string();
    }
    let mut v = bytes;
    let mut idx = None;
    while v.is_multiple_of(1024) && idx.is_none_or(|i| i + 1 < SUFFIXES.len()) {
        v /= 1024;
        idx = Some(idx.map_or(0, |i| i + 1));
    }
    match idx {
        Some(i) => format!("{v}{}", SUFFIXES[i]),
        None => v.to_string(),
    }
}

/// CPU in millicores as a canonical DecimalSI quantity ("2", "1500m").
pub fn format_milli_cpu(milli: i128) -> String {
    if milli % 1000 == 0 {
        (milli / 1000).to_string()
    } else {
        format!("{milli}m")
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn machine() -> MachineInfo {
        MachineInfo {
            hostname: "node-1".into(),
            num_cpus: 4,
            memory_bytes: 8039596 * 1024,
            root_fs_bytes: 100 * 1024 * 1024 * 1024,
            os_image: "Debian GNU/Linux 12 (bookworm)".into(),
            kernel_version: "6.18.0".into(),
            architecture: "amd64".into(),
            machine_id: "mid".into(),
            system_uuid: "uuid".into(),
            boot_id: "bid".into(),
        }
    }

    fn ts(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    fn input<'a>(m: &'a MachineInfo, cfg: &'a KubeletConfiguration, now: &str) -> StatusInput<'a> {
        StatusInput {
            machine: m,
            config: cfg,
            node_ip: "10.0.0.5".parse().unwrap(),
            hostname: "node-1",
            runtime_version: "containerd://1.6.20",
            now: ts(now),
        }
    }

    #[test]
    fn conditions_are_upstreams() {
        let m = machine();
        let cfg = KubeletConfiguration::default();
        let s = build_node_status(&input(&m, &cfg, "2026-01-01T00:00:00Z"), None);
        let got: Vec<_> = s
            .conditions
            .unwrap()
            .into_iter()
            .map(|c| {
                assert_eq!(
                    c.last_heartbeat_time,
                    Some(Time(ts("2026-01-01T00:00:00Z")))
                );
                assert_eq!(
                    c.last_transition_time,
                    Some(Time(ts("2026-01-01T00:00:00Z")))
                );
                (c.type_, c.status, c.reason.unwrap(), c.message.unwrap())
            })
            .collect();
        let want = [
            (
                "MemoryPressure",
                "False",
                "KubeletHasSufficientMemory",
                "kubelet has sufficient memory available",
            ),
            (
                "DiskPressure",
                "False",
                "KubeletHasNoDiskPressure",
                "kubelet has no disk pressure",
            ),
            (
                "PIDPressure",
                "False",
                "KubeletHasSufficientPID",
                "kubelet has sufficient PID available",
            ),
            (
                "Ready",
                "True",
                "KubeletReady",
                "kubelet is posting ready status",
            ),
        ];
        assert_eq!(got.len(), want.len());
        for (g, w) in got.iter().zip(want) {
            assert_eq!((g.0.as_str(), g.1.as_str(), g.2.as_str(), g.3.as_str()), w);
        }
    }

    #[test]
    fn capacity_allocatable_info_addresses() {
        let m = machine();
        let cfg = KubeletConfiguration::default();
        let s = build_node_status(&input(&m, &cfg, "2026-01-01T00:00:00Z"), None);
        let cap = s.capacity.unwrap();
        let alloc = s.allocatable.unwrap();
        let q = |m: &BTreeMap<String, Quantity>, k: &str| m[k].0.clone();
        assert_eq!(q(&cap, "cpu"), "4");
        assert_eq!(q(&cap, "memory"), "8039596Ki");
        assert_eq!(q(&cap, "ephemeral-storage"), "100Gi");
        assert_eq!(q(&cap, "pods"), "110");
        assert_eq!(q(&alloc, "cpu"), "4");
        // 8039596Ki - 100Mi (memory.available) = 7937196Ki.
        assert_eq!(q(&alloc, "memory"), "7937196Ki");
        // 100Gi - 10% (nodefs.available) = 90Gi.
        assert_eq!(q(&alloc, "ephemeral-storage"), "90Gi");
        assert_eq!(q(&alloc, "pods"), "110");

        let info = s.node_info.unwrap();
        assert!(info.kubelet_version.starts_with("v1.33.0-ferrokube"));
        assert_eq!(info.container_runtime_version, "containerd://1.6.20");
        assert_eq!(info.os_image, "Debian GNU/Linux 12 (bookworm)");
        assert_eq!(info.operating_system, "linux");
        assert_eq!(info.architecture, "amd64");
        assert_eq!(info.kernel_version, "6.18.0");
        assert_eq!(
            (
                info.machine_id.as_str(),
                info.system_uuid.as_str(),
                info.boot_id.as_str()
            ),
            ("mid", "uuid", "bid")
        );
        let addrs: Vec<_> = s
            .addresses
            .unwrap()
            .into_iter()
            .map(|a| (a.type_, a.address))
            .collect();
        assert_eq!(
            addrs,
            vec![
                ("InternalIP".to_string(), "10.0.0.5".to_string()),
                ("Hostname".to_string(), "node-1".to_string())
            ]
        );
        assert_eq!(
            s.daemon_endpoints.unwrap().kubelet_endpoint.unwrap().port,
            10250
        );
    }

    #[test]
    fn reserved_resources_reduce_allocatable() {
        let m = machine();
        let cfg = KubeletConfiguration::from_yaml(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             maxPods: 30\nkubeReserved: {cpu: 100m, memory: 256Mi}\n\
             systemReserved: {cpu: 400m, memory: 0.5Gi, ephemeral-storage: 1Gi}\n\
             evictionHard: {memory.available: 5%, nodefs.available: 1Gi}\n",
        )
        .unwrap();
        let s = build_node_status(&input(&m, &cfg, "2026-01-01T00:00:00Z"), None);
        let alloc = s.allocatable.unwrap();
        assert_eq!(alloc["cpu"].0, "3500m");
        assert_eq!(alloc["pods"].0, "30");
        let mem = 8039596u64 * 1024;
        let want = mem - 256 * 1024 * 1024 - 512 * 1024 * 1024 - (mem as f64 * 0.05) as u64;
        assert_eq!(alloc["memory"].0, format_binary_si(want));
        assert_eq!(alloc["ephemeral-storage"].0, "98Gi");
    }

    #[test]
    fn transition_time_kept_while_status_unchanged() {
        let m = machine();
        let cfg = KubeletConfiguration::default();
        let first = build_node_status(&input(&m, &cfg, "2026-01-01T00:00:00Z"), None);
        let second = build_node_status(&input(&m, &cfg, "2026-01-01T00:00:10Z"), Some(&first));
        for c in second.conditions.as_ref().unwrap() {
            assert_eq!(
                c.last_transition_time,
                Some(Time(ts("2026-01-01T00:00:00Z")))
            );
            assert_eq!(
                c.last_heartbeat_time,
                Some(Time(ts("2026-01-01T00:00:10Z")))
            );
        }
        assert!(!status_changed(&first, &second));
        let mut other = m.clone();
        other.kernel_version = "6.19.0".into();
        let third = build_node_status(&input(&other, &cfg, "2026-01-01T00:00:20Z"), Some(&second));
        assert!(status_changed(&second, &third));
    }

    #[test]
    fn quantity_formats() {
        assert_eq!(format_binary_si(0), "0");
        assert_eq!(format_binary_si(1000), "1000");
        assert_eq!(format_binary_si(1024), "1Ki");
        assert_eq!(format_binary_si(1536), "1536");
        assert_eq!(format_binary_si(1 << 30), "1Gi");
        assert_eq!(format_binary_si(3 << 29), "1536Mi");
        assert_eq!(format_milli_cpu(2000), "2");
        assert_eq!(format_milli_cpu(1500), "1500m");
    }
}
