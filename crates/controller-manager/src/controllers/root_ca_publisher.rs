//! The root CA publisher (upstream pkg/controller/certificates/rootcacertpublisher):
//! the ConfigMap `kube-root-ca.crt` with key `ca.crt` in every namespace, restored when
//! edited or deleted. The CA comes from --root-ca-file, or — when that flag is not
//! given — from the certificate authority of the controller manager's kubeconfig.

use std::collections::BTreeMap;
use std::sync::Arc;

use anyhow::Context as _;
use k8s_openapi::api::core::v1::{ConfigMap, Namespace};
use k8s_openapi::apimachinery::pkg::apis::meta::v1::ObjectMeta;
use kube::api::{Api, PostParams};
use kube::runtime::reflector::Store;
use kube::runtime::watcher;

use super::endpointslice::informer::{is_conflict, is_not_found, Change, Informer};
use super::serviceaccount::is_active;
use crate::context::ControllerContext;
use crate::options::ControllerManagerOptions;
use crate::workqueue::{run_workers, WorkQueue};

pub const ROOT_CA_CONFIGMAP: &str = "kube-root-ca.crt";
pub const DESCRIPTION_ANNOTATION: &str = "kubernetes.io/description";
pub const DESCRIPTION: &str = "Contains a CA bundle that can be used to verify the kube-apiserver when using internal endpoints such as the internal service IP or kubernetes.default.svc. No other usage is guaranteed across distributions of Kubernetes clusters.";
pub const DATA_KEY: &str = "ca.crt";

/// What to write for one namespace.
#[derive(Debug, PartialEq)]
pub enum Action {
    Nothing,
    Create(ConfigMap),
    Update(ConfigMap),
}

/// Pure: the write that makes `existing` hold `ca` with upstream's annotation.
pub fn plan(namespace: &str, ca: &str, existing: Option<&ConfigMap>) -> Action {
    let data = BTreeMap::from([(DATA_KEY.to_string(), ca.to_string())]);
    match existing {
        None => Action::Create(ConfigMap {
            metadata: ObjectMeta {
                name: Some(ROOT_CA_CONFIGMAP.to_string()),
                namespace: Some(namespace.to_string()),
                annotations: Some(BTreeMap::from([(
                    DESCRIPTION_ANNOTATION.to_string(),
                    DESCRIPTION.to_string(),
                )])),
                ..Default::default()
            },
            data: Some(data),
            ..Default::default()
        }),
        Some(cm) => {
            let annotated = cm
                .metadata
                .annotations
                .as_ref()
                .and_then(|a| a.get(DESCRIPTION_ANNOTATION))
                .map(String::as_str)
                == Some(DESCRIPTION);
            if cm.data.as_ref() == Some(&data) && annotated && cm.binary_data.is_none() {
                return Action::Nothing;
            }
            let mut cm = cm.clone();
            cm.data = Some(data);
            cm.binary_data = None;
            cm.metadata
                .annotations
                .get_or_insert_with(Default::default)
                .insert(DESCRIPTION_ANNOTATION.to_string(), DESCRIPTION.to_string());
            Action::Update(cm)
        }
    }
}

/// The CA bundle to publish: --root-ca-file, else the kubeconfig's cluster CA.
pub fn load_root_ca(options: &ControllerManagerOptions) -> anyhow::Result<String> {
    if let Some(path) = &options.root_ca_file {
        return std::fs::read_to_string(path)
            .with_context(|| format!("reading --root-ca-file {}", path.display()));
    }
    let path = options
        .kubeconfig
        .as_ref()
        .context("neither --root-ca-file nor --kubeconfig is set: no root CA to publish")?;
    let kc = kube::config::Kubeconfig::read_from(path)
        .with_context(|| format!("reading --kubeconfig {}", path.display()))?;
    let context_name = kc.current_context.clone().unwrap_or_default();
    let cluster_name = kc
        .contexts
        .iter()
        .find(|c| c.name == context_name)
        .and_then(|c| c.context.as_ref())
        .map(|c| c.cluster.clone());
    let cluster = kc
        .clusters
        .iter()
        .find(|c| Some(&c.name) == cluster_name.as_ref())
        .or_else(|| kc.clusters.first())
        .and_then(|c| c.cluster.as_ref())
        .with_context(|| format!("{} names no cluster", path.display()))?;
    if let Some(data) = &cluster.certificate_authority_data {
        use base64::Engine as _;
        let bytes = base64::engine::general_purpose::STANDARD
            .decode(data.trim())
            .with_context(|| format!("certificate-authority-data in {}", path.display()))?;
        return String::from_utf8(bytes).with_context(|| {
            format!(
                "certificate-authority-data in {} is not PEM",
                path.display()
            )
        });
    }
    if let Some(file) = &cluster.certificate_authority {
        let file = std::path::Path::new(file);
        let file = if file.is_relative() {
            path.parent()
                .unwrap_or(std::path::Path::new("."))
                .join(file)
        } else {
            file.to_path_buf()
        };
        return std::fs::read_to_string(&file)
            .with_context(|| format!("reading certificate-authority {}", file.display()));
    }
    anyhow::bail!(
        "no --root-ca-file and the kubeconfig {} has no certificate authority",
        path.display()
    )
}

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let ca = Arc::new(load_root_ca(&ctx.options)?);
    let client = ctx.client.clone();
    let queue: WorkQueue<String> = ctx.queue("root_ca_cert_publisher");
    let q = queue.clone();
    let namespaces = Informer::start(
        Api::<Namespace>::all(client.clone()),
        watcher::Config::default(),
        move |c| {
            if let Change::Applied(ns) = c {
                if let Some(n) = &ns.metadata.name {
                    q.add(n.clone());
                }
            }
        },
    );
    let q = queue.clone();
    let ns_store = namespaces.store.clone();
    let configmaps = Informer::start(
        Api::<ConfigMap>::all(client.clone()),
        watcher::Config::default().fields(&format!("metadata.name={ROOT_CA_CONFIGMAP}")),
        move |c| match c {
            Change::Applied(cm) | Change::Deleted(cm) => {
                if let Some(ns) = &cm.metadata.namespace {
                    q.add(ns.clone());
                }
            }
            Change::Resynced => {
                for ns in ns_store.state() {
                    if let Some(n) = &ns.metadata.name {
                        q.add(n.clone());
                    }
                }
            }
        },
    );
    namespaces.synced().await?;
    configmaps.synced().await?;
    let ns_store = namespaces.store.clone();
    let cm_store = configmaps.store.clone();
    tokio::select! {
        _ = run_workers(queue.clone(), 1, move |ns: String| {
            let client = client.clone();
            let ns_store = ns_store.clone();
            let cm_store = cm_store.clone();
            let ca = ca.clone();
            async move { sync(&client, &ns_store, &cm_store, &ca, &ns).await }
        }) => {}
        _ = ctx.stopped() => queue.shut_down(),
    }
    Ok(())
}

async fn sync(
    client: &kube::Client,
    namespaces: &Store<Namespace>,
    configmaps: &Store<ConfigMap>,
    ca: &str,
    name: &str,
) -> anyhow::Result<()> {
    let Some(ns) = namespaces.find(|n| n.metadata.name.as_deref() == Some(name)) else {
        return Ok(());
    };
    if !is_active(&ns) {
        return Ok(());
    }
    let existing = configmaps.find(|c| {
        c.metadata.namespace.as_deref() == Some(name)
            && c.metadata.name.as_deref() == Some(ROOT_CA_CONFIGMAP)
    });
    let api: Api<ConfigMap> = Api::namespaced(client.clone(), name);
    let result = match plan(name, ca, existing.as_deref()) {
        Action::Nothing => return Ok(()),
        Action::Create(cm) => api.create(&PostParams::default(), &cm).await.map(|_| ()),
        Action::Update(cm) => api
            .replace(ROOT_CA_CONFIGMAP, &PostParams::default(), &cm)
            .await
            .map(|_| ()),
    };
    match result {
        Ok(()) => Ok(()),
        // Raced with the watch: the next event brings us back with fresh state.
        Err(e) if is_conflict(&e) || is_not_found(&e) => Ok(()),
        Err(kube::Error::Api(s)) if s.code == 403 && s.message.contains("being terminated") => {
            Ok(())
        }
        Err(e) => Err(e).with_context(|| format!("writing {name}/{ROOT_CA_CONFIGMAP}")),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn created_then_left_alone_then_restored_when_edited() {
        let Action::Create(cm) = plan("team", "PEM", None) else {
            panic!("expected create")
        };
        assert_eq!(cm.metadata.name.as_deref(), Some(ROOT_CA_CONFIGMAP));
        assert_eq!(cm.data.as_ref().unwrap()[DATA_KEY], "PEM");
        assert_eq!(
            cm.metadata.annotations.as_ref().unwrap()[DESCRIPTION_ANNOTATION],
            DESCRIPTION
        );
        assert_eq!(plan("team", "PEM", Some(&cm)), Action::Nothing);

        let mut edited = cm.clone();
        edited
            .data
            .as_mut()
            .unwrap()
            .insert(DATA_KEY.into(), "tampered".into());
        edited.metadata.annotations = None;
        let Action::Update(fixed) = plan("team", "PEM", Some(&edited)) else {
            panic!("expected update")
        };
        assert_eq!(fixed.data.as_ref().unwrap()[DATA_KEY], "PEM");
        assert_eq!(
            fixed.metadata.annotations.as_ref().unwrap()[DESCRIPTION_ANNOTATION],
            DESCRIPTION
        );
    }

    #[test]
    fn ca_comes_from_the_kubeconfig_when_no_file_is_given() {
        use base64::Engine as _;
        let dir = std::env::temp_dir().join(format!("rootca-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let kc = dir.join("kubeconfig");
        let data =
            base64::engine::general_purpose::STANDARD.encode("-----BEGIN CERTIFICATE-----\nX\n");
        std::fs::write(
            &kc,
            format!(
                "apiVersion: v1\nkind: Config\nclusters:\n- name: c\n  cluster:\n    server: https://127.0.0.1:6443\n    certificate-authority-data: {data}\ncontexts:\n- name: x\n  context:\n    cluster: c\n    user: u\ncurrent-context: x\nusers:\n- name: u\n  user: {{}}\n"
            ),
        )
        .unwrap();
        let mut o = ControllerManagerOptions {
            kubeconfig: Some(kc),
            ..Default::default()
        };
        assert_eq!(
            load_root_ca(&o).unwrap(),
            "-----BEGIN CERTIFICATE-----\nX\n"
        );
        let f = dir.join("ca.pem");
        std::fs::write(&f, "FILE").unwrap();
        o.root_ca_file = Some(f);
        assert_eq!(load_root_ca(&o).unwrap(), "FILE");
        std::fs::remove_dir_all(&dir).unwrap();
    }
}
