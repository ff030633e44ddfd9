//! Pod features against real parts (root required): a private containerd, the real CNI
//! plugins, etcd + our kube-apiserver for ConfigMaps / Secrets / Events
//! (`ferrokube_e2e::TestCluster`; `cargo build -p apiserver` first). The pod worker
//! ([`PodRunner`]) is driven directly:
//!
//! * env (fieldRef, resourceFieldRef, configMapKeyRef, secretKeyRef, envFrom with
//!   prefix, `$(VAR)` in env and args), volumes (configMap with live update, secret
//!   items + mode, downwardAPI, projected, emptyDir on tmpfs with sizeLimit, hostPath,
//!   subPath), resolv.conf / hosts, a tcpSocket readiness probe -> Ready;
//! * CrashLoopBackOff with restartCount, lastState and a new log file per restart;
//! * a liveness probe failing -> the container is killed and restarted;
//! * bad input: a missing configMap key (CreateContainerConfigError), a command that
//!   does not exist (StartError), an unsupported volume source (start fails, nothing
//!   left behind), an OOM-killed container (OOMKilled);
//! * a hostNetwork pod (no netns, podIP = hostIP);
//! * after stopping everything: no container, mount or pod directory left.
//!
//! Drop guards clean up on failure. FERROKUBE_SKIP_CONTAINERD_TESTS=1 skips.

mod support;

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::{ConfigMap, ContainerStatus, Pod, PodStatus, Secret};
use k8s_openapi::ByteString;
use kube::api::{Patch, PatchParams, PostParams};
use kube::Api;
use kubelet::network::{CapabilityArgs, NetNs, PodArgs, Sandbox};
use kubelet::pod::{PodRunner, PodSandbox, PodSettings, RunningPod};
use serde_json::json;
use support::{PrivateContainerd, PrivateNetwork};

const IMAGE: &str = "docker.io/library/busybox:latest";
const NODE: &str = "fk-features-node";
const HOST_IP: &str = "127.0.0.1";

/// Field order is drop order: pods' sandboxes, then the network, then containerd.
struct World {
    pods: Vec<(String, String, String)>,
    /// hostNetwork pods' netns handles (`ip netns delete` only unmounts them).
    host_netns: Vec<String>,
    network: PrivateNetwork,
    daemon: PrivateContainerd,
}

impl Drop for World {
    fn drop(&mut self) {
        for name in std::mem::take(&mut self.host_netns) {
            if let Ok(ns) = NetNs::named(&name) {
                if let Err(e) = ns.delete() {
                    eprintln!("cleanup: {e}");
                }
            }
        }
        for (ns, name, uid) in std::mem::take(&mut self.pods) {
            let Ok(netns) = NetNs::named(&PodSandbox::netns_name(&uid)) else {
                continue;
            };
            if !netns.exists() {
                continue;
            }
            let sb = Sandbox {
                container_id: uid.clone(),
                netns: netns.path().to_path_buf(),
                ifname: "eth0".into(),
                pod: Some(PodArgs {
                    namespace: ns,
                    name,
                    uid,
                }),
                capabilities: CapabilityArgs::default(),
            };
            if let Err(e) = self.network.cni.del(&self.network.net, &sb) {
                eprintln!("cleanup: CNI DEL {}: {e}", sb.container_id);
            }
            if let Err(e) = netns.delete() {
                eprintln!("cleanup: {e}");
            }
        }
    }
}

fn pod(world: &mut World, name: &str, spec: serde_json::Value) -> Result<Pod> {
    let uid = uuid::Uuid::new_v4().to_string();
    world
        .pods
        .push(("default".into(), name.into(), uid.clone()));
    let p: Pod = serde_json::from_value(json!({
        "apiVersion": "v1",
        "kind": "Pod",
        "metadata": {"name": name, "namespace": "default", "uid": uid,
                     "labels": {"app": name}},
        "spec": spec,
    }))?;
    Ok(p)
}

fn container<'a>(s: &'a PodStatus, name: &str) -> Option<&'a ContainerStatus> {
    s.container_statuses
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.name == name))
}

fn cond(s: &PodStatus, t: &str) -> String {
    s.conditions
        .iter()
        .flatten()
        .find(|c| c.type_ == t)
        .map(|c| c.status.clone())
        .unwrap_or_default()
}

/// Polls the pod's status (each call is a sync pass) until `done` holds.
async fn status_until(
    runner: &PodRunner,
    running: &RunningPod,
    timeout: Duration,
    what: &str,
    done: impl Fn(&PodStatus) -> bool,
) -> Result<PodStatus> {
    let start = Instant::now();
    loop {
        let s = runner.status(running).await;
        if done(&s) {
            return Ok(s);
        }
        if start.elapsed() > timeout {
            bail!("timed out waiting for {what}; last status: {s:#?}");
        }
        tokio::time::sleep(Duration::from_millis(300)).await;
    }
}

async fn log_until(path: &Path, needle: &str, timeout: Duration) -> Result<String> {
    let start = Instant::now();
    loop {
        let text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            return Ok(text);
        }
        if start.elapsed() > timeout {
            bail!("{} never contained {needle:?}:\n{text}", path.display());
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

#[test]
fn pod_features_end_to_end() -> Result<()> {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("pod_features SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return Ok(());
    }
    if let Err(why) = support::preflight() {
        panic!(
            "pod features test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)"
        );
    }
    let cluster = TestCluster::start()
        .context("starting etcd + kube-apiserver (run `cargo build -p apiserver` first)")?;
    let namespace = format!("ferrokube-pf-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        pods: Vec::new(),
        host_netns: Vec::new(),
        network: PrivateNetwork::new(),
        daemon: PrivateContainerd::start(&namespace),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(scenario(&cluster, &mut world))
}

async fn scenario(cluster: &TestCluster, world: &mut World) -> Result<()> {
    let ctr = world.daemon.connect().await;
    let tarball = world.daemon.dir.path().join("busybox.tar");
    ferrokube_deploy::images::build_busybox_image(&tarball, IMAGE)
        .context("building the busybox image")?;
    ctr.import_image(&tarball).await?;

    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let cms: Api<ConfigMap> = Api::namespaced(client.clone(), "default");
    let secrets: Api<Secret> = Api::namespaced(client.clone(), "default");
    let mut cm = ConfigMap::default();
    cm.metadata.name = Some("cfg".into());
    cm.data = Some(BTreeMap::from([
        ("color".to_string(), "blue".to_string()),
        ("size".to_string(), "L".to_string()),
    ]));
    cms.create(&PostParams::default(), &cm).await?;
    let mut sec = Secret::default();
    sec.metadata.name = Some("sec".into());
    sec.data = Some(BTreeMap::from([(
        "password".to_string(),
        ByteString(b"hunter2".to_vec()),
    )]));
    secrets.create(&PostParams::default(), &sec).await?;

    let root = world.daemon.dir.path().join("root");
    let host_dir = world.daemon.dir.path().join("hostdir");
    let mut settings = PodSettings::new(Some(client.clone()), NODE, &root);
    settings.cluster_dns.servers = vec!["10.96.0.10".into()];
    settings.volume_resync = Duration::from_secs(1);
    settings.node_allocatable_memory = 1 << 30;
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: world.daemon.dir.path().join("log/pods"),
        init_timeout: Duration::from_secs(60),
        host_ip: Some(HOST_IP.into()),
        settings,
    };
    let mut running_pods = Vec::new();

    // --- env, volumes, DNS files, readiness -------------------------------------------
    let script = "nc -ll -p 8080 -e echo hi & \
        echo \"name=$NAME ip=$MY_IP color=$COLOR pw=$PW mem=$MEM greet=$GREETING cm=$CM_size arg=$1 opt=${OPT:-unset}\"; \
        echo \"secret=$(cat /etc/sec/pw) mode=$(stat -L -c %a /etc/sec/pw)\"; \
        echo \"labels=$(cat /podinfo/labels) pname=$(cat /proj/name) psize=$(cat /proj/size)\"; \
        echo \"cache=$(df -k /cache | tail -1 | awk '{print $2}')\"; \
        echo sub > /cache-sub/f && echo \"subpath=$(cat /cache/sub/f)\"; \
        echo \"host=$(cat /host/marker)\"; \
        touch /etc/cfg/x 2>/dev/null || echo cfg-readonly; \
        echo \"resolv=$(grep -c 'nameserver 10.96.0.10' /etc/resolv.conf) $(grep search /etc/resolv.conf)\"; \
        echo \"hosts=$(grep -c \"$MY_IP\" /etc/hosts)\"; \
        while true; do echo \"color-now=$(cat /etc/cfg/color)\"; sleep 1; done";
    std::fs::create_dir_all(&host_dir)?;
    std::fs::write(host_dir.join("marker"), "from-host")?;
    let features = pod(
        world,
        "features",
        json!({
            "nodeName": NODE,
            "serviceAccountName": "default",
            "terminationGracePeriodSeconds": 1,
            "containers": [{
                "name": "app",
                "image": "busybox",
                "command": ["sh", "-c", script, "argv0", "$(NAME)"],
                "env": [
                    {"name": "NAME", "valueFrom": {"fieldRef": {"fieldPath": "metadata.name"}}},
                    {"name": "MY_IP", "valueFrom": {"fieldRef": {"fieldPath": "status.podIP"}}},
                    {"name": "COLOR", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "color"}}},
                    {"name": "PW", "valueFrom": {"secretKeyRef": {"name": "sec", "key": "password"}}},
                    {"name": "OPT", "valueFrom": {"configMapKeyRef": {"name": "nope", "key": "k", "optional": true}}},
                    {"name": "MEM", "valueFrom": {"resourceFieldRef": {"resource": "limits.memory", "divisor": "1Mi"}}},
                    {"name": "GREETING", "value": "hello $(NAME)"}
                ],
                "envFrom": [{"prefix": "CM_", "configMapRef": {"name": "cfg"}}],
                "resources": {"limits": {"memory": "64Mi"}},
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1},
                "volumeMounts": [
                    {"name": "cfg", "mountPath": "/etc/cfg"},
                    {"name": "sec", "mountPath": "/etc/sec"},
                    {"name": "podinfo", "mountPath": "/podinfo"},
                    {"name": "proj", "mountPath": "/proj"},
                    {"name": "cache", "mountPath": "/cache"},
                    {"name": "cache", "mountPath": "/cache-sub", "subPath": "sub"},
                    {"name": "host", "mountPath": "/host", "readOnly": true}
                ]
            }],
            "volumes": [
                {"name": "cfg", "configMap": {"name": "cfg"}},
                {"name": "sec", "secret": {"secretName": "sec",
                    "items": [{"key": "password", "path": "pw", "mode": 0o400}]}},
                {"name": "podinfo", "downwardAPI": {"items": [
                    {"path": "labels", "fieldRef": {"fieldPath": "metadata.labels"}}]}},
                {"name": "proj", "projected": {"sources": [
                    {"configMap": {"name": "cfg", "items": [{"key": "size", "path": "size"}]}},
                    {"downwardAPI": {"items": [{"path": "name", "fieldRef": {"fieldPath": "metadata.name"}}]}}]}},
                {"name": "cache", "emptyDir": {"medium": "Memory", "sizeLimit": "8Mi"}},
                {"name": "host", "hostPath": {"path": host_dir.display().to_string(), "type": "Directory"}}
            ]
        }),
    )?;
    let running = runner
        .start(&features)
        .await
        .with_context(|| format!("start features\n{}", world.daemon.log()))?;
    let status = status_until(
        &runner,
        &running,
        Duration::from_secs(30),
        "features Ready",
        |s| cond(s, "Ready") == "True",
    )
    .await?;
    let pod_ip = status.pod_ip.clone().context("no podIP")?;
    let log = running.log_dir.join("app/0.log");
    let text = log_until(&log, "color-now=blue", Duration::from_secs(20)).await?;
    for want in [
        format!("name=features ip={pod_ip} color=blue pw=hunter2 mem=64 greet=hello features cm=L arg=features opt=unset"),
        "secret=hunter2 mode=400".to_string(),
        "labels=app=\"features\" pname=features psize=L".to_string(),
        "cache=8192".to_string(),
        "subpath=sub".to_string(),
        "host=from-host".to_string(),
        "cfg-readonly".to_string(),
        "resolv=1 search default.svc.cluster.local svc.cluster.local cluster.local".to_string(),
        "hosts=1".to_string(),
    ] {
        assert!(text.contains(&want), "log lacks {want:?}:\n{text}");
    }
    let pod_dir = running.pod_dir.clone();
    let tmpfs = pod_dir.join("volumes/kubernetes.io~empty-dir/cache");
    assert!(
        support::mounts_under(&pod_dir).contains(&tmpfs.display().to_string()),
        "emptyDir medium Memory is not a mount"
    );
    // The configMap changes; the file in the running container follows.
    cms.patch(
        "cfg",
        &PatchParams::default(),
        &Patch::Merge(json!({"data": {"color": "green"}})),
    )
    .await?;
    let deadline = Instant::now() + Duration::from_secs(30);
    while Instant::now() < deadline {
        runner.status(&running).await;
        if std::fs::read_to_string(&log)?.contains("color-now=green") {
            break;
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    log_until(&log, "color-now=green", Duration::from_secs(1)).await?;
    running_pods.push(running);

    // --- adoption: a restarted kubelet takes over a running pod ------------------------
    let adoptee = pod(
        world,
        "adoptee",
        json!({"nodeName": NODE, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": "busybox",
                "command": ["sh", "-c", "echo up; exec nc -ll -p 8080 -e echo hi"],
                "readinessProbe": {"tcpSocket": {"port": 8080}, "periodSeconds": 1}}]}),
    )?;
    let first = runner.start(&adoptee).await.context("start adoptee")?;
    let before = status_until(
        &runner,
        &first,
        Duration::from_secs(20),
        "adoptee Ready",
        |s| cond(s, "Ready") == "True",
    )
    .await?;
    // The kubelet's memory is gone; the containers and the sandbox are not.
    drop(first);
    let running = runner
        .adopt(&adoptee)
        .await
        .context("adopting")?
        .context("nothing to adopt")?;
    let after = status_until(
        &runner,
        &running,
        Duration::from_secs(20),
        "adopted Ready",
        |s| cond(s, "Ready") == "True",
    )
    .await?;
    assert_eq!(after.pod_ip, before.pod_ip);
    let (b, a) = (
        container(&before, "app").context("before")?,
        container(&after, "app").context("after")?,
    );
    assert_eq!(a.container_id, b.container_id);
    assert_eq!(a.restart_count, 0);
    running_pods.push(running);

    // --- init container re-run on failure, postStart and preStop hooks ----------------
    let hooks_dir = world.daemon.dir.path().join("hooks");
    std::fs::create_dir_all(&hooks_dir)?;
    let hooks = pod(
        world,
        "hooks",
        json!({
            "nodeName": NODE,
            "terminationGracePeriodSeconds": 5,
            "initContainers": [{"name": "init", "image": "busybox", "command": ["sh", "-c",
                "if [ -f /w/once ]; then echo second; exit 0; fi; touch /w/once; echo first; exit 1"],
                "volumeMounts": [{"name": "w", "mountPath": "/w"}]}],
            "containers": [{"name": "app", "image": "busybox",
                "command": ["sh", "-c", "sleep 1; echo poststart=$(cat /w/poststart); exec sleep 3600"],
                "lifecycle": {
                    "postStart": {"exec": {"command": ["sh", "-c", "echo ran > /w/poststart"]}},
                    "preStop": {"exec": {"command": ["sh", "-c", "echo bye > /hooks/prestop"]}}
                },
                "volumeMounts": [{"name": "w", "mountPath": "/w"},
                                 {"name": "hooks", "mountPath": "/hooks"}]}],
            "volumes": [{"name": "w", "emptyDir": {}},
                        {"name": "hooks", "hostPath": {"path": hooks_dir.display().to_string()}}]
        }),
    )?;
    let running = runner.start(&hooks).await.context("start hooks")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(30),
        "hooks Running",
        |s| s.phase.as_deref() == Some("Running"),
    )
    .await?;
    let init = s
        .init_container_statuses
        .as_ref()
        .and_then(|l| l.first())
        .context("init status")?;
    assert_eq!(init.restart_count, 1, "{init:?}");
    log_until(
        &running.log_dir.join("app/0.log"),
        "poststart=ran",
        Duration::from_secs(15),
    )
    .await?;
    runner
        .stop(&running, Duration::from_secs(5))
        .await
        .context("stopping hooks")?;
    assert_eq!(
        std::fs::read_to_string(hooks_dir.join("prestop"))?.trim(),
        "bye",
        "preStop did not run"
    );

    // --- CrashLoopBackOff -------------------------------------------------------------
    let crasher = pod(
        world,
        "crasher",
        json!({"nodeName": NODE, "containers": [{"name": "app", "image": "busybox",
            "command": ["sh", "-c", "echo run; exit 3"]}]}),
    )?;
    let crasher_uid = crasher.metadata.uid.clone().unwrap_or_default();
    let running = runner.start(&crasher).await.context("start crasher")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(40),
        "CrashLoopBackOff",
        |s| {
            container(s, "app").is_some_and(|c| {
                c.restart_count >= 1
                    && c.state
                        .as_ref()
                        .and_then(|st| st.waiting.as_ref())
                        .is_some_and(|w| w.reason.as_deref() == Some("CrashLoopBackOff"))
            })
        },
    )
    .await?;
    assert_eq!(s.phase.as_deref(), Some("Running"), "{s:#?}");
    let c = container(&s, "app").context("app status")?;
    let waiting = c
        .state
        .clone()
        .and_then(|st| st.waiting)
        .context("waiting")?;
    assert_eq!(
        waiting.message.as_deref(),
        Some(
            format!(
                "back-off 10s restarting failed container=app pod=crasher_default({crasher_uid})"
            )
            .as_str()
        )
    );
    let last = c
        .last_state
        .clone()
        .and_then(|l| l.terminated)
        .context("lastState.terminated")?;
    assert_eq!((last.exit_code, last.reason.as_deref()), (3, Some("Error")));
    assert!(running.log_dir.join("app/0.log").exists());
    log_until(
        &running.log_dir.join("app/1.log"),
        "run",
        Duration::from_secs(5),
    )
    .await?;
    running_pods.push(running);

    // --- liveness probe failing -> killed and restarted --------------------------------
    let live = pod(
        world,
        "liveness",
        json!({"nodeName": NODE, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": "busybox", "command": ["sleep", "3600"],
                "livenessProbe": {"tcpSocket": {"port": 9999}, "periodSeconds": 1,
                                  "failureThreshold": 2}}]}),
    )?;
    let running = runner.start(&live).await.context("start liveness")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(40),
        "liveness restart",
        |s| container(s, "app").is_some_and(|c| c.restart_count >= 1),
    )
    .await?;
    let last = container(&s, "app")
        .and_then(|c| c.last_state.clone())
        .and_then(|l| l.terminated)
        .context("liveness lastState")?;
    assert_eq!(last.exit_code, 137, "{last:?}");
    running_pods.push(running);

    // --- bad input ----------------------------------------------------------------------
    let badcfg = pod(
        world,
        "badcfg",
        json!({"nodeName": NODE, "containers": [{"name": "app", "image": "busybox",
            "command": ["sleep", "3600"],
            "env": [{"name": "X", "valueFrom": {"configMapKeyRef": {"name": "cfg", "key": "nope"}}}]}]}),
    )?;
    let running = runner.start(&badcfg).await.context("start badcfg")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(10),
        "config error",
        |s| {
            container(s, "app")
                .and_then(|c| c.state.clone())
                .and_then(|st| st.waiting)
                .is_some_and(|w| w.reason.as_deref() == Some("CreateContainerConfigError"))
        },
    )
    .await?;
    let w = container(&s, "app")
        .and_then(|c| c.state.clone())
        .and_then(|st| st.waiting)
        .context("waiting")?;
    assert_eq!(
        w.message.as_deref(),
        Some("couldn't find key nope in ConfigMap default/cfg")
    );
    assert_eq!(s.phase.as_deref(), Some("Pending"));
    running_pods.push(running);

    let nocmd = pod(
        world,
        "nocmd",
        json!({"nodeName": NODE, "restartPolicy": "Never",
            "containers": [{"name": "app", "image": "busybox", "command": ["/no/such/binary"]}]}),
    )?;
    let running = runner.start(&nocmd).await.context("start nocmd")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(10),
        "StartError",
        |s| s.phase.as_deref() == Some("Failed"),
    )
    .await?;
    let t = container(&s, "app")
        .and_then(|c| c.state.clone())
        .and_then(|st| st.terminated)
        .context("terminated")?;
    assert_eq!(t.reason.as_deref(), Some("StartError"), "{t:?}");
    assert_eq!(t.exit_code, 128);
    assert!(
        t.message
            .as_deref()
            .is_some_and(|m| m.contains("/no/such/binary")),
        "{t:?}"
    );
    running_pods.push(running);

    let oom = pod(
        world,
        "oom",
        json!({"nodeName": NODE, "restartPolicy": "Never",
            "containers": [{"name": "app", "image": "busybox",
                "command": ["sh", "-c", "x=$(head -c 100000000 /dev/zero | tr '\\0' a); echo survived"],
                "resources": {"limits": {"memory": "16Mi"}}}]}),
    )?;
    let running = runner.start(&oom).await.context("start oom")?;
    let s = status_until(&runner, &running, Duration::from_secs(30), "OOM", |s| {
        s.phase.as_deref() == Some("Failed") || s.phase.as_deref() == Some("Succeeded")
    })
    .await?;
    let t = container(&s, "app")
        .and_then(|c| c.state.clone())
        .and_then(|st| st.terminated)
        .context("oom terminated")?;
    assert_eq!(t.reason.as_deref(), Some("OOMKilled"), "{t:?}");
    running_pods.push(running);

    let badvol = pod(
        world,
        "badvol",
        json!({"nodeName": NODE, "containers": [{"name": "app", "image": "busybox",
            "command": ["sleep", "1"]}],
            "volumes": [{"name": "share", "nfs": {"server": "10.0.0.1", "path": "/x"}}]}),
    )?;
    let err = match runner.start(&badvol).await {
        Ok(_) => bail!("a pod with an nfs volume started"),
        Err(e) => e.to_string(),
    };
    assert!(
        err.contains("MountVolume.SetUp failed for volume \"share\"")
            && err.contains("not supported"),
        "{err}"
    );
    let badvol_dir = root
        .join("pods")
        .join(badvol.metadata.uid.as_deref().unwrap_or(""));
    assert!(!badvol_dir.exists(), "pod dir left after a failed start");
    assert!(
        runner.adopt(&badvol).await?.is_none(),
        "adopted a pod that never ran"
    );

    // --- hostNetwork ------------------------------------------------------------------
    let hostnet = pod(
        world,
        "hostnet",
        json!({"nodeName": NODE, "hostNetwork": true, "terminationGracePeriodSeconds": 1,
            "containers": [{"name": "app", "image": "busybox",
                "command": ["sh", "-c", "echo ifaces=$(ls /sys/class/net | tr '\\n' ,); sleep 3600"]}]}),
    )?;
    let hn_uid = hostnet.metadata.uid.clone().unwrap_or_default();
    // Never CNI DEL the node's own namespace on cleanup: drop it from the CNI list.
    world.pods.retain(|(_, _, uid)| uid != &hn_uid);
    world.host_netns.push(PodSandbox::host_netns_name(&hn_uid));
    let running = runner.start(&hostnet).await.context("start hostnet")?;
    let s = status_until(
        &runner,
        &running,
        Duration::from_secs(20),
        "hostnet Running",
        |s| s.phase.as_deref() == Some("Running"),
    )
    .await?;
    assert_eq!(s.pod_ip.as_deref(), Some(HOST_IP));
    assert!(running.sandbox.host_network);
    let hn_netns = NetNs::named(&PodSandbox::host_netns_name(&hn_uid))?;
    assert!(hn_netns.exists(), "no netns handle for the hostNetwork pod");
    // The node's interfaces (the test bridge among them) are visible: the host netns.
    log_until(
        &running.log_dir.join("app/0.log"),
        &format!("{},", world.network.bridge),
        Duration::from_secs(10),
    )
    .await?;
    running_pods.push(running);

    // --- everything stops and leaves nothing behind ------------------------------------
    // The other pods kept running through all the failures above.
    let s = runner.status(&running_pods[0]).await;
    assert_eq!(cond(&s, "Ready"), "True", "{s:#?}");
    let dirs: Vec<PathBuf> = running_pods.iter().map(|r| r.pod_dir.clone()).collect();
    for r in &running_pods {
        runner
            .stop(r, Duration::from_secs(2))
            .await
            .with_context(|| format!("stopping {}", r.key()))?;
    }
    assert!(ctr.list().await?.is_empty(), "containers left");
    assert!(
        support::mounts_under(&root).is_empty(),
        "mounts left: {:?}",
        support::mounts_under(&root)
    );
    for d in dirs {
        assert!(!d.exists(), "{} left", d.display());
    }
    assert!(world.network.leases().is_empty(), "IP leases left");
    assert!(!hn_netns.exists(), "hostNetwork netns handle left");

    // Events reached the API (written in the background).
    let events: Api<k8s_openapi::api::core::v1::Event> = Api::namespaced(client.clone(), "default");
    let deadline = Instant::now() + Duration::from_secs(10);
    let wanted = ["Created", "Started", "BackOff", "Unhealthy", "Killing"];
    loop {
        let list = events.list(&Default::default()).await?;
        let reasons: Vec<String> = list.items.iter().filter_map(|e| e.reason.clone()).collect();
        if wanted.iter().all(|w| reasons.iter().any(|r| r == w)) {
            let started = list
                .items
                .iter()
                .find(|e| e.reason.as_deref() == Some("Started"))
                .context("Started event")?;
            assert_eq!(
                started.source.as_ref().and_then(|s| s.component.as_deref()),
                Some("kubelet")
            );
            assert_eq!(started.message.as_deref(), Some("Started container app"));
            break;
        }
        if Instant::now() > deadline {
            bail!("events missing; have {reasons:?}");
        }
        tokio::time::sleep(Duration::from_millis(500)).await;
    }
    Ok(())
}
