//! kubectl logs / exec / attach / port-forward / nodes proxy against our apiserver, for
//! what the apiserver decides before it reaches a kubelet: upstream's Status errors for
//! a pod without a node, an unknown container, a pod with several containers, a node
//! that does not exist, and a kubelet that cannot be reached. (The full streams through
//! a real kubelet and containerd are tested in crates/kubelet/tests/streaming.rs.)

use anyhow::Result;
use ferrokube_e2e::TestCluster;

fn pod(name: &str, node: Option<&str>, containers: &[&str]) -> String {
    let node = node
        .map(|n| format!("  nodeName: {n}\n"))
        .unwrap_or_default();
    let mut y = format!(
        "apiVersion: v1\nkind: Pod\nmetadata:\n  name: {name}\nspec:\n{node}  containers:\n"
    );
    for c in containers {
        y.push_str(&format!("  - name: {c}\n    image: busybox\n"));
    }
    y
}

fn create(c: &TestCluster, ns: &str, yaml: &str) -> Result<()> {
    c.kubectl_stdin(&["-n", ns, "create", "-f", "-"], yaml)?
        .ok()?;
    Ok(())
}

#[test]
fn apiserver_checks_before_reaching_the_kubelet() -> Result<()> {
    let c = TestCluster::shared()?;
    let ns = format!("streams-{}", std::process::id());
    c.kubectl(&["create", "namespace", &ns])?.ok()?;

    // No node yet: 400 "does not have a host assigned", for logs and exec alike.
    create(c, &ns, &pod("unscheduled", None, &["app"]))?;
    let err = c.kubectl(&["-n", &ns, "logs", "unscheduled"])?.err()?;
    assert!(
        err.contains("pod unscheduled does not have a host assigned"),
        "{err}"
    );
    let err = c
        .kubectl(&["-n", &ns, "exec", "unscheduled", "--", "true"])?
        .err()?;
    assert!(err.contains("does not have a host assigned"), "{err}");

    // Unknown container: upstream's message.
    let err = c
        .kubectl(&["-n", &ns, "logs", "unscheduled", "-c", "nope"])?
        .err()?;
    assert!(
        err.contains("container nope is not valid for pod unscheduled"),
        "{err}"
    );

    // Several containers and no container parameter (kubectl picks one itself, so ask
    // the API directly): the choices are listed.
    create(c, &ns, &pod("two", Some("fk-no-such-node"), &["a", "b"]))?;
    let err = c
        .kubectl(&[
            "get",
            "--raw",
            &format!("/api/v1/namespaces/{ns}/pods/two/log"),
        ])?
        .err()?;
    assert!(
        err.contains("a container name must be specified for pod two, choose one of: [a b]"),
        "{err}"
    );

    // A node name that has no Node object.
    let err = c.kubectl(&["-n", &ns, "logs", "two", "-c", "a"])?.err()?;
    assert!(err.contains("node \"fk-no-such-node\" not found"), "{err}");

    // A Node whose kubelet does not answer: 503 naming the address.
    let node = format!(
        "apiVersion: v1\nkind: Node\nmetadata:\n  name: fk-dead-node-{}\n",
        std::process::id()
    );
    c.kubectl_stdin(&["create", "-f", "-"], &node)?.ok()?;
    let node_name = format!("fk-dead-node-{}", std::process::id());
    // Status is a subresource: set an address and a closed kubelet port through it.
    let closed = std::net::TcpListener::bind("127.0.0.1:0")?
        .local_addr()?
        .port();
    let patch = format!(
        "{{\"status\":{{\"addresses\":[{{\"type\":\"InternalIP\",\"address\":\"127.0.0.1\"}}],\
         \"daemonEndpoints\":{{\"kubeletEndpoint\":{{\"Port\":{closed}}}}}}}}}"
    );
    c.kubectl(&[
        "patch",
        "node",
        &node_name,
        "--subresource=status",
        "--type=merge",
        "-p",
        &patch,
    ])?
    .ok()?;
    create(c, &ns, &pod("stranded", Some(&node_name), &["app"]))?;
    let err = c.kubectl(&["-n", &ns, "logs", "stranded"])?.err()?;
    assert!(
        err.contains(&format!("error dialing the kubelet at 127.0.0.1:{closed}")),
        "{err}"
    );
    let err = c
        .kubectl(&[
            "get",
            "--raw",
            &format!("/api/v1/nodes/{node_name}/proxy/healthz"),
        ])?
        .err()?;
    assert!(err.contains("error dialing the kubelet"), "{err}");

    c.kubectl(&["delete", "node", &node_name])?.ok()?;
    c.kubectl(&["delete", "namespace", &ns, "--wait=false"])?
        .ok()?;
    Ok(())
}
