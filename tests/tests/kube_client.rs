//! The kube-rs client against our apiserver: optimistic concurrency, watches from a
//! resourceVersion, 410 for compacted revisions, and an etcd restart under load.

use std::collections::{BTreeMap, BTreeSet};
use std::time::Duration;

use anyhow::{ensure, Context, Result};
use ferrokube_e2e::TestCluster;
use futures::{StreamExt, TryStreamExt};
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use kube::api::{Api, ObjectMeta, PostParams, WatchEvent, WatchParams};
use kube::Client;

async fn namespace(client: &Client, name: &str) -> Result<()> {
    let api: Api<Namespace> = Api::all(client.clone());
    let ns = Namespace {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        ..Default::default()
    };
    api.create(&PostParams::default(), &ns).await?;
    Ok(())
}

fn cm(name: &str, data: &[(&str, &str)]) -> ConfigMap {
    ConfigMap {
        metadata: ObjectMeta {
            name: Some(name.into()),
            ..Default::default()
        },
        data: Some(
            data.iter()
                .map(|(k, v)| (k.to_string(), v.to_string()))
                .collect::<BTreeMap<_, _>>(),
        ),
        ..Default::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn concurrent_updates_lose_nothing() -> Result<()> {
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    namespace(&client, "concurrency").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "concurrency");
    api.create(&PostParams::default(), &cm("counter", &[("n", "0")]))
        .await?;

    // A stale resourceVersion is refused with 409.
    let stale = api.get("counter").await?;
    let mut first = stale.clone();
    first
        .data
        .get_or_insert_default()
        .insert("n".into(), "0".into());
    first
        .data
        .get_or_insert_default()
        .insert("touched".into(), "yes".into());
    api.replace("counter", &PostParams::default(), &first)
        .await?;
    let err = api.replace("counter", &PostParams::default(), &stale).await;
    match err {
        Err(kube::Error::Api(s)) => ensure!(s.code == 409 && s.reason == "Conflict", "{s:?}"),
        other => anyhow::bail!("a stale update must get 409, got {other:?}"),
    }

    // 8 writers x 10 increments, each a read-modify-write with retry on conflict.
    let writers = 8;
    let per = 10;
    let mut tasks = Vec::new();
    for _ in 0..writers {
        let api = api.clone();
        tasks.push(tokio::spawn(async move {
            let mut conflicts = 0u32;
            for _ in 0..per {
                loop {
                    let mut cur = api.get("counter").await?;
                    let n: u64 = cur
                        .data
                        .as_ref()
                        .and_then(|d| d.get("n"))
                        .and_then(|v| v.parse().ok())
                        .unwrap_or(0);
                    cur.data
                        .get_or_insert_default()
                        .insert("n".into(), (n + 1).to_string());
                    match api.replace("counter", &PostParams::default(), &cur).await {
                        Ok(_) => break,
                        Err(kube::Error::Api(s)) if s.code == 409 => conflicts += 1,
                        Err(e) => return Err(anyhow::Error::from(e)),
                    }
                }
            }
            Ok::<u32, anyhow::Error>(conflicts)
        }));
    }
    let mut conflicts = 0;
    for t in tasks {
        conflicts += t.await??;
    }
    let end = api.get("counter").await?;
    let n = end
        .data
        .as_ref()
        .and_then(|d| d.get("n"))
        .cloned()
        .unwrap_or_default();
    ensure!(
        n == (writers * per).to_string(),
        "expected {} increments, counter says {n} ({conflicts} conflicts)",
        writers * per
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_resource_version_sees_every_change() -> Result<()> {
    let c = TestCluster::shared()?;
    let client = c.client().await?;
    namespace(&client, "watching").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "watching");
    let created = api.create(&PostParams::default(), &cm("w0", &[])).await?;
    let rv = created
        .metadata
        .resource_version
        .clone()
        .context("no resourceVersion")?;
    api.create(&PostParams::default(), &cm("w1", &[])).await?;
    api.create(&PostParams::default(), &cm("w2", &[])).await?;
    api.delete("w1", &Default::default()).await?;

    let mut stream = api
        .watch(&WatchParams::default().timeout(10), &rv)
        .await?
        .boxed();
    let mut seen = Vec::new();
    while seen.len() < 3 {
        let ev = tokio::time::timeout(Duration::from_secs(10), stream.try_next()).await??;
        match ev {
            Some(WatchEvent::Added(o)) => {
                seen.push(format!("ADDED {}", o.metadata.name.unwrap_or_default()))
            }
            Some(WatchEvent::Deleted(o)) => {
                seen.push(format!("DELETED {}", o.metadata.name.unwrap_or_default()))
            }
            Some(WatchEvent::Modified(o)) => {
                seen.push(format!("MODIFIED {}", o.metadata.name.unwrap_or_default()))
            }
            Some(WatchEvent::Bookmark(_)) => {}
            Some(WatchEvent::Error(e)) => anyhow::bail!("watch error {e:?}"),
            None => break,
        }
    }
    ensure!(seen == ["ADDED w1", "ADDED w2", "DELETED w1"], "{seen:?}");

    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn watch_from_a_revision_out_of_the_window_is_410_expired() -> Result<()> {
    // A small watch-cache window so a few writes push the first revision out of it.
    let c = TestCluster::start_with(ferrokube_e2e::TestClusterOptions {
        extra_apiserver_args: vec!["--watch-cache-history=5".into()],
        ..Default::default()
    })?;
    let client = c.client().await?;
    namespace(&client, "window").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "window");
    let first = api
        .create(&PostParams::default(), &cm("first", &[]))
        .await?;
    let rv = first
        .metadata
        .resource_version
        .clone()
        .context("no resourceVersion")?;
    for i in 0..10 {
        api.create(&PostParams::default(), &cm(&format!("more-{i}"), &[]))
            .await?;
    }
    let mut old = api
        .watch(&WatchParams::default().timeout(5), &rv)
        .await?
        .boxed();
    match tokio::time::timeout(Duration::from_secs(10), old.try_next()).await? {
        Ok(Some(WatchEvent::Error(e))) => ensure!(e.code == 410 && e.reason == "Expired", "{e:?}"),
        Err(kube::Error::Api(e)) => ensure!(e.code == 410, "{e:?}"),
        other => anyhow::bail!(
            "a watch from a revision out of the window must be 410 Expired, got {other:?}"
        ),
    }
    // A LIST at that exact revision still works while etcd has not compacted it.
    let lp = kube::api::ListParams::default()
        .at(&rv)
        .matching(kube::api::VersionMatch::Exact);
    let listed = api.list(&lp).await?;
    ensure!(
        listed
            .items
            .iter()
            .any(|o| o.metadata.name.as_deref() == Some("first")),
        "exact list"
    );
    Ok(())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn etcd_restart_under_load_loses_no_event() -> Result<()> {
    // Its own cluster: this test stops etcd.
    let c = TestCluster::start()?;
    let client = c.client().await?;
    namespace(&client, "restart").await?;
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), "restart");
    let start = api
        .create(&PostParams::default(), &cm("start", &[]))
        .await?;
    let rv = start
        .metadata
        .resource_version
        .clone()
        .context("no resourceVersion")?;

    let watch_api = api.clone();
    let watcher = tokio::spawn(async move {
        let mut names = BTreeSet::new();
        let mut from = rv;
        // Re-watch from the last seen revision whenever the stream ends, as informers do.
        let deadline = tokio::time::Instant::now() + Duration::from_secs(90);
        while tokio::time::Instant::now() < deadline {
            let Ok(stream) = watch_api
                .watch(&WatchParams::default().timeout(20), &from)
                .await
            else {
                tokio::time::sleep(Duration::from_millis(200)).await;
                continue;
            };
            let mut stream = stream.boxed();
            while let Ok(Some(ev)) = stream.try_next().await {
                if let WatchEvent::Added(o) = ev {
                    from = o.metadata.resource_version.clone().unwrap_or(from);
                    let name = o.metadata.name.unwrap_or_default();
                    if name == "done" {
                        return names;
                    }
                    names.insert(name);
                }
            }
        }
        names
    });

    let writer_api = api.clone();
    let writer = tokio::spawn(async move {
        let mut ok = BTreeSet::new();
        let mut failed = 0;
        for i in 0..150 {
            let name = format!("load-{i}");
            match writer_api
                .create(&PostParams::default(), &cm(&name, &[]))
                .await
            {
                Ok(_) => {
                    ok.insert(name);
                }
                Err(_) => failed += 1,
            }
            tokio::time::sleep(Duration::from_millis(40)).await;
        }
        (ok, failed)
    });

    tokio::time::sleep(Duration::from_secs(1)).await;
    c.stop_etcd()?;
    tokio::time::sleep(Duration::from_secs(3)).await;
    c.start_etcd()?;
    let (created, failed) = writer.await?;

    // After the outage, requests succeed again.
    let mut after = None;
    for _ in 0..50 {
        if let Ok(o) = api.create(&PostParams::default(), &cm("done", &[])).await {
            after = Some(o);
            break;
        }
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
    ensure!(after.is_some(), "writes still fail after etcd came back");
    let seen = tokio::time::timeout(Duration::from_secs(60), watcher).await??;
    let missing: Vec<_> = created.difference(&seen).collect();
    ensure!(
        missing.is_empty(),
        "the watch missed {missing:?} ({} created, {failed} failed during the outage)",
        created.len()
    );
    ensure!(
        created.len() > 50,
        "too few writes succeeded: {}",
        created.len()
    );
    Ok(())
}
