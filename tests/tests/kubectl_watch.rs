//! `kubectl get -w` against our watch: tables on the stream, changes in order.

use std::time::Duration;

use anyhow::{ensure, Result};
use ferrokube_e2e::TestCluster;

#[test]
fn kubectl_get_watch_prints_each_change() -> Result<()> {
    let c = TestCluster::shared()?;
    c.kubectl(&["create", "namespace", "watched"])?.ok()?;
    c.kubectl(&[
        "create",
        "configmap",
        "before",
        "-n",
        "watched",
        "--from-literal=a=1",
    ])?
    .ok()?;
    let out = std::thread::scope(|s| -> Result<String> {
        let watcher = s.spawn(|| {
            c.kubectl(&[
                "get",
                "configmaps",
                "-n",
                "watched",
                "-w",
                "--request-timeout=8s",
            ])
        });
        std::thread::sleep(Duration::from_secs(2));
        c.kubectl(&[
            "create",
            "configmap",
            "during",
            "-n",
            "watched",
            "--from-literal=a=1",
            "--from-literal=b=2",
        ])?
        .ok()?;
        c.kubectl(&["label", "configmap", "before", "-n", "watched", "x=y"])?
            .ok()?;
        c.kubectl(&["delete", "configmap", "before", "-n", "watched"])?
            .ok()?;
        let output = watcher
            .join()
            .map_err(|_| anyhow::anyhow!("watcher thread panicked"))??;
        Ok(output.stdout)
    })?;
    let lines: Vec<&str> = out.lines().collect();
    ensure!(
        lines
            .first()
            .is_some_and(|l| l.split_whitespace().collect::<Vec<_>>() == ["NAME", "DATA", "AGE"]),
        "{out}"
    );
    ensure!(
        lines.iter().filter(|l| l.contains("NAME")).count() == 1,
        "one header line:\n{out}"
    );
    let names: Vec<&str> = lines[1..]
        .iter()
        .filter_map(|l| l.split_whitespace().next())
        .collect();
    ensure!(
        names.first() == Some(&"before"),
        "the initial state first:\n{out}"
    );
    ensure!(names.contains(&"during"), "the created object:\n{out}");
    ensure!(
        names.iter().filter(|n| **n == "before").count() >= 3,
        "initial, label change and delete of `before`:\n{out}"
    );
    let during = lines
        .iter()
        .find(|l| l.starts_with("during"))
        .copied()
        .unwrap_or("");
    ensure!(
        during.split_whitespace().nth(1) == Some("2"),
        "DATA column: {during}"
    );
    Ok(())
}

#[test]
fn kubectl_watch_only_with_label_selector() -> Result<()> {
    let c = TestCluster::shared()?;
    c.kubectl(&["create", "namespace", "selected"])?.ok()?;
    let out = std::thread::scope(|s| -> Result<String> {
        let watcher = s.spawn(|| {
            c.kubectl(&[
                "get",
                "configmaps",
                "-n",
                "selected",
                "-l",
                "team=a",
                "--watch-only",
                "-o",
                "name",
                "--request-timeout=6s",
            ])
        });
        std::thread::sleep(Duration::from_secs(2));
        c.kubectl(&["create", "configmap", "other", "-n", "selected"])?
            .ok()?;
        c.kubectl(&["create", "configmap", "mine", "-n", "selected"])?
            .ok()?;
        // Entering the selection is seen as an addition.
        c.kubectl(&["label", "configmap", "mine", "-n", "selected", "team=a"])?
            .ok()?;
        let output = watcher
            .join()
            .map_err(|_| anyhow::anyhow!("watcher thread panicked"))??;
        Ok(output.stdout)
    })?;
    ensure!(
        out.lines().collect::<Vec<_>>() == ["configmap/mine"],
        "{out}"
    );
    Ok(())
}
