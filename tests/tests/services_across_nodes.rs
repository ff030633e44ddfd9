//! Services across two nodes, end to end: a real etcd + our apiserver, the real
//! kube-scheduler and kube-controller-manager, and two nodes in network namespaces
//! (tests/src/netns_nodes.rs), each with its own containerd, kubelet and kube-proxy;
//! coredns-addon on the first node behind `kube-dns`. A Deployment's pods spread over
//! both nodes; client pods reach them through the Service's ClusterIP and by DNS name
//! (from both nodes), and each node reaches them through the NodePort; scaling to zero
//! gives an immediate "connection refused", scaling up restores the Service. Root only.

use std::collections::BTreeSet;
use std::net::SocketAddr;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_deploy::process::{Daemon, DaemonSpec};
use ferrokube_e2e::hollow::SchedulerProcess;
use ferrokube_e2e::netns_nodes::{self, route_pod_cidrs, Lan, Node};
use ferrokube_e2e::{wait_for, TestCluster, TestClusterOptions};

const WAIT: Duration = Duration::from_secs(180);

fn skip() -> bool {
    if std::env::var_os("FERROKUBE_SKIP_CONTAINERD_TESTS").is_some() {
        eprintln!("skipping: FERROKUBE_SKIP_CONTAINERD_TESTS is set");
        return true;
    }
    if let Err(e) = netns_nodes::preflight() {
        eprintln!("skipping: {e:#}");
        return true;
    }
    false
}

fn manifests(ns: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Namespace
metadata:
  name: {ns}
---
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: {ns}
spec:
  replicas: 2
  selector:
    matchLabels: {{app: web}}
  template:
    metadata:
      labels: {{app: web}}
    spec:
      topologySpreadConstraints:
      - maxSkew: 1
        topologyKey: kubernetes.io/hostname
        whenUnsatisfiable: DoNotSchedule
        labelSelector:
          matchLabels: {{app: web}}
      terminationGracePeriodSeconds: 1
      containers:
      - name: httpd
        image: busybox
        imagePullPolicy: IfNotPresent
        command: ["sh", "-c", "mkdir -p /www && hostname > /www/index.html && exec httpd -f -p 8080 -h /www"]
        ports:
        - name: http
          containerPort: 8080
        readinessProbe:
          tcpSocket:
            port: http
          periodSeconds: 1
---
apiVersion: v1
kind: Service
metadata:
  name: web
  namespace: {ns}
spec:
  type: NodePort
  selector: {{app: web}}
  ports:
  - name: http
    port: 80
    targetPort: http
{clients}"#,
        clients = ["node-1", "node-2"]
            .iter()
            .map(|node| client_pod(ns, node))
            .collect::<String>()
    )
}

/// A pod that sleeps on `node`, named `client-<node>`, to run wget in.
fn client_pod(ns: &str, node: &str) -> String {
    format!(
        r#"---
apiVersion: v1
kind: Pod
metadata:
  name: client-{node}
  namespace: {ns}
spec:
  nodeName: {node}
  terminationGracePeriodSeconds: 1
  containers:
  - name: client
    image: busybox
    imagePullPolicy: IfNotPresent
    command: ["sleep", "3600"]
"#
    )
}

/// `kubectl exec client-node-1 -- timeout 10 wget -qO- <url>` (busybox 1.35's
/// `wget -T` crashes): stdout on success, else stdout+stderr as the error.
fn client_get(c: &TestCluster, ns: &str, url: &str) -> Result<String> {
    client_get_from(c, ns, "node-1", url)
}

/// As [`client_get`], from the client pod on `node`.
fn client_get_from(c: &TestCluster, ns: &str, node: &str, url: &str) -> Result<String> {
    let pod = format!("client-{node}");
    let out = c.kubectl(&[
        "-n", ns, "exec", &pod, "--", "timeout", "10", "wget", "-qO-", url,
    ])?;
    if out.success() {
        return Ok(out.stdout.trim().to_string());
    }
    bail!("{}{}", out.stdout, out.stderr)
}

/// Which backends answered `url` from the client pod on node-1 (up to 40 requests).
fn backends_seen(c: &TestCluster, ns: &str, url: &str, want: usize) -> Result<BTreeSet<String>> {
    let mut seen = BTreeSet::new();
    for _ in 0..40 {
        seen.insert(client_get(c, ns, url)?);
        if seen.len() >= want {
            break;
        }
    }
    Ok(seen)
}

fn jsonpath(c: &TestCluster, ns: &str, what: &[&str], path: &str) -> Result<String> {
    let mut args = vec!["-n", ns, "get"];
    args.extend_from_slice(what);
    let p = format!("jsonpath={path}");
    args.extend_from_slice(&["-o", &p]);
    Ok(c.kubectl(&args)?.ok()?.trim().to_string())
}

/// (pod name, node name) of the ready web pods.
fn web_pods(c: &TestCluster, ns: &str) -> Result<Vec<(String, String)>> {
    let out = jsonpath(
        c,
        ns,
        &["pods", "-l", "app=web"],
        r#"{range .items[*]}{.metadata.name}{" "}{.spec.nodeName}{" "}{.status.conditions[?(@.type=="Ready")].status}{"\n"}{end}"#,
    )?;
    Ok(out
        .lines()
        .filter_map(|l| {
            let mut f = l.split_whitespace();
            let (name, node, ready) = (f.next()?, f.next()?, f.next()?);
            (ready == "True").then(|| (name.to_string(), node.to_string()))
        })
        .collect())
}

fn controller_manager(c: &TestCluster) -> Result<Daemon> {
    let spec = DaemonSpec::new(
        "kube-controller-manager",
        ferrokube_e2e::bin_dir().join("kube-controller-manager"),
        c.dir().join("kube-controller-manager.log"),
        c.dir().join("kube-controller-manager.pid"),
    )
    .arg("--kubeconfig")
    .arg(c.kubeconfig_path())
    .args(["--secure-port", "0", "--leader-elect=false", "--v", "1"]);
    Daemon::spawn(&spec)
}

/// Stops a daemon when the test ends, however it ends.
struct StopOnDrop(Daemon);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        let _ = self.0.stop(Duration::from_secs(10));
    }
}

#[test]
fn services_reach_pods_on_both_nodes_by_cluster_ip_node_port_and_name() -> Result<()> {
    if skip() {
        return Ok(());
    }
    // Declaration order is teardown order reversed: nodes go first, the LAN last.
    let lan = Lan::create()?;
    let cluster = TestCluster::start_with(TestClusterOptions {
        extra_apiserver_args: vec![
            "--bind-address=0.0.0.0".into(),
            format!("--advertise-address={}", lan.gateway()),
        ],
        extra_sans: vec![lan.gateway()],
    })?;
    let busybox = cluster.dir().join("busybox.tar");
    ferrokube_deploy::images::build_busybox_image(
        &busybox,
        ferrokube_deploy::node::BUSYBOX_REFERENCE,
    )?;
    let mut node1 = Node::start(&lan, &cluster, 1, &busybox)?;
    let node2 = Node::start(&lan, &cluster, 2, &busybox)?;
    route_pod_cidrs(&[&node1, &node2])?;
    node1.start_dns(&cluster)?;
    cluster
        .kubectl_stdin(
            &["apply", "-f", "-"],
            &ferrokube_deploy::components::kube_dns_manifest(&node1.ip),
        )?
        .ok()?;
    let _scheduler = SchedulerProcess::start(
        "kube-scheduler",
        cluster.dir(),
        cluster.kubeconfig_path(),
        &["--leader-elect=false"],
    )?;
    let _controllers = StopOnDrop(controller_manager(&cluster)?);
    let logs = || format!("{}{}", node1.logs(30), node2.logs(30));

    for node in [&node1, &node2] {
        wait_for(&format!("{} Ready", node.name), WAIT, || {
            let out = cluster.kubectl(&["get", "node", &node.name, "-o", "json"])?;
            Ok(out
                .success()
                .then(|| ferrokube_deploy::node::node_is_ready(&out.stdout))
                .filter(|r| *r)
                .map(|_| ()))
        })
        .with_context(logs)?;
    }

    let ns = format!("across-{}", std::process::id());
    cluster
        .kubectl_stdin(&["apply", "-f", "-"], &manifests(&ns))?
        .ok()?;
    let pods = wait_for("two ready web pods on different nodes", WAIT, || {
        let pods = web_pods(&cluster, &ns)?;
        let nodes: BTreeSet<&str> = pods.iter().map(|(_, n)| n.as_str()).collect();
        Ok((pods.len() == 2 && nodes.len() == 2).then_some(pods))
    })
    .with_context(logs)?;
    for node in ["node-1", "node-2"] {
        let pod = format!("client-{node}");
        wait_for(&format!("{pod} Running"), WAIT, || {
            let phase = jsonpath(&cluster, &ns, &["pod", &pod], "{.status.phase}")?;
            Ok((phase == "Running").then_some(()))
        })
        .with_context(logs)?;
    }
    let names: BTreeSet<String> = pods.iter().map(|(p, _)| p.clone()).collect();

    // By ClusterIP: both backends answer (one of them on the other node).
    let cluster_ip = jsonpath(&cluster, &ns, &["service", "web"], "{.spec.clusterIP}")?;
    let by_ip = wait_for("both backends through the ClusterIP", WAIT, || {
        let seen = backends_seen(&cluster, &ns, &format!("http://{cluster_ip}/"), 2);
        Ok(seen.ok().filter(|s| *s == names))
    })
    .with_context(logs)?;
    assert_eq!(by_ip, names);

    // By name, through kube-dns (a ClusterIP itself, UDP) and the pod's search path,
    // from both nodes: the DNS add-on runs on node-1, so node-2's queries cross nodes.
    for node in ["node-1", "node-2"] {
        for url in [
            "http://web/",
            &format!("http://web.{ns}.svc.cluster.local/"),
        ] {
            let body = wait_for(&format!("{url} from the client on {node}"), WAIT, || {
                Ok(client_get_from(&cluster, &ns, node, url).ok())
            })
            .with_context(logs)?;
            assert!(names.contains(&body), "{url} answered {body:?} on {node}");
        }
    }

    // By NodePort, from each node itself, on both nodes' addresses.
    let node_port: u16 = jsonpath(
        &cluster,
        &ns,
        &["service", "web"],
        "{.spec.ports[0].nodePort}",
    )?
    .parse()
    .context("nodePort")?;
    for from in [&node1, &node2] {
        for to in [&node1, &node2] {
            let addr: SocketAddr = format!("{}:{node_port}", to.ip).parse()?;
            let body = wait_for(&format!("NodePort {addr} from {}", from.name), WAIT, || {
                Ok(from.http_get(addr)?.ok())
            })
            .with_context(logs)?;
            assert!(names.contains(body.trim()), "{addr} answered {body:?}");
        }
    }

    // No backends: refused at once (kube-proxy's reject), not a timeout.
    cluster
        .kubectl(&["-n", &ns, "scale", "deployment", "web", "--replicas=0"])?
        .ok()?;
    let state = || {
        let slices = cluster
            .kubectl(&["-n", &ns, "get", "endpointslices,pods", "-o", "yaml"])
            .map(|o| o.stdout)
            .unwrap_or_default();
        format!(
            "{}\n--- slices and pods ---\n{slices}\n--- node-1 rules ---\n{}",
            logs(),
            node1.proxy_rules()
        )
    };
    // Once the endpoints are gone (and not while a dying pod still answers with a RST).
    wait_for("the EndpointSlice emptied", WAIT, || {
        let addresses = jsonpath(
            &cluster,
            &ns,
            &["endpointslices", "-l", "kubernetes.io/service-name=web"],
            "{.items[*].endpoints[*].addresses[*]}",
        )?;
        Ok(addresses.is_empty().then_some(()))
    })
    .with_context(state)?;
    let refused = wait_for("a refused connection to the ClusterIP", WAIT, || {
        Ok(
            match client_get(&cluster, &ns, &format!("http://{cluster_ip}/")) {
                Err(e) if e.to_string().contains("Connection refused") => Some(e.to_string()),
                _ => None,
            },
        )
    })
    .with_context(state)?;
    assert!(!refused.contains("Terminated"), "{refused}");
    let addr: SocketAddr = format!("{}:{node_port}", node2.ip).parse()?;
    wait_for("a refused NodePort", WAIT, || {
        Ok(match node1.http_get(addr)? {
            Err(e) if e.kind() == std::io::ErrorKind::ConnectionRefused => Some(()),
            _ => None,
        })
    })
    .with_context(logs)?;

    // Scaled up again: the Service answers again.
    cluster
        .kubectl(&["-n", &ns, "scale", "deployment", "web", "--replicas=2"])?
        .ok()?;
    let body = wait_for("the ClusterIP answering again", WAIT, || {
        Ok(client_get(&cluster, &ns, &format!("http://{cluster_ip}/")).ok())
    })
    .with_context(logs)?;
    assert!(body.starts_with("web-"), "{body:?}");
    Ok(())
}
