//! Bad input gets a Kubernetes Status with upstream's code and reason, and nothing is
//! written: malformed bodies, bodies that disagree with the URL, oversized bodies,
//! unknown resources, invalid selectors, missing or invalid credentials.

use anyhow::{ensure, Context, Result};
use ferrokube_e2e::TestCluster;
use http::{Method, Request};
use kube::Client;
use serde_json::Value;

/// Sends a raw request and returns (HTTP status, decoded Status body).
async fn send(
    client: &Client,
    method: Method,
    uri: &str,
    content_type: &str,
    body: Vec<u8>,
) -> Result<(u16, Value)> {
    let req = Request::builder()
        .method(method)
        .uri(uri)
        .header("Content-Type", content_type)
        .body(body.into())?;
    let resp = client.send(req).await?;
    let status = resp.status().as_u16();
    let bytes = http_body_util::BodyExt::collect(resp.into_body())
        .await?
        .to_bytes();
    let value: Value = serde_json::from_slice(&bytes)
        .with_context(|| format!("{uri}: {}", String::from_utf8_lossy(&bytes)))?;
    Ok((status, value))
}

fn status_is(v: &(u16, Value), code: u16, reason: &str) -> Result<()> {
    ensure!(v.0 == code, "expected {code}, got {}: {}", v.0, v.1);
    ensure!(
        v.1["kind"] == "Status" && v.1["reason"] == reason && v.1["code"] == code,
        "{}",
        v.1
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn malformed_and_mismatched_bodies_are_refused_without_writes() -> Result<()> {
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    let cms = "/api/v1/namespaces/default/configmaps";

    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        b"{\"apiVersion\": \"v1\", \"kind\":".to_vec(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/yaml",
        b"kind: [ConfigMap\n  - :".to_vec(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        b"[1,2,3]".to_vec(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;

    let wrong_kind =
        serde_json::json!({"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "k"}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&wrong_kind)?,
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let wrong_version = serde_json::json!({"apiVersion": "apps/v1", "kind": "ConfigMap", "metadata": {"name": "k"}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&wrong_version)?,
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let wrong_ns = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "k", "namespace": "kube-system"}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&wrong_ns)?,
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    ensure!(
        r.1["message"]
            .as_str()
            .unwrap_or("")
            .contains("does not match the namespace"),
        "{}",
        r.1
    );

    // PUT whose body names another object.
    let ok =
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "real"}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&ok)?,
    )
    .await?;
    ensure!(r.0 == 201, "{}", r.1);
    let other =
        serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "other"}});
    let r = send(
        &client,
        Method::PUT,
        &format!("{cms}/real"),
        "application/json",
        serde_json::to_vec(&other)?,
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    ensure!(
        r.1["message"]
            .as_str()
            .unwrap_or("")
            .contains("does not match the name on the URL"),
        "{}",
        r.1
    );

    // Over 3 MiB: 413, nothing stored.
    let big = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "big"}, "data": {"x": "y".repeat(3 * 1024 * 1024 + 10)}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&big)?,
    )
    .await?;
    status_is(&r, 413, "RequestEntityTooLarge")?;

    // An invalid name is 422 with the field listed.
    let bad_name = serde_json::json!({"apiVersion": "v1", "kind": "ConfigMap", "metadata": {"name": "Not_Valid"}});
    let r = send(
        &client,
        Method::POST,
        cms,
        "application/json",
        serde_json::to_vec(&bad_name)?,
    )
    .await?;
    status_is(&r, 422, "Invalid")?;
    ensure!(
        r.1["details"]["causes"][0]["field"] == "metadata.name",
        "{}",
        r.1
    );

    // A body in a media type the server does not take.
    let r = send(&client, Method::POST, cms, "text/plain", b"hello".to_vec()).await?;
    status_is(&r, 415, "UnsupportedMediaType")?;
    let r = send(
        &client,
        Method::PATCH,
        &format!("{cms}/real"),
        "application/json-patch+json",
        b"{not json".to_vec(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;

    // None of those wrote anything.
    let list = send(&client, Method::GET, cms, "application/json", Vec::new()).await?;
    let names: Vec<&str> = list.1["items"]
        .as_array()
        .into_iter()
        .flatten()
        .filter_map(|i| i["metadata"]["name"].as_str())
        .collect();
    ensure!(
        names == ["real"],
        "only the one valid create was stored: {names:?}"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_resources_selectors_and_versions() -> Result<()> {
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/widgets",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 404, "NotFound")?;
    let r = send(
        &client,
        Method::GET,
        "/apis/apps/v9/deployments",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 404, "NotFound")?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/pods?labelSelector=a%20in%20(b",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/pods?fieldSelector=spec.nope%3Dx",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/pods?resourceVersion=abc",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/pods?limit=1&continue=garbage",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 400, "BadRequest")?;
    let r = send(
        &client,
        Method::GET,
        "/api/v1/namespaces/default/configmaps/none",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 404, "NotFound")?;
    ensure!(r.1["message"] == "configmaps \"none\" not found", "{}", r.1);
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_and_invalid_credentials_are_401_and_health_is_open() -> Result<()> {
    let c = TestCluster::shared()?;
    // A client with the cluster's CA and no credentials at all.
    let config = serde_json::json!({
        "apiVersion": "v1", "kind": "Config",
        "clusters": [{"name": "c", "cluster": {"server": c.server_url(), "certificate-authority": c.ca_cert_path()}}],
        "users": [{"name": "u", "user": {}}],
        "contexts": [{"name": "x", "context": {"cluster": "c", "user": "u"}}],
        "current-context": "x",
    });
    let kubeconfig: kube::config::Kubeconfig = serde_json::from_value(config)?;
    let anon = Client::try_from(
        kube::Config::from_custom_kubeconfig(kubeconfig, &Default::default()).await?,
    )?;
    let r = send(
        &anon,
        Method::GET,
        "/api/v1/pods",
        "application/json",
        Vec::new(),
    )
    .await?;
    status_is(&r, 401, "Unauthorized")?;
    for path in ["/healthz", "/livez", "/readyz", "/version"] {
        let req = Request::builder().uri(path).body(Vec::new().into())?;
        let resp = anon.send(req).await?;
        ensure!(
            resp.status() == 200,
            "{path} is open without credentials: {}",
            resp.status()
        );
    }
    // An unknown token is refused everywhere, health included.
    let bogus = c.token_kubeconfig("bogus", "not-a-valid-token")?;
    let err = c
        .kubectl_as(&bogus, &["get", "--raw", "/healthz"], None)?
        .err()?;
    ensure!(err.contains("Unauthorized"), "{err}");
    // A client certificate carries the user and its groups.
    let alice = c.user_kubeconfig("alice", &["dev", "ops"])?;
    let who = c
        .kubectl_as(&alice, &["auth", "whoami", "-o", "json"], None)?
        .json()?;
    ensure!(who["status"]["userInfo"]["username"] == "alice", "{who}");
    let groups = who["status"]["userInfo"]["groups"].to_string();
    ensure!(
        groups.contains("dev") && groups.contains("ops") && groups.contains("system:authenticated"),
        "{who}"
    );
    Ok(())
}

#[test]
fn metrics_and_readiness_follow_etcd() -> Result<()> {
    let c = TestCluster::start()?;
    c.kubectl(&["get", "pods", "-A"])?.ok()?;
    let metrics = c.kubectl(&["get", "--raw", "/metrics"])?.ok()?;
    ensure!(metrics.contains("apiserver_request_total{"), "{metrics}");
    ensure!(
        metrics
            .lines()
            .any(|l| l.starts_with("apiserver_request_total")
                && l.contains("resource=\"pods\"")
                && l.contains("verb=\"LIST\"")),
        "pods LIST counted"
    );
    ensure!(
        metrics.contains("apiserver_request_duration_seconds_bucket"),
        "latency histogram"
    );
    ensure!(
        metrics.contains("etcd_request_duration_seconds_bucket"),
        "etcd latency"
    );
    c.stop_etcd()?;
    let mut failed = false;
    for _ in 0..30 {
        let out = c.kubectl(&["get", "--raw", "/readyz"])?;
        if !out.success() {
            failed = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    ensure!(failed, "/readyz must fail while etcd is down");
    c.start_etcd()?;
    let mut ok = false;
    for _ in 0..60 {
        if c.kubectl(&["get", "--raw", "/readyz"])?.success() {
            ok = true;
            break;
        }
        std::thread::sleep(std::time::Duration::from_millis(500));
    }
    ensure!(ok, "/readyz recovers when etcd is back");
    Ok(())
}
