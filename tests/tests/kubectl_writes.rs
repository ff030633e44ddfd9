//! The writes kubectl makes (issue points 8 and 9): apply, patch flavours, label,
//! annotate, scale, edit, dry-run, validation errors and namespace lifecycle.

use anyhow::{ensure, Result};
use ferrokube_e2e::TestCluster;

fn cluster() -> Result<&'static TestCluster> {
    TestCluster::shared()
}

fn ns(c: &TestCluster, name: &str) -> Result<()> {
    c.kubectl(&["create", "namespace", name])?.ok()?;
    Ok(())
}

const APP_V1: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: app, namespace: writes}
spec:
  replicas: 1
  selector: {matchLabels: {app: app}}
  template:
    metadata: {labels: {app: app}}
    spec:
      containers:
      - name: main
        image: busybox:1.36
        env: [{name: A, value: "1"}, {name: B, value: "2"}]
      - name: side
        image: busybox:1.36
"#;

#[test]
fn apply_is_idempotent_and_changes_only_what_was_edited() -> Result<()> {
    let c = cluster()?;
    ns(c, "writes")?;
    let first = c.kubectl_stdin(&["apply", "-f", "-"], APP_V1)?.ok()?;
    ensure!(first.contains("deployment.apps/app created"), "{first}");
    let rv1 = c
        .kubectl(&[
            "get",
            "deploy",
            "app",
            "-n",
            "writes",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])?
        .ok()?;
    let again = c.kubectl_stdin(&["apply", "-f", "-"], APP_V1)?.ok()?;
    ensure!(again.contains("deployment.apps/app unchanged"), "{again}");
    let rv2 = c
        .kubectl(&[
            "get",
            "deploy",
            "app",
            "-n",
            "writes",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])?
        .ok()?;
    ensure!(
        rv1 == rv2,
        "applying the same file twice changed the object ({rv1} -> {rv2})"
    );

    // Someone else scales it; an edited apply of the image keeps their change and the
    // other container and env var untouched.
    c.kubectl(&["scale", "deploy", "app", "-n", "writes", "--replicas=3"])?
        .ok()?;
    let edited = APP_V1.replace(
        "image: busybox:1.36\n        env",
        "image: busybox:1.37\n        env",
    );
    let out = c.kubectl_stdin(&["apply", "-f", "-"], &edited)?.ok()?;
    ensure!(out.contains("configured"), "{out}");
    let d = c
        .kubectl(&["get", "deploy", "app", "-n", "writes", "-o", "json"])?
        .json()?;
    let containers = &d["spec"]["template"]["spec"]["containers"];
    ensure!(containers[0]["image"] == "busybox:1.37", "{d}");
    ensure!(containers[1]["image"] == "busybox:1.36", "{d}");
    ensure!(
        containers[0]["env"].as_array().map(Vec::len) == Some(2),
        "{d}"
    );
    ensure!(
        d["spec"]["replicas"] == 1,
        "apply of a file saying replicas: 1 sets it back: {d}"
    );
    ensure!(
        d["metadata"]["generation"].as_i64().unwrap_or(0) >= 3,
        "generation bumps on spec changes: {d}"
    );

    // Removing an env var from the file removes it from the object (SMP $patch: delete
    // through the last-applied annotation).
    let fewer = edited.replace(", {name: B, value: \"2\"}", "");
    c.kubectl_stdin(&["apply", "-f", "-"], &fewer)?.ok()?;
    let env = c
        .kubectl(&[
            "get",
            "deploy",
            "app",
            "-n",
            "writes",
            "-o",
            "jsonpath={.spec.template.spec.containers[0].env[*].name}",
        ])?
        .ok()?;
    ensure!(env.trim() == "A", "env after removing B: {env:?}");
    Ok(())
}

#[test]
fn label_annotate_scale_patch_and_edit() -> Result<()> {
    let c = cluster()?;
    ns(c, "verbs")?;
    c.kubectl(&[
        "create",
        "deployment",
        "web",
        "-n",
        "verbs",
        "--image=busybox",
        "--replicas=2",
    ])?
    .ok()?;
    c.kubectl(&["label", "deploy", "web", "-n", "verbs", "team=blue"])?
        .ok()?;
    c.kubectl(&["annotate", "deploy", "web", "-n", "verbs", "note=hello"])?
        .ok()?;
    let out = c
        .kubectl(&["scale", "deploy/web", "-n", "verbs", "--replicas=4"])?
        .ok()?;
    ensure!(out.contains("deployment.apps/web scaled"), "{out}");
    let d = c
        .kubectl(&["get", "deploy", "web", "-n", "verbs", "-o", "json"])?
        .json()?;
    ensure!(d["metadata"]["labels"]["team"] == "blue", "{d}");
    ensure!(d["metadata"]["annotations"]["note"] == "hello", "{d}");
    ensure!(d["spec"]["replicas"] == 4, "{d}");
    // Removing a label.
    c.kubectl(&["label", "deploy", "web", "-n", "verbs", "team-"])?
        .ok()?;
    let labels = c
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-n",
            "verbs",
            "-o",
            "jsonpath={.metadata.labels}",
        ])?
        .ok()?;
    ensure!(!labels.contains("team"), "{labels}");
    // The three patch types.
    c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "verbs",
        "--type=json",
        "-p",
        r#"[{"op":"replace","path":"/spec/replicas","value":5}]"#,
    ])?
    .ok()?;
    c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "verbs",
        "--type=merge",
        "-p",
        r#"{"metadata":{"labels":{"m":"1"}}}"#,
    ])?
    .ok()?;
    c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "verbs",
        "-p",
        r#"{"spec":{"template":{"spec":{"containers":[{"name":"busybox","image":"busybox:2"}]}}}}"#,
    ])?
    .ok()?;
    let d = c
        .kubectl(&["get", "deploy", "web", "-n", "verbs", "-o", "json"])?
        .json()?;
    ensure!(
        d["spec"]["replicas"] == 5 && d["metadata"]["labels"]["m"] == "1",
        "{d}"
    );
    ensure!(
        d["spec"]["template"]["spec"]["containers"][0]["image"] == "busybox:2",
        "{d}"
    );
    ensure!(
        d["spec"]["template"]["spec"]["containers"]
            .as_array()
            .map(Vec::len)
            == Some(1),
        "{d}"
    );
    // A failing json-patch test op changes nothing.
    let err = c
        .kubectl(&[
            "patch",
            "deploy",
            "web",
            "-n",
            "verbs",
            "--type=json",
            "-p",
            r#"[{"op":"test","path":"/spec/replicas","value":9}]"#,
        ])?
        .err()?;
    ensure!(!err.is_empty(), "a failed test op is an error");
    // kubectl edit with a scripted editor.
    let editor = c.dir().join("edit.sh");
    std::fs::write(
        &editor,
        "#!/bin/sh\nsed -i 's/replicas: 5/replicas: 6/' \"$1\"\n",
    )?;
    std::process::Command::new("chmod")
        .arg("+x")
        .arg(&editor)
        .status()?;
    let out = c
        .kubectl_env(
            &["edit", "deploy", "web", "-n", "verbs"],
            &[("KUBE_EDITOR", editor.to_str().unwrap_or(""))],
        )?
        .ok()?;
    ensure!(out.contains("edited"), "{out}");
    let r = c
        .kubectl(&[
            "get",
            "deploy",
            "web",
            "-n",
            "verbs",
            "-o",
            "jsonpath={.spec.replicas}",
        ])?
        .ok()?;
    ensure!(r == "6", "after edit: {r}");
    // Status subresource: a status patch changes status only.
    c.kubectl(&[
        "patch",
        "deploy",
        "web",
        "-n",
        "verbs",
        "--subresource=status",
        "--type=merge",
        "-p",
        r#"{"status":{"replicas":6},"spec":{"replicas":1}}"#,
    ])?
    .ok()?;
    let d = c
        .kubectl(&["get", "deploy", "web", "-n", "verbs", "-o", "json"])?
        .json()?;
    ensure!(
        d["status"]["replicas"] == 6 && d["spec"]["replicas"] == 6,
        "{d}"
    );
    Ok(())
}

#[test]
fn dry_run_validation_and_unknown_fields() -> Result<()> {
    let c = cluster()?;
    ns(c, "checks")?;
    let out = c
        .kubectl(&[
            "create",
            "configmap",
            "dry",
            "-n",
            "checks",
            "--from-literal=a=b",
            "--dry-run=server",
        ])?
        .ok()?;
    ensure!(out.contains("created (server dry run)"), "{out}");
    let gone = c.kubectl(&["get", "cm", "dry", "-n", "checks"])?.err()?;
    ensure!(
        gone.contains("NotFound") || gone.contains("not found"),
        "{gone}"
    );

    let unknown = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: typo, namespace: checks}
spec:
  replicas: 1
  selectr: {}
  selector: {matchLabels: {app: x}}
  template:
    metadata: {labels: {app: x}}
    spec: {containers: [{name: c, image: busybox, imagePullPolice: Always}]}
"#;
    let err = c.kubectl_stdin(&["create", "-f", "-"], unknown)?.err()?;
    ensure!(err.contains("unknown field \"spec.selectr\""), "{err}");
    ensure!(
        err.contains("spec.template.spec.containers[0].imagePullPolice"),
        "{err}"
    );
    // Ignored when validation is off.
    c.kubectl_stdin(&["create", "--validate=false", "-f", "-"], unknown)?
        .ok()?;

    let invalid = r#"
apiVersion: v1
kind: Pod
metadata: {name: Bad_Name, namespace: checks}
spec:
  containers:
  - name: c
  - name: c
    image: busybox
"#;
    let err = c.kubectl_stdin(&["create", "-f", "-"], invalid)?.err()?;
    ensure!(err.contains("is invalid"), "{err}");
    ensure!(
        err.contains("metadata.name: Invalid value: \"Bad_Name\""),
        "{err}"
    );
    ensure!(
        err.contains("spec.containers[0].image: Required value"),
        "{err}"
    );
    ensure!(
        err.contains("spec.containers[1].name: Duplicate value: \"c\""),
        "{err}"
    );

    let mismatch = r#"{"apiVersion":"apps/v1","kind":"Deployment","metadata":{"name":"m","namespace":"checks"},"spec":{"selector":{"matchLabels":{"a":"b"}},"template":{"metadata":{"labels":{"a":"c"}},"spec":{"containers":[{"name":"c","image":"x"}]}}}}"#;
    let err = c.kubectl_stdin(&["create", "-f", "-"], mismatch)?.err()?;
    ensure!(
        err.contains("`selector` does not match template `labels`"),
        "{err}"
    );
    Ok(())
}

#[test]
fn namespace_lifecycle() -> Result<()> {
    let c = cluster()?;
    let err = c
        .kubectl(&["create", "configmap", "x", "-n", "does-not-exist"])?
        .err()?;
    ensure!(
        err.contains("namespaces \"does-not-exist\" not found"),
        "{err}"
    );
    ns(c, "doomed")?;
    c.kubectl(&["create", "configmap", "x", "-n", "doomed"])?
        .ok()?;
    c.kubectl(&["delete", "namespace", "doomed", "--wait=false"])?
        .ok()?;
    let phase = c
        .kubectl(&["get", "ns", "doomed", "-o", "jsonpath={.status.phase}"])?
        .ok()?;
    ensure!(phase == "Terminating", "{phase}");
    let err = c
        .kubectl(&["create", "configmap", "y", "-n", "doomed"])?
        .err()?;
    ensure!(
        err.contains(
            "unable to create new content in namespace doomed because it is being terminated"
        ),
        "{err}"
    );
    let err = c.kubectl(&["delete", "namespace", "default"])?.err()?;
    ensure!(err.contains("this namespace may not be deleted"), "{err}");
    Ok(())
}

#[test]
fn finalizers_hold_deletion() -> Result<()> {
    let c = cluster()?;
    ns(c, "final")?;
    let cm = r#"{"apiVersion":"v1","kind":"ConfigMap","metadata":{"name":"held","namespace":"final","finalizers":["example.com/hold"]}}"#;
    c.kubectl_stdin(&["create", "-f", "-"], cm)?.ok()?;
    c.kubectl(&["delete", "cm", "held", "-n", "final", "--wait=false"])?
        .ok()?;
    let ts = c
        .kubectl(&[
            "get",
            "cm",
            "held",
            "-n",
            "final",
            "-o",
            "jsonpath={.metadata.deletionTimestamp}",
        ])?
        .ok()?;
    ensure!(
        !ts.is_empty(),
        "deletionTimestamp set while a finalizer remains"
    );
    c.kubectl(&[
        "patch",
        "cm",
        "held",
        "-n",
        "final",
        "--type=merge",
        "-p",
        r#"{"metadata":{"finalizers":null}}"#,
    ])?
    .ok()?;
    let err = c.kubectl(&["get", "cm", "held", "-n", "final"])?.err()?;
    ensure!(
        err.contains("not found"),
        "removing the last finalizer deletes the object: {err}"
    );
    Ok(())
}

const SSA: &str = r#"
apiVersion: apps/v1
kind: Deployment
metadata: {name: ssa, namespace: serverside}
spec:
  replicas: 2
  selector: {matchLabels: {app: ssa}}
  template:
    metadata: {labels: {app: ssa}}
    spec:
      containers: [{name: main, image: busybox:1.36}]
"#;

#[test]
fn server_side_apply_tracks_owners_and_conflicts() -> Result<()> {
    let c = cluster()?;
    ns(c, "serverside")?;
    let out = c
        .kubectl_stdin(&["apply", "--server-side", "-f", "-"], SSA)?
        .ok()?;
    ensure!(out.contains("serverside-applied"), "{out}");
    let rv1 = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])?
        .ok()?;
    c.kubectl_stdin(&["apply", "--server-side", "-f", "-"], SSA)?
        .ok()?;
    let rv2 = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "-o",
            "jsonpath={.metadata.resourceVersion}",
        ])?
        .ok()?;
    ensure!(
        rv1 == rv2,
        "an identical apply changes nothing ({rv1} -> {rv2})"
    );
    let managers = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "--show-managed-fields",
            "-o",
            "json",
        ])?
        .json()?;
    let entry = &managers["metadata"]["managedFields"][0];
    ensure!(
        entry["manager"] == "kubectl" && entry["operation"] == "Apply",
        "{managers}"
    );
    ensure!(
        entry["fieldsV1"]["f:spec"]["f:template"]["f:spec"]["f:containers"]
            ["k:{\"name\":\"main\"}"]
            .is_object(),
        "{managers}"
    );

    // Another writer takes spec.replicas; applying the old value is a conflict
    // worded as upstream, and --force-conflicts takes it back.
    c.kubectl(&["scale", "deploy", "ssa", "-n", "serverside", "--replicas=5"])?
        .ok()?;
    let err = c
        .kubectl_stdin(&["apply", "--server-side", "-f", "-"], SSA)?
        .err()?;
    ensure!(
        err.contains("Apply failed with 1 conflict: conflict with \"kubectl\" with subresource \"scale\" using apps/v1: .spec.replicas"),
        "{err}"
    );
    c.kubectl_stdin(
        &["apply", "--server-side", "--force-conflicts", "-f", "-"],
        SSA,
    )?
    .ok()?;
    let replicas = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "-o",
            "jsonpath={.spec.replicas}",
        ])?
        .ok()?;
    ensure!(replicas == "2", "{replicas}");

    // A field dropped from the applied config is removed from the object.
    let with_label = SSA.replace(
        "metadata: {name: ssa, namespace: serverside}",
        "metadata: {name: ssa, namespace: serverside, labels: {tier: web}}",
    );
    c.kubectl_stdin(&["apply", "--server-side", "-f", "-"], &with_label)?
        .ok()?;
    let labels = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "-o",
            "jsonpath={.metadata.labels}",
        ])?
        .ok()?;
    ensure!(labels.contains("tier"), "{labels}");
    c.kubectl_stdin(&["apply", "--server-side", "-f", "-"], SSA)?
        .ok()?;
    let labels = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "-o",
            "jsonpath={.metadata.labels}",
        ])?
        .ok()?;
    ensure!(!labels.contains("tier"), "{labels}");

    // Updates are recorded too: kubectl label is an Update by "kubectl-label".
    c.kubectl(&["label", "deploy", "ssa", "-n", "serverside", "owner=ops"])?
        .ok()?;
    let managed = c
        .kubectl(&[
            "get",
            "deploy",
            "ssa",
            "-n",
            "serverside",
            "--show-managed-fields",
            "-o",
            "json",
        ])?
        .json()?;
    let has_label_manager = managed["metadata"]["managedFields"]
        .as_array()
        .is_some_and(|m| {
            m.iter()
                .any(|e| e["manager"] == "kubectl-label" && e["operation"] == "Update")
        });
    ensure!(has_label_manager, "{managed}");
    Ok(())
}
