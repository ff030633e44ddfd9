//! kube-controller-manager: parse upstream flags, run the controllers until SIGTERM.

use clap::Parser;
use controller_manager::ControllerManagerOptions;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let options = ControllerManagerOptions::parse();
    component_base::logs::init(options.v, &options.logging_format);
    controller_manager::run(options, component_base::shutdown::signal()).await
}
