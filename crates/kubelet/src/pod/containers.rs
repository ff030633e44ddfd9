//! PodSpec container + image config -> the runtime's [`OciSpecInput`], as a pure function
//! (what upstream's kuberuntime `generateContainerConfig` plus the containerd CRI plugin's
//! spec options decide).

use std::path::{Path, PathBuf};

use k8s_openapi::api::core::v1::{Container, Pod};
use k8s_openapi::apimachinery::pkg::api::resource::Quantity;
use serde_json::Value;

use super::{PodError, Result};
use crate::runtime::{OciSpecInput, StdioConfig, TaskIo};

/// CFS period the kubelet uses for CPU limits (upstream `QuotaPeriod`, 100ms).
pub const CPU_PERIOD_US: u64 = 100_000;
/// Smallest quota upstream sets (`MinQuotaPeriod`, 1ms).
pub const MIN_CPU_QUOTA_US: i64 = 1_000;
/// cgroup v1 cpu.shares bounds (upstream `MinShares` / `MaxShares`).
pub const MIN_SHARES: u64 = 2;
pub const MAX_SHARES: u64 = 262_144;

/// The parts of an OCI image config (`config` object) a container's process uses.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ImageConfig {
    pub entrypoint: Vec<String>,
    pub cmd: Vec<String>,
    pub env: Vec<String>,
    pub working_dir: String,
    pub user: String,
}

impl ImageConfig {
    /// From the image config JSON document (as `Containerd::image_config` returns it).
    pub fn from_json(doc: &Value) -> Self {
        let c = &doc["config"];
        let strings = |v: &Value| -> Vec<String> {
            v.as_array()
                .map(|a| {
                    a.iter()
                        .filter_map(|s| s.as_str().map(str::to_string))
                        .collect()
                })
                .unwrap_or_default()
        };
        let string = |v: &Value| v.as_str().unwrap_or_default().to_string();
        ImageConfig {
            entrypoint: strings(&c["Entrypoint"]),
            cmd: strings(&c["Cmd"]),
            env: strings(&c["Env"]),
            working_dir: string(&c["WorkingDir"]),
            user: string(&c["User"]),
        }
    }
}

fn pod_name(pod: &Pod) -> String {
    format!(
        "{}/{}",
        pod.metadata.namespace.as_deref().unwrap_or("default"),
        pod.metadata.name.as_deref().unwrap_or("")
    )
}

fn invalid(pod: &Pod, msg: impl Into<String>) -> PodError {
    PodError::Invalid {
        pod: pod_name(pod),
        msg: msg.into(),
    }
}

/// argv as the containerd CRI plugin builds it: `command` replaces the image Entrypoint,
/// `args` replace its Cmd, and the image Cmd is only used when neither is given.
/// `$(VAR)` references in command and args are expanded from `env` (upstream
/// `ExpandContainerCommandAndArgs`).
pub fn process_args(
    container: &Container,
    image: &ImageConfig,
    env: &[(String, String)],
) -> Vec<String> {
    let (command, args) = super::env::expand_command_and_args(container, env);
    let command = command.unwrap_or_default();
    let args = args.unwrap_or_default();
    if command.is_empty() {
        let args = if args.is_empty() {
            image.cmd.clone()
        } else {
            args
        };
        image.entrypoint.iter().cloned().chain(args).collect()
    } else {
        command.into_iter().chain(args).collect()
    }
}

/// Image env first, then the container's resolved env (see [`super::env`]); a container
/// variable replaces an image one of the same name in place (the CRI plugin's order).
fn merge_env(image: &ImageConfig, resolved: &[(String, String)]) -> Vec<String> {
    let mut env: Vec<String> = image.env.clone();
    for (name, value) in resolved {
        let entry = format!("{name}={value}");
        let prefix = format!("{name}=");
        match env.iter_mut().find(|e| e.starts_with(&prefix)) {
            Some(slot) => *slot = entry,
            None => env.push(entry),
        }
    }
    env
}

/// A parsed resource quantity: `mantissa * 10^exp10` (exact for every suffix).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
struct Parsed {
    mantissa: i128,
    exp10: i32,
}

/// Parses the Kubernetes quantity grammar: a signed decimal, then a binary suffix
/// (Ki..Ei), a decimal suffix (n u m "" k M G T P E) or an exponent (e3, E-2).
fn parse_quantity(s: &str) -> Option<Parsed> {
    let s = s.trim();
    let (neg, s) = match s.strip_prefix('-') {
        Some(rest) => (true, rest),
        None => (false, s.strip_prefix('+').unwrap_or(s)),
    };
    let num_end = s
        .find(|c: char| !(c.is_ascii_digit() || c == '.'))
        .unwrap_or(s.len());
    let (num, suffix) = s.split_at(num_end);
    if num.is_empty() || num == "." || num.matches('.').count() > 1 {
        return None;
    }
    let (int_part, frac_part) = num.split_once('.').unwrap_or((num, ""));
    let mut mantissa: i128 = 0;
    for c in int_part.chars().chain(frac_part.chars()) {
        mantissa = mantissa
            .checked_mul(10)?
            .checked_add(i128::from(c.to_digit(10)?))?;
    }
    let mut exp10 = -i32::try_from(frac_part.len()).ok()?;
    let binary = |k: u32| 1024_i128.checked_pow(k);
    match suffix {
        "" => {}
        "Ki" => mantissa = mantissa.checked_mul(binary(1)?)?,
        "Mi" => mantissa = mantissa.checked_mul(binary(2)?)?,
        "Gi" => mantissa = mantissa.checked_mul(binary(3)?)?,
        "Ti" => mantissa = mantissa.checked_mul(binary(4)?)?,
        "Pi" => mantissa = mantissa.checked_mul(binary(5)?)?,
        "Ei" => mantissa = mantissa.checked_mul(binary(6)?)?,
        "n" => exp10 -= 9,
        "u" => exp10 -= 6,
        "m" => exp10 -= 3,
        "k" => exp10 += 3,
        "M" => exp10 += 6,
        "G" => exp10 += 9,
        "T" => exp10 += 12,
        "P" => exp10 += 15,
        "E" => exp10 += 18,
        other => {
            let exp = other.strip_prefix(['e', 'E'])?;
            exp10 += exp.parse::<i32>().ok()?;
        }
    }
    Some(Parsed {
        mantissa: if neg { -mantissa } else { mantissa },
        exp10,
    })
}

/// The quantity in units of `10^scale`, rounded up (upstream `Value()` / `MilliValue()`).
pub(crate) fn scaled_ceil(q: &Quantity, scale: i32) -> Option<i64> {
    let p = parse_quantity(&q.0)?;
    let shift = p.exp10 - scale;
    let v = if shift >= 0 {
        p.mantissa
            .checked_mul(10_i128.checked_pow(shift.unsigned_abs())?)?
    } else {
        match 10_i128.checked_pow(shift.unsigned_abs()) {
            Some(d) => p.mantissa.div_euclid(d) + i128::from(p.mantissa.rem_euclid(d) != 0),
            // Smaller than one unit: anything positive rounds up to 1.
            None => i128::from(p.mantissa > 0),
        }
    };
    i64::try_from(v).ok()
}

/// Upstream `MilliCPUToShares`: requests -> cpu.shares (1 CPU = 1024), clamped.
pub fn milli_cpu_to_shares(milli: i64) -> u64 {
    if milli <= 0 {
        return MIN_SHARES;
    }
    let shares = (milli as u64).saturating_mul(1024) / 1000;
    shares.clamp(MIN_SHARES, MAX_SHARES)
}

/// Upstream `MilliCPUToQuota`: a limit -> CFS quota over `period`; no limit -> None.
pub fn milli_cpu_to_quota(milli: i64, period: u64) -> Option<i64> {
    if milli <= 0 {
        return None;
    }
    let quota = milli.saturating_mul(period as i64) / 1000;
    Some(quota.max(MIN_CPU_QUOTA_US))
}

fn resource(
    pod: &Pod,
    container: &Container,
    which: &str,
    name: &str,
    scale: i32,
) -> Result<Option<i64>> {
    let resources = container.resources.as_ref();
    let map = match which {
        "limits" => resources.and_then(|r| r.limits.as_ref()),
        _ => resources.and_then(|r| r.requests.as_ref()),
    };
    let Some(q) = map.and_then(|m| m.get(name)) else {
        return Ok(None);
    };
    match scaled_ceil(q, scale) {
        Some(v) if v >= 0 => Ok(Some(v)),
        _ => Err(invalid(
            pod,
            format!(
                "container {}: resources.{which}.{name}: invalid quantity {:?}",
                container.name, q.0
            ),
        )),
    }
}

fn to_id(pod: &Pod, container: &Container, what: &str, v: i64) -> Result<u32> {
    u32::try_from(v).map_err(|_| {
        invalid(
            pod,
            format!("container {}: {what} {v} is out of range", container.name),
        )
    })
}

/// The image's `User` when it is numeric (`uid` or `uid:gid`).
fn image_user(pod: &Pod, container: &Container, user: &str) -> Result<(Option<u32>, Option<u32>)> {
    if user.is_empty() {
        return Ok((None, None));
    }
    let (u, g) = user.split_once(':').unwrap_or((user, ""));
    let uid = u.parse::<u32>().ok();
    let gid = if g.is_empty() {
        None
    } else {
        g.parse::<u32>().ok()
    };
    if uid.is_none() || (!g.is_empty() && gid.is_none()) {
        // Names need a lookup in the image's /etc/passwd (the CRI plugin does it): later.
        return Err(invalid(
            pod,
            format!(
                "container {}: image user {user:?} is not numeric; set securityContext.runAsUser",
                container.name
            ),
        ));
    }
    Ok((uid, gid))
}

/// Everything the runtime needs to create `container` of `pod` with its resolved
/// environment `env`, joining the sandbox's network namespace at `netns_path` (none for
/// a hostNetwork pod, which shares the node's network and UTS namespaces). Mounts are
/// added by the caller. Pure: same inputs, same spec.
pub fn container_spec(
    pod: &Pod,
    container: &Container,
    image: &ImageConfig,
    env: &[(String, String)],
    netns_path: Option<&str>,
) -> Result<OciSpecInput> {
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let pod_sc = spec.and_then(|s| s.security_context.as_ref());
    let sc = container.security_context.as_ref();

    // The container's securityContext wins over the pod's, which wins over the image.
    let (image_uid, image_gid) = image_user(pod, container, &image.user)?;
    let uid = match sc
        .and_then(|s| s.run_as_user)
        .or(pod_sc.and_then(|s| s.run_as_user))
    {
        Some(u) => to_id(pod, container, "runAsUser", u)?,
        None => image_uid.unwrap_or(0),
    };
    let gid = match sc
        .and_then(|s| s.run_as_group)
        .or(pod_sc.and_then(|s| s.run_as_group))
    {
        Some(g) => to_id(pod, container, "runAsGroup", g)?,
        None => image_gid.unwrap_or(0),
    };
    let additional_gids = pod_sc
        .and_then(|s| s.supplemental_groups.as_ref())
        .into_iter()
        .flatten()
        .map(|g| to_id(pod, container, "supplementalGroups", *g))
        .collect::<Result<Vec<u32>>>()?;

    let caps = sc.and_then(|s| s.capabilities.as_ref());
    let working_dir = container
        .working_dir
        .clone()
        .filter(|w| !w.is_empty())
        .unwrap_or_else(|| image.working_dir.clone());

    // Requests give shares; with no CPU request the limit does (upstream), and with
    // neither the minimum 2 shares (BestEffort).
    let cpu_limit = resource(pod, container, "limits", "cpu", -3)?;
    let cpu_request = resource(pod, container, "requests", "cpu", -3)?;
    let shares_milli = match (cpu_request, cpu_limit) {
        (Some(r), _) if r > 0 => r,
        (_, Some(l)) => l,
        _ => 0,
    };
    let cpu_quota = cpu_limit.and_then(|l| milli_cpu_to_quota(l, CPU_PERIOD_US));
    let memory_limit_bytes = resource(pod, container, "limits", "memory", 0)?.filter(|m| *m > 0);

    // Upstream: spec.hostname when set, else the pod name (truncated to 63 chars); a
    // hostNetwork pod keeps the node's hostname.
    let hostname = if host_network {
        String::new()
    } else {
        super::dns::pod_hostname(pod)
    };

    Ok(OciSpecInput {
        args: process_args(container, image, env),
        env: merge_env(image, env),
        cwd: working_dir,
        hostname,
        uid,
        gid,
        additional_gids,
        readonly_rootfs: sc
            .and_then(|s| s.read_only_root_filesystem)
            .unwrap_or(false),
        capabilities_add: caps.and_then(|c| c.add.clone()).unwrap_or_default(),
        capabilities_drop: caps.and_then(|c| c.drop.clone()).unwrap_or_default(),
        privileged: sc.and_then(|s| s.privileged).unwrap_or(false),
        memory_limit_bytes,
        cpu_shares: Some(milli_cpu_to_shares(shares_milli)),
        cpu_quota,
        cpu_period: cpu_quota.map(|_| CPU_PERIOD_US),
        mounts: Vec::new(),
        netns_path: if host_network {
            None
        } else {
            netns_path.map(str::to_string)
        },
        host_network,
        cgroup_parent: None,
    })
}

/// `<pod_dir>/stdio/<container>`: the FIFOs of a stdin/tty container's task.
pub fn stdio_dir(pod_dir: &Path, container: &str) -> PathBuf {
    pod_dir.join("stdio").join(container)
}

/// The stdio config of a container that needs the kubelet on its stdio: `stdin: true`
/// (something to attach input to) or `tty: true` (a terminal, which containerd's shim
/// only allocates with FIFO stdio); None for the others, whose output goes to the log
/// driver.
pub fn stdio_config(c: &Container, log_path: &Path, pod_dir: &Path) -> Option<StdioConfig> {
    let stdin = c.stdin == Some(true);
    let tty = c.tty == Some(true);
    (stdin || tty).then(|| StdioConfig {
        dir: stdio_dir(pod_dir, &c.name),
        log_path: log_path.to_path_buf(),
        stdin,
        tty,
        stdin_once: stdin && c.stdin_once == Some(true),
    })
}

/// How the task of `c` is wired: FIFOs the kubelet relays for stdin/tty containers,
/// the CRI log file through the log driver for the others.
pub fn task_io(c: &Container, log_path: &Path, pod_dir: &Path) -> TaskIo {
    match stdio_config(c, log_path, pod_dir) {
        Some(cfg) => TaskIo::Attachable(cfg),
        None => TaskIo::LogFile(log_path.to_path_buf()),
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{
        Capabilities, EnvVar, EnvVarSource, ObjectFieldSelector, PodSecurityContext, PodSpec,
        ResourceRequirements, SecurityContext,
    };
    use std::collections::BTreeMap;

    fn pod_with(c: Container) -> Pod {
        let mut pod = Pod::default();
        pod.metadata.name = Some("web".into());
        pod.metadata.namespace = Some("default".into());
        pod.spec = Some(PodSpec {
            containers: vec![c],
            ..Default::default()
        });
        pod
    }

    fn image() -> ImageConfig {
        ImageConfig {
            entrypoint: vec!["/entry".into()],
            cmd: vec!["serve".into(), "--port=80".into()],
            env: vec!["PATH=/bin".into(), "A=image".into()],
            working_dir: "/srv".into(),
            user: String::new(),
        }
    }

    fn spec_of(c: Container) -> OciSpecInput {
        let pod = pod_with(c.clone());
        let env =
            crate::pod::env::container_env(&pod, &c, &Default::default(), &Default::default())
                .unwrap()
                .0;
        container_spec(&pod, &c, &image(), &env, Some("/var/run/netns/x")).unwrap()
    }

    fn strings(v: &[&str]) -> Option<Vec<String>> {
        Some(v.iter().map(|s| s.to_string()).collect())
    }

    #[test]
    fn command_and_args_merge_like_upstream() {
        let base = Container {
            name: "c".into(),
            ..Default::default()
        };
        assert_eq!(spec_of(base.clone()).args, ["/entry", "serve", "--port=80"]);
        let args_only = Container {
            args: strings(&["run"]),
            ..base.clone()
        };
        assert_eq!(spec_of(args_only).args, ["/entry", "run"]);
        // command replaces Entrypoint and drops the image Cmd even without args.
        let cmd_only = Container {
            command: strings(&["sh", "-c", "x"]),
            ..base.clone()
        };
        assert_eq!(spec_of(cmd_only).args, ["sh", "-c", "x"]);
        let both = Container {
            command: strings(&["sh"]),
            args: strings(&["-c", "y"]),
            ..base
        };
        assert_eq!(spec_of(both).args, ["sh", "-c", "y"]);
    }

    #[test]
    fn env_workdir_hostname_netns() {
        let c = Container {
            name: "c".into(),
            env: Some(vec![
                EnvVar {
                    name: "A".into(),
                    value: Some("pod".into()),
                    ..Default::default()
                },
                EnvVar {
                    name: "B".into(),
                    value: None,
                    ..Default::default()
                },
            ]),
            ..Default::default()
        };
        let s = spec_of(c.clone());
        assert_eq!(s.env, ["PATH=/bin", "A=pod", "B="]);
        assert_eq!(s.cwd, "/srv");
        assert_eq!(s.hostname, "web");
        assert_eq!(s.netns_path.as_deref(), Some("/var/run/netns/x"));
        assert_eq!((s.uid, s.gid), (0, 0));
        let s = spec_of(Container {
            working_dir: Some("/w".into()),
            ..c
        });
        assert_eq!(s.cwd, "/w");
    }

    #[test]
    fn expansion_and_host_network() {
        let c = Container {
            name: "c".into(),
            command: strings(&["echo", "$(NAME)"]),
            args: strings(&["$(MISSING)"]),
            env: Some(vec![EnvVar {
                name: "NAME".into(),
                value_from: Some(EnvVarSource {
                    field_ref: Some(ObjectFieldSelector {
                        field_path: "metadata.name".into(),
                        ..Default::default()
                    }),
                    ..Default::default()
                }),
                ..Default::default()
            }]),
            ..Default::default()
        };
        let s = spec_of(c.clone());
        assert_eq!(s.args, ["echo", "web", "$(MISSING)"]);
        assert!(s.env.contains(&"NAME=web".to_string()));
        assert!(!s.host_network);
        let mut pod = pod_with(c.clone());
        if let Some(spec) = pod.spec.as_mut() {
            spec.host_network = Some(true);
        }
        let s = container_spec(&pod, &c, &image(), &[], Some("/n")).unwrap();
        assert!(s.host_network);
        assert_eq!(s.netns_path, None);
        assert_eq!(s.hostname, "");
    }

    #[test]
    fn security_context() {
        let c = Container {
            name: "c".into(),
            security_context: Some(SecurityContext {
                run_as_user: Some(1000),
                read_only_root_filesystem: Some(true),
                capabilities: Some(Capabilities {
                    add: strings(&["NET_ADMIN"]),
                    drop: strings(&["ALL"]),
                }),
                ..Default::default()
            }),
            ..Default::default()
        };
        let mut pod = pod_with(c.clone());
        if let Some(spec) = pod.spec.as_mut() {
            spec.security_context = Some(PodSecurityContext {
                run_as_user: Some(5),
                run_as_group: Some(3000),
                supplemental_groups: Some(vec![4000]),
                ..Default::default()
            });
            spec.hostname = Some("custom".into());
        }
        let s = container_spec(&pod, &c, &image(), &[], Some("/n")).unwrap();
        assert_eq!(
            (s.uid, s.gid, s.additional_gids.clone()),
            (1000, 3000, vec![4000])
        );
        assert!(s.readonly_rootfs);
        assert!(!s.privileged);
        assert_eq!(s.capabilities_add, ["NET_ADMIN"]);
        assert_eq!(s.capabilities_drop, ["ALL"]);
        assert_eq!(s.hostname, "custom");

        let priv_c = Container {
            name: "p".into(),
            security_context: Some(SecurityContext {
                privileged: Some(true),
                ..Default::default()
            }),
            ..Default::default()
        };
        assert!(spec_of(priv_c).privileged);

        // A numeric image user applies; a named one needs runAsUser.
        let mut img = image();
        img.user = "7:8".into();
        let plain = Container {
            name: "c".into(),
            ..Default::default()
        };
        let p = pod_with(plain.clone());
        let s = container_spec(&p, &plain, &img, &[], Some("/n")).unwrap();
        assert_eq!((s.uid, s.gid), (7, 8));
        img.user = "nginx".into();
        assert!(container_spec(&p, &plain, &img, &[], Some("/n")).is_err());
    }

    fn with_resources(limits: &[(&str, &str)], requests: &[(&str, &str)]) -> Container {
        let map = |kv: &[(&str, &str)]| {
            (!kv.is_empty()).then(|| {
                kv.iter()
                    .map(|(k, v)| (k.to_string(), Quantity(v.to_string())))
                    .collect::<BTreeMap<_, _>>()
            })
        };
        Container {
            name: "c".into(),
            resources: Some(ResourceRequirements {
                limits: map(limits),
                requests: map(requests),
                ..Default::default()
            }),
            ..Default::default()
        }
    }

    #[test]
    fn resources_map_like_upstream() {
        let s = spec_of(with_resources(
            &[("cpu", "500m"), ("memory", "128Mi")],
            &[("cpu", "250m")],
        ));
        assert_eq!(s.memory_limit_bytes, Some(128 * 1024 * 1024));
        assert_eq!(s.cpu_quota, Some(50_000));
        assert_eq!(s.cpu_period, Some(100_000));
        assert_eq!(s.cpu_shares, Some(256));

        // Limit only: shares follow the limit.
        let s = spec_of(with_resources(&[("cpu", "2"), ("memory", "1G")], &[]));
        assert_eq!(s.cpu_shares, Some(2048));
        assert_eq!(s.cpu_quota, Some(200_000));
        assert_eq!(s.memory_limit_bytes, Some(1_000_000_000));

        // BestEffort: minimum shares, no quota, no memory limit.
        let s = spec_of(with_resources(&[], &[]));
        assert_eq!(
            (
                s.cpu_shares,
                s.cpu_quota,
                s.cpu_period,
                s.memory_limit_bytes
            ),
            (Some(2), None, None, None)
        );

        // Tiny values: 1m -> 1 share -> clamped to 2, quota floor 1ms.
        let s = spec_of(with_resources(&[("cpu", "1m")], &[("cpu", "1m")]));
        assert_eq!((s.cpu_shares, s.cpu_quota), (Some(2), Some(1_000)));

        let c = with_resources(&[("memory", "lots")], &[]);
        let pod = pod_with(c.clone());
        let err = container_spec(&pod, &c, &image(), &[], Some("/n")).unwrap_err();
        assert!(err.to_string().contains("resources.limits.memory"), "{err}");
    }

    #[test]
    fn quantities() {
        let q = |s: &str, scale| scaled_ceil(&Quantity(s.into()), scale);
        assert_eq!(q("1.5", -3), Some(1500));
        assert_eq!(q("0.1", -3), Some(100));
        assert_eq!(q("100m", 0), Some(1)); // rounds up
        assert_eq!(q("1Ki", 0), Some(1024));
        assert_eq!(q("1.5Gi", 0), Some(1_610_612_736));
        assert_eq!(q("1e3", 0), Some(1000));
        assert_eq!(q("12E-1", 0), Some(2));
        assert_eq!(q("5n", -3), Some(1));
        assert_eq!(q("", 0), None);
        assert_eq!(q("1.2.3", 0), None);
        assert_eq!(q("3Zi", 0), None);
        assert_eq!(milli_cpu_to_shares(0), 2);
        assert_eq!(milli_cpu_to_shares(1000), 1024);
        assert_eq!(milli_cpu_to_shares(1_000_000), MAX_SHARES);
        assert_eq!(milli_cpu_to_quota(0, CPU_PERIOD_US), None);
    }

    #[test]
    fn stdin_and_tty_containers_get_fifos() {
        let log = Path::new("/var/log/pods/ns_p_u/c/0.log");
        let pod_dir = Path::new("/var/lib/kubelet/pods/u");
        let plain = Container {
            name: "c".into(),
            ..Default::default()
        };
        assert_eq!(
            task_io(&plain, log, pod_dir),
            TaskIo::LogFile(log.to_path_buf())
        );
        let interactive = Container {
            stdin: Some(true),
            stdin_once: Some(true),
            tty: Some(true),
            ..plain.clone()
        };
        assert_eq!(
            task_io(&interactive, log, pod_dir),
            TaskIo::Attachable(StdioConfig {
                dir: "/var/lib/kubelet/pods/u/stdio/c".into(),
                log_path: log.to_path_buf(),
                stdin: true,
                tty: true,
                stdin_once: true,
            })
        );
        // stdinOnce means nothing without stdin; a tty alone still needs FIFOs.
        let tty_only = Container {
            tty: Some(true),
            stdin_once: Some(true),
            ..plain
        };
        let cfg = stdio_config(&tty_only, log, pod_dir).unwrap();
        assert!(cfg.tty && !cfg.stdin && !cfg.stdin_once);
    }

    #[test]
    fn image_config_from_json() {
        let doc = serde_json::json!({"config": {"Env": ["PATH=/bin"], "Cmd": ["sh"],
            "Entrypoint": null, "WorkingDir": "/x", "User": "1"}});
        let img = ImageConfig::from_json(&doc);
        assert_eq!(img.cmd, ["sh"]);
        assert!(img.entrypoint.is_empty());
        assert_eq!((img.working_dir.as_str(), img.user.as_str()), ("/x", "1"));
    }
}
