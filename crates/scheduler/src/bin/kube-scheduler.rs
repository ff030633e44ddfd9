//! kube-scheduler: see the `scheduler` library.
use clap::Parser;

/// Exit status for an invalid configuration file, so that systemd
/// (RestartPreventExitStatus=2) does not restart into the same error.
const EXIT_INVALID_CONFIG: u8 = 2;

#[tokio::main]
async fn main() -> std::process::ExitCode {
    let opts = scheduler::options::Options::parse();
    component_base::logs::init(opts.v, &opts.logging_format);
    match scheduler::run(opts, component_base::shutdown::signal()).await {
        Ok(()) => std::process::ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("E kube-scheduler: {e:#}");
            if e.downcast_ref::<scheduler::config::ConfigError>().is_some() {
                std::process::ExitCode::from(EXIT_INVALID_CONFIG)
            } else {
                std::process::ExitCode::FAILURE
            }
        }
    }
}
