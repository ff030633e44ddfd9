//! The node loops (registration, status, Lease) against a real etcd + kube-apiserver,
//! checked with kube-rs and the real kubectl.

use std::time::{Duration, Instant};

use anyhow::{bail, Context, Result};
use ferrokube_e2e::TestCluster;
use k8s_openapi::api::coordination::v1::Lease;
use k8s_openapi::api::core::v1::Node;
use k8s_openapi::jiff::Timestamp;
use kube::Api;
use kubelet::config::KubeletConfiguration;
use kubelet::node::{self, MachineInfo, NodeOptions};

/// Polls `f` until it returns Some, or fails after `timeout` with `what`.
async fn eventually<T, F, Fut>(timeout: Duration, what: &str, mut f: F) -> Result<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<Option<T>>>,
{
    let start = Instant::now();
    let mut last_err = None;
    while start.elapsed() < timeout {
        match f().await {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => {}
            Err(e) => last_err = Some(format!("{e:#}")),
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
    bail!("timed out waiting for {what} (last error: {last_err:?})")
}

#[test]
fn node_registers_reports_ready_and_renews_lease() -> Result<()> {
    let cluster = TestCluster::start()?;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    rt.block_on(async {
        let kc = kube::config::Kubeconfig::read_from(cluster.kubeconfig_path())?;
        let client = kube::Client::try_from(
            kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?,
        )?;

        // A 1 s lease renews every 250 ms (duration / 4); status every second.
        let config = KubeletConfiguration::from_yaml(
            "apiVersion: kubelet.config.k8s.io/v1beta1\nkind: KubeletConfiguration\n\
             nodeLeaseDurationSeconds: 1\nnodeStatusUpdateFrequency: 1s\n\
             podCIDR: 10.244.7.0/24\nmaxPods: 42\nnodeLabels: {team: node-test}\n",
        )?;
        let dir = tempfile::tempdir()?;
        let machine = MachineInfo::read(dir.path())?;
        let opts = NodeOptions {
            node_name: "ferro-node-1".into(),
            hostname: "ferro-node-1".into(),
            node_ip: "127.0.0.1".parse()?,
            runtime_version: "containerd://1.6.20-fake".into(),
            config,
        };
        let (stop_tx, stop_rx) = tokio::sync::oneshot::channel::<()>();
        let loops = tokio::spawn(node::run(client.clone(), opts, machine, async {
            let _ = stop_rx.await;
        }));

        let nodes: Api<Node> = Api::all(client.clone());
        let node = eventually(Duration::from_secs(30), "node Ready", || async {
            let n = nodes.get_opt("ferro-node-1").await?;
            Ok(n.filter(|n| {
                n.status
                    .as_ref()
                    .and_then(|s| s.conditions.as_ref())
                    .is_some_and(|cs| cs.iter().any(|c| c.type_ == "Ready" && c.status == "True"))
            }))
        })
        .await?;

        let labels = node.metadata.labels.clone().unwrap_or_default();
        assert_eq!(labels["kubernetes.io/hostname"], "ferro-node-1");
        assert_eq!(labels["kubernetes.io/os"], "linux");
        assert!(labels.contains_key("kubernetes.io/arch"));
        assert_eq!(labels["team"], "node-test");
        let spec = node.spec.clone().unwrap_or_default();
        assert_eq!(spec.pod_cidr.as_deref(), Some("10.244.7.0/24"));
        assert_eq!(spec.pod_cidrs, Some(vec!["10.244.7.0/24".to_string()]));

        let status = node.status.clone().context("node has no status")?;
        let conds: Vec<(String, String, String, String)> = status
            .conditions
            .clone()
            .unwrap_or_default()
            .into_iter()
            .map(|c| {
                (
                    c.type_,
                    c.status,
                    c.reason.unwrap_or_default(),
                    c.message.unwrap_or_default(),
                )
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
        for w in want {
            assert!(
                conds
                    .iter()
                    .any(|c| (c.0.as_str(), c.1.as_str(), c.2.as_str(), c.3.as_str()) == w),
                "missing condition {w:?} in {conds:?}"
            );
        }
        let info = status.node_info.clone().context("no nodeInfo")?;
        assert_eq!(info.container_runtime_version, "containerd://1.6.20-fake");
        assert_eq!(info.kubelet_version, node::KUBELET_VERSION);
        assert_eq!(status.capacity.unwrap_or_default()["pods"].0, "42");
        let addrs = status.addresses.unwrap_or_default();
        assert!(addrs
            .iter()
            .any(|a| a.type_ == "InternalIP" && a.address == "127.0.0.1"));

        // The Lease: held by the node, owned by it, renewed.
        let leases: Api<Lease> = Api::namespaced(client.clone(), "kube-node-lease");
        let renew_time = |l: &Lease| {
            l.spec
                .as_ref()
                .and_then(|s| s.renew_time.clone())
                .map(|t| t.0)
        };
        let first = eventually(Duration::from_secs(30), "node lease", || async {
            Ok(leases.get_opt("ferro-node-1").await?)
        })
        .await?;
        let spec = first.spec.clone().context("lease has no spec")?;
        assert_eq!(spec.holder_identity.as_deref(), Some("ferro-node-1"));
        assert_eq!(spec.lease_duration_seconds, Some(1));
        let owners = first.metadata.owner_references.clone().unwrap_or_default();
        assert_eq!(owners.len(), 1);
        assert_eq!(
            (owners[0].kind.as_str(), owners[0].name.as_str()),
            ("Node", "ferro-node-1")
        );
        assert_eq!(Some(owners[0].uid.clone()), node.metadata.uid.clone());

        // Three observed renewals, each with a later renewTime than the one before.
        let mut prev: Timestamp = renew_time(&first).context("lease has no renewTime")?;
        for i in 0..3 {
            let next = eventually(Duration::from_secs(15), "lease renewal", || async {
                let l = leases.get("ferro-node-1").await?;
                Ok(renew_time(&l).filter(|t| *t > prev))
            })
            .await
            .with_context(|| format!("renewal {i}"))?;
            prev = next;
        }

        // kubectl's view: STATUS Ready and the VERSION column.
        let out = tokio::task::block_in_place(|| cluster.kubectl(&["get", "nodes"]))?.ok()?;
        let line = out
            .lines()
            .find(|l| l.starts_with("ferro-node-1"))
            .with_context(|| format!("node missing from kubectl get nodes:\n{out}"))?;
        let cols: Vec<&str> = line.split_whitespace().collect();
        assert_eq!(cols.get(1), Some(&"Ready"), "{out}");
        assert_eq!(cols.last(), Some(&node::KUBELET_VERSION), "{out}");
        assert!(
            out.lines().next().unwrap_or("").contains("VERSION"),
            "{out}"
        );

        let _ = stop_tx.send(());
        tokio::time::timeout(Duration::from_secs(10), loops)
            .await
            .context("node loops did not stop")???;
        Ok(())
    })
}
