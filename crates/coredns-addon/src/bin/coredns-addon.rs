//! coredns-addon: the cluster DNS daemon.

use clap::Parser;
use coredns_addon::{daemon, options::Options};

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = Options::parse();
    daemon::init_logs(options.v, &options.logging_format);
    daemon::run(options, component_base::shutdown::signal()).await
}
