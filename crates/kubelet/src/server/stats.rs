//! /stats/summary: node and per-pod CPU and memory, in upstream's Summary API shape
//! (kubelet/pkg/apis/stats/v1alpha1), read from /proc and the containers' cgroups
//! (v1 cpuacct/memory controllers, or v2).

use std::path::Path;

use http::Response;
use serde::Serialize;

use super::routes::running_pods;
use super::{json, Body, ServerState};

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Summary {
    pub node: NodeStats,
    pub pods: Vec<PodStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct NodeStats {
    pub node_name: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodReference {
    pub name: String,
    pub namespace: String,
    pub uid: String,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct PodStats {
    pub pod_ref: PodReference,
    pub start_time: String,
    pub containers: Vec<ContainerStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct ContainerStats {
    pub name: String,
    pub start_time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub cpu: Option<CpuStats>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub memory: Option<MemoryStats>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct CpuStats {
    pub time: String,
    pub usage_core_nano_seconds: u64,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct MemoryStats {
    pub time: String,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub available_bytes: Option<u64>,
    pub usage_bytes: u64,
    pub working_set_bytes: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub rss_bytes: Option<u64>,
}

/// Node memory from /proc/meminfo (kB values): usage = total - free, working set =
/// total - available (what upstream's cAdvisor reports for the root cgroup).
pub fn parse_meminfo(text: &str, time: &str) -> Option<MemoryStats> {
    let get = |key: &str| {
        text.lines().find_map(|l| {
            let rest = l.strip_prefix(key)?.strip_prefix(':')?;
            rest.split_whitespace()
                .next()?
                .parse::<u64>()
                .ok()
                .map(|kb| kb * 1024)
        })
    };
    let total = get("MemTotal")?;
    let free = get("MemFree")?;
    let available = get("MemAvailable").unwrap_or(free);
    Some(MemoryStats {
        time: time.to_string(),
        available_bytes: Some(available),
        usage_bytes: total.saturating_sub(free),
        working_set_bytes: total.saturating_sub(available),
        rss_bytes: None,
    })
}

/// Node CPU time from /proc/stat's `cpu` line (USER_HZ ticks; not idle or iowait).
pub fn parse_proc_stat(text: &str, ticks_per_second: u64, time: &str) -> Option<CpuStats> {
    let line = text.lines().find(|l| l.starts_with("cpu "))?;
    let f: Vec<u64> = line
        .split_whitespace()
        .skip(1)
        .filter_map(|v| v.parse().ok())
        .collect();
    // user nice system idle iowait irq softirq steal
    let busy: u64 = [0usize, 1, 2, 5, 6, 7]
        .iter()
        .filter_map(|i| f.get(*i))
        .sum();
    Some(CpuStats {
        time: time.to_string(),
        usage_core_nano_seconds: busy.saturating_mul(1_000_000_000 / ticks_per_second.max(1)),
    })
}

/// A `key value` line of a cgroup stat file.
pub fn stat_value(text: &str, key: &str) -> Option<u64> {
    text.lines().find_map(|l| {
        let (k, v) = l.split_once(' ')?;
        (k == key).then(|| v.trim().parse().ok())?
    })
}

fn read(path: impl AsRef<Path>) -> Option<String> {
    std::fs::read_to_string(path).ok()
}

/// CPU and memory of one cgroup (`cgroups_path` as in the OCI spec), v2 first, then v1.
pub fn cgroup_stats(
    root: &Path,
    cgroups_path: &str,
    time: &str,
) -> (Option<CpuStats>, Option<MemoryStats>) {
    let rel = cgroups_path.trim_start_matches('/');
    for v2 in [root.join(rel), root.join("unified").join(rel)] {
        if let Some(current) =
            read(v2.join("memory.current")).and_then(|s| s.trim().parse::<u64>().ok())
        {
            let stat = read(v2.join("memory.stat")).unwrap_or_default();
            let inactive = stat_value(&stat, "inactive_file").unwrap_or(0);
            let cpu = read(v2.join("cpu.stat"))
                .and_then(|s| stat_value(&s, "usage_usec"))
                .map(|us| CpuStats {
                    time: time.to_string(),
                    usage_core_nano_seconds: us.saturating_mul(1000),
                });
            return (
                cpu,
                Some(MemoryStats {
                    time: time.to_string(),
                    available_bytes: None,
                    usage_bytes: current,
                    working_set_bytes: current.saturating_sub(inactive),
                    rss_bytes: stat_value(&stat, "anon"),
                }),
            );
        }
    }
    let cpu = read(root.join("cpuacct").join(rel).join("cpuacct.usage"))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|ns| CpuStats {
            time: time.to_string(),
            usage_core_nano_seconds: ns,
        });
    let mem_dir = root.join("memory").join(rel);
    let memory = read(mem_dir.join("memory.usage_in_bytes"))
        .and_then(|s| s.trim().parse::<u64>().ok())
        .map(|usage| {
            let stat = read(mem_dir.join("memory.stat")).unwrap_or_default();
            let inactive = stat_value(&stat, "total_inactive_file").unwrap_or(0);
            MemoryStats {
                time: time.to_string(),
                available_bytes: None,
                usage_bytes: usage,
                working_set_bytes: usage.saturating_sub(inactive),
                rss_bytes: stat_value(&stat, "total_rss"),
            }
        });
    (cpu, memory)
}

fn sum_cpu(items: &[Option<CpuStats>], time: &str) -> Option<CpuStats> {
    let present: Vec<&CpuStats> = items.iter().flatten().collect();
    (!present.is_empty()).then(|| CpuStats {
        time: time.to_string(),
        usage_core_nano_seconds: present.iter().map(|c| c.usage_core_nano_seconds).sum(),
    })
}

fn sum_memory(items: &[Option<MemoryStats>], time: &str) -> Option<MemoryStats> {
    let present: Vec<&MemoryStats> = items.iter().flatten().collect();
    (!present.is_empty()).then(|| MemoryStats {
        time: time.to_string(),
        available_bytes: None,
        usage_bytes: present.iter().map(|m| m.usage_bytes).sum(),
        working_set_bytes: present.iter().map(|m| m.working_set_bytes).sum(),
        rss_bytes: Some(present.iter().filter_map(|m| m.rss_bytes).sum()),
    })
}

pub async fn summary(state: &ServerState) -> Response<Body> {
    let time = jiff::Timestamp::now().to_string();
    // SAFETY: sysconf has no preconditions.
    let hz = u64::try_from(unsafe { libc::sysconf(libc::_SC_CLK_TCK) }).unwrap_or(100);
    let node = NodeStats {
        node_name: state.node_name.clone(),
        cpu: read("/proc/stat").and_then(|s| parse_proc_stat(&s, hz, &time)),
        memory: read("/proc/meminfo").and_then(|s| parse_meminfo(&s, &time)),
    };
    let cgroup_root = Path::new("/sys/fs/cgroup");
    let mut pods = Vec::new();
    for rp in running_pods(state) {
        let mut containers = Vec::new();
        for c in &rp.app {
            let path = state
                .runtime
                .container_spec(&c.id)
                .await
                .ok()
                .and_then(|s| s["linux"]["cgroupsPath"].as_str().map(str::to_string));
            let (cpu, memory) = match path {
                Some(p) => cgroup_stats(cgroup_root, &p, &time),
                None => (None, None),
            };
            containers.push(ContainerStats {
                name: c.name.clone(),
                start_time: c.started_at.0.to_string(),
                cpu,
                memory,
            });
        }
        let cpus: Vec<_> = containers.iter().map(|c| c.cpu.clone()).collect();
        let mems: Vec<_> = containers.iter().map(|c| c.memory.clone()).collect();
        let m = &rp.pod.metadata;
        pods.push(PodStats {
            pod_ref: PodReference {
                name: m.name.clone().unwrap_or_default(),
                namespace: m.namespace.clone().unwrap_or_default(),
                uid: m.uid.clone().unwrap_or_default(),
            },
            start_time: rp.start_time.0.to_string(),
            cpu: sum_cpu(&cpus, &time),
            memory: sum_memory(&mems, &time),
            containers,
        });
    }
    pods.sort_by(|a, b| {
        (&a.pod_ref.namespace, &a.pod_ref.name).cmp(&(&b.pod_ref.namespace, &b.pod_ref.name))
    });
    json(&Summary { node, pods })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn node_memory_and_cpu() {
        let m = parse_meminfo(
            "MemTotal: 1000 kB\nMemFree: 200 kB\nMemAvailable: 600 kB\n",
            "t",
        )
        .unwrap();
        assert_eq!(m.usage_bytes, 800 * 1024);
        assert_eq!(m.working_set_bytes, 400 * 1024);
        assert_eq!(m.available_bytes, Some(600 * 1024));
        assert!(parse_meminfo("nothing", "t").is_none());
        let c = parse_proc_stat("cpu  10 1 5 1000 50 2 3 4 0 0\ncpu0 1 1 1 1\n", 100, "t").unwrap();
        assert_eq!(
            c.usage_core_nano_seconds,
            (10 + 1 + 5 + 2 + 3 + 4) * 10_000_000
        );
    }

    #[test]
    fn cgroup_v1_and_v2_files() {
        let root = tempfile::tempdir().unwrap();
        let v1cpu = root.path().join("cpuacct/k8s.io/c1");
        let v1mem = root.path().join("memory/k8s.io/c1");
        std::fs::create_dir_all(&v1cpu).unwrap();
        std::fs::create_dir_all(&v1mem).unwrap();
        std::fs::write(v1cpu.join("cpuacct.usage"), "12345\n").unwrap();
        std::fs::write(v1mem.join("memory.usage_in_bytes"), "4096\n").unwrap();
        std::fs::write(
            v1mem.join("memory.stat"),
            "total_rss 1024\ntotal_inactive_file 1000\n",
        )
        .unwrap();
        let (cpu, mem) = cgroup_stats(root.path(), "/k8s.io/c1", "t");
        assert_eq!(cpu.unwrap().usage_core_nano_seconds, 12345);
        let mem = mem.unwrap();
        assert_eq!(
            (mem.usage_bytes, mem.working_set_bytes, mem.rss_bytes),
            (4096, 3096, Some(1024))
        );

        let v2 = root.path().join("unified/k8s.io/c2");
        std::fs::create_dir_all(&v2).unwrap();
        std::fs::write(v2.join("memory.current"), "8192\n").unwrap();
        std::fs::write(v2.join("memory.stat"), "anon 4096\ninactive_file 192\n").unwrap();
        std::fs::write(v2.join("cpu.stat"), "usage_usec 7\nuser_usec 5\n").unwrap();
        let (cpu, mem) = cgroup_stats(root.path(), "/k8s.io/c2", "t");
        assert_eq!(cpu.unwrap().usage_core_nano_seconds, 7000);
        assert_eq!(mem.unwrap().working_set_bytes, 8000);
        assert_eq!(cgroup_stats(root.path(), "/k8s.io/none", "t"), (None, None));
    }

    #[test]
    fn summary_json_shape() {
        let s = Summary {
            node: NodeStats {
                node_name: "n".into(),
                cpu: Some(CpuStats {
                    time: "t".into(),
                    usage_core_nano_seconds: 1,
                }),
                memory: None,
            },
            pods: vec![],
        };
        let v = serde_json::to_value(&s).unwrap();
        assert_eq!(v["node"]["nodeName"], "n");
        assert_eq!(v["node"]["cpu"]["usageCoreNanoSeconds"], 1);
        assert!(v["node"].get("memory").is_none());
    }
}
