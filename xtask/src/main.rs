//! `cargo xtask <command>`: the project's own tooling.
//!
//! - `up`: install missing Debian packages, build the daemons, start etcd, kube-apiserver,
//!   kube-scheduler and kube-controller-manager in `.local-cluster/` (idempotent), write the
//!   admin kubeconfig; then (as root) a one-node cluster: containerd, the CNI conflist, the
//!   kubelet until the Node is Ready (`node.rs`), kube-proxy and coredns-addon.
//! - `images`: build the test images (.local-cluster/images/) and push them to a local
//!   registry on 127.0.0.1:5000 (started if not running).
//! - `down [--purge]`: stop them (kubelet, pod containers, containerd, control plane) and the
//!   registry; `--purge` also deletes `.local-cluster/`, the kubelet's `fk-*` network
//!   namespaces and the CNI conflist `up` wrote.
//! - `status`: what runs.
//! - `test`: packages, rustfmt, clippy, build, then `cargo test --workspace`.
//! - `bench <name>`: run a named benchmark.

mod apt;
mod bench;
mod images;
mod node;

use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Instant;

use anyhow::{bail, Context, Result};
use clap::{Parser, Subcommand};
use ferrokube_deploy::components::{self, Addon, AddonPaths};
use ferrokube_deploy::local_cluster::{
    running_pid, stop_dir, ClusterPaths, ClusterState, LocalCluster, LocalClusterConfig,
    DEFAULT_ETCD_BIN,
};

#[derive(Parser)]
#[command(
    name = "cargo xtask",
    bin_name = "cargo xtask",
    about = "ferrokube project tasks"
)]
struct Cli {
    #[command(subcommand)]
    command: Cmd,
}

#[derive(Subcommand)]
enum Cmd {
    /// Start (or keep) a local etcd + kube-apiserver in .local-cluster/ and, as root, a
    /// node (containerd + kubelet) for it.
    Up(UpArgs),
    /// Stop what `up` started.
    Down {
        /// Also delete .local-cluster/ (etcd data, PKI, logs), the kubelet's fk-* network
        /// namespaces and the CNI conflist `up` wrote.
        #[arg(long)]
        purge: bool,
    },
    /// Show what runs in .local-cluster/.
    Status,
    /// Build the test images into .local-cluster/images/ and push them to a local
    /// registry on 127.0.0.1:5000 (started if not running).
    Images(images::ImagesArgs),
    /// Lint, build and run the whole test suite (what CI runs).
    Test(TestArgs),
    /// Run a named benchmark (`cargo xtask bench --list`).
    Bench(bench::BenchArgs),
    /// Create (or check and reuse) a cluster PKI and an admin kubeconfig, e.g. for
    /// /etc/kubernetes/pki on a server.
    Pki(PkiArgs),
}

#[derive(clap::Args)]
struct PkiArgs {
    /// Directory for ca.crt/key, apiserver.crt/key, admin.crt/key.
    #[arg(long, value_name = "DIR")]
    dir: PathBuf,
    /// Extra IP or DNS name for the apiserver serving certificate (repeatable): the
    /// server's address and name as clients will use them.
    #[arg(long = "san", value_name = "NAME")]
    sans: Vec<String>,
    /// Also write an admin kubeconfig (client certificate) for this server URL...
    #[arg(long, value_name = "URL", requires = "kubeconfig")]
    server: Option<String>,
    /// ...to this file.
    #[arg(long, value_name = "FILE", requires = "server")]
    kubeconfig: Option<PathBuf>,
}

#[derive(clap::Args)]
struct UpArgs {
    /// kube-apiserver --secure-port.
    #[arg(long, default_value_t = 6443)]
    port: u16,
    /// etcd client port (not 2379, so a system etcd can run beside it).
    #[arg(long, default_value_t = 23790)]
    etcd_port: u16,
    /// etcd peer port.
    #[arg(long, default_value_t = 23800)]
    etcd_peer_port: u16,
    /// Build and run the release binary instead of the debug one.
    #[arg(long)]
    release: bool,
    /// Use kube-apiserver and kubelet from this directory; do not build.
    #[arg(long, value_name = "DIR")]
    bin_dir: Option<PathBuf>,
    /// Extra IP or DNS name for the serving certificate (repeatable).
    #[arg(long = "san", value_name = "NAME")]
    sans: Vec<String>,
}

#[derive(clap::Args)]
struct TestArgs {
    /// Skip `cargo fmt --check` and `cargo clippy`.
    #[arg(long)]
    no_lint: bool,
    /// Extra arguments for `cargo test` (after `--`), e.g. `-- -p ferrokube-e2e smoke`.
    #[arg(last = true)]
    cargo_test_args: Vec<String>,
}

fn main() {
    let cli = Cli::parse();
    let result = match cli.command {
        Cmd::Up(args) => up(args),
        Cmd::Down { purge } => down(purge),
        Cmd::Status => status(),
        Cmd::Images(args) => images::run(&local_cluster_dir(), args),
        Cmd::Test(args) => test(args),
        Cmd::Bench(args) => bench::run(args),
        Cmd::Pki(args) => pki(args),
    };
    if let Err(e) = result {
        eprintln!("xtask: error: {e:#}");
        std::process::exit(1);
    }
}

/// The workspace root: the parent of this crate's directory.
pub fn repo_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

fn local_cluster_dir() -> PathBuf {
    repo_root().join(".local-cluster")
}

/// `$CARGO_TARGET_DIR` or `<root>/target`.
fn target_dir() -> PathBuf {
    match std::env::var_os("CARGO_TARGET_DIR").map(PathBuf::from) {
        Some(t) if t.is_absolute() => t,
        Some(t) => repo_root().join(t),
        None => repo_root().join("target"),
    }
}

/// Runs `cargo <args>` in the repository root; fails if it fails.
pub fn cargo(args: &[&str], envs: &[(&str, &Path)]) -> Result<()> {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    eprintln!("xtask: cargo {}", args.join(" "));
    let start = Instant::now();
    let status = Command::new(&cargo)
        .args(args)
        .envs(envs.iter().map(|(k, v)| (k, v.as_os_str())))
        .current_dir(repo_root())
        .status()
        .with_context(|| format!("running cargo {}", args.join(" ")))?;
    if !status.success() {
        bail!("`cargo {}` failed ({status})", args.join(" "));
    }
    eprintln!(
        "xtask: cargo {} done in {:.0?}",
        args.join(" "),
        start.elapsed()
    );
    Ok(())
}

/// Every daemon's package: kube-apiserver, kubelet, kube-scheduler,
/// kube-controller-manager, kube-proxy, coredns-addon.
pub const DAEMON_PACKAGES: &[&str] = &[
    "apiserver",
    "kubelet",
    "scheduler",
    "controller-manager",
    "kube-proxy",
    "coredns-addon",
];

/// Builds the daemon binaries; returns the directory they are in.
pub fn build_binaries(release: bool) -> Result<PathBuf> {
    build_packages(DAEMON_PACKAGES, release)
}

fn build_packages(packages: &[&str], release: bool) -> Result<PathBuf> {
    let mut args = vec!["build"];
    for p in packages {
        args.extend(["-p", p]);
    }
    args.push("--bins");
    if release {
        args.push("--release");
    }
    cargo(&args, &[])?;
    Ok(target_dir().join(if release { "release" } else { "debug" }))
}

fn up(args: UpArgs) -> Result<()> {
    apt::ensure_packages()?;
    // The control plane must come up even if the kubelet does not build.
    let (bin_dir, kubelet_built) = match args.bin_dir {
        Some(dir) => (dir, Ok(())),
        None => match build_binaries(args.release) {
            Ok(dir) => (dir, Ok(())),
            Err(e) => {
                eprintln!("xtask: building the daemons failed; building kube-apiserver alone");
                (build_packages(&["apiserver"], args.release)?, Err(e))
            }
        },
    };
    let kubelet_bin = bin_dir.join("kubelet");
    let apiserver_bin = bin_dir.join("kube-apiserver");
    let dir = local_cluster_dir();
    let paths = ClusterPaths::new(&dir);
    if let (Some(pid), Ok(built)) = (
        running_pid(&paths.apiserver_pid),
        std::fs::metadata(&apiserver_bin).and_then(|m| m.modified()),
    ) {
        let started = std::fs::metadata(&paths.apiserver_pid).and_then(|m| m.modified());
        if started.map(|s| built > s).unwrap_or(false) {
            eprintln!(
                "xtask: note: kube-apiserver (pid {pid}) runs an older build; \
                 `cargo xtask down && cargo xtask up` runs the new one"
            );
        }
    }
    let mut config = LocalClusterConfig::new(&dir, &apiserver_bin);
    config.apiserver_port = Some(args.port);
    config.etcd_client_port = Some(args.etcd_port);
    config.etcd_peer_port = Some(args.etcd_peer_port);
    config.extra_sans = args.sans;
    config.detach = true;
    config.reuse_running = true;
    config.stop_on_drop = false;
    let cluster = LocalCluster::start(config).with_context(|| {
        format!(
            "starting the local cluster (logs in {}; `cargo xtask down` stops what did start)",
            paths.logs_dir.display()
        )
    })?;
    println!(
        "etcd            pid {:<8} {}   data {}",
        cluster.etcd_pid().unwrap_or(0),
        cluster.etcd_endpoint(),
        paths.etcd_data_dir.display()
    );
    println!(
        "kube-apiserver  pid {:<8} {}",
        cluster.apiserver_pid().unwrap_or(0),
        cluster.server_url()
    );
    println!("logs            {}", paths.logs_dir.display());
    println!(
        "admin token     in {} (kubeconfig {})",
        paths.token_file.display(),
        paths.admin_token_kubeconfig.display()
    );
    // The control plane's own daemons; a failure is reported, the rest still comes up.
    let node_name = ferrokube_deploy::node::hostname().unwrap_or_else(|_| "localhost".into());
    for addon in [Addon::Scheduler, Addon::ControllerManager] {
        start_addon(addon, &bin_dir, &cluster, &node_name);
    }
    let node = node::up(
        &cluster,
        kubelet_built
            .map(|()| kubelet_bin.as_path())
            .context("building the kubelet"),
    );
    if node.is_ok() {
        for addon in [Addon::KubeProxy, Addon::CoreDns] {
            start_addon(addon, &bin_dir, &cluster, &node_name);
        }
        match publish_kube_dns(&cluster, &node_name) {
            Ok(ip) => {
                println!("kube-dns        10.96.0.10 -> {ip}:53 (deploy/manifests/kube-dns.yaml)")
            }
            Err(e) => println!("kube-dns        FAILED: {e:#}"),
        }
    }
    println!();
    println!("export KUBECONFIG={}", cluster.admin_kubeconfig().display());
    cluster.keep_running();
    node.context(
        "the node did not come up (the control plane runs; `cargo xtask down` stops everything)",
    )
}

/// Starts (or adopts) one add-on daemon and prints a status line; failures are printed,
/// not fatal, so one broken daemon does not hide the others.
fn start_addon(addon: Addon, bin_dir: &Path, cluster: &LocalCluster, node_name: &str) {
    let paths = cluster.paths();
    if addon.needs_root() && !ferrokube_deploy::node::is_root() {
        println!("{:<15} not started (needs root)", addon.binary());
        return;
    }
    match components::ensure(
        addon,
        bin_dir,
        paths,
        cluster.pki(),
        &cluster.server_url(),
        node_name,
    ) {
        Ok((daemon, started)) => println!(
            "{:<15} pid {:<8} {}  log {}",
            addon.binary(),
            daemon.pid(),
            if started { "started" } else { "running" },
            daemon.log_file().display()
        ),
        Err(e) => println!("{:<15} FAILED: {e:#}", addon.binary()),
    }
}

/// Applies deploy/manifests/kube-dns.yaml with the node's InternalIP as the DNS
/// endpoint (the addon runs on the host); returns that address.
fn publish_kube_dns(cluster: &LocalCluster, node_name: &str) -> Result<String> {
    let resp = cluster.apiserver_get(
        &format!("/api/v1/nodes/{node_name}"),
        std::time::Duration::from_secs(10),
    )?;
    let node: serde_json::Value = serde_json::from_str(&resp.body).context("decoding the Node")?;
    let ip = node["status"]["addresses"]
        .as_array()
        .and_then(|a| a.iter().find(|a| a["type"] == "InternalIP"))
        .and_then(|a| a["address"].as_str())
        .context("the Node has no InternalIP")?
        .to_string();
    let manifest = ferrokube_deploy::components::kube_dns_manifest(&ip);
    let mut child = Command::new("kubectl")
        .arg("--kubeconfig")
        .arg(cluster.admin_kubeconfig())
        .args(["apply", "-f", "-"])
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::null())
        .spawn()
        .context("running kubectl apply")?;
    if let Some(mut stdin) = child.stdin.take() {
        use std::io::Write;
        stdin.write_all(manifest.as_bytes())?;
    }
    let status = child.wait()?;
    if !status.success() {
        bail!("kubectl apply -f deploy/manifests/kube-dns.yaml failed ({status})");
    }
    Ok(ip)
}

fn down(purge: bool) -> Result<()> {
    let dir = local_cluster_dir();
    if !dir.exists() {
        println!("nothing to stop: {} does not exist", dir.display());
        return Ok(());
    }
    let stopped = components::stop_all(&dir)?;
    for (name, pid) in &stopped {
        println!("stopped {name} (pid {pid})");
    }
    if stopped.iter().any(|(name, _)| *name == "kube-proxy") {
        for table in components::remove_kube_proxy_rules() {
            println!("removed nftables table {table}");
        }
    }
    node::down(&dir, purge)?;
    let report = stop_dir(
        &dir,
        Path::new("kube-apiserver"),
        Path::new(DEFAULT_ETCD_BIN),
    )?;
    match report.apiserver_pid {
        Some(pid) => println!("stopped kube-apiserver (pid {pid})"),
        None => println!("kube-apiserver was not running"),
    }
    match report.etcd_pid {
        Some(pid) => println!("stopped etcd (pid {pid})"),
        None => println!("etcd was not running"),
    }
    if let Some(pid) = images::stop_registry(&dir)? {
        println!("stopped docker-registry (pid {pid})");
    }
    if purge {
        std::fs::remove_dir_all(&dir).with_context(|| format!("removing {}", dir.display()))?;
        println!("removed {}", dir.display());
    } else {
        println!(
            "kept {} (etcd data, PKI, logs); `cargo xtask down --purge` removes it",
            dir.display()
        );
    }
    Ok(())
}

fn pki(args: PkiArgs) -> Result<()> {
    use ferrokube_deploy::pki::{ensure_pki_with, PkiOptions};
    let pki = ensure_pki_with(
        &args.dir,
        &PkiOptions {
            extra_sans: args.sans,
        },
    )?;
    for pair in [pki.ca(), pki.apiserver(), pki.admin()] {
        println!("{}  {}", pair.cert.display(), pair.key.display());
    }
    if let (Some(server), Some(path)) = (args.server, args.kubeconfig) {
        ferrokube_deploy::Kubeconfig::admin(
            &pki,
            ferrokube_deploy::local_cluster::CLUSTER_NAME,
            &server,
        )?
        .write(&path)?;
        println!("{}", path.display());
    }
    Ok(())
}

fn status() -> Result<()> {
    let dir = local_cluster_dir();
    let registry_pid = ferrokube_deploy::images::RegistryPaths::new(&dir).pid_file;
    if let Some(pid) = running_pid(&registry_pid) {
        println!(
            "docker-registry running (pid {pid})  http://{}",
            images::REGISTRY_ADDR
        );
    }
    let paths = ClusterPaths::new(&dir);
    let Some(state) = ClusterState::load(&paths)? else {
        println!(
            "no local cluster in {} (`cargo xtask up` starts one)",
            dir.display()
        );
        return Ok(());
    };
    let show = |name: &str, pid_file: &Path, url: String| match running_pid(pid_file) {
        Some(pid) => println!("{name:<15} running (pid {pid})  {url}"),
        None => println!("{name:<15} stopped           {url}"),
    };
    show(
        "etcd",
        &paths.etcd_pid,
        format!("http://127.0.0.1:{}", state.etcd_client_port),
    );
    show(
        "kube-apiserver",
        &paths.apiserver_pid,
        format!("https://127.0.0.1:{}", state.apiserver_port),
    );
    for addon in Addon::ALL {
        let p = AddonPaths::new(&paths, addon);
        show(addon.binary(), &p.pid, p.log.display().to_string());
    }
    node::status(&dir);
    println!("kubeconfig      {}", paths.admin_kubeconfig.display());
    Ok(())
}

fn test(args: TestArgs) -> Result<()> {
    let start = Instant::now();
    apt::ensure_packages()?;
    if !args.no_lint {
        ensure_rustup_component("fmt", "rustfmt");
        ensure_rustup_component("clippy", "clippy");
        cargo(&["fmt", "--all", "--", "--check"], &[])?;
        cargo(
            &[
                "clippy",
                "--workspace",
                "--all-targets",
                "--",
                "-D",
                "warnings",
            ],
            &[],
        )?;
    }
    let bin_dir = build_binaries(false)?;
    let mut test_args = vec!["test"];
    let picks_packages = args
        .cargo_test_args
        .iter()
        .any(|a| a == "-p" || a.starts_with("--package") || (a.starts_with("-p") && a.len() > 2));
    if !picks_packages {
        test_args.push("--workspace");
    }
    test_args.extend(args.cargo_test_args.iter().map(String::as_str));
    cargo(&test_args, &[("FERROKUBE_BIN_DIR", &bin_dir)])?;
    eprintln!("xtask: test finished in {:.0?}", start.elapsed());
    Ok(())
}

/// `cargo <sub> --version` works, or try `rustup component add <component>`.
fn ensure_rustup_component(sub: &str, component: &str) {
    let cargo = std::env::var_os("CARGO").unwrap_or_else(|| "cargo".into());
    let ok = Command::new(&cargo)
        .args([sub, "--version"])
        .output()
        .map(|o| o.status.success())
        .unwrap_or(false);
    if !ok {
        eprintln!("xtask: cargo {sub} is missing; trying `rustup component add {component}`");
        let _ = Command::new("rustup")
            .args(["component", "add", component])
            .status();
    }
}
