//! Harness for the end-to-end tests: a real etcd and the real `kube-apiserver` binary on
//! loopback ports, driven with the real `kubectl`.
//!
//! ```no_run
//! use ferrokube_e2e::TestCluster;
//!
//! # fn main() -> anyhow::Result<()> {
//! let cluster = TestCluster::start()?;
//! let namespaces = cluster.kubectl(&["get", "ns", "-o", "json"])?.json()?;
//! # let _ = namespaces;
//! # Ok(()) }
//! ```
//!
//! - Each [`TestCluster::start`] gets a fresh temporary directory, free ports, its own etcd
//!   and kube-apiserver; dropping it stops both (also when the test panics) and deletes the
//!   directory. Dropping prints the last lines of both logs to the test's captured output,
//!   which libtest shows only for a failed test (`FERROKUBE_TEST_LOGS=0` turns this off).
//!   After a panic, or with `FERROKUBE_KEEP_TEST_DIRS=1`, the directory is kept and named
//!   (until the next test run without `FERROKUBE_KEEP_TEST_DIRS`).
//! - [`TestCluster::shared`] hands every test of one test binary the same cluster (faster;
//!   use unique namespaces). Tests that stop etcd or the apiserver must start their own.
//!   It is stopped and removed when the test process exits; its logs are not printed, so
//!   run with `FERROKUBE_KEEP_TEST_DIRS=1` to read them after a failure.
//! - The daemons die with the test process even if it is killed (`PR_SET_PDEATHSIG`), and
//!   directories left behind by dead test processes are removed on the next start.
//!
//! The `kube-apiserver` binary comes from `$FERROKUBE_BIN_DIR`, else
//! `<workspace>/target/debug/` (or `$CARGO_TARGET_DIR/debug/`): `cargo xtask test` builds
//! it and sets the variable. `kubectl` is `$KUBECTL`, else `/usr/bin/kubectl`.

use std::ffi::OsStr;
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::process::{Command, ExitStatus, Stdio};
use std::sync::{Mutex, MutexGuard, Once, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime};

use anyhow::{anyhow, bail, Context, Result};
use ferrokube_deploy::kubeconfig::Kubeconfig;
use ferrokube_deploy::local_cluster::{LocalCluster, LocalClusterConfig, CLUSTER_NAME};

pub use ferrokube_deploy;

pub mod hollow;
pub mod netns_nodes;

/// How long one kubectl (or etcdctl) run may take before it is killed and reported.
pub const DEFAULT_COMMAND_TIMEOUT: Duration = Duration::from_secs(60);

const TEMP_PREFIX: &str = "ferrokube-e2e-";

/// Options for [`TestCluster::start_with`].
#[derive(Debug, Clone, Default)]
pub struct TestClusterOptions {
    /// Appended to the kube-apiserver command line (later flags win).
    pub extra_apiserver_args: Vec<String>,
    /// Extra subject alternative names for the serving certificate.
    pub extra_sans: Vec<String>,
}

/// A running etcd + kube-apiserver for one test (or, through [`TestCluster::shared`], for
/// all tests of a binary).
pub struct TestCluster {
    // Declared before `tmp`: the daemons stop before the directory is removed.
    cluster: Mutex<LocalCluster>,
    tmp: Option<tempfile::TempDir>,
    dir: PathBuf,
    kubeconfig: PathBuf,
    token_kubeconfig: PathBuf,
    kubectl_cache: PathBuf,
    server_url: String,
    etcd_endpoint: String,
    admin_token: String,
    etcd_log: PathBuf,
    apiserver_log: PathBuf,
}

impl std::fmt::Debug for TestCluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TestCluster")
            .field("dir", &self.dir)
            .field("server_url", &self.server_url)
            .field("etcd_endpoint", &self.etcd_endpoint)
            .finish()
    }
}

impl TestCluster {
    /// Starts a fresh cluster in a new temporary directory.
    pub fn start() -> Result<TestCluster> {
        TestCluster::start_with(TestClusterOptions::default())
    }

    /// Starts a fresh cluster with extra apiserver flags or certificate names.
    pub fn start_with(options: TestClusterOptions) -> Result<TestCluster> {
        clean_stale_temp_dirs();
        let apiserver_bin = apiserver_binary()?;
        let tmp = tempfile::Builder::new()
            .prefix(&format!("{TEMP_PREFIX}{}-", std::process::id()))
            .tempdir()
            .context("creating a temporary directory for the test cluster")?;
        let mut config = LocalClusterConfig::new(tmp.path(), &apiserver_bin);
        config.extra_apiserver_args = options.extra_apiserver_args;
        config.extra_sans = options.extra_sans;
        let cluster = match LocalCluster::start(config) {
            Ok(c) => c,
            Err(e) => {
                // Keep the directory: the error names its logs.
                let kept = tmp.keep();
                return Err(e.context(format!(
                    "starting the test cluster (kube-apiserver {}; files kept in {})",
                    apiserver_bin.display(),
                    kept.display()
                )));
            }
        };
        let paths = cluster.paths().clone();
        let kubectl_cache = paths.dir.join("kubectl-cache");
        Ok(TestCluster {
            dir: paths.dir.clone(),
            kubeconfig: paths.admin_kubeconfig.clone(),
            token_kubeconfig: paths.admin_token_kubeconfig.clone(),
            kubectl_cache,
            server_url: cluster.server_url(),
            etcd_endpoint: cluster.etcd_endpoint(),
            admin_token: cluster.admin_token().to_string(),
            etcd_log: paths.etcd_log.clone(),
            apiserver_log: paths.apiserver_log.clone(),
            cluster: Mutex::new(cluster),
            tmp: Some(tmp),
        })
    }

    /// One cluster for every test in this test binary that asks for it, started on first
    /// use; stopped, and its directory removed, when the test process exits (kept with
    /// `FERROKUBE_KEEP_TEST_DIRS=1`). Do not stop or restart its daemons.
    pub fn shared() -> Result<&'static TestCluster> {
        SHARED
            .get_or_init(|| {
                let cluster = TestCluster::start().map_err(|e| format!("{e:#}"))?;
                // SAFETY: registers a plain function that only touches statics.
                unsafe {
                    libc::atexit(stop_shared_at_exit);
                }
                Ok(cluster)
            })
            .as_ref()
            .map_err(|e| anyhow!("the shared test cluster did not start: {e}"))
    }

    /// The cluster directory (PKI, logs, etcd data).
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// The admin kubeconfig (client certificate CN=kubernetes-admin, O=system:masters).
    pub fn kubeconfig_path(&self) -> &Path {
        &self.kubeconfig
    }

    /// A kubeconfig with the admin bearer token instead of the client certificate.
    pub fn token_kubeconfig_path(&self) -> &Path {
        &self.token_kubeconfig
    }

    /// `https://127.0.0.1:<port>`.
    pub fn server_url(&self) -> &str {
        &self.server_url
    }

    /// `http://127.0.0.1:<port>`: the etcd the apiserver uses.
    pub fn etcd_endpoint(&self) -> &str {
        &self.etcd_endpoint
    }

    /// The admin bearer token (user `admin`, group `system:masters`).
    pub fn admin_token(&self) -> &str {
        &self.admin_token
    }

    /// The cluster CA certificate file.
    pub fn ca_cert_path(&self) -> PathBuf {
        self.dir.join("pki/ca.crt")
    }

    fn lock(&self) -> MutexGuard<'_, LocalCluster> {
        self.cluster.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Stops etcd (SIGTERM, then SIGKILL after 15 s); its data stays.
    pub fn stop_etcd(&self) -> Result<()> {
        self.lock().stop_etcd()
    }

    /// Starts etcd again on the same port and data directory; waits for `/health`.
    pub fn start_etcd(&self) -> Result<()> {
        self.lock().start_etcd()
    }

    /// Stops kube-apiserver.
    pub fn stop_apiserver(&self) -> Result<()> {
        self.lock().stop_apiserver()
    }

    /// Starts kube-apiserver again on the same port; waits for `/readyz`.
    pub fn start_apiserver(&self) -> Result<()> {
        self.lock().start_apiserver()
    }

    /// Stops and starts kube-apiserver.
    pub fn restart_apiserver(&self) -> Result<()> {
        let mut c = self.lock();
        c.stop_apiserver()?;
        c.start_apiserver()
    }

    /// PIDs of (etcd, kube-apiserver), where running.
    pub fn pids(&self) -> (Option<u32>, Option<u32>) {
        let c = self.lock();
        (c.etcd_pid(), c.apiserver_pid())
    }

    /// The last `lines` lines of the apiserver log.
    pub fn apiserver_log(&self, lines: usize) -> String {
        ferrokube_deploy::process::tail_file(&self.apiserver_log, lines)
    }

    /// The last `lines` lines of the etcd log.
    pub fn etcd_log(&self, lines: usize) -> String {
        ferrokube_deploy::process::tail_file(&self.etcd_log, lines)
    }

    /// GET `path` on the apiserver over HTTPS as the admin, without kubectl.
    pub fn get_raw(&self, path: &str) -> Result<ferrokube_deploy::http::Response> {
        self.lock().apiserver_get(path, Duration::from_secs(30))
    }

    /// Issues a client certificate for `user` in `groups` and writes a kubeconfig for it;
    /// returns the kubeconfig path (for [`TestCluster::kubectl_as`]).
    pub fn user_kubeconfig(&self, user: &str, groups: &[&str]) -> Result<PathBuf> {
        self.user_kubeconfig_at(user, groups, &self.server_url)
    }

    /// Like [`TestCluster::user_kubeconfig`], for reaching the apiserver at `server`
    /// (e.g. from a network namespace, through an address the certificate names).
    pub fn user_kubeconfig_at(&self, user: &str, groups: &[&str], server: &str) -> Result<PathBuf> {
        let safe: String = user
            .chars()
            .map(|c| {
                if c.is_ascii_alphanumeric() || c == '-' {
                    c
                } else {
                    '_'
                }
            })
            .collect();
        let c = self.lock();
        let pki = c.pki();
        let pair = pki.ensure_client_cert(&format!("user-{safe}"), user, groups)?;
        let file = if server == self.server_url {
            format!("user-{safe}.kubeconfig")
        } else {
            let host: String = server
                .chars()
                .map(|c| if c.is_ascii_alphanumeric() { c } else { '_' })
                .collect();
            format!("user-{safe}-{host}.kubeconfig")
        };
        let path = self.dir.join(file);
        Kubeconfig::with_client_cert(CLUSTER_NAME, server, &pki.ca_pem()?, user, &pair)?
            .write(&path)?;
        Ok(path)
    }

    /// Writes a kubeconfig that presents `token` (valid or not) and returns its path.
    pub fn token_kubeconfig(&self, name: &str, token: &str) -> Result<PathBuf> {
        let c = self.lock();
        let path = self.dir.join(format!("token-{name}.kubeconfig"));
        Kubeconfig::with_token(
            CLUSTER_NAME,
            &self.server_url,
            &c.pki().ca_pem()?,
            name,
            token,
        )
        .write(&path)?;
        Ok(path)
    }

    /// Runs `kubectl --kubeconfig <admin> <args>` (60 s at most). A non-zero exit is not an
    /// error here: look at [`Output::status`] or use [`Output::ok`].
    /// A kube-rs client authenticated with the admin kubeconfig.
    pub async fn client(&self) -> Result<kube::Client> {
        kube_client(self.kubeconfig_path()).await
    }

    pub fn kubectl(&self, args: &[&str]) -> Result<Output> {
        self.kubectl_as(&self.kubeconfig, args, None)
    }

    /// [`TestCluster::kubectl`] with `input` on stdin (for `apply -f -`, `create -f -`).
    pub fn kubectl_stdin(&self, args: &[&str], input: &str) -> Result<Output> {
        self.kubectl_as(&self.kubeconfig, args, Some(input))
    }

    /// kubectl with another kubeconfig (another user), optionally with stdin.
    pub fn kubectl_as(
        &self,
        kubeconfig: &Path,
        args: &[&str],
        input: Option<&str>,
    ) -> Result<Output> {
        self.kubectl_full(kubeconfig, args, input, &[])
    }

    /// [`TestCluster::kubectl`] with extra environment variables (e.g. `KUBE_EDITOR` for
    /// `kubectl edit`).
    pub fn kubectl_env(&self, args: &[&str], env: &[(&str, &str)]) -> Result<Output> {
        self.kubectl_full(&self.kubeconfig, args, None, env)
    }

    /// kubectl with every knob: kubeconfig, stdin, extra environment.
    pub fn kubectl_full(
        &self,
        kubeconfig: &Path,
        args: &[&str],
        input: Option<&str>,
        env: &[(&str, &str)],
    ) -> Result<Output> {
        let mut cmd = Command::new(kubectl_binary());
        cmd.arg("--kubeconfig")
            .arg(kubeconfig)
            .arg("--cache-dir")
            .arg(&self.kubectl_cache)
            .args(args)
            .env_remove("KUBECONFIG")
            .envs(env.iter().copied());
        run_with_timeout(cmd, input, DEFAULT_COMMAND_TIMEOUT)
    }

    /// Runs `etcdctl --endpoints <etcd> <args>` (API v3) against this cluster's etcd.
    pub fn etcdctl(&self, args: &[&str]) -> Result<Output> {
        let mut cmd = Command::new("etcdctl");
        cmd.env("ETCDCTL_API", "3")
            .arg("--endpoints")
            .arg(&self.etcd_endpoint)
            .args(args);
        run_with_timeout(cmd, None, DEFAULT_COMMAND_TIMEOUT)
    }

    /// Stops both daemons now (dropping does the same).
    pub fn stop(&self) -> Result<()> {
        self.lock().stop()
    }
}

static SHARED: OnceLock<std::result::Result<TestCluster, String>> = OnceLock::new();

/// Statics are never dropped: stop the shared cluster's daemons and remove its directory
/// when the test binary exits. Must not panic (it runs inside `exit`).
extern "C" fn stop_shared_at_exit() {
    if let Some(Ok(shared)) = SHARED.get() {
        if let Ok(mut cluster) = shared.cluster.try_lock() {
            let _ = cluster.stop();
        }
        if shared.tmp.is_some() && std::env::var_os("FERROKUBE_KEEP_TEST_DIRS").is_none() {
            let _ = std::fs::remove_dir_all(&shared.dir);
        }
    }
}

impl Drop for TestCluster {
    fn drop(&mut self) {
        // libtest shows a test's captured output only when the test fails (by panic or by
        // returning Err), so the log tails cost nothing on success and explain failures.
        if std::env::var_os("FERROKUBE_TEST_LOGS").is_none_or(|v| v != "0") {
            eprintln!(
                "--- ferrokube test cluster {} ({}): last lines of kube-apiserver.log:\n{}\n--- last lines of etcd.log:\n{}",
                self.dir.display(),
                self.server_url,
                self.apiserver_log(60),
                self.etcd_log(15)
            );
        }
        let keep = std::env::var_os("FERROKUBE_KEEP_TEST_DIRS").is_some();
        if thread::panicking() || keep {
            if let Some(tmp) = self.tmp.take() {
                eprintln!(
                    "--- ferrokube test cluster files kept in {}",
                    tmp.keep().display()
                );
            }
        }
        // Then the fields drop: `cluster` stops the daemons, `tmp` removes the directory.
    }
}

/// What a command printed and how it exited.
#[derive(Debug, Clone)]
pub struct Output {
    /// The command line, for messages.
    pub command: String,
    pub status: ExitStatus,
    pub stdout: String,
    pub stderr: String,
}

impl Output {
    pub fn success(&self) -> bool {
        self.status.success()
    }

    /// stdout if the command succeeded, else an error with the command, status and stderr.
    pub fn ok(self) -> Result<String> {
        if self.status.success() {
            Ok(self.stdout)
        } else {
            bail!(
                "`{}` failed ({}):\nstderr: {}\nstdout: {}",
                self.command,
                self.status,
                self.stderr.trim(),
                self.stdout.trim()
            )
        }
    }

    /// Like [`Output::ok`] but expects failure: stderr if the command failed.
    pub fn err(self) -> Result<String> {
        if self.status.success() {
            bail!(
                "`{}` succeeded but was expected to fail:\nstdout: {}",
                self.command,
                self.stdout.trim()
            )
        } else {
            Ok(self.stderr)
        }
    }

    /// stdout parsed as JSON (the command must have succeeded).
    pub fn json(self) -> Result<serde_json::Value> {
        let command = self.command.clone();
        let stdout = self.ok()?;
        serde_json::from_str(&stdout)
            .with_context(|| format!("`{command}` did not print JSON:\n{stdout}"))
    }
}

/// Runs `cmd` with `input` on stdin, killing it (by its PID) after `timeout`.
pub fn run_with_timeout(
    mut cmd: Command,
    input: Option<&str>,
    timeout: Duration,
) -> Result<Output> {
    let command = std::iter::once(cmd.get_program())
        .chain(cmd.get_args())
        .map(OsStr::to_string_lossy)
        .collect::<Vec<_>>()
        .join(" ");
    cmd.stdin(if input.is_some() {
        Stdio::piped()
    } else {
        Stdio::null()
    })
    .stdout(Stdio::piped())
    .stderr(Stdio::piped());
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running `{command}`"))?;
    let writer = match (input, child.stdin.take()) {
        (Some(text), Some(mut stdin)) => {
            let text = text.to_string();
            Some(thread::spawn(move || {
                // A command that exits without reading stdin closes the pipe: not our error.
                let _ = stdin.write_all(text.as_bytes());
            }))
        }
        _ => None,
    };
    let out_reader = child.stdout.take().map(|mut s| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let err_reader = child.stderr.take().map(|mut s| {
        thread::spawn(move || {
            let mut buf = Vec::new();
            let _ = s.read_to_end(&mut buf);
            buf
        })
    });
    let deadline = Instant::now() + timeout;
    let mut timed_out = false;
    let status = loop {
        match child
            .try_wait()
            .with_context(|| format!("waiting for `{command}`"))?
        {
            Some(status) => break status,
            None if Instant::now() >= deadline => {
                timed_out = true;
                let _ = child.kill();
                break child
                    .wait()
                    .with_context(|| format!("waiting for `{command}` after killing it"))?;
            }
            None => thread::sleep(Duration::from_millis(10)),
        }
    };
    if let Some(w) = writer {
        let _ = w.join();
    }
    let collect = |h: Option<thread::JoinHandle<Vec<u8>>>| {
        h.and_then(|h| h.join().ok())
            .map(|b| String::from_utf8_lossy(&b).into_owned())
            .unwrap_or_default()
    };
    let stdout = collect(out_reader);
    let stderr = collect(err_reader);
    if timed_out {
        bail!(
            "`{command}` timed out after {timeout:?} and was killed\nstdout so far: {}\nstderr so far: {}",
            stdout.trim(),
            stderr.trim()
        );
    }
    Ok(Output {
        command,
        status,
        stdout,
        stderr,
    })
}

/// A kube-rs client from a kubeconfig file.
pub async fn kube_client(kubeconfig: &Path) -> Result<kube::Client> {
    let kc = kube::config::Kubeconfig::read_from(kubeconfig)
        .with_context(|| format!("reading {}", kubeconfig.display()))?;
    let config = kube::Config::from_custom_kubeconfig(kc, &Default::default()).await?;
    Ok(kube::Client::try_from(config)?)
}

/// `$KUBECTL`, else `/usr/bin/kubectl` if it exists, else `kubectl` from `$PATH`.
pub fn kubectl_binary() -> PathBuf {
    if let Some(k) = std::env::var_os("KUBECTL") {
        return PathBuf::from(k);
    }
    let debian = Path::new("/usr/bin/kubectl");
    if debian.is_file() {
        return debian.to_path_buf();
    }
    PathBuf::from("kubectl")
}

/// The workspace root (the parent of this crate).
pub fn workspace_root() -> PathBuf {
    let manifest = Path::new(env!("CARGO_MANIFEST_DIR"));
    manifest.parent().unwrap_or(manifest).to_path_buf()
}

/// Where the daemon binaries are: `$FERROKUBE_BIN_DIR`, else the debug target directory.
pub fn bin_dir() -> PathBuf {
    if let Some(dir) = std::env::var_os("FERROKUBE_BIN_DIR") {
        return PathBuf::from(dir);
    }
    let target = std::env::var_os("CARGO_TARGET_DIR")
        .map(PathBuf::from)
        .map(|t| {
            if t.is_absolute() {
                t
            } else {
                workspace_root().join(t)
            }
        })
        .unwrap_or_else(|| workspace_root().join("target"));
    target.join("debug")
}

/// The `kube-apiserver` binary, or an error saying how to build it.
pub fn apiserver_binary() -> Result<PathBuf> {
    find_apiserver(&bin_dir())
}

fn find_apiserver(bin_dir: &Path) -> Result<PathBuf> {
    let path = bin_dir.join("kube-apiserver");
    if !path.is_file() {
        bail!(
            "kube-apiserver binary not found at {}: run `cargo build -p apiserver` first \
             (or set FERROKUBE_BIN_DIR); `cargo xtask test` builds it and runs the tests",
            path.display()
        );
    }
    warn_if_stale(&path);
    Ok(path)
}

/// Tells (once) when the binary is older than the apiserver sources: plain `cargo test`
/// does not rebuild it.
fn warn_if_stale(binary: &Path) {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        let Ok(built) = std::fs::metadata(binary).and_then(|m| m.modified()) else {
            return;
        };
        let root = workspace_root();
        let newest = ["crates/apiserver/src", "crates/api-types/src", "crates/component-base/src"]
            .iter()
            .filter_map(|d| newest_mtime(&root.join(d)))
            .max();
        if let Some(newest) = newest {
            if newest > built {
                eprintln!(
                    "warning: {} is older than the apiserver sources; run `cargo build -p apiserver` \
                     (or `cargo xtask test`) to test the current code",
                    binary.display()
                );
            }
        }
    });
}

fn newest_mtime(dir: &Path) -> Option<SystemTime> {
    let mut newest = None;
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        let Ok(entries) = std::fs::read_dir(&d) else {
            continue;
        };
        for entry in entries.flatten() {
            let path = entry.path();
            if path.is_dir() {
                stack.push(path);
            } else if let Ok(m) = entry.metadata().and_then(|m| m.modified()) {
                newest = newest.max(Some(m));
            }
        }
    }
    newest
}

/// Removes `ferrokube-e2e-<pid>-*` temporary directories whose test process is gone
/// (left by a killed run, or by [`TestCluster::shared`], which is never dropped).
fn clean_stale_temp_dirs() {
    static ONCE: Once = Once::new();
    ONCE.call_once(|| {
        if std::env::var_os("FERROKUBE_KEEP_TEST_DIRS").is_some() {
            return;
        }
        let Ok(entries) = std::fs::read_dir(std::env::temp_dir()) else {
            return;
        };
        for entry in entries.flatten() {
            let name = entry.file_name().to_string_lossy().into_owned();
            let Some(rest) = name.strip_prefix(TEMP_PREFIX) else {
                continue;
            };
            let Some(pid) = rest.split('-').next().and_then(|p| p.parse::<u32>().ok()) else {
                continue;
            };
            if pid != std::process::id() && !ferrokube_deploy::process::pid_alive(pid) {
                let _ = std::fs::remove_dir_all(entry.path());
            }
        }
    });
}

/// Polls `check` every 100 ms until it returns `Ok(Some(v))` or `timeout` passes; the error
/// names `what` and the last error or `None` seen.
pub fn wait_for<T>(
    what: &str,
    timeout: Duration,
    mut check: impl FnMut() -> Result<Option<T>>,
) -> Result<T> {
    let deadline = Instant::now() + timeout;
    loop {
        let last = match check() {
            Ok(Some(v)) => return Ok(v),
            Ok(None) => "not yet".to_string(),
            Err(e) => format!("{e:#}"),
        };
        if Instant::now() >= deadline {
            bail!("timed out after {timeout:?} waiting for {what} (last: {last})");
        }
        thread::sleep(Duration::from_millis(100));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn command_output_and_timeout() -> Result<()> {
        let mut cmd = Command::new("/bin/sh");
        cmd.args(["-c", "cat; echo err >&2; exit 3"]);
        let out = run_with_timeout(cmd, Some("hello"), Duration::from_secs(10))?;
        assert_eq!(out.stdout, "hello");
        assert_eq!(out.stderr.trim(), "err");
        assert_eq!(out.status.code(), Some(3));
        assert!(out.clone().ok().is_err());

        let mut cmd = Command::new("/bin/sleep");
        cmd.arg("30");
        let start = Instant::now();
        let err = run_with_timeout(cmd, None, Duration::from_millis(300))
            .err()
            .context("sleep must time out")?;
        assert!(format!("{err}").contains("timed out"), "{err}");
        assert!(start.elapsed() < Duration::from_secs(5));
        Ok(())
    }

    #[test]
    fn missing_binary_is_explained() -> Result<()> {
        let dir = tempfile::tempdir()?;
        let err = find_apiserver(dir.path())
            .err()
            .context("an empty directory has no kube-apiserver")?;
        assert!(
            format!("{err}").contains("cargo build -p apiserver"),
            "{err}"
        );
        Ok(())
    }
}
