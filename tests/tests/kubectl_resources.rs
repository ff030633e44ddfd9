//! The stock kubectl against our apiserver: every built-in kind is served with
//! upstream's names, and kubectl's printing works (issue points 3, 6 and 7).

use anyhow::{ensure, Result};
use ferrokube_e2e::TestCluster;

fn cluster() -> Result<&'static TestCluster> {
    TestCluster::shared()
}

#[test]
fn api_resources_lists_upstream_kinds_with_short_names() -> Result<()> {
    let c = cluster()?;
    let out = c.kubectl(&["api-resources"])?.ok()?;
    for (name, short, group_version, kind) in [
        ("pods", "po", "v1", "Pod"),
        ("deployments", "deploy", "apps/v1", "Deployment"),
        ("services", "svc", "v1", "Service"),
        (
            "customresourcedefinitions",
            "crd,crds",
            "apiextensions.k8s.io/v1",
            "CustomResourceDefinition",
        ),
        (
            "horizontalpodautoscalers",
            "hpa",
            "autoscaling/v2",
            "HorizontalPodAutoscaler",
        ),
        ("cronjobs", "cj", "batch/v1", "CronJob"),
        (
            "poddisruptionbudgets",
            "pdb",
            "policy/v1",
            "PodDisruptionBudget",
        ),
        (
            "priorityclasses",
            "pc",
            "scheduling.k8s.io/v1",
            "PriorityClass",
        ),
    ] {
        let line = out
            .lines()
            .find(|l| l.split_whitespace().next() == Some(name));
        let Some(line) = line else {
            anyhow::bail!("{name} missing from api-resources:\n{out}")
        };
        ensure!(
            line.contains(short) && line.contains(group_version) && line.contains(kind),
            "{name}: {line}"
        );
    }
    for gv in [
        "v1",
        "apps/v1",
        "batch/v1",
        "autoscaling/v1",
        "autoscaling/v2",
        "coordination.k8s.io/v1",
        "discovery.k8s.io/v1",
        "events.k8s.io/v1",
        "networking.k8s.io/v1",
        "policy/v1",
        "rbac.authorization.k8s.io/v1",
        "storage.k8s.io/v1",
        "scheduling.k8s.io/v1",
        "node.k8s.io/v1",
        "certificates.k8s.io/v1",
        "admissionregistration.k8s.io/v1",
        "apiextensions.k8s.io/v1",
    ] {
        let versions = c.kubectl(&["api-versions"])?.ok()?;
        ensure!(
            versions.lines().any(|l| l.trim() == gv),
            "{gv} missing from api-versions:\n{versions}"
        );
    }
    let namespaced = c
        .kubectl(&["api-resources", "--namespaced=false", "-o", "name"])?
        .ok()?;
    ensure!(
        namespaced.lines().any(|l| l == "nodes"),
        "nodes is cluster-scoped:\n{namespaced}"
    );
    ensure!(
        !namespaced.lines().any(|l| l == "pods"),
        "pods is namespaced:\n{namespaced}"
    );
    Ok(())
}

#[test]
fn system_namespaces_exist() -> Result<()> {
    let c = cluster()?;
    let out = c.kubectl(&["get", "namespaces"])?.ok()?;
    ensure!(
        out.lines()
            .next()
            .unwrap_or("")
            .split_whitespace()
            .collect::<Vec<_>>()
            == ["NAME", "STATUS", "AGE"],
        "{out}"
    );
    for ns in ["default", "kube-system", "kube-public", "kube-node-lease"] {
        ensure!(
            out.lines()
                .any(|l| l.starts_with(ns) && l.contains("Active")),
            "{ns} missing:\n{out}"
        );
    }
    Ok(())
}

const WEB: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata:
  name: web
  namespace: printing
  labels: {app: web, tier: front}
spec:
  replicas: 2
  selector: {matchLabels: {app: web}}
  template:
    metadata: {labels: {app: web}}
    spec:
      containers:
      - name: nginx
        image: nginx:1.25
        ports: [{containerPort: 80}]
---
apiVersion: v1
kind: Service
metadata: {name: web, namespace: printing}
spec:
  selector: {app: web}
  ports: [{port: 80, targetPort: 80}]
---
apiVersion: v1
kind: Pod
metadata: {name: solo, namespace: printing, labels: {app: solo}}
spec:
  containers: [{name: c, image: busybox}]
---
apiVersion: v1
kind: ConfigMap
metadata: {name: settings, namespace: printing, labels: {app: web}}
data: {a: "1", b: "2"}
"#;

#[test]
fn get_prints_tables_and_every_output_format() -> Result<()> {
    let c = cluster()?;
    c.kubectl(&["create", "namespace", "printing"])?.ok()?;
    c.kubectl_stdin(&["apply", "-f", "-"], WEB)?.ok()?;

    let out = c
        .kubectl(&["get", "po,deploy,svc", "-n", "printing"])?
        .ok()?;
    ensure!(out.contains("pod/solo"), "{out}");
    ensure!(out.contains("deployment.apps/web"), "{out}");
    ensure!(out.contains("service/web"), "{out}");
    ensure!(
        out.contains("READY") && out.contains("UP-TO-DATE") && out.contains("CLUSTER-IP"),
        "{out}"
    );

    let all = c.kubectl(&["get", "all", "-n", "printing"])?.ok()?;
    ensure!(
        all.contains("pod/solo")
            && all.contains("deployment.apps/web")
            && all.contains("service/web"),
        "{all}"
    );
    ensure!(
        !all.contains("configmap/"),
        "configmaps are not in the all category:\n{all}"
    );

    let pods = c.kubectl(&["get", "pods", "-n", "printing"])?.ok()?;
    let header: Vec<&str> = pods
        .lines()
        .next()
        .unwrap_or("")
        .split_whitespace()
        .collect();
    ensure!(
        header == ["NAME", "READY", "STATUS", "RESTARTS", "AGE"],
        "{pods}"
    );
    ensure!(
        pods.contains("solo") && pods.contains("0/1") && pods.contains("Pending"),
        "{pods}"
    );

    let wide = c
        .kubectl(&["get", "pods", "-n", "printing", "-o", "wide"])?
        .ok()?;
    ensure!(
        wide.contains("NODE")
            && wide.contains("NOMINATED NODE")
            && wide.contains("READINESS GATES"),
        "{wide}"
    );

    let labels = c
        .kubectl(&["get", "deploy", "web", "-n", "printing", "--show-labels"])?
        .ok()?;
    ensure!(
        labels.contains("LABELS") && labels.contains("app=web,tier=front"),
        "{labels}"
    );

    let cms = c
        .kubectl(&["get", "cm", "settings", "-n", "printing"])?
        .ok()?;
    ensure!(
        cms.contains("DATA")
            && cms.lines().nth(1).unwrap_or("").split_whitespace().nth(1) == Some("2"),
        "{cms}"
    );

    let svc = c
        .kubectl(&[
            "get",
            "svc",
            "web",
            "-n",
            "printing",
            "-o",
            "jsonpath={.spec.clusterIP}",
        ])?
        .ok()?;
    ensure!(
        svc.starts_with("10.9") || svc.starts_with("10.1"),
        "a ClusterIP from 10.96.0.0/12: {svc:?}"
    );

    let yaml = c
        .kubectl(&["get", "deploy", "web", "-n", "printing", "-o", "yaml"])?
        .ok()?;
    ensure!(
        yaml.contains("kind: Deployment")
            && yaml.contains("resourceVersion:")
            && yaml.contains("uid:"),
        "{yaml}"
    );
    ensure!(
        yaml.contains("revisionHistoryLimit: 10") && yaml.contains("progressDeadlineSeconds: 600"),
        "defaults:\n{yaml}"
    );

    let json = c
        .kubectl(&["get", "deploy", "web", "-n", "printing", "-o", "json"])?
        .json()?;
    ensure!(json["metadata"]["generation"] == 1, "{json}");
    ensure!(
        json["spec"]["strategy"]["rollingUpdate"]["maxSurge"] == "25%",
        "{json}"
    );

    let names = c
        .kubectl(&[
            "get",
            "pods,cm",
            "-n",
            "printing",
            "-l",
            "app in (web,solo)",
            "-o",
            "name",
        ])?
        .ok()?;
    ensure!(
        names.lines().collect::<Vec<_>>() == ["pod/solo", "configmap/settings"],
        "{names}"
    );

    let across = c.kubectl(&["get", "pods", "-A"])?.ok()?;
    ensure!(
        across.contains("NAMESPACE") && across.contains("printing"),
        "{across}"
    );

    let other = c.kubectl(&["get", "leases", "-n", "printing"])?;
    ensure!(other.success(), "{}", other.stderr);
    ensure!(
        other.stderr.contains("No resources found"),
        "{}",
        other.stderr
    );
    Ok(())
}

#[test]
fn field_selectors_and_paging() -> Result<()> {
    let c = cluster()?;
    c.kubectl(&["create", "namespace", "paging"])?.ok()?;
    for i in 0..7 {
        c.kubectl(&[
            "create",
            "configmap",
            &format!("cm-{i}"),
            "-n",
            "paging",
            &format!("--from-literal=i={i}"),
        ])?
        .ok()?;
    }
    let out = c
        .kubectl(&["get", "cm", "-n", "paging", "--chunk-size=2", "-o", "name"])?
        .ok()?;
    let names: Vec<&str> = out
        .lines()
        .filter(|l| l.starts_with("configmap/cm-"))
        .collect();
    ensure!(names.len() == 7, "paged list returned {names:?}");
    let one = c
        .kubectl(&[
            "get",
            "cm",
            "-n",
            "paging",
            "--field-selector",
            "metadata.name=cm-3",
            "-o",
            "name",
        ])?
        .ok()?;
    ensure!(one.trim() == "configmap/cm-3", "{one}");
    let not = c
        .kubectl(&[
            "get",
            "cm",
            "-n",
            "paging",
            "--field-selector",
            "metadata.name!=cm-3",
            "-o",
            "name",
        ])?
        .ok()?;
    ensure!(!not.contains("cm-3") && not.contains("cm-4"), "{not}");
    let bad = c
        .kubectl(&["get", "pods", "--field-selector", "spec.bogus=x"])?
        .err()?;
    ensure!(
        bad.contains("field label not supported: spec.bogus"),
        "{bad}"
    );
    let bad = c.kubectl(&["get", "pods", "-l", "app in (a"])?.err()?;
    ensure!(
        bad.contains("unable to parse requirement") || bad.contains("found"),
        "{bad}"
    );
    Ok(())
}
