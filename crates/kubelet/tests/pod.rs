//! The pod worker against a real, private containerd 1.6 and the real CNI plugins (root
//! required): a pod with an init container and a listening app container, its status,
//! reachability, logs and a graceful stop; and a pod whose container fails.
//!
//! Everything (containers, snapshots, netns, CNI leases, bridge, nat rules, containerd,
//! temp dirs) is torn down by Drop guards even when an assertion fails. Set
//! FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip explicitly on a dev box without root.

mod support;

use std::io::Read;
use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::{Duration, Instant};

use k8s_openapi::api::core::v1::{Container, Pod, PodCondition, PodSpec, PodStatus};
use kubelet::network::{CapabilityArgs, NetNs, PodArgs, Sandbox};
use kubelet::pod::{PodRunner, PodSandbox};
use support::{PrivateContainerd, PrivateNetwork};

const IMAGE: &str = "docker.io/library/busybox:latest";

/// Field order is drop order: pods' sandboxes first, then the network, then containerd.
struct World {
    /// (namespace, name, uid) of every pod we tried to start: DEL + netns delete on drop.
    pods: Vec<(String, String, String)>,
    network: PrivateNetwork,
    daemon: PrivateContainerd,
}

impl Drop for World {
    fn drop(&mut self) {
        for (ns, name, uid) in std::mem::take(&mut self.pods) {
            let netns = NetNs::named(&PodSandbox::netns_name(&uid));
            let Ok(netns) = netns else { continue };
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

fn pod(name: &str, init: Option<&str>, app: &str, policy: &str) -> Pod {
    let c = |n: &str, script: &str| Container {
        name: n.into(),
        image: Some("busybox".into()),
        command: Some(vec!["sh".into(), "-c".into(), script.into()]),
        ..Default::default()
    };
    let mut p = Pod::default();
    p.metadata.name = Some(name.into());
    p.metadata.namespace = Some("default".into());
    p.metadata.uid = Some(uuid::Uuid::new_v4().to_string());
    p.spec = Some(PodSpec {
        init_containers: init.map(|s| vec![c("init", s)]),
        containers: vec![c("app", app)],
        restart_policy: Some(policy.into()),
        ..Default::default()
    });
    p
}

fn cond<'a>(s: &'a PodStatus, t: &str) -> &'a PodCondition {
    s.conditions
        .as_ref()
        .and_then(|cs| cs.iter().find(|c| c.type_ == t))
        .unwrap_or_else(|| panic!("no {t} condition in {s:?}"))
}

async fn read_log(path: &PathBuf, needle: &str) -> String {
    let mut text = String::new();
    for _ in 0..50 {
        text = std::fs::read_to_string(path).unwrap_or_default();
        if text.contains(needle) {
            break;
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    text
}

/// Connects to the pod's listener until it answers (the shell needs a moment to exec nc).
fn fetch(ip: IpAddr, port: u16) -> String {
    let deadline = Instant::now() + Duration::from_secs(15);
    loop {
        let attempt =
            TcpStream::connect_timeout(&SocketAddr::new(ip, port), Duration::from_secs(2))
                .and_then(|mut s| {
                    s.set_read_timeout(Some(Duration::from_secs(5)))?;
                    let mut out = String::new();
                    s.read_to_string(&mut out)?;
                    Ok(out)
                });
        match attempt {
            Ok(out) if !out.is_empty() => return out,
            other if Instant::now() > deadline => {
                panic!("pod {ip}:{port} did not answer: {other:?}")
            }
            _ => std::thread::sleep(Duration::from_millis(200)),
        }
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn pod_lifecycle_end_to_end() {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("pod_lifecycle_end_to_end SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return;
    }
    if let Err(why) = support::preflight() {
        panic!("pod integration test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)");
    }
    let namespace = format!("ferrokube-pod-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        pods: Vec::new(),
        network: PrivateNetwork::new(),
        daemon: PrivateContainerd::start(&namespace),
    };
    let ctr = world.daemon.connect().await;
    let tarball = world.daemon.dir.path().join("busybox.tar");
    ferrokube_deploy::images::build_busybox_image(&tarball, IMAGE)
        .unwrap_or_else(|e| panic!("building busybox image: {e:#}"));
    let imported = ctr
        .import_image(&tarball)
        .await
        .unwrap_or_else(|e| panic!("import: {e}"));
    let chain_id = imported[0].chain_id.clone();
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: world.daemon.dir.path().join("log/pods"),
        init_timeout: Duration::from_secs(60),
        host_ip: None,
        settings: kubelet::pod::PodSettings::new(None, "", world.daemon.dir.path().join("root")),
    };

    // --- a running pod: init container, then a listener -------------------------------
    let web = pod(
        "web",
        Some("echo init"),
        "echo hello; exec nc -ll -p 8080 -e echo hi",
        "Always",
    );
    let uid = web.metadata.uid.clone().unwrap_or_default();
    world
        .pods
        .push(("default".into(), "web".into(), uid.clone()));
    let running = runner
        .start(&web)
        .await
        .unwrap_or_else(|e| panic!("start web: {e}\n{}", world.daemon.log()));
    let status = runner.status(&running).await;
    assert_eq!(status.phase.as_deref(), Some("Running"), "{status:?}");
    for t in ["PodScheduled", "Initialized", "ContainersReady", "Ready"] {
        assert_eq!(cond(&status, t).status, "True", "{t}: {status:?}");
    }
    let pod_ip: IpAddr = status
        .pod_ip
        .as_deref()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(|| panic!("no podIP: {status:?}"));
    let prefix = world.network.subnet.trim_end_matches("0/24");
    assert!(
        pod_ip.to_string().starts_with(prefix),
        "{pod_ip} not in {}",
        world.network.subnet
    );
    assert_eq!(status.pod_ips.as_ref().map(|v| v.len()), Some(1));
    let init_st = &status
        .init_container_statuses
        .as_ref()
        .unwrap_or_else(|| panic!("{status:?}"))[0];
    let term = init_st.state.as_ref().and_then(|s| s.terminated.clone());
    assert_eq!(
        term.map(|t| (t.exit_code, t.reason)),
        Some((0, Some("Completed".into())))
    );
    let app_st = &status
        .container_statuses
        .as_ref()
        .unwrap_or_else(|| panic!("{status:?}"))[0];
    assert!(app_st.ready, "{app_st:?}");
    assert_eq!(
        app_st.container_id.as_deref(),
        Some(format!("containerd://{uid}-app").as_str())
    );

    // The address is on eth0 inside the pod's netns, and the host reaches the listener.
    let netns_name = PodSandbox::netns_name(&uid);
    let (ok, addrs) = support::run(
        "ip",
        &["-n", &netns_name, "-4", "-o", "addr", "show", "eth0"],
    );
    assert!(ok && addrs.contains(&pod_ip.to_string()), "{addrs}");
    assert_eq!(fetch(pod_ip, 8080).trim(), "hi");

    // Logs land under <root>/pods/<ns>_<name>_<uid>/<container>/0.log.
    let log_dir = world
        .daemon
        .dir
        .path()
        .join(format!("log/pods/default_web_{uid}"));
    assert!(read_log(&log_dir.join("app/0.log"), "hello")
        .await
        .contains("hello"));
    assert!(read_log(&log_dir.join("init/0.log"), "init")
        .await
        .contains("init"));
    assert_eq!(world.network.leases(), [pod_ip.to_string()]);

    // Stop: nc is PID 1 without a SIGTERM handler, so it takes the whole grace period and
    // then SIGKILL; afterwards nothing of the pod is left.
    let began = Instant::now();
    runner
        .stop(&running, Duration::from_secs(2))
        .await
        .unwrap_or_else(|e| panic!("stop web: {e}"));
    let took = began.elapsed();
    assert!(
        took >= Duration::from_millis(1900),
        "grace period skipped: {took:?}"
    );
    assert!(took < Duration::from_secs(15), "stop too slow: {took:?}");
    let left = ctr.list().await.unwrap_or_else(|e| panic!("list: {e}"));
    assert!(left.is_empty(), "containers left: {left:?}");
    assert_eq!(
        ctr.list_snapshots().await.unwrap_or_else(|e| panic!("{e}")),
        std::slice::from_ref(&chain_id),
        "rootfs snapshots left"
    );
    assert!(!running.sandbox.netns.exists(), "netns left");
    assert!(world.network.leases().is_empty(), "IP lease not released");
    // Stopping again is a no-op.
    runner
        .stop(&running, Duration::from_secs(1))
        .await
        .unwrap_or_else(|e| panic!("second stop: {e}"));

    // --- a failing pod: exit 1 with restartPolicy Never -> Failed ----------------------
    let bad = pod("bad", None, "echo bye; exit 1", "Never");
    let bad_uid = bad.metadata.uid.clone().unwrap_or_default();
    world.pods.push(("default".into(), "bad".into(), bad_uid));
    let running = runner
        .start(&bad)
        .await
        .unwrap_or_else(|e| panic!("start bad: {e}"));
    let deadline = Instant::now() + Duration::from_secs(20);
    let status = loop {
        let s = runner.status(&running).await;
        if s.phase.as_deref() == Some("Failed") || Instant::now() > deadline {
            break s;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    };
    assert_eq!(status.phase.as_deref(), Some("Failed"), "{status:?}");
    let app_st = &status
        .container_statuses
        .as_ref()
        .unwrap_or_else(|| panic!("{status:?}"))[0];
    let term = app_st
        .state
        .as_ref()
        .and_then(|s| s.terminated.clone())
        .unwrap_or_else(|| panic!("not terminated: {app_st:?}"));
    assert_eq!((term.exit_code, term.reason.as_deref()), (1, Some("Error")));
    assert!(term.finished_at.is_some(), "{term:?}");
    assert_eq!(cond(&status, "Ready").status, "False");
    assert_eq!(
        cond(&status, "Ready").reason.as_deref(),
        Some("PodCompleted")
    );
    runner
        .stop(&running, Duration::from_secs(2))
        .await
        .unwrap_or_else(|e| panic!("stop bad: {e}"));
    assert!(ctr
        .list()
        .await
        .unwrap_or_else(|e| panic!("{e}"))
        .is_empty());
    assert!(world.network.leases().is_empty());
    assert!(
        support::mounts_under(&world.daemon.dir.path().join("state")).is_empty(),
        "rootfs mounts left"
    );
    drop(ctr);
    drop(world);
}
