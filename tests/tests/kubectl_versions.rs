//! Every kubectl minor installed on the machine (1.27 to 1.33 beside the cloud SDK as
//! `kubectl.1.XX`) drives the apiserver: discovery, protobuf creates, apply with
//! OpenAPI, tables.

use std::path::PathBuf;
use std::process::Command;

use anyhow::{ensure, Context, Result};
use ferrokube_e2e::TestCluster;

/// The versioned kubectl binaries found, plus the default one.
fn kubectls() -> Vec<PathBuf> {
    let mut found = vec![ferrokube_e2e::kubectl_binary()];
    for dir in [
        "/usr/lib/google-cloud-sdk/bin",
        "/usr/local/bin",
        "/usr/bin",
    ] {
        for minor in 27..=33 {
            let p = PathBuf::from(dir).join(format!("kubectl.1.{minor}"));
            if p.exists() && !found.iter().any(|f| f.file_name() == p.file_name()) {
                found.push(p);
            }
        }
    }
    found
}

fn run(
    kubectl: &PathBuf,
    c: &TestCluster,
    cache: &std::path::Path,
    args: &[&str],
    stdin: Option<&str>,
) -> Result<String> {
    use std::io::Write;
    let mut cmd = Command::new(kubectl);
    cmd.arg("--kubeconfig")
        .arg(c.kubeconfig_path())
        .arg("--cache-dir")
        .arg(cache)
        .args(args);
    cmd.stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running {}", kubectl.display()))?;
    if let (Some(input), Some(mut pipe)) = (stdin, child.stdin.take()) {
        pipe.write_all(input.as_bytes())?;
    }
    let out = child.wait_with_output()?;
    ensure!(
        out.status.success(),
        "{} {args:?} failed: {}",
        kubectl.display(),
        String::from_utf8_lossy(&out.stderr)
    );
    ensure!(
        !String::from_utf8_lossy(&out.stderr).contains("version difference"),
        "skew warning: {}",
        String::from_utf8_lossy(&out.stderr)
    );
    Ok(String::from_utf8_lossy(&out.stdout).into_owned())
}

#[test]
fn every_installed_kubectl_minor_works() -> Result<()> {
    let c = TestCluster::shared()?;
    for (i, kubectl) in kubectls().iter().enumerate() {
        let cache = c.dir().join(format!("cache-{i}"));
        let ns = format!("minor-{i}");
        run(kubectl, c, &cache, &["create", "namespace", &ns], None)?;
        run(
            kubectl,
            c,
            &cache,
            &["create", "deployment", "gen", "-n", &ns, "--image=busybox"],
            None,
        )?;
        let manifest = format!(
            "apiVersion: v1\nkind: ConfigMap\nmetadata: {{name: applied, namespace: {ns}}}\ndata: {{a: '1'}}\n"
        );
        run(kubectl, c, &cache, &["apply", "-f", "-"], Some(&manifest))?;
        let again = run(kubectl, c, &cache, &["apply", "-f", "-"], Some(&manifest))?;
        ensure!(
            again.contains("unchanged"),
            "{}: {again}",
            kubectl.display()
        );
        let table = run(kubectl, c, &cache, &["get", "deploy,cm", "-n", &ns], None)?;
        ensure!(
            table.contains("deployment.apps/gen") && table.contains("configmap/applied"),
            "{}: {table}",
            kubectl.display()
        );
        let resources = run(kubectl, c, &cache, &["api-resources", "-o", "name"], None)?;
        ensure!(
            resources.lines().any(|l| l == "deployments.apps"),
            "{}: {resources}",
            kubectl.display()
        );
        let explain = run(
            kubectl,
            c,
            &cache,
            &["explain", "deployment.spec.strategy"],
            None,
        )?;
        ensure!(
            explain.contains("rollingUpdate"),
            "{}: {explain}",
            kubectl.display()
        );
    }
    Ok(())
}
