//! ferrokube-log-driver: containerd's binary logging driver for the kubelet's CRI log
//! files. containerd's runc shim starts it as `ferrokube-log-driver log <file>` with the
//! container's stdout on fd 3, stderr on fd 4 and a ready pipe on fd 5 (see
//! `kubelet::logs::driver`).

use std::process::ExitCode;

fn main() -> ExitCode {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let Some(path) = kubelet::logs::driver::parse_args(&args) else {
        eprintln!("usage: ferrokube-log-driver log <file> (started by containerd's shim)");
        return ExitCode::from(2);
    };
    match kubelet::logs::driver::run(&path) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("ferrokube-log-driver {}: {e}", path.display());
            ExitCode::FAILURE
        }
    }
}
