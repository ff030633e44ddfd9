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
pub const BENCHMARKS: &[Benchmark] = &[Benchmark {
    name: "apiserver",
    about: "kube-apiserver request throughput and latency against a local cluster",
    run: apiserver,
}];

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
