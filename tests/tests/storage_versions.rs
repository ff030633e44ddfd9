//! Resources served at two versions and stored once, converted on every read and
//! write as upstream does: core/v1 and events.k8s.io/v1 Events (upstream's
//! cohabitating resources) — what is written through either group is read, watched,
//! patched and deleted through the other, field by field — and autoscaling/v1 HPAs,
//! stored as autoscaling/v2.

use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ferrokube_e2e::TestCluster;
use serde_json::Value;

const EVENTS_V1: &str = "events.v1.events.k8s.io";

fn namespace(c: &TestCluster, name: &str) -> Result<()> {
    c.kubectl(&["create", "namespace", name])?.ok()?;
    Ok(())
}

/// An events.k8s.io/v1 Event as client-go's tools/events writes it.
fn v1_event(ns: &str, name: &str, note: &str) -> String {
    format!(
        r#"apiVersion: events.k8s.io/v1
kind: Event
metadata: {{name: {name}, namespace: {ns}}}
eventTime: "2026-01-01T00:00:00.000001Z"
reportingController: example.com/e2e
reportingInstance: e2e-host
action: Testing
reason: Tested
type: Normal
note: {note}
regarding: {{kind: Pod, namespace: {ns}, name: web, apiVersion: v1}}
"#
    )
}

/// A core/v1 Event as kubelets and client-go's record package write it.
fn core_event(ns: &str, name: &str, message: &str) -> String {
    format!(
        r#"apiVersion: v1
kind: Event
metadata: {{name: {name}, namespace: {ns}}}
involvedObject: {{kind: Node, name: node-1, apiVersion: v1}}
reason: NodeReady
message: {message}
type: Normal
source: {{component: kubelet, host: node-1}}
firstTimestamp: "2026-01-01T00:00:00Z"
lastTimestamp: "2026-01-01T00:00:05Z"
count: 2
"#
    )
}

fn raw(c: &TestCluster, path: &str) -> Result<Value> {
    c.kubectl(&["get", "--raw", path])?.json()
}

#[test]
fn events_k8s_io_writes_are_core_events() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "ev-from-v1";
    namespace(c, ns)?;
    c.kubectl_stdin(
        &["create", "-f", "-"],
        &v1_event(ns, "sched.1", "hello from v1"),
    )?
    .ok()?;

    let core = raw(c, &format!("/api/v1/namespaces/{ns}/events/sched.1"))?;
    ensure!(
        core["apiVersion"] == "v1" && core["kind"] == "Event",
        "{core}"
    );
    ensure!(core["message"] == "hello from v1", "{core}");
    ensure!(core["involvedObject"]["name"] == "web", "{core}");
    ensure!(core["reportingComponent"] == "example.com/e2e", "{core}");
    ensure!(core["reportingInstance"] == "e2e-host", "{core}");
    ensure!(
        core.get("note").is_none() && core.get("regarding").is_none(),
        "{core}"
    );

    let listed = c
        .kubectl(&["get", "events", "-n", ns, "-o", "json"])?
        .json()?;
    let items = listed["items"].as_array().context("items")?;
    ensure!(
        items
            .iter()
            .any(|e| e["metadata"]["name"] == "sched.1" && e["message"] == "hello from v1"),
        "{listed}"
    );
    // The table of the core resource prints it too.
    let table = c.kubectl(&["get", "events", "-n", ns])?.ok()?;
    ensure!(
        table.contains("hello from v1") && table.contains("pod/web"),
        "{table}"
    );
    // And through its own group, with the note.
    let v1 = raw(
        c,
        &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events/sched.1"),
    )?;
    ensure!(v1["apiVersion"] == "events.k8s.io/v1", "{v1}");
    ensure!(v1["note"] == "hello from v1", "{v1}");
    ensure!(
        v1["metadata"]["resourceVersion"] == core["metadata"]["resourceVersion"],
        "one object, one resourceVersion: {v1} {core}"
    );
    Ok(())
}

#[test]
fn core_writes_are_events_k8s_io_events() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "ev-from-core";
    namespace(c, ns)?;
    c.kubectl_stdin(
        &["create", "-f", "-"],
        &core_event(ns, "node.1", "node is ready"),
    )?
    .ok()?;
    let v1 = raw(
        c,
        &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events/node.1"),
    )?;
    ensure!(v1["apiVersion"] == "events.k8s.io/v1", "{v1}");
    ensure!(v1["note"] == "node is ready", "{v1}");
    ensure!(v1["regarding"]["name"] == "node-1", "{v1}");
    ensure!(v1["deprecatedSource"]["component"] == "kubelet", "{v1}");
    ensure!(v1["deprecatedCount"] == 2, "{v1}");
    ensure!(
        v1["deprecatedFirstTimestamp"] == "2026-01-01T00:00:00Z",
        "{v1}"
    );
    ensure!(v1.get("message").is_none(), "{v1}");

    // LIST of the group, with its own field selectors, and paging.
    let list = raw(
        c,
        &format!(
            "/apis/events.k8s.io/v1/namespaces/{ns}/events?fieldSelector=regarding.name%3Dnode-1"
        ),
    )?;
    ensure!(list["kind"] == "EventList", "{list}");
    ensure!(list["apiVersion"] == "events.k8s.io/v1", "{list}");
    ensure!(
        list["items"].as_array().map(Vec::len) == Some(1)
            && list["items"][0]["note"] == "node is ready",
        "{list}"
    );
    let none = raw(
        c,
        &format!(
            "/apis/events.k8s.io/v1/namespaces/{ns}/events?fieldSelector=regarding.name%3Dother"
        ),
    )?;
    ensure!(none["items"].as_array().map(Vec::len) == Some(0), "{none}");
    c.kubectl_stdin(&["create", "-f", "-"], &core_event(ns, "node.2", "second"))?
        .ok()?;
    let page = raw(
        c,
        &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events?limit=1"),
    )?;
    ensure!(page["items"][0]["note"] == "node is ready", "{page}");
    let token = page["metadata"]["continue"]
        .as_str()
        .context("a continue token")?;
    let rest = raw(
        c,
        &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events?limit=1&continue={token}"),
    )?;
    ensure!(rest["items"][0]["note"] == "second", "{rest}");

    // The events.k8s.io table.
    let table = c.kubectl(&["get", EVENTS_V1, "-n", ns])?.ok()?;
    ensure!(
        table.contains("node is ready") && table.contains("node/node-1"),
        "{table}"
    );
    Ok(())
}

#[test]
fn events_k8s_io_watch_sees_core_writes() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "ev-watch";
    namespace(c, ns)?;
    let list = raw(c, &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events"))?;
    let rv = list["metadata"]["resourceVersion"]
        .as_str()
        .context("list resourceVersion")?
        .to_string();
    c.kubectl_stdin(
        &["create", "-f", "-"],
        &core_event(ns, "w.1", "watched write"),
    )?
    .ok()?;
    // From the list's revision: the core write, as events.k8s.io/v1.
    let out = c
        .kubectl(&[
            "get",
            "--raw",
            &format!(
                "/apis/events.k8s.io/v1/namespaces/{ns}/events?watch=true&resourceVersion={rv}&timeoutSeconds=2&allowWatchBookmarks=true"
            ),
        ])?
        .ok()?;
    let events: Vec<Value> = out
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    // Only this namespace's events reach a namespaced watch.
    ensure!(
        events
            .iter()
            .filter(|e| e["type"] != "BOOKMARK")
            .all(|e| e["object"]["metadata"]["namespace"] == ns),
        "{out}"
    );
    let added = events
        .iter()
        .find(|e| e["type"] == "ADDED")
        .with_context(|| format!("an ADDED event in {out}"))?;
    ensure!(added["object"]["apiVersion"] == "events.k8s.io/v1", "{out}");
    ensure!(added["object"]["note"] == "watched write", "{out}");

    // A live watch: writes through either group arrive converted.
    let (out, table) = std::thread::scope(|s| -> Result<(String, String)> {
        // `kubectl get -w` asks for Tables on the watch.
        let table_watcher =
            s.spawn(|| c.kubectl(&["get", EVENTS_V1, "-n", ns, "-w", "--request-timeout=6s"]));
        let watcher = s.spawn(|| {
            c.kubectl(&[
                "get",
                "--raw",
                &format!(
                    "/apis/events.k8s.io/v1/namespaces/{ns}/events?watch=true&timeoutSeconds=6"
                ),
            ])
        });
        std::thread::sleep(Duration::from_secs(2));
        c.kubectl(&[
            "patch",
            "events",
            "w.1",
            "-n",
            ns,
            "--type=merge",
            "-p",
            r#"{"message":"changed by core"}"#,
        ])?
        .ok()?;
        c.kubectl_stdin(
            &["create", "-f", "-"],
            &v1_event(ns, "w.2", "written as v1"),
        )?
        .ok()?;
        let output = watcher
            .join()
            .map_err(|_| anyhow::anyhow!("watcher thread panicked"))??;
        // kubectl exits non-zero when its request timeout ends the watch.
        let table = table_watcher
            .join()
            .map_err(|_| anyhow::anyhow!("table watcher thread panicked"))??;
        Ok((output.ok()?, table.stdout))
    })?;
    ensure!(
        table.contains("changed by core") && table.contains("written as v1"),
        "the table watch prints writes through both groups:\n{table}"
    );
    let events: Vec<Value> = out
        .lines()
        .map(serde_json::from_str)
        .collect::<Result<_, _>>()?;
    ensure!(
        events
            .iter()
            .all(|e| e["object"]["apiVersion"] == "events.k8s.io/v1"
                && e["object"]["metadata"]["namespace"] == ns),
        "{out}"
    );
    ensure!(
        events
            .iter()
            .any(|e| e["type"] == "MODIFIED" && e["object"]["note"] == "changed by core"),
        "{out}"
    );
    ensure!(
        events
            .iter()
            .any(|e| e["type"] == "ADDED" && e["object"]["note"] == "written as v1"),
        "{out}"
    );
    Ok(())
}

#[test]
fn patch_update_and_delete_through_events_k8s_io() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "ev-writes";
    namespace(c, ns)?;
    c.kubectl_stdin(&["create", "-f", "-"], &core_event(ns, "p.1", "before"))?
        .ok()?;

    // Merge, JSON and strategic merge patches on the events.k8s.io form.
    c.kubectl(&[
        "patch",
        EVENTS_V1,
        "p.1",
        "-n",
        ns,
        "--type=merge",
        "-p",
        r#"{"note":"merged"}"#,
    ])?
    .ok()?;
    let core = raw(c, &format!("/api/v1/namespaces/{ns}/events/p.1"))?;
    ensure!(core["message"] == "merged", "{core}");
    ensure!(core["source"]["component"] == "kubelet", "kept: {core}");
    c.kubectl(&[
        "patch",
        EVENTS_V1,
        "p.1",
        "-n",
        ns,
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/reason","value":"Patched"},{"op":"add","path":"/regarding/fieldPath","value":"spec"}]"#,
    ])?
    .ok()?;
    c.kubectl(&[
        "patch",
        EVENTS_V1,
        "p.1",
        "-n",
        ns,
        "-p",
        r#"{"metadata":{"labels":{"x":"y"}}}"#,
    ])?
    .ok()?;
    let core = raw(c, &format!("/api/v1/namespaces/{ns}/events/p.1"))?;
    ensure!(core["reason"] == "Patched", "{core}");
    ensure!(core["involvedObject"]["fieldPath"] == "spec", "{core}");
    ensure!(core["metadata"]["labels"]["x"] == "y", "{core}");

    // Server-side apply through events.k8s.io/v1.
    c.kubectl_stdin(
        &["apply", "--server-side", "--field-manager=e2e", "-f", "-"],
        &v1_event(ns, "applied.1", "applied note"),
    )?
    .ok()?;
    let core = raw(c, &format!("/api/v1/namespaces/{ns}/events/applied.1"))?;
    ensure!(core["message"] == "applied note", "{core}");

    // A stale resourceVersion through events.k8s.io conflicts.
    let stale = c
        .kubectl(&["get", EVENTS_V1, "p.1", "-n", ns, "-o", "json"])?
        .json()?;
    c.kubectl(&[
        "patch",
        "events",
        "p.1",
        "-n",
        ns,
        "--type=merge",
        "-p",
        r#"{"message":"newer"}"#,
    ])?
    .ok()?;
    let mut edited = stale.clone();
    edited["note"] = Value::String("from a stale read".into());
    let err = c
        .kubectl_stdin(&["replace", "-f", "-"], &edited.to_string())?
        .err()?;
    ensure!(
        err.contains("the object has been modified"),
        "a 409 Conflict: {err}"
    );
    // A current one succeeds.
    let mut fresh = c
        .kubectl(&["get", EVENTS_V1, "p.1", "-n", ns, "-o", "json"])?
        .json()?;
    ensure!(fresh["note"] == "newer", "{fresh}");
    fresh["note"] = Value::String("replaced".into());
    c.kubectl_stdin(&["replace", "-f", "-"], &fresh.to_string())?
        .ok()?;
    let core = raw(c, &format!("/api/v1/namespaces/{ns}/events/p.1"))?;
    ensure!(core["message"] == "replaced", "{core}");

    // Deleting through one group removes it from the other; the response is converted.
    let deleted = c
        .kubectl(&[
            "delete",
            "--raw",
            &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events/p.1"),
        ])?
        .ok()?;
    ensure!(deleted.contains("\"note\":\"replaced\""), "{deleted}");
    let gone = c.kubectl(&["get", "events", "p.1", "-n", ns])?.err()?;
    ensure!(
        gone.contains("NotFound") || gone.contains("not found"),
        "{gone}"
    );
    c.kubectl(&["delete", "events", "applied.1", "-n", ns])?
        .ok()?;
    let gone = c
        .kubectl(&["get", EVENTS_V1, "applied.1", "-n", ns])?
        .err()?;
    ensure!(gone.contains("not found"), "{gone}");
    Ok(())
}

#[test]
fn delete_collection_through_events_k8s_io() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "ev-collection";
    namespace(c, ns)?;
    for i in 0..3 {
        c.kubectl_stdin(
            &["create", "-f", "-"],
            &core_event(ns, &format!("c.{i}"), "to be collected"),
        )?
        .ok()?;
    }
    // DELETECOLLECTION: the deleted objects come back in the requested version.
    let out = c
        .kubectl(&[
            "delete",
            "--raw",
            &format!("/apis/events.k8s.io/v1/namespaces/{ns}/events"),
        ])?
        .json()?;
    let items = out["items"].as_array().context("deleted items")?;
    ensure!(items.len() == 3, "{out}");
    ensure!(
        items
            .iter()
            .all(|e| e["apiVersion"] == "events.k8s.io/v1" && e["note"] == "to be collected"),
        "{out}"
    );
    let left = c
        .kubectl(&["get", "events", "-n", ns, "-o", "json"])?
        .json()?;
    ensure!(left["items"].as_array().map(Vec::len) == Some(0), "{left}");
    Ok(())
}

/// kube-rs' event Recorder (like client-go's tools/events) writes events.k8s.io/v1
/// Events, and merge-patches a series onto them when they repeat: core/v1 readers
/// (`kubectl get events`, `kubectl describe`, client-go informers) see both.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn kube_recorder_events_reach_core_readers() -> Result<()> {
    use futures::{StreamExt, TryStreamExt};
    use k8s_openapi::api::core::v1::{Event as CoreEvent, ObjectReference};
    use kube::api::{Api, ListParams, WatchEvent, WatchParams};
    use kube::runtime::events::{Event, EventType, Recorder, Reporter};

    let c = TestCluster::shared()?;
    let ns = "ev-recorder";
    namespace(c, ns)?;
    let client = c.client().await?;
    let core: Api<CoreEvent> = Api::namespaced(client.clone(), ns);
    let rv = core
        .list(&ListParams::default())
        .await?
        .metadata
        .resource_version
        .context("list resourceVersion")?;
    let mut watch = core
        .watch(&WatchParams::default().timeout(20), &rv)
        .await?
        .boxed();

    let recorder = Recorder::new(
        client.clone(),
        Reporter {
            controller: "e2e-controller".into(),
            instance: Some("e2e-pod".into()),
        },
    );
    let regarding = ObjectReference {
        api_version: Some("v1".into()),
        kind: Some("Pod".into()),
        name: Some("web".into()),
        namespace: Some(ns.into()),
        ..Default::default()
    };
    let event = Event {
        type_: EventType::Warning,
        reason: "Recorded".into(),
        note: Some("recorded through events.k8s.io".into()),
        action: "Recording".into(),
        secondary: None,
    };
    recorder.publish(&event, &regarding).await?;
    // The repeat is a merge patch with a series.
    recorder.publish(&event, &regarding).await?;

    // A core/v1 watcher sees the creation and the patch, as core Events.
    let mut seen = Vec::new();
    while seen.len() < 2 {
        match tokio::time::timeout(Duration::from_secs(30), watch.try_next()).await {
            Ok(Ok(Some(WatchEvent::Added(e)))) => seen.push(("ADDED", e)),
            Ok(Ok(Some(WatchEvent::Modified(e)))) => seen.push(("MODIFIED", e)),
            Ok(Ok(Some(WatchEvent::Bookmark(_)))) => {}
            other => anyhow::bail!("unexpected watch result {other:?} after {seen:?}"),
        }
    }
    ensure!(seen[0].0 == "ADDED" && seen[1].0 == "MODIFIED", "{seen:?}");
    let added = &seen[0].1;
    ensure!(
        added.message.as_deref() == Some("recorded through events.k8s.io"),
        "{added:?}"
    );
    ensure!(
        added.reporting_component.as_deref() == Some("e2e-controller"),
        "{added:?}"
    );
    ensure!(
        seen[1].1.series.as_ref().and_then(|s| s.count) == Some(2),
        "{:?}",
        seen[1].1
    );

    // kubectl's core view, selected by the core field labels.
    let listed = c
        .kubectl(&[
            "get",
            "events",
            "-n",
            ns,
            "--field-selector",
            "involvedObject.name=web,reason=Recorded",
            "-o",
            "json",
        ])?
        .json()?;
    let items = listed["items"].as_array().context("items")?;
    ensure!(items.len() == 1, "{listed}");
    ensure!(items[0]["series"]["count"] == 2, "{listed}");
    ensure!(items[0]["type"] == "Warning", "{listed}");
    let table = c.kubectl(&["get", "events", "-n", ns])?.ok()?;
    ensure!(
        table.contains("recorded through events.k8s.io") && table.contains("pod/web"),
        "{table}"
    );
    Ok(())
}

const HPA_V2: &str = r#"apiVersion: autoscaling/v2
kind: HorizontalPodAutoscaler
metadata: {name: web, namespace: hpa-versions}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: web}
  minReplicas: 2
  maxReplicas: 10
  metrics:
  - type: Resource
    resource: {name: cpu, target: {type: Utilization, averageUtilization: 60}}
  - type: Resource
    resource: {name: memory, target: {type: AverageValue, averageValue: 1Gi}}
  behavior:
    scaleDown:
      stabilizationWindowSeconds: 120
      policies: [{type: Pods, value: 1, periodSeconds: 60}]
"#;

const HPA_V1: &str = r#"apiVersion: autoscaling/v1
kind: HorizontalPodAutoscaler
metadata: {name: api, namespace: hpa-versions}
spec:
  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}
  maxReplicas: 4
  targetCPUUtilizationPercentage: 50
"#;

#[test]
fn autoscaling_v1_and_v2_are_one_hpa() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "hpa-versions";
    namespace(c, ns)?;
    c.kubectl_stdin(&["create", "-f", "-"], HPA_V2)?.ok()?;
    c.kubectl_stdin(&["create", "-f", "-"], HPA_V1)?.ok()?;

    // v2 written, read as v1: the CPU target, the rest in upstream's annotation.
    let v1 = raw(
        c,
        &format!("/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers/web"),
    )?;
    ensure!(v1["apiVersion"] == "autoscaling/v1", "{v1}");
    ensure!(v1["spec"]["targetCPUUtilizationPercentage"] == 60, "{v1}");
    ensure!(v1["spec"].get("metrics").is_none(), "{v1}");
    let annotated = v1["metadata"]["annotations"]["autoscaling.alpha.kubernetes.io/metrics"]
        .as_str()
        .context("the metrics annotation")?;
    ensure!(annotated.contains("\"memory\""), "{v1}");

    // v1 written, read as v2.
    let v2 = raw(
        c,
        &format!("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/api"),
    )?;
    ensure!(v2["apiVersion"] == "autoscaling/v2", "{v2}");
    ensure!(
        v2["spec"]["metrics"][0]["resource"]["target"]["averageUtilization"] == 50,
        "{v2}"
    );
    ensure!(v2["metadata"]["resourceVersion"].is_string(), "{v2}");

    // A v1 update keeps the metrics v1 cannot express.
    c.kubectl(&[
        "patch",
        "horizontalpodautoscalers.v1.autoscaling",
        "web",
        "-n",
        ns,
        "--type=merge",
        "-p",
        r#"{"spec":{"maxReplicas":7}}"#,
    ])?
    .ok()?;
    let v2 = raw(
        c,
        &format!("/apis/autoscaling/v2/namespaces/{ns}/horizontalpodautoscalers/web"),
    )?;
    ensure!(v2["spec"]["maxReplicas"] == 7, "{v2}");
    let metrics = v2["spec"]["metrics"].as_array().context("metrics")?;
    ensure!(metrics.len() == 2, "{v2}");
    ensure!(
        metrics.iter().any(|m| m["resource"]["name"] == "memory"
            && m["resource"]["target"]["averageValue"] == "1Gi"),
        "{v2}"
    );
    ensure!(
        v2["spec"]["behavior"]["scaleDown"]["stabilizationWindowSeconds"] == 120,
        "{v2}"
    );
    ensure!(
        v2["metadata"].get("annotations").is_none(),
        "no conversion annotations in the stored version: {v2}"
    );

    // Lists and tables of both versions see both.
    let v1_list = raw(
        c,
        &format!("/apis/autoscaling/v1/namespaces/{ns}/horizontalpodautoscalers"),
    )?;
    ensure!(
        v1_list["items"].as_array().map(Vec::len) == Some(2),
        "{v1_list}"
    );
    let table = c
        .kubectl(&["get", "horizontalpodautoscalers.v1.autoscaling", "-n", ns])?
        .ok()?;
    ensure!(
        table.contains("Deployment/web") && table.contains("Deployment/api"),
        "{table}"
    );
    ensure!(
        table.contains("memory"),
        "v1 rows print the annotated metrics: {table}"
    );

    // Deleting through v1 removes it from v2.
    c.kubectl(&[
        "delete",
        "horizontalpodautoscalers.v1.autoscaling",
        "api",
        "-n",
        ns,
    ])?
    .ok()?;
    let gone = c
        .kubectl(&[
            "get",
            "horizontalpodautoscalers.v2.autoscaling",
            "api",
            "-n",
            ns,
        ])?
        .err()?;
    ensure!(gone.contains("not found"), "{gone}");
    Ok(())
}
