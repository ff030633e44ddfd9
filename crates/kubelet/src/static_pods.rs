//! Static pods: manifests in `staticPodPath` run on this node without the API server,
//! and each gets a mirror pod in the API so `kubectl get pods` shows it (upstream's file
//! config source + mirror client).
//!
//! * A manifest `<dir>/*.{yaml,yml,json}` (dotfiles ignored) holding one Pod runs as
//!   `<name>-<nodeName>` (namespace `default` unless set), with annotations
//!   `kubernetes.io/config.source: file`, `kubernetes.io/config.hash: <hash>` and
//!   `kubernetes.io/config.seen`. The uid is derived from the hash, so an edited file
//!   is a new pod: the old one stops, the new one starts.
//! * The mirror pod carries `kubernetes.io/config.mirror: <hash>` and an ownerReference
//!   to the Node. A missing mirror is created, one with another hash is replaced, one
//!   being deleted (e.g. `kubectl delete pod`) is removed at once and re-created, and a
//!   mirror without a manifest is deleted. The pod worker writes the static pod's
//!   status to its mirror (same namespace and name).
//! * The directory is read every `interval` (fileCheckFrequency).

use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::time::Duration;

use k8s_openapi::api::core::v1::{Node, Pod};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::OwnerReference;
use kube::api::{DeleteParams, ListParams, PostParams, Preconditions};
use kube::{Api, Client};
use tokio::sync::mpsc;

pub const ANNOTATION_SOURCE: &str = "kubernetes.io/config.source";
pub const ANNOTATION_HASH: &str = "kubernetes.io/config.hash";
pub const ANNOTATION_SEEN: &str = "kubernetes.io/config.seen";
pub const ANNOTATION_MIRROR: &str = "kubernetes.io/config.mirror";

/// Whether an API pod is a mirror pod (the kubelet does not run those itself).
pub fn is_mirror(pod: &Pod) -> bool {
    pod.metadata
        .annotations
        .as_ref()
        .is_some_and(|a| a.contains_key(ANNOTATION_MIRROR))
}

/// The manifest files of `dir`, sorted; a missing directory has none.
pub fn manifest_files(dir: &Path) -> Vec<PathBuf> {
    let Ok(entries) = std::fs::read_dir(dir) else {
        return Vec::new();
    };
    let mut out: Vec<PathBuf> = entries
        .flatten()
        .map(|e| e.path())
        .filter(|p| {
            let name = p.file_name().and_then(|n| n.to_str()).unwrap_or("");
            let ext = p.extension().and_then(|e| e.to_str()).unwrap_or("");
            !name.starts_with('.') && matches!(ext, "yaml" | "yml" | "json") && p.is_file()
        })
        .collect();
    out.sort();
    out
}

/// Parses one manifest (YAML or JSON) into a Pod.
pub fn parse_manifest(text: &str) -> Result<Pod, String> {
    let pod: Pod = serde_saphyr::from_str(text).map_err(|e| e.to_string())?;
    if pod.metadata.name.as_deref().is_none_or(str::is_empty) {
        return Err("metadata.name is required".into());
    }
    if pod.spec.as_ref().is_none_or(|s| s.containers.is_empty()) {
        return Err("spec.containers is required".into());
    }
    Ok(pod)
}

/// sha256 of the manifest's pod (as JSON), the node name and the file: the config hash.
fn config_hash(pod: &Pod, node_name: &str, source: &Path) -> String {
    let mut ctx = ring::digest::Context::new(&ring::digest::SHA256);
    ctx.update(&serde_json::to_vec(pod).unwrap_or_default());
    ctx.update(node_name.as_bytes());
    ctx.update(source.display().to_string().as_bytes());
    ctx.finish()
        .as_ref()
        .iter()
        .take(16)
        .map(|b| format!("{b:02x}"))
        .collect()
}

/// A 32-hex hash as a UUID (`8-4-4-4-12`), the shape pod uids have.
fn uid_of(hash: &str) -> String {
    format!(
        "{}-{}-{}-{}-{}",
        &hash[..8],
        &hash[8..12],
        &hash[12..16],
        &hash[16..20],
        &hash[20..32]
    )
}

/// The pod the kubelet runs for a manifest.
pub fn static_pod(manifest: &Pod, node_name: &str, source: &Path, seen: &str) -> Pod {
    let hash = config_hash(manifest, node_name, source);
    let mut pod = manifest.clone();
    let name = manifest.metadata.name.clone().unwrap_or_default();
    pod.metadata.name = Some(format!("{name}-{node_name}"));
    if pod.metadata.namespace.as_deref().is_none_or(str::is_empty) {
        pod.metadata.namespace = Some("default".into());
    }
    pod.metadata.uid = Some(uid_of(&hash));
    pod.metadata.resource_version = None;
    let ann = pod.metadata.annotations.get_or_insert_with(BTreeMap::new);
    ann.insert(ANNOTATION_SOURCE.into(), "file".into());
    ann.insert(ANNOTATION_HASH.into(), hash);
    ann.insert(ANNOTATION_SEEN.into(), seen.into());
    if let Some(spec) = pod.spec.as_mut() {
        spec.node_name = Some(node_name.into());
    }
    pod.status = None;
    pod
}

/// The mirror of a static pod, owned by the Node.
pub fn mirror_pod(static_pod: &Pod, node_name: &str, node_uid: &str) -> Pod {
    let mut m = static_pod.clone();
    m.metadata.uid = None;
    m.metadata.resource_version = None;
    let hash = m
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_HASH).cloned())
        .unwrap_or_default();
    m.metadata
        .annotations
        .get_or_insert_with(BTreeMap::new)
        .insert(ANNOTATION_MIRROR.into(), hash);
    m.metadata.owner_references = Some(vec![OwnerReference {
        api_version: "v1".into(),
        kind: "Node".into(),
        name: node_name.into(),
        uid: node_uid.into(),
        controller: Some(true),
        block_owner_deletion: None,
    }]);
    m
}

/// What to do with the API's mirror of a static pod.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum MirrorAction {
    Keep,
    Create,
    /// Delete (grace 0, uid precondition) then create.
    Replace {
        uid: String,
    },
}

/// Pure: compares the API's mirror (if any) with the static pod's hash.
pub fn mirror_action(existing: Option<&Pod>, hash: &str) -> MirrorAction {
    let Some(m) = existing else {
        return MirrorAction::Create;
    };
    let theirs = m
        .metadata
        .annotations
        .as_ref()
        .and_then(|a| a.get(ANNOTATION_MIRROR));
    let uid = m.metadata.uid.clone().unwrap_or_default();
    if m.metadata.deletion_timestamp.is_some() || theirs.map(String::as_str) != Some(hash) {
        MirrorAction::Replace { uid }
    } else {
        MirrorAction::Keep
    }
}

/// An update for the pod manager.
#[derive(Debug, Clone)]
pub enum StaticPodUpdate {
    /// A static pod to run (new, or seen again).
    Set(Box<Pod>),
    /// The static pod with this uid is gone (file removed or changed).
    Removed(String),
}

fn now_rfc3339() -> String {
    let d = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    k8s_openapi::jiff::Timestamp::new(i64::try_from(d.as_secs()).unwrap_or(0), 0)
        .map(|t| t.to_string())
        .unwrap_or_default()
}

/// Reads the manifests: uid -> static pod. Bad files are logged and skipped.
pub fn read_dir(
    dir: &Path,
    node_name: &str,
    seen: &HashMap<String, String>,
) -> BTreeMap<String, Pod> {
    let mut out = BTreeMap::new();
    for file in manifest_files(dir) {
        let parsed = std::fs::read_to_string(&file)
            .map_err(|e| e.to_string())
            .and_then(|t| parse_manifest(&t));
        match parsed {
            Ok(manifest) => {
                let hash = config_hash(&manifest, node_name, &file);
                let uid = uid_of(&hash);
                let seen_at = seen.get(&uid).cloned().unwrap_or_else(now_rfc3339);
                let pod = static_pod(&manifest, node_name, &file, &seen_at);
                out.insert(uid, pod);
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "static pod manifest skipped")
            }
        }
    }
    out
}

/// Watches `dir` every `interval`, feeding `tx`, and keeps the mirror pods in the API in
/// line, until `tx`'s receiver is dropped.
pub async fn run(
    dir: PathBuf,
    node_name: String,
    client: Client,
    interval: Duration,
    tx: mpsc::UnboundedSender<StaticPodUpdate>,
) {
    let mut current: BTreeMap<String, Pod> = BTreeMap::new();
    let mut seen: HashMap<String, String> = HashMap::new();
    let mut tick = tokio::time::interval(interval);
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    tracing::info!(dir = %dir.display(), "watching static pod manifests");
    loop {
        tick.tick().await;
        let (d, n, s) = (dir.clone(), node_name.clone(), seen.clone());
        let desired = match tokio::task::spawn_blocking(move || read_dir(&d, &n, &s)).await {
            Ok(d) => d,
            Err(e) => {
                tracing::warn!(error = %e, "reading static pods");
                continue;
            }
        };
        for uid in current.keys().filter(|u| !desired.contains_key(*u)) {
            if tx.send(StaticPodUpdate::Removed(uid.clone())).is_err() {
                return;
            }
        }
        for (uid, pod) in &desired {
            if !current.contains_key(uid) {
                tracing::info!(pod = ?pod.metadata.name, uid, "static pod");
                if tx
                    .send(StaticPodUpdate::Set(Box::new(pod.clone())))
                    .is_err()
                {
                    return;
                }
            }
        }
        seen = desired
            .iter()
            .filter_map(|(u, p)| {
                let at = p.metadata.annotations.as_ref()?.get(ANNOTATION_SEEN)?;
                Some((u.clone(), at.clone()))
            })
            .collect();
        current = desired;
        if let Err(e) = sync_mirrors(&client, &node_name, &current).await {
            tracing::warn!(error = %e, "syncing mirror pods");
        }
    }
}

/// Creates, replaces and deletes mirror pods so the API shows exactly the static pods.
pub async fn sync_mirrors(
    client: &Client,
    node_name: &str,
    pods: &BTreeMap<String, Pod>,
) -> Result<(), kube::Error> {
    let nodes: Api<Node> = Api::all(client.clone());
    let node_uid = nodes.get(node_name).await?.metadata.uid.unwrap_or_default();
    let all: Api<Pod> = Api::all(client.clone());
    let lp = ListParams::default().fields(&format!("spec.nodeName={node_name}"));
    let mirrors: Vec<Pod> = all
        .list(&lp)
        .await?
        .items
        .into_iter()
        .filter(is_mirror)
        .collect();
    let key = |p: &Pod| {
        (
            p.metadata.namespace.clone().unwrap_or_default(),
            p.metadata.name.clone().unwrap_or_default(),
        )
    };
    let by_key: HashMap<(String, String), &Pod> = mirrors.iter().map(|m| (key(m), m)).collect();
    let zero = |uid: String| DeleteParams {
        grace_period_seconds: Some(0),
        preconditions: Some(Preconditions {
            uid: Some(uid),
            resource_version: None,
        }),
        ..Default::default()
    };
    for pod in pods.values() {
        let (ns, name) = key(pod);
        let hash = pod
            .metadata
            .annotations
            .as_ref()
            .and_then(|a| a.get(ANNOTATION_HASH).cloned())
            .unwrap_or_default();
        let api: Api<Pod> = Api::namespaced(client.clone(), &ns);
        match mirror_action(by_key.get(&(ns.clone(), name.clone())).copied(), &hash) {
            MirrorAction::Keep => continue,
            MirrorAction::Replace { uid } => {
                tracing::info!(pod = %format!("{ns}/{name}"), "replacing mirror pod");
                match api.delete(&name, &zero(uid)).await {
                    Ok(_) => {}
                    Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
                    Err(e) => return Err(e),
                }
            }
            MirrorAction::Create => {}
        }
        match api
            .create(
                &PostParams::default(),
                &mirror_pod(pod, node_name, &node_uid),
            )
            .await
        {
            Ok(_) => tracing::info!(pod = %format!("{ns}/{name}"), "created mirror pod"),
            // A replaced mirror may still be there for a moment: next round.
            Err(kube::Error::Api(s)) if s.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    let wanted: std::collections::HashSet<(String, String)> = pods.values().map(key).collect();
    for m in &mirrors {
        let k = key(m);
        if wanted.contains(&k) {
            continue;
        }
        let api: Api<Pod> = Api::namespaced(client.clone(), &k.0);
        tracing::info!(pod = %format!("{}/{}", k.0, k.1), "deleting mirror pod without a manifest");
        match api
            .delete(&k.1, &zero(m.metadata.uid.clone().unwrap_or_default()))
            .await
        {
            Ok(_) => {}
            Err(kube::Error::Api(s)) if s.code == 404 || s.code == 409 => {}
            Err(e) => return Err(e),
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    const MANIFEST: &str = "apiVersion: v1\nkind: Pod\nmetadata:\n  name: web\nspec:\n  containers:\n  - name: app\n    image: busybox\n";

    #[test]
    fn manifests_become_node_named_pods_with_annotations() {
        let m = parse_manifest(MANIFEST).unwrap();
        let p = static_pod(
            &m,
            "n1",
            Path::new("/etc/k/web.yaml"),
            "2026-01-01T00:00:00Z",
        );
        assert_eq!(p.metadata.name.as_deref(), Some("web-n1"));
        assert_eq!(p.metadata.namespace.as_deref(), Some("default"));
        assert_eq!(p.spec.as_ref().unwrap().node_name.as_deref(), Some("n1"));
        let ann = p.metadata.annotations.clone().unwrap();
        assert_eq!(ann[ANNOTATION_SOURCE], "file");
        let hash = ann[ANNOTATION_HASH].clone();
        assert_eq!(hash.len(), 32);
        let uid = p.metadata.uid.clone().unwrap();
        assert_eq!(uid.replace('-', ""), hash);
        assert_eq!(uid.len(), 36);
        // Same input, same pod; another node or file or content, another uid.
        let again = static_pod(&m, "n1", Path::new("/etc/k/web.yaml"), "x");
        assert_eq!(again.metadata.uid, p.metadata.uid);
        assert_ne!(
            static_pod(&m, "n2", Path::new("/etc/k/web.yaml"), "x")
                .metadata
                .uid,
            p.metadata.uid
        );
        let edited = parse_manifest(&MANIFEST.replace("busybox", "busybox:1.36")).unwrap();
        assert_ne!(
            static_pod(&edited, "n1", Path::new("/etc/k/web.yaml"), "x")
                .metadata
                .uid,
            p.metadata.uid
        );
        assert!(!is_mirror(&p));

        let mirror = mirror_pod(&p, "n1", "node-uid");
        assert!(is_mirror(&mirror));
        assert_eq!(mirror.metadata.uid, None);
        assert_eq!(
            mirror.metadata.annotations.as_ref().unwrap()[ANNOTATION_MIRROR],
            hash
        );
        let owner = &mirror.metadata.owner_references.as_ref().unwrap()[0];
        assert_eq!(
            (owner.kind.as_str(), owner.name.as_str(), owner.uid.as_str()),
            ("Node", "n1", "node-uid")
        );
    }

    #[test]
    fn bad_manifests_are_errors() {
        assert!(parse_manifest("kind: Pod\nspec:\n  containers: []\n").is_err());
        assert!(parse_manifest("metadata:\n  name: x\n").is_err());
        assert!(parse_manifest("{{{").is_err());
        assert!(parse_manifest(
            r#"{"metadata":{"name":"j"},"spec":{"containers":[{"name":"c","image":"i"}]}}"#
        )
        .is_ok());
    }

    #[test]
    fn mirror_actions() {
        let m = parse_manifest(MANIFEST).unwrap();
        let p = static_pod(&m, "n1", Path::new("/f.yaml"), "x");
        let hash = p.metadata.annotations.as_ref().unwrap()[ANNOTATION_HASH].clone();
        assert_eq!(mirror_action(None, &hash), MirrorAction::Create);
        let mut mirror = mirror_pod(&p, "n1", "u");
        mirror.metadata.uid = Some("m1".into());
        assert_eq!(mirror_action(Some(&mirror), &hash), MirrorAction::Keep);
        assert_eq!(
            mirror_action(Some(&mirror), "other"),
            MirrorAction::Replace { uid: "m1".into() }
        );
        mirror.metadata.deletion_timestamp =
            Some(k8s_openapi::apimachinery::pkg::apis::meta::v1::Time(
                k8s_openapi::jiff::Timestamp::UNIX_EPOCH,
            ));
        assert_eq!(
            mirror_action(Some(&mirror), &hash),
            MirrorAction::Replace { uid: "m1".into() }
        );
    }

    #[test]
    fn only_manifest_files_are_read() {
        let dir = tempfile::tempdir().unwrap();
        for f in [
            "a.yaml",
            "b.json",
            "c.yml",
            ".hidden.yaml",
            "notes.txt",
            "bad.yaml",
        ] {
            let text = if f == "bad.yaml" { "nope: [" } else { MANIFEST };
            std::fs::write(
                dir.path().join(f),
                text.replace(
                    "web",
                    f.trim_end_matches(".yaml")
                        .trim_start_matches('.')
                        .split('.')
                        .next()
                        .unwrap_or("x"),
                ),
            )
            .unwrap();
        }
        let files = manifest_files(dir.path());
        assert_eq!(files.len(), 4, "{files:?}");
        let pods = read_dir(dir.path(), "n1", &HashMap::new());
        let mut names: Vec<String> = pods
            .values()
            .filter_map(|p| p.metadata.name.clone())
            .collect();
        names.sort();
        assert_eq!(names, vec!["a-n1", "b-n1", "c-n1"]);
        assert!(manifest_files(&dir.path().join("missing")).is_empty());
    }
}
