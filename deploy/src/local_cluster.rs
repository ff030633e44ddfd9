//! A one-machine cluster: a real etcd and kube-apiserver on loopback, with their PKI, token
//! file, kubeconfigs, logs and pid files in one directory.
//!
//! Directory layout ([`ClusterPaths`]):
//!
//! ```text
//! <dir>/cluster.json              ports and etcd member name, reused by later starts
//! <dir>/pki/                      ca, apiserver and admin certificates (see crate::pki)
//! <dir>/tokens.csv                --token-auth-file (the admin token)
//! <dir>/etcd/                     etcd data directory
//! <dir>/logs/etcd.log, logs/kube-apiserver.log
//! <dir>/run/etcd.pid, run/kube-apiserver.pid
//! <dir>/admin.kubeconfig          CN=kubernetes-admin, O=system:masters client certificate
//! <dir>/admin-token.kubeconfig    the same powers through the bearer token
//! ```

use std::collections::HashSet;
use std::net::{Ipv4Addr, SocketAddr, SocketAddrV4, TcpListener};
use std::path::{Path, PathBuf};
use std::sync::Mutex;
use std::thread;
use std::time::{Duration, Instant};

use anyhow::{anyhow, bail, Context, Result};
use serde::{Deserialize, Serialize};

use crate::fsutil::{read_to_string, write_public};
use crate::http::{http_get, https_get, tls_client_config};
use crate::kubeconfig::Kubeconfig;
use crate::pki::{ensure_pki_with, Pki, PkiOptions, ADMIN_GROUP};
use crate::process::{pid_alive, read_pid_file, stop_pid_file, Daemon, DaemonSpec};
use crate::token_file::{generate_token, read_token_file, write_token_file, TokenEntry};

/// Debian's etcd.
pub const DEFAULT_ETCD_BIN: &str = "/usr/bin/etcd";
/// The service range the apiserver is started with (its first IP is in the serving cert).
pub const SERVICE_CLUSTER_IP_RANGE: &str = "10.96.0.0/12";
/// User name of the admin bearer token in `tokens.csv`.
pub const ADMIN_TOKEN_USER: &str = "admin";
/// Name of the cluster in the generated kubeconfigs.
pub const CLUSTER_NAME: &str = "ferrokube";

const STOP_GRACE: Duration = Duration::from_secs(15);
const START_ATTEMPTS: usize = 3;

/// Where everything of a local cluster lives.
#[derive(Debug, Clone)]
pub struct ClusterPaths {
    pub dir: PathBuf,
    pub state_file: PathBuf,
    pub pki_dir: PathBuf,
    pub token_file: PathBuf,
    pub etcd_data_dir: PathBuf,
    pub logs_dir: PathBuf,
    pub run_dir: PathBuf,
    pub etcd_log: PathBuf,
    pub apiserver_log: PathBuf,
    pub etcd_pid: PathBuf,
    pub apiserver_pid: PathBuf,
    pub admin_kubeconfig: PathBuf,
    pub admin_token_kubeconfig: PathBuf,
}

impl ClusterPaths {
    pub fn new(dir: impl Into<PathBuf>) -> ClusterPaths {
        let dir = dir.into();
        ClusterPaths {
            state_file: dir.join("cluster.json"),
            pki_dir: dir.join("pki"),
            token_file: dir.join("tokens.csv"),
            etcd_data_dir: dir.join("etcd"),
            logs_dir: dir.join("logs"),
            run_dir: dir.join("run"),
            etcd_log: dir.join("logs/etcd.log"),
            apiserver_log: dir.join("logs/kube-apiserver.log"),
            etcd_pid: dir.join("run/etcd.pid"),
            apiserver_pid: dir.join("run/kube-apiserver.pid"),
            admin_kubeconfig: dir.join("admin.kubeconfig"),
            admin_token_kubeconfig: dir.join("admin-token.kubeconfig"),
            dir,
        }
    }
}

/// How to start a [`LocalCluster`].
#[derive(Debug, Clone)]
pub struct LocalClusterConfig {
    /// The cluster directory (created if missing).
    pub dir: PathBuf,
    /// The `kube-apiserver` binary.
    pub apiserver_bin: PathBuf,
    /// The `etcd` binary ([`DEFAULT_ETCD_BIN`]).
    pub etcd_bin: PathBuf,
    /// `--secure-port`; `None`: the port of an earlier start in this directory, else a free one.
    pub apiserver_port: Option<u16>,
    /// etcd client port; `None` as above.
    pub etcd_client_port: Option<u16>,
    /// etcd peer port; `None` as above.
    pub etcd_peer_port: Option<u16>,
    /// Extra IPs / DNS names for the serving certificate.
    pub extra_sans: Vec<String>,
    /// Appended to the kube-apiserver command line (so they can override the defaults).
    pub extra_apiserver_args: Vec<String>,
    /// Run the daemons detached, so they outlive this process (`cargo xtask up`); otherwise
    /// they die with it.
    pub detach: bool,
    /// Adopt daemons already running from this directory (live pid file) instead of
    /// starting new ones.
    pub reuse_running: bool,
    /// Stop the daemons when the [`LocalCluster`] is dropped.
    pub stop_on_drop: bool,
    pub etcd_ready_timeout: Duration,
    pub apiserver_ready_timeout: Duration,
}

impl LocalClusterConfig {
    /// Defaults for a throw-away cluster: free ports, attached daemons, stopped on drop.
    pub fn new(dir: impl Into<PathBuf>, apiserver_bin: impl Into<PathBuf>) -> LocalClusterConfig {
        LocalClusterConfig {
            dir: dir.into(),
            apiserver_bin: apiserver_bin.into(),
            etcd_bin: PathBuf::from(DEFAULT_ETCD_BIN),
            apiserver_port: None,
            etcd_client_port: None,
            etcd_peer_port: None,
            extra_sans: Vec::new(),
            extra_apiserver_args: Vec::new(),
            detach: false,
            reuse_running: false,
            stop_on_drop: true,
            etcd_ready_timeout: Duration::from_secs(30),
            apiserver_ready_timeout: Duration::from_secs(60),
        }
    }
}

/// What is remembered between starts in one directory.
#[derive(Debug, Clone, Serialize, Deserialize, PartialEq, Eq)]
#[serde(rename_all = "camelCase")]
pub struct ClusterState {
    pub etcd_name: String,
    pub apiserver_port: u16,
    pub etcd_client_port: u16,
    pub etcd_peer_port: u16,
}

impl ClusterState {
    /// Reads `cluster.json`; `Ok(None)` if there is none.
    pub fn load(paths: &ClusterPaths) -> Result<Option<ClusterState>> {
        if !paths.state_file.exists() {
            return Ok(None);
        }
        let text = read_to_string(&paths.state_file)?;
        serde_json::from_str(&text)
            .map(Some)
            .with_context(|| format!("parsing {}", paths.state_file.display()))
    }

    fn save(&self, paths: &ClusterPaths) -> Result<()> {
        let text = serde_json::to_string_pretty(self).context("serializing cluster state")?;
        write_public(&paths.state_file, format!("{text}\n").as_bytes())
    }
}

/// Which daemon.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Component {
    Etcd,
    Apiserver,
}

/// A running local cluster. See the module documentation.
pub struct LocalCluster {
    config: LocalClusterConfig,
    paths: ClusterPaths,
    state: ClusterState,
    pki: Pki,
    admin_token: String,
    /// Ports this cluster chose itself (and may choose again if they turn out to be taken).
    auto_ports: AutoPorts,
    etcd: Option<Daemon>,
    apiserver: Option<Daemon>,
}

#[derive(Debug, Clone, Copy, Default)]
struct AutoPorts {
    apiserver: bool,
    etcd: bool,
}

impl std::fmt::Debug for LocalCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("LocalCluster")
            .field("dir", &self.paths.dir)
            .field("state", &self.state)
            .field("etcd_pid", &self.etcd.as_ref().map(Daemon::pid))
            .field("apiserver_pid", &self.apiserver.as_ref().map(Daemon::pid))
            .finish()
    }
}

impl LocalCluster {
    /// Writes the PKI, token file and kubeconfigs, then starts etcd and kube-apiserver (or
    /// adopts running ones, with `reuse_running`) and waits until etcd's `/health` and the
    /// apiserver's `/readyz` answer.
    pub fn start(config: LocalClusterConfig) -> Result<LocalCluster> {
        let mut cluster = LocalCluster::prepare(config)?;
        cluster.start_etcd()?;
        cluster.start_apiserver()?;
        Ok(cluster)
    }

    /// Everything [`LocalCluster::start`] does but starting the daemons.
    pub fn prepare(config: LocalClusterConfig) -> Result<LocalCluster> {
        let dir = absolute(&config.dir)?;
        let paths = ClusterPaths::new(&dir);
        for d in [&paths.dir, &paths.logs_dir, &paths.run_dir] {
            std::fs::create_dir_all(d).with_context(|| format!("creating {}", d.display()))?;
        }
        if !config.apiserver_bin.is_file() {
            bail!(
                "kube-apiserver binary {} does not exist",
                config.apiserver_bin.display()
            );
        }
        if !config.etcd_bin.is_file() {
            bail!(
                "etcd binary {} does not exist (Debian: apt-get install etcd-server)",
                config.etcd_bin.display()
            );
        }
        let pki = ensure_pki_with(
            &paths.pki_dir,
            &PkiOptions {
                extra_sans: config.extra_sans.clone(),
            },
        )?;
        let admin_token = ensure_admin_token(&paths.token_file)?;

        let previous = ClusterState::load(&paths)?;
        let mut auto_ports = AutoPorts::default();
        let pick = |wanted: Option<u16>, prev: Option<u16>, auto: &mut bool| -> Result<u16> {
            match wanted.or(prev) {
                Some(p) => Ok(p),
                None => {
                    *auto = true;
                    free_port()
                }
            }
        };
        let apiserver_port = pick(
            config.apiserver_port,
            previous.as_ref().map(|s| s.apiserver_port),
            &mut auto_ports.apiserver,
        )?;
        let mut etcd_auto = false;
        let etcd_client_port = pick(
            config.etcd_client_port,
            previous.as_ref().map(|s| s.etcd_client_port),
            &mut etcd_auto,
        )?;
        let etcd_peer_port = pick(
            config.etcd_peer_port,
            previous.as_ref().map(|s| s.etcd_peer_port),
            &mut etcd_auto,
        )?;
        auto_ports.etcd = etcd_auto;
        let etcd_name = previous
            .as_ref()
            .map(|s| s.etcd_name.clone())
            .unwrap_or_else(|| format!("ferrokube-{}", &generate_token()[..12]));
        let state = ClusterState {
            etcd_name,
            apiserver_port,
            etcd_client_port,
            etcd_peer_port,
        };
        state.save(&paths)?;

        let cluster = LocalCluster {
            config,
            paths,
            state,
            pki,
            admin_token,
            auto_ports,
            etcd: None,
            apiserver: None,
        };
        cluster.write_kubeconfigs()?;
        Ok(cluster)
    }

    fn write_kubeconfigs(&self) -> Result<()> {
        let server = self.server_url();
        Kubeconfig::admin(&self.pki, CLUSTER_NAME, &server)?.write(&self.paths.admin_kubeconfig)?;
        Kubeconfig::with_token(
            CLUSTER_NAME,
            &server,
            &self.pki.ca_pem()?,
            ADMIN_TOKEN_USER,
            &self.admin_token,
        )
        .write(&self.paths.admin_token_kubeconfig)
    }

    /// Starts etcd (same data directory and ports as before) unless it runs, and waits for
    /// its `/health`.
    pub fn start_etcd(&mut self) -> Result<()> {
        if let Some(d) = &mut self.etcd {
            if d.is_alive() {
                return self.wait_etcd_healthy();
            }
        }
        self.etcd = None;
        if self.config.reuse_running {
            if let Some(d) = Daemon::adopt(
                "etcd",
                &self.config.etcd_bin,
                &self.paths.etcd_pid,
                &self.paths.etcd_log,
            )? {
                tracing::info!("etcd already running (pid {})", d.pid());
                self.etcd = Some(d);
                return self.wait_etcd_healthy();
            }
        }
        let fresh_data = !self.paths.etcd_data_dir.join("member").exists();
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.etcd = Some(Daemon::spawn(&self.etcd_spec())?);
            match self.wait_etcd_healthy() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let port_clash = self.log_says_address_in_use(Component::Etcd);
                    if let Some(mut d) = self.etcd.take() {
                        let _ = d.stop(Duration::from_secs(5));
                    }
                    if port_clash && self.auto_ports.etcd && fresh_data && attempt < START_ATTEMPTS
                    {
                        tracing::warn!("etcd port taken; retrying with other ports");
                        let _ = std::fs::remove_dir_all(&self.paths.etcd_data_dir);
                        self.state.etcd_client_port = free_port()?;
                        self.state.etcd_peer_port = free_port()?;
                        self.state.save(&self.paths)?;
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Starts kube-apiserver unless it runs, and waits for `/readyz`.
    pub fn start_apiserver(&mut self) -> Result<()> {
        if let Some(d) = &mut self.apiserver {
            if d.is_alive() {
                return self.wait_apiserver_ready();
            }
        }
        self.apiserver = None;
        if self.config.reuse_running {
            if let Some(d) = Daemon::adopt(
                "kube-apiserver",
                &self.config.apiserver_bin,
                &self.paths.apiserver_pid,
                &self.paths.apiserver_log,
            )? {
                tracing::info!("kube-apiserver already running (pid {})", d.pid());
                self.apiserver = Some(d);
                return self.wait_apiserver_ready();
            }
        }
        let mut attempt = 0;
        loop {
            attempt += 1;
            self.apiserver = Some(Daemon::spawn(&self.apiserver_spec())?);
            match self.wait_apiserver_ready() {
                Ok(()) => return Ok(()),
                Err(e) => {
                    let port_clash = self.log_says_address_in_use(Component::Apiserver);
                    if let Some(mut d) = self.apiserver.take() {
                        let _ = d.stop(Duration::from_secs(5));
                    }
                    if port_clash && self.auto_ports.apiserver && attempt < START_ATTEMPTS {
                        tracing::warn!("apiserver port taken; retrying with another port");
                        self.state.apiserver_port = free_port()?;
                        self.state.save(&self.paths)?;
                        self.write_kubeconfigs()?;
                        continue;
                    }
                    return Err(e);
                }
            }
        }
    }

    /// Stops etcd (SIGTERM, then SIGKILL), keeping its data.
    pub fn stop_etcd(&mut self) -> Result<()> {
        match self.etcd.take() {
            Some(mut d) => d.stop(STOP_GRACE),
            None => Ok(()),
        }
    }

    /// Stops kube-apiserver.
    pub fn stop_apiserver(&mut self) -> Result<()> {
        match self.apiserver.take() {
            Some(mut d) => d.stop(STOP_GRACE),
            None => Ok(()),
        }
    }

    /// Stops kube-apiserver, then etcd. Data, PKI and logs stay.
    pub fn stop(&mut self) -> Result<()> {
        let a = self.stop_apiserver();
        let e = self.stop_etcd();
        a.and(e)
    }

    /// Leaves the daemons running when this value is dropped (and returns what they need
    /// to be found again: the directory with its pid files).
    pub fn keep_running(mut self) -> ClusterPaths {
        self.config.stop_on_drop = false;
        self.paths.clone()
    }

    pub fn paths(&self) -> &ClusterPaths {
        &self.paths
    }

    pub fn dir(&self) -> &Path {
        &self.paths.dir
    }

    pub fn state(&self) -> &ClusterState {
        &self.state
    }

    pub fn pki(&self) -> &Pki {
        &self.pki
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> String {
        format!("https://127.0.0.1:{}", self.state.apiserver_port)
    }

    pub fn apiserver_port(&self) -> u16 {
        self.state.apiserver_port
    }

    /// `http://127.0.0.1:<port>`, the value of `--etcd-servers`.
    pub fn etcd_endpoint(&self) -> String {
        format!("http://127.0.0.1:{}", self.state.etcd_client_port)
    }

    /// The admin client-certificate kubeconfig.
    pub fn admin_kubeconfig(&self) -> &Path {
        &self.paths.admin_kubeconfig
    }

    /// The admin bearer-token kubeconfig.
    pub fn admin_token_kubeconfig(&self) -> &Path {
        &self.paths.admin_token_kubeconfig
    }

    /// The admin bearer token (user `admin`, group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    pub fn etcd_pid(&self) -> Option<u32> {
        self.etcd.as_ref().map(Daemon::pid)
    }

    pub fn apiserver_pid(&self) -> Option<u32> {
        self.apiserver.as_ref().map(Daemon::pid)
    }

    /// Whether the daemon runs.
    pub fn is_running(&mut self, component: Component) -> bool {
        let d = match component {
            Component::Etcd => &mut self.etcd,
            Component::Apiserver => &mut self.apiserver,
        };
        d.as_mut().map(Daemon::is_alive).unwrap_or(false)
    }

    pub fn log_file(&self, component: Component) -> &Path {
        match component {
            Component::Etcd => &self.paths.etcd_log,
            Component::Apiserver => &self.paths.apiserver_log,
        }
    }

    /// The last `lines` lines of a daemon's log.
    pub fn log_tail(&self, component: Component, lines: usize) -> String {
        crate::process::tail_file(self.log_file(component), lines)
    }

    /// GET `path` on the apiserver as the admin (client certificate and token).
    pub fn apiserver_get(&self, path: &str, timeout: Duration) -> Result<crate::http::Response> {
        let admin = self.pki.admin();
        let cert = admin.cert_pem()?;
        let key = admin.key_pem()?;
        let config = tls_client_config(&self.pki.ca_pem()?, Some((&cert, &key)))?;
        let addr = SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::LOCALHOST,
            self.state.apiserver_port,
        ));
        https_get(
            addr,
            "127.0.0.1",
            path,
            config,
            Some(&self.admin_token),
            timeout,
        )
    }

    fn etcd_spec(&self) -> DaemonSpec {
        let s = &self.state;
        let client = format!("http://127.0.0.1:{}", s.etcd_client_port);
        let peer = format!("http://127.0.0.1:{}", s.etcd_peer_port);
        let mut spec = DaemonSpec::new(
            "etcd",
            &self.config.etcd_bin,
            &self.paths.etcd_log,
            &self.paths.etcd_pid,
        )
        .detach(self.config.detach)
        .arg("--name")
        .arg(&s.etcd_name)
        .arg("--data-dir")
        .arg(&self.paths.etcd_data_dir)
        .arg("--listen-client-urls")
        .arg(&client)
        .arg("--advertise-client-urls")
        .arg(&client)
        .arg("--listen-peer-urls")
        .arg(&peer)
        .arg("--initial-advertise-peer-urls")
        .arg(&peer)
        .arg("--initial-cluster")
        .arg(format!("{}={peer}", s.etcd_name))
        .arg("--initial-cluster-token")
        .arg(&s.etcd_name)
        .arg("--initial-cluster-state")
        .arg("new")
        .arg("--logger")
        .arg("zap")
        .arg("--log-outputs")
        .arg("stderr");
        // Debian's etcd 3.4 refuses to start on other architectures without this.
        match std::env::consts::ARCH {
            "x86_64" => {}
            "aarch64" => spec = spec.env("ETCD_UNSUPPORTED_ARCH", "arm64"),
            other => spec = spec.env("ETCD_UNSUPPORTED_ARCH", other),
        }
        spec
    }

    fn apiserver_spec(&self) -> DaemonSpec {
        let pki = &self.pki;
        DaemonSpec::new(
            "kube-apiserver",
            &self.config.apiserver_bin,
            &self.paths.apiserver_log,
            &self.paths.apiserver_pid,
        )
        .detach(self.config.detach)
        .arg("--secure-port")
        .arg(self.state.apiserver_port.to_string())
        .arg("--bind-address")
        .arg("127.0.0.1")
        .arg("--tls-cert-file")
        .arg(&pki.apiserver().cert)
        .arg("--tls-private-key-file")
        .arg(&pki.apiserver().key)
        .arg("--client-ca-file")
        .arg(&pki.ca().cert)
        .arg("--token-auth-file")
        .arg(&self.paths.token_file)
        .arg("--etcd-servers")
        .arg(self.etcd_endpoint())
        .arg("--service-cluster-ip-range")
        .arg(SERVICE_CLUSTER_IP_RANGE)
        // kubelet-streaming: the identity logs/exec/port-forward use towards kubelets.
        .arg("--kubelet-client-certificate")
        .arg(&pki.apiserver_kubelet_client().cert)
        .arg("--kubelet-client-key")
        .arg(&pki.apiserver_kubelet_client().key)
        .args(&self.config.extra_apiserver_args)
    }

    fn wait_etcd_healthy(&mut self) -> Result<()> {
        let addr = SocketAddr::V4(SocketAddrV4::new(
            Ipv4Addr::LOCALHOST,
            self.state.etcd_client_port,
        ));
        let deadline = Instant::now() + self.config.etcd_ready_timeout;
        let mut last;
        loop {
            self.check_alive(Component::Etcd)?;
            match http_get(addr, "/health", Duration::from_secs(2)) {
                Ok(r) if r.status == 200 && r.body.contains("\"true\"") => return Ok(()),
                Ok(r) => last = format!("HTTP {}: {}", r.status, r.body.trim()),
                Err(e) => last = format!("{e:#}"),
            }
            if Instant::now() >= deadline {
                bail!(
                    "etcd at {addr} not healthy after {:?} (last: {last}); last lines of {}:\n{}",
                    self.config.etcd_ready_timeout,
                    self.paths.etcd_log.display(),
                    self.log_tail(Component::Etcd, 30)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    fn wait_apiserver_ready(&mut self) -> Result<()> {
        let deadline = Instant::now() + self.config.apiserver_ready_timeout;
        let mut last;
        loop {
            self.check_alive(Component::Apiserver)?;
            match self.apiserver_get("/readyz", Duration::from_secs(5)) {
                Ok(r) if r.status == 200 => return Ok(()),
                Ok(r) => last = format!("HTTP {}: {}", r.status, r.body.trim()),
                Err(e) => last = format!("{e:#}"),
            }
            if Instant::now() >= deadline {
                bail!(
                    "kube-apiserver at {} not ready after {:?} (last /readyz: {last}); last lines of {}:\n{}",
                    self.server_url(),
                    self.config.apiserver_ready_timeout,
                    self.paths.apiserver_log.display(),
                    self.log_tail(Component::Apiserver, 30)
                );
            }
            thread::sleep(Duration::from_millis(100));
        }
    }

    /// Fails with the log tail if the daemon is not running.
    fn check_alive(&mut self, component: Component) -> Result<()> {
        let daemon = match component {
            Component::Etcd => &mut self.etcd,
            Component::Apiserver => &mut self.apiserver,
        };
        let (name, log) = match component {
            Component::Etcd => ("etcd", &self.paths.etcd_log),
            Component::Apiserver => ("kube-apiserver", &self.paths.apiserver_log),
        };
        let alive = daemon.as_mut().map(Daemon::is_alive);
        match (daemon, alive) {
            (Some(_), Some(true)) => Ok(()),
            (Some(d), _) => Err(anyhow!(
                "{name} (pid {}) exited{}; last lines of {}:\n{}",
                d.pid(),
                d.exit_status()
                    .map(|s| format!(" with {s}"))
                    .unwrap_or_default(),
                log.display(),
                crate::process::tail_file(log, 30)
            )),
            (None, _) => Err(anyhow!("{name} is not running")),
        }
    }

    fn log_says_address_in_use(&self, component: Component) -> bool {
        let tail = self.log_tail(component, 20).to_ascii_lowercase();
        tail.contains("address already in use") || tail.contains("addrinuse")
    }
}

impl Drop for LocalCluster {
    fn drop(&mut self) {
        if self.config.stop_on_drop {
            if let Err(e) = self.stop() {
                eprintln!(
                    "ferrokube: stopping the local cluster in {}: {e:#}",
                    self.paths.dir.display()
                );
            }
        }
    }
}

/// What [`stop_dir`] found and did.
#[derive(Debug, Clone, Default)]
pub struct StopReport {
    pub apiserver_pid: Option<u32>,
    pub etcd_pid: Option<u32>,
}

/// Stops the daemons of a cluster directory through its pid files (from another process
/// than the one that started them): kube-apiserver first, then etcd.
pub fn stop_dir(dir: &Path, apiserver_bin: &Path, etcd_bin: &Path) -> Result<StopReport> {
    let paths = ClusterPaths::new(dir);
    let apiserver_pid = stop_pid_file(&paths.apiserver_pid, apiserver_bin, STOP_GRACE)?;
    let etcd_pid = stop_pid_file(&paths.etcd_pid, etcd_bin, STOP_GRACE)?;
    Ok(StopReport {
        apiserver_pid,
        etcd_pid,
    })
}

/// The PID in a pid file if that process is alive.
pub fn running_pid(pid_file: &Path) -> Option<u32> {
    read_pid_file(pid_file)
        .ok()
        .flatten()
        .filter(|pid| pid_alive(*pid))
}

/// Reuses the admin token of `tokens.csv` or writes a new file with one.
fn ensure_admin_token(path: &Path) -> Result<String> {
    let mut entries = if path.exists() {
        read_token_file(path)?
    } else {
        Vec::new()
    };
    if let Some(e) = entries.iter().find(|e| e.user == ADMIN_TOKEN_USER) {
        crate::fsutil::restrict_permissions(path)?;
        return Ok(e.token.clone());
    }
    let token = generate_token();
    entries.push(TokenEntry::new(
        &token,
        ADMIN_TOKEN_USER,
        ADMIN_TOKEN_USER,
        &[ADMIN_GROUP],
    ));
    write_token_file(path, &entries)?;
    Ok(token)
}

fn absolute(dir: &Path) -> Result<PathBuf> {
    if dir.is_absolute() {
        Ok(dir.to_path_buf())
    } else {
        Ok(std::env::current_dir()
            .context("current directory")?
            .join(dir))
    }
}

/// A free TCP port on 127.0.0.1: bind port 0, read the port, release it. Ports handed out
/// once are never handed out again by this process, so parallel clusters in one test
/// binary do not pick the same one.
pub fn free_port() -> Result<u16> {
    static GIVEN: Mutex<Option<HashSet<u16>>> = Mutex::new(None);
    for _ in 0..100 {
        let listener =
            TcpListener::bind((Ipv4Addr::LOCALHOST, 0)).context("binding 127.0.0.1:0")?;
        let port = listener.local_addr().context("local_addr")?.port();
        drop(listener);
        let mut given = GIVEN.lock().unwrap_or_else(|p| p.into_inner());
        if given.get_or_insert_with(HashSet::new).insert(port) {
            return Ok(port);
        }
    }
    bail!("no free port found on 127.0.0.1")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn free_ports_differ() -> Result<()> {
        let a = free_port()?;
        let b = free_port()?;
        assert_ne!(a, b);
        Ok(())
    }

    #[test]
    fn admin_token_is_stable() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let path = tmp.path().join("tokens.csv");
        let t1 = ensure_admin_token(&path)?;
        let t2 = ensure_admin_token(&path)?;
        assert_eq!(t1, t2);
        Ok(())
    }

    /// etcd alone: start, health, stop, restart on the same data and port, data survives.
    #[test]
    fn etcd_start_stop_restart() -> Result<()> {
        if !Path::new(DEFAULT_ETCD_BIN).is_file() {
            eprintln!("skipping: {DEFAULT_ETCD_BIN} is not installed");
            return Ok(());
        }
        let tmp = tempfile::tempdir()?;
        // /bin/true stands in for the apiserver binary: this test starts only etcd.
        let mut cluster = LocalCluster::prepare(LocalClusterConfig::new(tmp.path(), "/bin/true"))?;
        cluster.start_etcd()?;
        let pid = cluster.etcd_pid().context("etcd pid")?;
        assert!(pid_alive(pid));
        let endpoint = cluster.etcd_endpoint();
        let put = std::process::Command::new("etcdctl")
            .env("ETCDCTL_API", "3")
            .args(["--endpoints", &endpoint, "put", "/registry/test", "v1"])
            .output();
        let have_etcdctl = put.as_ref().map(|o| o.status.success()).unwrap_or(false);
        cluster.stop_etcd()?;
        assert!(!pid_alive(pid), "etcd pid {pid} still alive after stop");
        assert!(!cluster.paths().etcd_pid.exists());
        cluster.start_etcd()?;
        assert_eq!(cluster.etcd_endpoint(), endpoint, "same port after restart");
        if have_etcdctl {
            let get = std::process::Command::new("etcdctl")
                .env("ETCDCTL_API", "3")
                .args([
                    "--endpoints",
                    &endpoint,
                    "get",
                    "--print-value-only",
                    "/registry/test",
                ])
                .output()
                .context("etcdctl get")?;
            assert_eq!(String::from_utf8_lossy(&get.stdout).trim(), "v1");
        }
        let pid2 = cluster.etcd_pid().context("etcd pid")?;
        drop(cluster);
        assert!(!pid_alive(pid2), "drop must stop etcd");
        Ok(())
    }
}
