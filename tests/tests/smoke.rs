//! The first end-to-end check: a real etcd, our kube-apiserver, the real kubectl.

use anyhow::{ensure, Context, Result};
use ferrokube_e2e::TestCluster;

#[test]
fn kubectl_version_and_healthz() -> Result<()> {
    let cluster = TestCluster::start()?;

    let version = cluster.kubectl(&["version", "-o", "json"])?.json()?;
    let server = version
        .get("serverVersion")
        .context("kubectl version printed no serverVersion")?;
    let major = server["major"].as_str().unwrap_or_default();
    let git_version = server["gitVersion"].as_str().unwrap_or_default();
    ensure!(major == "1", "serverVersion.major is {major:?}: {server}");
    ensure!(
        git_version.starts_with("v1."),
        "serverVersion.gitVersion is {git_version:?}: {server}"
    );

    let healthz = cluster.kubectl(&["get", "--raw", "/healthz"])?.ok()?;
    ensure!(healthz.trim() == "ok", "/healthz said {healthz:?}");
    Ok(())
}

#[test]
fn client_certificate_and_token_both_authenticate() -> Result<()> {
    let cluster = TestCluster::start()?;
    for kubeconfig in [cluster.kubeconfig_path(), cluster.token_kubeconfig_path()] {
        let readyz = cluster
            .kubectl_as(kubeconfig, &["get", "--raw", "/readyz"], None)?
            .ok()?;
        ensure!(
            readyz.trim() == "ok",
            "/readyz with {} said {readyz:?}",
            kubeconfig.display()
        );
    }
    // A token the apiserver does not know is refused with 401.
    let bogus = cluster.token_kubeconfig("bogus", "not-a-valid-token")?;
    let stderr = cluster
        .kubectl_as(&bogus, &["get", "--raw", "/readyz"], None)?
        .err()?;
    ensure!(
        stderr.contains("Unauthorized") || stderr.contains("401"),
        "an unknown token must get 401 Unauthorized, kubectl said: {stderr}"
    );
    Ok(())
}

#[test]
fn data_survives_apiserver_and_etcd_restarts() -> Result<()> {
    let cluster = TestCluster::start()?;
    let manifest = "apiVersion: v1\nkind: Namespace\nmetadata:\n  name: survivor\n";
    cluster
        .kubectl_stdin(&["create", "-f", "-"], manifest)?
        .ok()?;
    let (etcd_before, apiserver_before) = cluster.pids();

    cluster.stop_apiserver()?;
    cluster.stop_etcd()?;
    ensure!(
        cluster.pids() == (None, None),
        "both daemons stopped: {:?}",
        cluster.pids()
    );
    cluster.start_etcd()?;
    cluster.start_apiserver()?;
    let (etcd_after, apiserver_after) = cluster.pids();
    ensure!(
        etcd_after.is_some() && etcd_after != etcd_before && apiserver_after != apiserver_before,
        "new processes expected: etcd {etcd_before:?} -> {etcd_after:?}, apiserver {apiserver_before:?} -> {apiserver_after:?}"
    );

    let name = cluster
        .kubectl(&[
            "get",
            "namespace",
            "survivor",
            "-o",
            "jsonpath={.metadata.name}",
        ])?
        .ok()?;
    ensure!(name == "survivor", "namespace after restarts: {name:?}");
    let keys = cluster
        .etcdctl(&[
            "get",
            "--prefix",
            "--keys-only",
            "/registry/namespaces/survivor",
        ])?
        .ok()?;
    ensure!(
        keys.contains("/registry/namespaces/survivor"),
        "etcd keys: {keys}"
    );
    Ok(())
}
