//! `cargo xtask bench <name> [args...]`: named benchmarks. Each writes its figures with the
//! machine and the command that produced them, for docs/benchmarks.md.

use anyhow::{bail, Result};

#[derive(clap::Args)]
pub struct BenchArgs {
    /// List the benchmarks.
    #[arg(long)]
    list: bool,
    /// The benchmark to run.
    name: Option<String>,
    /// Arguments for the benchmark.
    #[arg(trailing_var_arg = true, allow_hyphen_values = true)]
    args: Vec<String>,
}

/// One named benchmark.
pub struct Benchmark {
    pub name: &'static str,
    pub about: &'static str,
    pub run: fn(&[String]) -> Result<()>,
}

/// Every benchmark `cargo xtask bench` knows.
pub const BENCHMARKS: &[Benchmark] = &[
    Benchmark {
        name: "apiserver",
        about: "kube-apiserver request throughput and latency against a local cluster",
        run: apiserver,
    },
    // coredns-addon (issue 6).
    Benchmark {
        name: "dns",
        about: "coredns-addon queries/s with dnsperf, next to NSD serving the same names",
        run: dns,
    },
    // kube-proxy (issue 6).
    Benchmark {
        name: "proxy",
        about: "kube-proxy nftables full sync and one-endpoint change at 1k/5k/10k Services (root)",
        run: proxy,
    },
    // kube-scheduler (issue 5).
    Benchmark {
        name: "scheduler",
        about: "kube-scheduler pods/s and creation->bound latency on 1,000 hollow nodes, 10,000 pods",
        run: scheduler,
    },
    // kube-controller-manager workload controllers (issue 5).
    Benchmark {
        name: "controllers",
        about: "Deployment scaled 0 -> 3,000 replicas on hollow nodes until bound + Running, then a rolling update",
        run: controllers,
    },
    // kubelet (issue 4).
    Benchmark {
        name: "kubelet",
        about: "30 pods created at once on one node (containerd + kubelet): create->Running p50/p99, delete all, kubelet RSS (root)",
        run: kubelet,
    },
];

/// `tests/src/bin/kubelet-bench.rs` against release kube-apiserver and kubelet, with
/// containerd and the CNI bridge network (root).
fn kubelet(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let bin_dir = crate::build_packages(&["apiserver", "kubelet"], true)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "kubelet-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])
}

/// `tests/src/bin/controllers-bench.rs` against release kube-apiserver, kube-scheduler
/// and kube-controller-manager.
fn controllers(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let bin_dir = crate::build_packages(&["apiserver", "scheduler", "controller-manager"], true)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "controllers-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])
}

/// `tests/src/bin/scheduler-bench.rs` against release kube-apiserver and kube-scheduler.
fn scheduler(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let bin_dir = crate::build_packages(&["apiserver", "scheduler"], true)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "scheduler-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])
}

/// `tests/src/bin/proxy-bench.rs`: kube-proxy's renderer and proxier against the real
/// `nft` in a private network namespace (root).
fn proxy(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "proxy-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[])
}

/// `tests/src/bin/dns-bench.rs` against release kube-apiserver and coredns-addon.
fn dns(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let bin_dir = crate::build_packages(&["apiserver", "coredns-addon"], true)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "dns-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])
}

/// `tests/src/bin/apiserver-bench.rs` against a release kube-apiserver.
fn apiserver(args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let bin_dir = crate::build_binaries(true)?;
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        "apiserver-bench",
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    crate::cargo(&cargo_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])
}

pub fn run(args: BenchArgs) -> Result<()> {
    let list = || {
        BENCHMARKS
            .iter()
            .map(|b| format!("  {:<12} {}", b.name, b.about))
            .collect::<Vec<_>>()
            .join("\n")
    };
    if args.list {
        println!("benchmarks:\n{}", list());
        return Ok(());
    }
    let Some(name) = args.name else {
        bail!(
            "which benchmark? `cargo xtask bench <name>`; benchmarks:\n{}",
            list()
        );
    };
    match BENCHMARKS.iter().find(|b| b.name == name) {
        Some(b) => (b.run)(&args.args),
        None => bail!("unknown benchmark `{name}`; benchmarks:\n{}", list()),
    }
}
