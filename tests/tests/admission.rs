//! The admission plugins upstream enables by default that shape a pod before it is
//! stored: Priority (priorityClassName -> priority, unknown class refused) and
//! DefaultTolerationSeconds; and the objects the apiserver bootstraps for them.

use anyhow::{ensure, Result};
use ferrokube_e2e::TestCluster;

fn pod(name: &str, extra_spec: &str) -> String {
    format!(
        r#"{{"apiVersion":"v1","kind":"Pod","metadata":{{"name":"{name}"}},
            "spec":{{{extra_spec}"containers":[{{"name":"c","image":"busybox"}}]}}}}"#
    )
}

#[test]
fn priority_class_name_resolves_and_unknown_is_forbidden() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "admission-priority";
    c.kubectl(&["create", "namespace", ns])?.ok()?;

    // The system classes exist from the start.
    let out = c
        .kubectl(&[
            "get",
            "priorityclass",
            "system-node-critical",
            "-o",
            "jsonpath={.value}",
        ])?
        .ok()?;
    ensure!(out.trim() == "2000001000", "system-node-critical: {out}");

    c.kubectl_stdin(
        &["apply", "-f", "-"],
        r#"{"apiVersion":"scheduling.k8s.io/v1","kind":"PriorityClass","metadata":{"name":"admission-high"},"value":1000,"preemptionPolicy":"Never"}"#,
    )?
    .ok()?;
    c.kubectl_stdin(
        &["-n", ns, "create", "-f", "-"],
        &pod("high", r#""priorityClassName":"admission-high","#),
    )?
    .ok()?;
    let got = c
        .kubectl(&[
            "-n",
            ns,
            "get",
            "pod",
            "high",
            "-o",
            "jsonpath={.spec.priority} {.spec.preemptionPolicy}",
        ])?
        .ok()?;
    ensure!(got.trim() == "1000 Never", "priority and policy: {got}");

    let err = c
        .kubectl_stdin(
            &["-n", ns, "create", "-f", "-"],
            &pod("nope", r#""priorityClassName":"no-such-class","#),
        )?
        .err()?;
    ensure!(
        err.contains(
            r#"pods "nope" is forbidden: no PriorityClass with name no-such-class was found"#
        ),
        "{err}"
    );
    let missing = c.kubectl(&["-n", ns, "get", "pod", "nope"])?;
    ensure!(!missing.success(), "the refused pod must not be stored");
    c.kubectl(&["delete", "priorityclass", "admission-high"])?
        .ok()?;
    c.kubectl(&["delete", "namespace", ns, "--wait=false"])?
        .ok()?;
    Ok(())
}

#[test]
fn pods_get_the_default_not_ready_and_unreachable_tolerations() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = "admission-tolerations";
    c.kubectl(&["create", "namespace", ns])?.ok()?;
    c.kubectl_stdin(&["-n", ns, "create", "-f", "-"], &pod("p", ""))?
        .ok()?;
    let got = c
        .kubectl(&[
            "-n",
            ns,
            "get",
            "pod",
            "p",
            "-o",
            r#"jsonpath={range .spec.tolerations[*]}{.key}={.tolerationSeconds};{end}"#,
        ])?
        .ok()?;
    ensure!(
        got.contains("node.kubernetes.io/not-ready=300;")
            && got.contains("node.kubernetes.io/unreachable=300;"),
        "tolerations: {got}"
    );
    c.kubectl(&["delete", "namespace", ns, "--wait=false"])?
        .ok()?;
    Ok(())
}
