//! The kubelet API end to end (root required): a private containerd whose shim writes
//! CRI logs through `ferrokube-log-driver`, a private CNI network, etcd + our
//! kube-apiserver (started with --kubelet-client-certificate/key), and the pod manager,
//! node loops and kubelet HTTPS server in-process. The real kubectl drives `logs`,
//! `exec` (output, exit codes, stdin), `attach` and `get --raw .../nodes/<n>/proxy/...`
//! through the apiserver; curl checks the kubelet's client-certificate requirement.
//! Containers with `stdin`/`tty` are attached to with `-i`/`-it` (WebSocket and, with
//! kubectl 1.29, SPDY), `stdinOnce` closes their stdin, `kubectl run -it --rm` works,
//! and their output reaches the CRI log file.
//!
//! Everything is torn down by Drop guards even when an assertion fails. Set
//! FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip on a dev box without root.

mod support;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use anyhow::{Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::core::v1::Pod;
use kube::Api;
use kubelet::config::KubeletConfiguration;
use kubelet::logs::format::{parse_line, Stream};
use kubelet::node::{self, MachineInfo, NodeOptions};
use kubelet::pod::manager::PodManager;
use kubelet::pod::PodRunner;
use support::{eventually, PrivateContainerd, PrivateNetwork, World};

const IMAGE: &str = "docker.io/library/busybox:latest";
const NODE: &str = "fk-stream-node";

fn kubectl(cluster: &TestCluster, args: &[&str]) -> Result<ferrokube_e2e::Output> {
    tokio::task::block_in_place(|| cluster.kubectl(args))
}

/// kubectl under `timeout`, for commands that stream until interrupted (logs -f, attach).
fn kubectl_for(cluster: &TestCluster, secs: u32, args: &[&str]) -> Result<String> {
    let out = tokio::task::block_in_place(|| {
        Command::new("timeout")
            .arg(secs.to_string())
            .arg("kubectl")
            .arg("--kubeconfig")
            .arg(cluster.kubeconfig_path())
            .args(args)
            .output()
    })?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

fn curl(args: &[&str]) -> Result<String> {
    let out = tokio::task::block_in_place(|| Command::new("curl").args(args).output())?;
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

/// `kubectl port-forward pod/<name> <local>:8080` in the background; killed on drop.
struct PortForward {
    child: std::process::Child,
    log: tempfile::NamedTempFile,
}

impl PortForward {
    fn spawn(cluster: &TestCluster, kubectl: &str, pod: &str, local: u16) -> Result<PortForward> {
        let log = tempfile::NamedTempFile::new()?;
        let child = Command::new(kubectl)
            .arg("--kubeconfig")
            .arg(cluster.kubeconfig_path())
            .args([
                "port-forward",
                &format!("pod/{pod}"),
                &format!("{local}:8080"),
            ])
            .stdout(log.reopen()?)
            .stderr(log.reopen()?)
            .spawn()
            .context("starting kubectl port-forward")?;
        Ok(PortForward { child, log })
    }

    fn output(&self) -> String {
        std::fs::read_to_string(self.log.path()).unwrap_or_default()
    }

    fn stop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

impl Drop for PortForward {
    fn drop(&mut self) {
        self.stop();
    }
}

fn pod_yaml(name: &str, script: &str) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n\
         spec:\n  nodeName: {NODE}\n  terminationGracePeriodSeconds: 1\n  containers:\n\
         \x20 - name: app\n    image: busybox\n    imagePullPolicy: IfNotPresent\n\
         \x20   command: [sh, -c, '{script}']\n"
    )
}

/// A pod whose container `app` runs `command` with stdin (and maybe a tty).
fn interactive_pod_yaml(name: &str, command: &str, stdin_once: bool, tty: bool) -> String {
    format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\n  namespace: default\n\
         spec:\n  nodeName: {NODE}\n  restartPolicy: Never\n  terminationGracePeriodSeconds: 1\n\
         \x20 containers:\n\
         \x20 - name: app\n    image: busybox\n    imagePullPolicy: IfNotPresent\n\
         \x20   command: [{command}]\n    stdin: true\n    stdinOnce: {stdin_once}\n    tty: {tty}\n"
    )
}

/// A shell pipeline (kubectl and its kubeconfig spelled out) under `timeout`: stdout,
/// stderr, exit code.
fn shell(cluster: &TestCluster, secs: u32, script: &str) -> Result<(String, String, Option<i32>)> {
    // OLDKUBECTL first: it contains KUBECTL.
    let script = script.replace(
        "OLDKUBECTL",
        &format!(
            "/usr/lib/google-cloud-sdk/bin/kubectl.1.29 --kubeconfig {}",
            cluster.kubeconfig_path().display()
        ),
    );
    let script = script.replace(
        "KUBECTL",
        &format!(
            "kubectl --kubeconfig {}",
            cluster.kubeconfig_path().display()
        ),
    );
    let out = tokio::task::block_in_place(|| {
        Command::new("timeout")
            .arg(secs.to_string())
            .args(["sh", "-c", &script])
            .output()
    })?;
    Ok((
        String::from_utf8_lossy(&out.stdout).into_owned(),
        String::from_utf8_lossy(&out.stderr).into_owned(),
        out.status.code(),
    ))
}

#[test]
fn kubelet_api_logs_exec_attach_and_proxy() -> Result<()> {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("streaming test SKIPPED: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return Ok(());
    }
    if let Err(why) = support::preflight() {
        panic!("streaming test cannot run: {why} (set FERROKUBE_SKIP_CONTAINERD_TESTS=1 to skip)");
    }
    // The apiserver presents its apiserver-kubelet-client certificate (cluster CA) to
    // kubelets; the kubelet API trusts the cluster CA.
    let cluster = TestCluster::start()
        .context("starting etcd + kube-apiserver (run `cargo build -p apiserver` first)")?;
    let pki = ferrokube_deploy::pki::Pki::open(cluster.dir().join("pki"));
    let client = pki.apiserver_kubelet_client();
    let namespace = format!("ferrokube-st-{}", uuid::Uuid::new_v4().simple());
    let mut world = World {
        pods: Vec::new(),
        network: PrivateNetwork::new(),
        daemon: PrivateContainerd::start(&namespace),
    };
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(scenario(
        &cluster,
        &mut world,
        &pki.ca().cert,
        &client.cert,
        &client.key,
    ))
}

async fn scenario(
    cluster: &TestCluster,
    world: &mut World,
    client_ca: &Path,
    client_cert: &Path,
    client_key: &Path,
) -> Result<()> {
    let driver = PathBuf::from(env!("CARGO_BIN_EXE_ferrokube-log-driver"));
    let ctr = world.daemon.connect().await.with_log_driver(&driver);
    let images_dir = world.daemon.dir.path().join("images");
    std::fs::create_dir_all(&images_dir)?;
    ferrokube_deploy::images::build_busybox_image(&images_dir.join("busybox.tar"), IMAGE)?;
    kubelet::images::import_dir(&ctr, &images_dir).await?;

    let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
    let client = kube::Client::try_from(
        kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
    )?;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await?;
    let port = listener.local_addr()?.port();
    let config = KubeletConfiguration::from_yaml(&format!(
        "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\nport: {port}\n"
    ))?;
    let machine = MachineInfo::read(world.daemon.dir.path())?;
    let opts = NodeOptions {
        node_name: NODE.into(),
        hostname: NODE.into(),
        node_ip: "127.0.0.1".parse()?,
        runtime_version: ctr.version().await?,
        config,
    };
    let log_root = world.daemon.dir.path().join("log");
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: log_root.join("pods"),
        init_timeout: Duration::from_secs(60),
        host_ip: Some("127.0.0.1".into()),
        settings: kubelet::pod::PodSettings::new(
            Some(client.clone()),
            NODE,
            world.daemon.dir.path().join("root"),
        ),
    };
    let manager = PodManager::new(runner, client.clone(), NODE)
        .with_status_interval(Duration::from_millis(500));
    let state = kubelet::server::ServerState {
        node_name: NODE.into(),
        running: manager.running(),
        runtime: ctr.clone(),
        metrics: kubelet::metrics::Metrics::new(NODE)?,
        pod_logs_dir: log_root.join("pods"),
        exec_dir: world.daemon.dir.path().join("exec"),
    };
    let tls = kubelet::server::tls::server_config(
        &kubelet::server::tls::TlsFiles {
            cert: None,
            key: None,
            client_ca: Some(client_ca.to_path_buf()),
        },
        &world.daemon.dir.path().join("pki"),
        NODE,
        "127.0.0.1".parse()?,
    )?;
    let (stop_tx, stop_rx) = tokio::sync::watch::channel(false);
    let stopped = |mut rx: tokio::sync::watch::Receiver<bool>| async move {
        let _ = rx.wait_for(|s| *s).await;
    };
    let server = tokio::spawn(kubelet::server::serve_listener(
        listener,
        tls,
        state,
        stopped(stop_rx.clone()),
    ));
    let node_loops = tokio::spawn(node::run(
        client.clone(),
        opts,
        machine,
        stopped(stop_rx.clone()),
    ));
    let pods_task = tokio::spawn(manager.run(stopped(stop_rx)));

    let result = checks(
        cluster,
        world,
        &client,
        &log_root,
        port,
        client_cert,
        client_key,
    )
    .await;
    let result = match result {
        Ok(()) => restart_checks(cluster, world, &client, &log_root, &ctr).await,
        failed => failed,
    };

    // Delete the pods while the manager runs, so it tears them down.
    let _ = kubectl(
        cluster,
        &["delete", "pod", "--all", "--wait", "--timeout=60s"],
    );
    let _ = stop_tx.send(true);
    let _ = server.await;
    let _ = node_loops.await;
    let _ = pods_task.await;
    result.with_context(|| format!("containerd log:\n{}", world.daemon.log()))
}

async fn checks(
    cluster: &TestCluster,
    world: &mut World,
    client: &kube::Client,
    log_root: &Path,
    port: u16,
    client_cert: &Path,
    client_key: &Path,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let script =
        "echo out1; echo err1 >&2; i=0; while true; do echo tick $i; i=$((i+1)); sleep 1; done";
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(&["create", "-f", "-"], &pod_yaml("talker", script))
    })?
    .ok()?;
    assert!(out.contains("pod/talker created"), "{out}");
    let uid = pods.get("talker").await?.metadata.uid.context("no uid")?;
    world
        .pods
        .push(("default".into(), "talker".into(), uid.clone()));
    eventually(Duration::from_secs(90), "talker Running", || async {
        let p = pods.get("talker").await?;
        Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(()))
    })
    .await?;

    // --- the log file is CRI format, stdout and stderr apart ------------------------
    let file = log_root.join(format!("pods/default_talker_{uid}/app/0.log"));
    let records = eventually(Duration::from_secs(20), "CRI records", || async {
        let text = std::fs::read(&file).unwrap_or_default();
        let lines: Vec<(Stream, String)> = text
            .split_inclusive(|b| *b == b'\n')
            .filter_map(|l| parse_line(l).ok())
            .map(|l| (l.stream, String::from_utf8_lossy(l.content).into_owned()))
            .collect();
        Ok((lines.len() >= 4).then_some(lines))
    })
    .await?;
    assert!(
        records.contains(&(Stream::Stdout, "out1".into())),
        "{records:?}"
    );
    assert!(
        records.contains(&(Stream::Stderr, "err1".into())),
        "{records:?}"
    );
    assert!(
        records.contains(&(Stream::Stdout, "tick 0".into())),
        "{records:?}"
    );

    // --- kubectl logs and its options -----------------------------------------------
    let logs = kubectl(cluster, &["logs", "talker"])?.ok()?;
    // stdout and stderr are separate pipes: their relative order is not fixed.
    let lines: Vec<&str> = logs.lines().collect();
    for want in ["out1", "err1", "tick 0", "tick 1"] {
        assert!(lines.contains(&want), "{want} missing: {logs}");
    }
    let logs = kubectl(cluster, &["logs", "talker", "-c", "app", "--tail=1"])?.ok()?;
    assert_eq!(logs.lines().count(), 1, "{logs}");
    assert!(logs.starts_with("tick "), "{logs}");
    let logs = kubectl(
        cluster,
        &["logs", "talker", "--timestamps", "--limit-bytes=200"],
    )?
    .ok()?;
    let first = logs.lines().next().unwrap_or_default();
    let (ts, rest) = first.split_once(' ').context("no timestamp")?;
    assert!(ts.parse::<jiff::Timestamp>().is_ok(), "{first}");
    assert!(["out1", "err1", "tick 0"].contains(&rest), "{first}");
    assert!(logs.len() <= 200, "{}", logs.len());
    let logs = kubectl(cluster, &["logs", "talker", "--since=1h"])?.ok()?;
    assert!(logs.contains("out1"), "{logs}");
    let err = kubectl(cluster, &["logs", "talker", "-c", "nope"])?.err()?;
    assert!(
        err.contains("container nope is not valid for pod talker"),
        "{err}"
    );
    let err = kubectl(cluster, &["logs", "talker", "--previous"])?.err()?;
    assert!(err.contains("previous terminated container"), "{err}");
    // -f keeps streaming new lines.
    let followed = kubectl_for(cluster, 4, &["logs", "-f", "talker", "--tail=1"])?;
    assert!(followed.lines().count() >= 2, "{followed}");

    // --- kubectl exec ------------------------------------------------------------------
    let out = kubectl(cluster, &["exec", "talker", "--", "echo", "hi"])?.ok()?;
    assert_eq!(out, "hi\n");
    let out = kubectl(
        cluster,
        &[
            "exec",
            "talker",
            "--",
            "sh",
            "-c",
            "echo to-err >&2; exit 3",
        ],
    )?;
    assert_eq!(out.status.code(), Some(3), "{out:?}");
    assert!(out.stderr.contains("to-err"), "{out:?}");
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(
            &["exec", "-i", "talker", "--", "sh", "-c", "cat; echo done"],
            "hello stdin\n",
        )
    })?
    .ok()?;
    assert_eq!(out, "hello stdin\ndone\n");
    let err = kubectl(cluster, &["exec", "talker", "--", "/no/such/binary"])?;
    assert!(!err.success(), "{err:?}");

    // kubectl before 1.30 execs over SPDY/3.1 (v4.channel.k8s.io).
    let old = "/usr/lib/google-cloud-sdk/bin/kubectl.1.29";
    if Path::new(old).exists() {
        let old_kubectl = |args: &[&str], input: &str| -> Result<std::process::Output> {
            use std::io::Write;
            let mut child = Command::new("timeout")
                .args(["30", old, "--kubeconfig"])
                .arg(cluster.kubeconfig_path())
                .args(args)
                .stdin(std::process::Stdio::piped())
                .stdout(std::process::Stdio::piped())
                .stderr(std::process::Stdio::piped())
                .spawn()?;
            if let Some(mut stdin) = child.stdin.take() {
                stdin.write_all(input.as_bytes())?;
            }
            Ok(child.wait_with_output()?)
        };
        let out = tokio::task::block_in_place(|| {
            old_kubectl(&["exec", "talker", "--", "echo", "hi"], "")
        })?;
        assert_eq!(String::from_utf8_lossy(&out.stdout), "hi\n", "{out:?}");
        let out = tokio::task::block_in_place(|| {
            old_kubectl(
                &["exec", "talker", "--", "sh", "-c", "echo e >&2; exit 3"],
                "",
            )
        })?;
        assert_eq!(out.status.code(), Some(3), "{out:?}");
        assert!(
            String::from_utf8_lossy(&out.stderr).contains('e'),
            "{out:?}"
        );
        let out = tokio::task::block_in_place(|| {
            old_kubectl(
                &["exec", "-i", "talker", "--", "sh", "-c", "cat; echo done"],
                "via spdy\n",
            )
        })?;
        assert_eq!(
            String::from_utf8_lossy(&out.stdout),
            "via spdy\ndone\n",
            "{out:?}"
        );
    }

    // exec -it: `script` gives kubectl a terminal; the command sees one too.
    let cmd = format!(
        "kubectl --kubeconfig {} exec -it talker -- sh -c 'tty; echo cols=$(stty size)'",
        cluster.kubeconfig_path().display()
    );
    let out = tokio::task::block_in_place(|| {
        Command::new("timeout")
            .args(["30", "script", "-qec", &cmd, "/dev/null"])
            .output()
    })?;
    let text = String::from_utf8_lossy(&out.stdout);
    assert!(text.contains("/dev/pts/"), "{text}");
    assert!(text.contains("cols="), "{text}");

    // --- kubectl attach streams the container's output --------------------------------
    let attached = kubectl_for(cluster, 4, &["attach", "talker"])?;
    assert!(attached.contains("tick "), "{attached}");

    // --- nodes/proxy: /pods, /metrics, /stats/summary, /healthz -----------------------
    let raw = |path: &str| {
        kubectl(
            cluster,
            &[
                "get",
                "--raw",
                &format!("/api/v1/nodes/{NODE}/proxy/{path}"),
            ],
        )
    };
    let list: serde_json::Value = serde_json::from_str(&raw("pods")?.ok()?)?;
    let names: Vec<&str> = list["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|p| p["metadata"]["name"].as_str())
        .collect();
    assert_eq!(names, ["talker"], "{list}");
    let metrics = raw("metrics")?.ok()?;
    assert!(metrics.contains("kubelet_running_pods 1"), "{metrics}");
    assert!(
        metrics.contains(&format!("kubelet_node_name{{node=\"{NODE}\"}} 1")),
        "{metrics}"
    );
    let summary: serde_json::Value = serde_json::from_str(&raw("stats/summary")?.ok()?)?;
    assert_eq!(summary["node"]["nodeName"], NODE);
    assert_eq!(summary["pods"][0]["podRef"]["name"], "talker", "{summary}");
    assert_eq!(raw("healthz")?.ok()?.trim(), "ok");

    // --- the kubelet itself: client certificates required but for /healthz ------------
    let base = format!("https://127.0.0.1:{port}");
    assert_eq!(curl(&["-sk", &format!("{base}/healthz")])?.trim(), "ok");
    let code = curl(&[
        "-sk",
        "-o",
        "/dev/null",
        "-w",
        "%{http_code}",
        &format!("{base}/pods"),
    ])?;
    assert_eq!(code, "401");
    let cert = client_cert.display().to_string();
    let key = client_key.display().to_string();
    let pods_json = curl(&[
        "-sk",
        "--cert",
        &cert,
        "--key",
        &key,
        &format!("{base}/pods"),
    ])?;
    assert!(pods_json.contains("\"talker\""), "{pods_json}");

    // --- kubectl port-forward to an httpd inside a pod ---------------------------------
    let web = "mkdir -p /www && echo hello-pf > /www/index.html && exec httpd -f -p 8080 -h /www";
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(&["create", "-f", "-"], &pod_yaml("web", web))
    })?
    .ok()?;
    assert!(out.contains("pod/web created"), "{out}");
    let web_uid = pods.get("web").await?.metadata.uid.context("no uid")?;
    world.pods.push(("default".into(), "web".into(), web_uid));
    eventually(Duration::from_secs(90), "web Running", || async {
        let p = pods.get("web").await?;
        Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(()))
    })
    .await?;
    // kubectl 1.33 tunnels SPDY in a WebSocket; 1.29 (if installed) speaks plain SPDY.
    let mut clients = vec!["kubectl"];
    let old = "/usr/lib/google-cloud-sdk/bin/kubectl.1.29";
    if Path::new(old).exists() {
        clients.push(old);
    }
    for kubectl in clients {
        let local = std::net::TcpListener::bind("127.0.0.1:0")?
            .local_addr()?
            .port();
        let mut pf = PortForward::spawn(cluster, kubectl, "web", local)?;
        let url = format!("http://127.0.0.1:{local}/index.html");
        let body = eventually(
            Duration::from_secs(30),
            "a page through port-forward",
            || async {
                let body = curl(&["-s", "--max-time", "5", &url])?;
                Ok(body.contains("hello-pf").then_some(body))
            },
        )
        .await
        .with_context(|| format!("{kubectl} port-forward output: {}", pf.output()))?;
        assert_eq!(body.trim(), "hello-pf");
        // A second connection through the same session.
        let again = curl(&["-s", "--max-time", "5", &url])?;
        assert_eq!(again.trim(), "hello-pf", "{kubectl}");
        pf.stop();
    }

    // --- errors as Status ---------------------------------------------------------------
    let err = kubectl(cluster, &["logs", "nosuchpod"])?.err()?;
    assert!(err.contains("pods \"nosuchpod\" not found"), "{err}");

    attach_checks(cluster, world, client, log_root).await
}

/// Creates a pod from `yaml` and waits for it to run; its uid.
async fn create_running(
    cluster: &TestCluster,
    world: &mut World,
    pods: &Api<Pod>,
    name: &str,
    yaml: &str,
) -> Result<String> {
    let out = tokio::task::block_in_place(|| cluster.kubectl_stdin(&["create", "-f", "-"], yaml))?
        .ok()?;
    assert!(out.contains(&format!("pod/{name} created")), "{out}");
    let uid = pods.get(name).await?.metadata.uid.context("no uid")?;
    world
        .pods
        .push(("default".into(), name.into(), uid.clone()));
    eventually(
        Duration::from_secs(90),
        &format!("{name} Running"),
        || async {
            let p = pods.get(name).await?;
            Ok((p.status.and_then(|s| s.phase).as_deref() == Some("Running")).then_some(()))
        },
    )
    .await?;
    Ok(uid)
}

/// Waits for the pod to be Succeeded with its container terminated with exit code 0
/// (kubectl's "Completed").
async fn wait_completed(pods: &Api<Pod>, name: &str) -> Result<()> {
    eventually(
        Duration::from_secs(60),
        &format!("{name} Completed"),
        || async {
            let p = pods.get(name).await?;
            let status = p.status.unwrap_or_default();
            let code = status
                .container_statuses
                .iter()
                .flatten()
                .find_map(|c| c.state.as_ref()?.terminated.as_ref().map(|t| t.exit_code));
            Ok((status.phase.as_deref() == Some("Succeeded") && code == Some(0)).then_some(()))
        },
    )
    .await
}

/// The (stream, content) records of a CRI log file.
fn cri_records(path: &Path) -> Vec<(Stream, String)> {
    let text = std::fs::read(path).unwrap_or_default();
    text.split_inclusive(|b| *b == b'\n')
        .filter_map(|l| parse_line(l).ok())
        .map(|l| (l.stream, String::from_utf8_lossy(l.content).into_owned()))
        .collect()
}

/// kubectl attach -i / -it to containers with stdin and tty.
async fn attach_checks(
    cluster: &TestCluster,
    world: &mut World,
    client: &kube::Client,
    log_root: &Path,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");

    // --- stdinOnce: the session's stdin EOF closes the container's stdin -------------
    let yaml = interactive_pod_yaml("cat-once", "cat", true, false);
    let uid = create_running(cluster, world, &pods, "cat-once", &yaml).await?;
    let out = tokio::task::block_in_place(|| {
        cluster.kubectl_stdin(&["attach", "-i", "-q", "cat-once"], "hello attach\n")
    })?;
    assert!(out.success(), "{out:?}");
    assert_eq!(out.stdout, "hello attach\n", "{out:?}");
    // cat saw EOF and exited 0: the pod completes (restartPolicy Never).
    wait_completed(&pods, "cat-once").await?;
    // Its output is in the CRI log like any container's, so kubectl logs reads it.
    let file = log_root.join(format!("pods/default_cat-once_{uid}/app/0.log"));
    assert_eq!(
        cri_records(&file),
        vec![(Stream::Stdout, "hello attach".to_string())],
        "{}",
        file.display()
    );
    let logs = kubectl(cluster, &["logs", "cat-once"])?.ok()?;
    assert_eq!(logs, "hello attach\n");

    // --- stdin stays open across sessions without stdinOnce ---------------------------
    let yaml = interactive_pod_yaml("cat-open", "cat", false, false);
    create_running(cluster, world, &pods, "cat-open", &yaml).await?;
    for word in ["first", "second"] {
        // stdin stays open a moment so cat's echo comes back before the session ends.
        let (stdout, stderr, code) = shell(
            cluster,
            60,
            &format!("(echo {word}; sleep 2) | KUBECTL attach -i -q cat-open"),
        )?;
        assert_eq!(code, Some(0), "{stdout} {stderr}");
        assert_eq!(stdout, format!("{word}\n"), "{stderr}");
    }
    let p = pods.get("cat-open").await?;
    assert_eq!(
        p.status.and_then(|s| s.phase).as_deref(),
        Some("Running"),
        "cat-open must still run: its stdin was not closed"
    );

    // --- SPDY attach (kubectl before 1.30) --------------------------------------------
    let old = "/usr/lib/google-cloud-sdk/bin/kubectl.1.29";
    if Path::new(old).exists() {
        let yaml = interactive_pod_yaml("cat-spdy", "cat", true, false);
        create_running(cluster, world, &pods, "cat-spdy", &yaml).await?;
        let (stdout, stderr, code) = shell(
            cluster,
            60,
            "echo via spdy | OLDKUBECTL attach -i -q cat-spdy",
        )?;
        assert_eq!(code, Some(0), "{stdout} {stderr}");
        assert_eq!(stdout, "via spdy\n", "{stderr}");
        wait_completed(&pods, "cat-spdy").await?;
        // And a SPDY session to a running stdin container that it leaves open.
        let (stdout, stderr, code) = shell(
            cluster,
            60,
            "(echo third; sleep 2) | OLDKUBECTL attach -i -q cat-open",
        )?;
        assert_eq!(code, Some(0), "{stdout} {stderr}");
        assert_eq!(stdout, "third\n", "{stderr}");
    }

    // --- a tty: attach -it through a terminal (`script`) ------------------------------
    let yaml = interactive_pod_yaml("shell", "sh", false, true);
    let uid = create_running(cluster, world, &pods, "shell", &yaml).await?;
    let (stdout, stderr, _) = shell(
        cluster,
        60,
        "(sleep 2; printf 'tty; echo marker-$((6*7)); exit\\n'; sleep 2) | \
         script -qec 'KUBECTL attach -it -q shell' /dev/null",
    )?;
    assert!(stdout.contains("/dev/pts/"), "{stdout} {stderr}");
    assert!(stdout.contains("marker-42"), "{stdout} {stderr}");
    wait_completed(&pods, "shell").await?;
    // A terminal's output is logged as stdout.
    let file = log_root.join(format!("pods/default_shell_{uid}/app/0.log"));
    let records = cri_records(&file);
    assert!(
        records
            .iter()
            .any(|(s, l)| *s == Stream::Stdout && l.contains("marker-42")),
        "{records:?}"
    );

    // --- kubectl run -it --rm ----------------------------------------------------------
    // kubectl creates the pod with stdin, stdinOnce and tty, waits for Running, attaches.
    let (stdout, stderr, code) = shell(
        cluster,
        120,
        &format!(
            "export OVR='{{\"apiVersion\":\"v1\",\"spec\":{{\"nodeName\":\"{NODE}\"}}}}'; \
             (sleep 3; printf 'echo run-$((6*7)); exit\\n'; sleep 2) | \
             script -qec 'KUBECTL run -it --rm --restart=Never --image=busybox \
             --image-pull-policy=IfNotPresent --overrides=\"$OVR\" runner -- sh' /dev/null"
        ),
    )?;
    assert!(stdout.contains("run-42"), "{stdout} {stderr} {code:?}");
    assert!(
        stdout.contains("pod \"runner\" deleted"),
        "{stdout} {stderr}"
    );

    // --- -i/-t to a container without stdin/tty ----------------------------------------
    // kubectl warns that there is no terminal and goes on without one; the kubelet
    // streams the output and discards the input (upstream: no error either).
    let (stdout, stderr, _) = shell(cluster, 4, "echo ignored | KUBECTL attach -it talker")?;
    assert!(
        stderr.contains("Unable to use a TTY - container app did not allocate one"),
        "{stderr}"
    );
    assert!(stdout.contains("tick "), "{stdout} {stderr}");
    assert!(!stdout.contains("ignored"), "{stdout}");
    Ok(())
}

/// A kubelet restart: the relays of stdin containers stop (the old kubelet exits) while
/// the container keeps writing, then adopting the pod opens the FIFOs again: the output
/// written meanwhile and after reaches the log file, and stdin still works.
async fn restart_checks(
    cluster: &TestCluster,
    world: &mut World,
    client: &kube::Client,
    log_root: &Path,
    ctr: &kubelet::runtime::Containerd,
) -> Result<()> {
    let pods: Api<Pod> = Api::namespaced(client.clone(), "default");
    let yaml = interactive_pod_yaml(
        "keeper",
        "sh, -c, '(while true; do echo alive; sleep 1; done) & exec cat'",
        false,
        false,
    );
    let uid = create_running(cluster, world, &pods, "keeper", &yaml).await?;
    let file = log_root.join(format!("pods/default_keeper_{uid}/app/0.log"));
    let count = |what: &str| {
        cri_records(&file)
            .iter()
            .filter(|(s, l)| *s == Stream::Stdout && l == what)
            .count()
    };
    eventually(Duration::from_secs(20), "alive in the log", || async {
        Ok((count("alive") > 0).then_some(()))
    })
    .await?;

    // The kubelet "exits": nothing reads the FIFOs for a while.
    ctr.detach_all_io();
    tokio::time::sleep(Duration::from_secs(3)).await;
    let before = count("alive");

    // The next kubelet adopts the pod and reads the FIFOs again.
    let runner = PodRunner {
        runtime: ctr.clone(),
        cni: world.network.cni.clone(),
        pod_logs_dir: log_root.join("pods"),
        init_timeout: Duration::from_secs(60),
        host_ip: Some("127.0.0.1".into()),
        settings: kubelet::pod::PodSettings::new(
            Some(client.clone()),
            NODE,
            world.daemon.dir.path().join("root"),
        ),
    };
    let pod = pods.get("keeper").await?;
    let adopted = runner.adopt(&pod).await?;
    assert!(adopted.is_some(), "keeper was not adopted");
    // What was written while nobody read (kept in the pipe) plus what follows.
    eventually(
        Duration::from_secs(20),
        "output after the restart",
        || async { Ok((count("alive") >= before + 5).then_some(())) },
    )
    .await?;
    // stdin is still open: the shim kept its own writer.
    let (stdout, stderr, code) = shell(
        cluster,
        60,
        "(echo after-restart; sleep 2) | KUBECTL attach -i -q keeper | grep -v alive",
    )?;
    assert_eq!(code, Some(0), "{stdout} {stderr}");
    assert_eq!(stdout, "after-restart\n", "{stderr}");
    assert_eq!(count("after-restart"), 1);
    Ok(())
}
