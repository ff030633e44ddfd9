//! Upgrading from a ferrokube that stored events.k8s.io/v1 Events and autoscaling/v1
//! HPAs under their own etcd prefixes: at start-up the apiserver moves them, converted,
//! to the prefix both versions now share, so nothing created before the upgrade
//! disappears.

use std::time::Duration;

use anyhow::{ensure, Result};
use ferrokube_e2e::{wait_for, TestCluster};

#[test]
fn objects_under_the_old_prefixes_move_on_start() -> Result<()> {
    let c = TestCluster::start()?;
    c.kubectl(&["create", "namespace", "upgraded"])?.ok()?;
    let hpa = r#"{"apiVersion":"autoscaling/v1","kind":"HorizontalPodAutoscaler","metadata":{"name":"old-hpa","namespace":"upgraded","uid":"0b1c2d3e-0000-4000-8000-000000000001","creationTimestamp":"2026-01-01T00:00:00Z"},"spec":{"scaleTargetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"web"},"minReplicas":1,"maxReplicas":4,"targetCPUUtilizationPercentage":60}}"#;
    let event = r#"{"apiVersion":"events.k8s.io/v1","kind":"Event","metadata":{"name":"old-event","namespace":"upgraded","uid":"0b1c2d3e-0000-4000-8000-000000000002","creationTimestamp":"2026-01-01T00:00:00Z"},"eventTime":"2026-01-01T00:00:00.000001Z","reportingController":"example.com/e2e","reportingInstance":"e2e-host","action":"Testing","reason":"Upgraded","type":"Normal","note":"written before the upgrade","regarding":{"kind":"Pod","namespace":"upgraded","name":"web","apiVersion":"v1"}}"#;
    let old_hpa = "/registry/autoscaling/v1/horizontalpodautoscalers/upgraded/old-hpa";
    let old_event = "/registry/events.k8s.io/events/upgraded/old-event";
    c.etcdctl(&["put", old_hpa, hpa])?.ok()?;
    c.etcdctl(&["put", old_event, event])?.ok()?;
    // A different HPA with the same name exists through v2: both must survive.
    c.kubectl_stdin(
        &["apply", "-f", "-"],
        "apiVersion: autoscaling/v2\nkind: HorizontalPodAutoscaler\nmetadata: {name: both, namespace: upgraded}\nspec:\n  scaleTargetRef: {apiVersion: apps/v1, kind: Deployment, name: api}\n  maxReplicas: 3\n",
    )?
    .ok()?;
    let clash = hpa
        .replace("old-hpa", "both")
        .replace("0000-000000000001", "0000-000000000003");
    let old_clash = "/registry/autoscaling/v1/horizontalpodautoscalers/upgraded/both";
    c.etcdctl(&["put", old_clash, &clash])?.ok()?;

    c.restart_apiserver()?;

    let target = wait_for("the HPA at its shared key", Duration::from_secs(30), || {
        let out = c.kubectl(&[
            "get",
            "horizontalpodautoscalers.v2.autoscaling",
            "-n",
            "upgraded",
            "old-hpa",
            "-o",
            "jsonpath={.spec.metrics[0].resource.target.averageUtilization}",
        ])?;
        out.success().then(|| out.ok()).transpose()
    })?;
    ensure!(target == "60", "converted CPU target: {target:?}");
    let message = c
        .kubectl(&[
            "get",
            "events",
            "-n",
            "upgraded",
            "old-event",
            "-o",
            "jsonpath={.message}",
        ])?
        .ok()?;
    ensure!(
        message == "written before the upgrade",
        "core view of the moved Event: {message:?}"
    );
    // The old keys are gone; the objects are under the shared prefixes once.
    for old in [old_hpa, old_event] {
        let left = c.etcdctl(&["get", old, "--keys-only"])?.ok()?;
        ensure!(left.trim().is_empty(), "{old} still there: {left}");
    }
    // The clash: the shared key keeps the v2 HPA, the old one stays where it was.
    let target = c
        .kubectl(&[
            "get",
            "hpa",
            "-n",
            "upgraded",
            "both",
            "-o",
            "jsonpath={.spec.scaleTargetRef.name}",
        ])?
        .ok()?;
    ensure!(
        target == "api",
        "the HPA under the shared key was replaced: {target:?}"
    );
    let kept = c.etcdctl(&["get", old_clash, "--keys-only"])?.ok()?;
    ensure!(kept.contains(old_clash), "the clashing old HPA was deleted");
    let v1_target = c
        .kubectl(&[
            "get",
            "horizontalpodautoscalers.v1.autoscaling",
            "-n",
            "upgraded",
            "old-hpa",
            "-o",
            "jsonpath={.spec.targetCPUUtilizationPercentage}",
        ])?
        .ok()?;
    ensure!(v1_target == "60", "v1 view after the move: {v1_target:?}");
    c.stop()?;
    Ok(())
}
