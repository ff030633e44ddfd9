//! kube-proxy: Services -> nftables.

use anyhow::Context;
use clap::Parser;
use kube_proxy::config::{Flags, KubeProxyConfiguration, Settings};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let flags = Flags::parse();
    component_base::logs::init(flags.v, &flags.logging_format);
    let file = flags
        .config
        .as_deref()
        .map(KubeProxyConfiguration::load)
        .transpose()?;
    let hostname = std::fs::read_to_string("/proc/sys/kernel/hostname").unwrap_or_default();
    let settings = Settings::resolve(&flags, file.as_ref(), hostname.trim())?;
    let nft = kube_proxy::nft::Nft::new();
    if flags.cleanup {
        let netlink = kube_proxy::netlink::Netlink::open(None).context("netlink socket")?;
        for family in [kube_proxy::model::Family::V4, kube_proxy::model::Family::V6] {
            netlink
                .delete_table(family)
                .await
                .with_context(|| format!("deleting the {} table", family.nft()))?;
        }
        return Ok(());
    }
    let client = kube_proxy::daemon::client(settings.kubeconfig.as_deref()).await?;
    kube_proxy::daemon::run(settings, client, nft, component_base::shutdown::signal()).await
}
