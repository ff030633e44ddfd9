//! The API client every daemon but the apiserver builds from its flags: `--kubeconfig`
//! (else in-cluster / `$KUBECONFIG` / `~/.kube/config` discovery), with `--master`
//! overriding the server URL, as upstream's clientcmd does.

use std::path::Path;

use anyhow::Context;

pub async fn build(
    kubeconfig: Option<&Path>,
    master: Option<&str>,
) -> anyhow::Result<kube::Client> {
    let mut config = match kubeconfig {
        Some(path) => {
            let kc = kube::config::Kubeconfig::read_from(path)
                .with_context(|| format!("reading --kubeconfig {}", path.display()))?;
            kube::Config::from_custom_kubeconfig(kc, &kube::config::KubeConfigOptions::default())
                .await
                .with_context(|| format!("loading --kubeconfig {}", path.display()))?
        }
        None => kube::Config::infer()
            .await
            .context("no --kubeconfig given and no in-cluster or default config found")?,
    };
    if let Some(m) = master {
        config.cluster_url = m
            .parse()
            .with_context(|| format!("--master {m:?} is not a URL"))?;
    }
    kube::Client::try_from(config).context("building the API client")
}
