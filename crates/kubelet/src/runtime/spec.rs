//! Building the OCI runtime spec (config.json) for runc, as a pure function.
//!
//! Modelled on containerd 1.6's default Linux spec (`oci.populateDefaultUnixSpec`) plus
//! the few things the CRI plugin layers on top (cgroup mount, privileged mode, resources),
//! so a container started by ferrokube looks like one started by containerd's CRI plugin.

use serde_json::{json, Value};

/// OCI runtime-spec version written into the spec; runc 1.1 implements 1.0.2.
pub const OCI_VERSION: &str = "1.0.2";

/// containerd's default PATH when the caller's env sets none.
pub const DEFAULT_PATH: &str = "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin";

/// The capabilities containerd grants a non-privileged container (`oci.defaultUnixCaps`).
pub const DEFAULT_CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_FSETID",
    "CAP_FOWNER",
    "CAP_MKNOD",
    "CAP_NET_RAW",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETFCAP",
    "CAP_SETPCAP",
    "CAP_NET_BIND_SERVICE",
    "CAP_SYS_CHROOT",
    "CAP_KILL",
    "CAP_AUDIT_WRITE",
];

/// Every capability runc 1.1 knows (for `privileged` and `add: ["ALL"]`).
pub const ALL_CAPABILITIES: &[&str] = &[
    "CAP_CHOWN",
    "CAP_DAC_OVERRIDE",
    "CAP_DAC_READ_SEARCH",
    "CAP_FOWNER",
    "CAP_FSETID",
    "CAP_KILL",
    "CAP_SETGID",
    "CAP_SETUID",
    "CAP_SETPCAP",
    "CAP_LINUX_IMMUTABLE",
    "CAP_NET_BIND_SERVICE",
    "CAP_NET_BROADCAST",
    "CAP_NET_ADMIN",
    "CAP_NET_RAW",
    "CAP_IPC_LOCK",
    "CAP_IPC_OWNER",
    "CAP_SYS_MODULE",
    "CAP_SYS_RAWIO",
    "CAP_SYS_CHROOT",
    "CAP_SYS_PTRACE",
    "CAP_SYS_PACCT",
    "CAP_SYS_ADMIN",
    "CAP_SYS_BOOT",
    "CAP_SYS_NICE",
    "CAP_SYS_RESOURCE",
    "CAP_SYS_TIME",
    "CAP_SYS_TTY_CONFIG",
    "CAP_MKNOD",
    "CAP_LEASE",
    "CAP_AUDIT_WRITE",
    "CAP_AUDIT_CONTROL",
    "CAP_SETFCAP",
    "CAP_MAC_OVERRIDE",
    "CAP_MAC_ADMIN",
    "CAP_SYSLOG",
    "CAP_WAKE_ALARM",
    "CAP_BLOCK_SUSPEND",
    "CAP_AUDIT_READ",
    "CAP_PERFMON",
    "CAP_BPF",
    "CAP_CHECKPOINT_RESTORE",
];

/// Paths hidden from non-privileged containers (containerd's default `maskedPaths`).
pub const MASKED_PATHS: &[&str] = &[
    "/proc/acpi",
    "/proc/asound",
    "/proc/kcore",
    "/proc/keys",
    "/proc/latency_stats",
    "/proc/timer_list",
    "/proc/timer_stats",
    "/proc/sched_debug",
    "/sys/firmware",
    "/proc/scsi",
];

/// Paths made read-only in non-privileged containers (containerd's default `readonlyPaths`).
pub const READONLY_PATHS: &[&str] = &[
    "/proc/bus",
    "/proc/fs",
    "/proc/irq",
    "/proc/sys",
    "/proc/sysrq-trigger",
];

/// An extra mount (volume, /etc/hosts, resolv.conf, ...).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct MountInput {
    pub destination: String,
    pub source: String,
    /// Mount type; empty means a bind mount.
    pub kind: String,
    /// Extra options; for bind mounts `rbind`, `rprivate` and `rw`/`ro` are added.
    pub options: Vec<String>,
    pub readonly: bool,
}

/// What the kubelet decides about one container; everything else comes from the defaults.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct OciSpecInput {
    /// argv (already resolved from image entrypoint/cmd and the pod's command/args).
    pub args: Vec<String>,
    /// `KEY=value` entries; `PATH` defaults to [`DEFAULT_PATH`] when absent.
    pub env: Vec<String>,
    /// Working directory; empty means `/`.
    pub cwd: String,
    pub hostname: String,
    pub uid: u32,
    pub gid: u32,
    pub additional_gids: Vec<u32>,
    pub readonly_rootfs: bool,
    /// Capability names with or without the `CAP_` prefix; `ALL` is understood.
    pub capabilities_add: Vec<String>,
    pub capabilities_drop: Vec<String>,
    pub privileged: bool,
    pub memory_limit_bytes: Option<i64>,
    pub cpu_shares: Option<u64>,
    pub cpu_quota: Option<i64>,
    pub cpu_period: Option<u64>,
    pub mounts: Vec<MountInput>,
    /// Join this network namespace (the pod sandbox's) instead of creating a new one.
    pub netns_path: Option<String>,
    /// hostNetwork: share the node's network and UTS namespaces (no netns, no hostname).
    pub host_network: bool,
    /// cgroupfs parent, e.g. `/kubepods/burstable/pod<uid>`; the container id is appended.
    /// Without it the path is `/<containerd namespace>/<id>` like containerd's default.
    pub cgroup_parent: Option<String>,
}

fn normalize_cap(name: &str) -> String {
    let upper = name.trim().to_ascii_uppercase();
    if upper == "ALL" || upper.starts_with("CAP_") {
        upper
    } else {
        format!("CAP_{upper}")
    }
}

/// The effective capability set: defaults (or all when privileged), then drop, then add,
/// the order the CRI plugin uses so `drop: [ALL], add: [NET_ADMIN]` works.
pub fn capabilities(input: &OciSpecInput) -> Vec<String> {
    if input.privileged {
        return ALL_CAPABILITIES.iter().map(|c| (*c).to_string()).collect();
    }
    let drop: Vec<String> = input
        .capabilities_drop
        .iter()
        .map(|c| normalize_cap(c))
        .collect();
    let add: Vec<String> = input
        .capabilities_add
        .iter()
        .map(|c| normalize_cap(c))
        .collect();
    let mut caps: Vec<String> = if drop.iter().any(|c| c == "ALL") {
        Vec::new()
    } else {
        DEFAULT_CAPABILITIES
            .iter()
            .map(|c| (*c).to_string())
            .filter(|c| !drop.contains(c))
            .collect()
    };
    let to_add: Vec<String> = if add.iter().any(|c| c == "ALL") {
        ALL_CAPABILITIES.iter().map(|c| (*c).to_string()).collect()
    } else {
        add
    };
    for cap in to_add {
        if !caps.contains(&cap) {
            caps.push(cap);
        }
    }
    caps
}

fn default_mounts(privileged: bool) -> Vec<Value> {
    // sysfs and the cgroup tree are read-only unless privileged, as in the CRI plugin.
    let sys_mode = if privileged { "rw" } else { "ro" };
    vec![
        json!({"destination": "/proc", "type": "proc", "source": "proc",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
               "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]}),
        json!({"destination": "/dev/pts", "type": "devpts", "source": "devpts",
               "options": ["nosuid", "noexec", "newinstance", "ptmxmode=0666", "mode=0620", "gid=5"]}),
        json!({"destination": "/dev/shm", "type": "tmpfs", "source": "shm",
               "options": ["nosuid", "noexec", "nodev", "mode=1777", "size=65536k"]}),
        json!({"destination": "/dev/mqueue", "type": "mqueue", "source": "mqueue",
               "options": ["nosuid", "noexec", "nodev"]}),
        json!({"destination": "/sys", "type": "sysfs", "source": "sysfs",
               "options": ["nosuid", "noexec", "nodev", sys_mode]}),
        json!({"destination": "/sys/fs/cgroup", "type": "cgroup", "source": "cgroup",
               "options": ["nosuid", "noexec", "nodev", "relatime", sys_mode]}),
    ]
}

fn user_mount(m: &MountInput) -> Value {
    let kind = if m.kind.is_empty() {
        "bind"
    } else {
        m.kind.as_str()
    };
    let mut options = m.options.clone();
    if kind == "bind" {
        // rbind so submounts of volumes show up; rprivate so container mounts don't leak back.
        for o in ["rbind", "rprivate"] {
            if !options.iter().any(|x| x == o) {
                options.push(o.to_string());
            }
        }
    }
    options.push(if m.readonly { "ro" } else { "rw" }.to_string());
    json!({"destination": m.destination, "type": kind, "source": m.source, "options": options})
}

/// Builds the runc config.json for container `id` in containerd namespace `namespace`.
pub fn build_spec(input: &OciSpecInput, id: &str, namespace: &str) -> Value {
    let caps = capabilities(input);
    let mut env = input.env.clone();
    if !env.iter().any(|e| e.starts_with("PATH=")) {
        env.insert(0, DEFAULT_PATH.to_string());
    }
    let cwd = if input.cwd.is_empty() {
        "/"
    } else {
        input.cwd.as_str()
    };

    // User mounts replace default mounts at the same destination (e.g. a /dev/shm volume).
    let mut mounts: Vec<Value> = default_mounts(input.privileged)
        .into_iter()
        .filter(|d| {
            !input
                .mounts
                .iter()
                .any(|m| d["destination"] == m.destination.as_str())
        })
        .collect();
    mounts.extend(input.mounts.iter().map(user_mount));

    let mut namespaces = vec![json!({"type": "pid"}), json!({"type": "ipc"})];
    if !input.host_network {
        namespaces.push(json!({"type": "uts"}));
    }
    namespaces.push(json!({"type": "mount"}));
    if !input.host_network {
        namespaces.push(match &input.netns_path {
            Some(path) => json!({"type": "network", "path": path}),
            None => json!({"type": "network"}),
        });
    }

    let mut resources = json!({
        // Deny all device access by default; runc still creates the standard /dev nodes.
        "devices": [{"allow": input.privileged, "access": "rwm"}],
    });
    if let Some(limit) = input.memory_limit_bytes {
        resources["memory"] = json!({"limit": limit});
    }
    let mut cpu = serde_json::Map::new();
    if let Some(shares) = input.cpu_shares {
        cpu.insert("shares".into(), json!(shares));
    }
    if let Some(quota) = input.cpu_quota {
        cpu.insert("quota".into(), json!(quota));
    }
    if let Some(period) = input.cpu_period {
        cpu.insert("period".into(), json!(period));
    }
    if !cpu.is_empty() {
        resources["cpu"] = Value::Object(cpu);
    }

    let cgroups_path = match &input.cgroup_parent {
        Some(parent) => format!("{}/{}", parent.trim_end_matches('/'), id),
        None => format!("/{namespace}/{id}"),
    };

    let mut linux = json!({
        "namespaces": namespaces,
        "resources": resources,
        "cgroupsPath": cgroups_path,
    });
    if !input.privileged {
        linux["maskedPaths"] = json!(MASKED_PATHS);
        linux["readonlyPaths"] = json!(READONLY_PATHS);
    }

    let mut spec = json!({
        "ociVersion": OCI_VERSION,
        "process": {
            "terminal": false,
            "user": {"uid": input.uid, "gid": input.gid},
            "args": input.args,
            "env": env,
            "cwd": cwd,
            "capabilities": {
                "bounding": caps,
                "effective": caps,
                "permitted": caps,
            },
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            // Privileged containers may need setuid binaries to gain privileges.
            "noNewPrivileges": !input.privileged,
        },
        // containerd's runc shim mounts the task's rootfs at <bundle>/rootfs.
        "root": {"path": "rootfs", "readonly": input.readonly_rootfs},
        "mounts": mounts,
        "linux": linux,
    });
    if !input.additional_gids.is_empty() {
        spec["process"]["user"]["additionalGids"] = json!(input.additional_gids);
    }
    if !input.hostname.is_empty() && !input.host_network {
        spec["hostname"] = json!(input.hostname);
    }
    spec
}

#[cfg(test)]
mod tests {
    use super::*;

    fn input() -> OciSpecInput {
        OciSpecInput {
            args: vec!["sh".into(), "-c".into(), "true".into()],
            ..Default::default()
        }
    }

    #[test]
    fn defaults_match_containerd() {
        let s = build_spec(&input(), "c1", "k8s.io");
        assert_eq!(s["ociVersion"], OCI_VERSION);
        assert_eq!(s["process"]["cwd"], "/");
        assert_eq!(s["process"]["env"][0], DEFAULT_PATH);
        assert_eq!(s["process"]["noNewPrivileges"], true);
        assert_eq!(s["root"]["path"], "rootfs");
        assert_eq!(s["root"]["readonly"], false);
        assert_eq!(s["linux"]["cgroupsPath"], "/k8s.io/c1");
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "ipc", "uts", "mount", "network"]);
        let dests: Vec<&str> = s["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .map(|m| m["destination"].as_str().unwrap())
            .collect();
        assert_eq!(
            dests,
            [
                "/proc",
                "/dev",
                "/dev/pts",
                "/dev/shm",
                "/dev/mqueue",
                "/sys",
                "/sys/fs/cgroup"
            ]
        );
        assert_eq!(s["mounts"][5]["options"][3], "ro");
        let caps = s["process"]["capabilities"]["bounding"].as_array().unwrap();
        assert_eq!(caps.len(), DEFAULT_CAPABILITIES.len());
        assert_eq!(
            s["linux"]["maskedPaths"].as_array().unwrap().len(),
            MASKED_PATHS.len()
        );
        assert_eq!(s["linux"]["readonlyPaths"][3], "/proc/sys");
        assert_eq!(s["linux"]["resources"]["devices"][0]["allow"], false);
        assert!(s["linux"]["resources"].get("memory").is_none());
        assert!(s.get("hostname").is_none());
    }

    #[test]
    fn user_settings() {
        let mut i = input();
        i.env = vec!["PATH=/bin".into(), "A=b".into()];
        i.cwd = "/work".into();
        i.hostname = "pod-a".into();
        i.uid = 1000;
        i.gid = 2000;
        i.additional_gids = vec![3000];
        i.readonly_rootfs = true;
        i.memory_limit_bytes = Some(64 << 20);
        i.cpu_shares = Some(512);
        i.cpu_quota = Some(50_000);
        i.cpu_period = Some(100_000);
        i.netns_path = Some("/var/run/netns/cni-1".into());
        i.cgroup_parent = Some("/kubepods/pod123/".into());
        i.mounts = vec![MountInput {
            destination: "/etc/hosts".into(),
            source: "/var/lib/kubelet/pods/x/etc-hosts".into(),
            readonly: true,
            ..Default::default()
        }];
        let s = build_spec(&i, "c1", "k8s.io");
        assert_eq!(s["process"]["env"], json!(["PATH=/bin", "A=b"]));
        assert_eq!(s["process"]["cwd"], "/work");
        assert_eq!(s["hostname"], "pod-a");
        assert_eq!(
            s["process"]["user"],
            json!({"uid": 1000, "gid": 2000, "additionalGids": [3000]})
        );
        assert_eq!(s["root"]["readonly"], true);
        assert_eq!(s["linux"]["resources"]["memory"]["limit"], 64 << 20);
        assert_eq!(
            s["linux"]["resources"]["cpu"],
            json!({"shares": 512, "quota": 50_000, "period": 100_000})
        );
        assert_eq!(
            s["linux"]["namespaces"][4],
            json!({"type": "network", "path": "/var/run/netns/cni-1"})
        );
        assert_eq!(s["linux"]["cgroupsPath"], "/kubepods/pod123/c1");
        let last = s["mounts"].as_array().unwrap().last().unwrap().clone();
        assert_eq!(
            last,
            json!({"destination": "/etc/hosts", "type": "bind",
                   "source": "/var/lib/kubelet/pods/x/etc-hosts", "options": ["rbind", "rprivate", "ro"]})
        );
    }

    #[test]
    fn user_mount_replaces_default() {
        let mut i = input();
        i.mounts = vec![MountInput {
            destination: "/dev/shm".into(),
            source: "/run/pod/shm".into(),
            ..Default::default()
        }];
        let s = build_spec(&i, "c1", "k8s.io");
        let shm: Vec<&Value> = s["mounts"]
            .as_array()
            .unwrap()
            .iter()
            .filter(|m| m["destination"] == "/dev/shm")
            .collect();
        assert_eq!(shm.len(), 1);
        assert_eq!(shm[0]["source"], "/run/pod/shm");
    }

    #[test]
    fn capability_add_drop() {
        let mut i = input();
        i.capabilities_drop = vec!["net_raw".into(), "CAP_KILL".into()];
        i.capabilities_add = vec!["NET_ADMIN".into()];
        let caps = capabilities(&i);
        assert!(!caps.contains(&"CAP_NET_RAW".to_string()));
        assert!(!caps.contains(&"CAP_KILL".to_string()));
        assert!(caps.contains(&"CAP_NET_ADMIN".to_string()));

        i.capabilities_drop = vec!["ALL".into()];
        i.capabilities_add = vec!["SYS_TIME".into()];
        assert_eq!(capabilities(&i), ["CAP_SYS_TIME"]);

        i.capabilities_add = vec!["all".into()];
        assert_eq!(capabilities(&i).len(), ALL_CAPABILITIES.len());
    }

    #[test]
    fn host_network_shares_net_and_uts() {
        let mut i = input();
        i.host_network = true;
        i.hostname = "ignored".into();
        i.netns_path = Some("/var/run/netns/x".into());
        let s = build_spec(&i, "c1", "k8s.io");
        let ns: Vec<&str> = s["linux"]["namespaces"]
            .as_array()
            .unwrap()
            .iter()
            .map(|n| n["type"].as_str().unwrap())
            .collect();
        assert_eq!(ns, ["pid", "ipc", "mount"]);
        assert!(s.get("hostname").is_none());
    }

    #[test]
    fn privileged() {
        let mut i = input();
        i.privileged = true;
        i.capabilities_drop = vec!["ALL".into()];
        let s = build_spec(&i, "c1", "ns");
        assert_eq!(
            s["process"]["capabilities"]["effective"]
                .as_array()
                .unwrap()
                .len(),
            ALL_CAPABILITIES.len()
        );
        assert!(s["linux"].get("maskedPaths").is_none());
        assert!(s["linux"].get("readonlyPaths").is_none());
        assert_eq!(s["linux"]["resources"]["devices"][0]["allow"], true);
        assert_eq!(s["mounts"][5]["options"][3], "rw");
        assert_eq!(s["process"]["noNewPrivileges"], false);
    }
}
