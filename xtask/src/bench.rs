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

/// One named benchmark: a binary of the e2e crate (`tests/src/bin/<bin>.rs`), run in
/// release mode against the release daemons of `packages` (found through
/// `FERROKUBE_BIN_DIR`).
pub struct Benchmark {
    pub name: &'static str,
    pub about: &'static str,
    pub bin: &'static str,
    pub packages: &'static [&'static str],
}

/// Every benchmark `cargo xtask bench` knows.
pub const BENCHMARKS: &[Benchmark] = &[
    Benchmark {
        name: "apiserver",
        about: "kube-apiserver request throughput and latency against a local cluster",
        bin: "apiserver-bench",
        packages: &["apiserver"],
    },
    Benchmark {
        name: "scheduler",
        about: "kube-scheduler pods/s and creation->bound latency on 1,000 hollow nodes, 10,000 pods",
        bin: "scheduler-bench",
        packages: &["apiserver", "scheduler"],
    },
    Benchmark {
        name: "controllers",
        about: "Deployment scaled 0 -> 3,000 replicas on hollow nodes until bound + Running, then a rolling update",
        bin: "controllers-bench",
        packages: &["apiserver", "scheduler", "controller-manager"],
    },
    Benchmark {
        name: "kubelet",
        about: "30 pods created at once on one node (containerd + kubelet): create->Running p50/p99, delete all, kubelet RSS (root)",
        bin: "kubelet-bench",
        packages: &["apiserver", "kubelet"],
    },
    Benchmark {
        name: "proxy",
        about: "kube-proxy nftables full sync and one-endpoint change at 1k/5k/10k Services (root)",
        bin: "proxy-bench",
        packages: &[],
    },
    Benchmark {
        name: "dns",
        about: "coredns-addon queries/s with dnsperf, next to NSD serving the same names",
        bin: "dns-bench",
        packages: &["apiserver", "coredns-addon"],
    },
];

fn run_benchmark(b: &Benchmark, args: &[String]) -> Result<()> {
    crate::apt::ensure_packages()?;
    let mut envs = Vec::new();
    if !b.packages.is_empty() {
        envs.push((
            "FERROKUBE_BIN_DIR",
            crate::build_packages(b.packages, true)?,
        ));
    }
    let mut cargo_args = vec![
        "run",
        "--release",
        "-p",
        "ferrokube-e2e",
        "--bin",
        b.bin,
        "--",
    ];
    cargo_args.extend(args.iter().map(String::as_str));
    let envs: Vec<(&str, &std::path::Path)> = envs.iter().map(|(k, v)| (*k, v.as_path())).collect();
    crate::cargo(&cargo_args, &envs)
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
        Some(b) => run_benchmark(b, &args.args),
        None => bail!("unknown benchmark `{name}`; benchmarks:\n{}", list()),
    }
}
