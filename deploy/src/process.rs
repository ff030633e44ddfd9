//! Background daemons: spawn with output to a log file and a pid file, check liveness by
//! PID, stop by PID (SIGTERM, wait, SIGKILL). Nothing here ever signals a process by name.
//!
//! Two modes:
//! - **attached** (tests): the daemon gets `PR_SET_PDEATHSIG(SIGKILL)`, so it dies with the
//!   process that started it even if that process is killed outright. The children are
//!   forked from one long-lived spawner thread, because Linux delivers the parent-death
//!   signal when the *thread* that forked exits, and test threads come and go.
//! - **detached** (`cargo xtask up`): the daemon runs in its own process group and outlives
//!   the process that started it; a later process finds it again through its pid file.

use std::ffi::OsString;
use std::fs::{self, OpenOptions};
use std::io::{self, Read, Seek, SeekFrom, Write};
use std::os::unix::process::CommandExt;
use std::path::{Path, PathBuf};
use std::process::{Child, Command, ExitStatus, Stdio};
use std::sync::mpsc;
use std::sync::{Mutex, OnceLock};
use std::thread;
use std::time::{Duration, Instant, SystemTime, UNIX_EPOCH};

use anyhow::{bail, Context, Result};

use crate::fsutil::write_public;

/// What to run and where its output and pid go.
#[derive(Debug, Clone)]
pub struct DaemonSpec {
    /// Short name for messages (`etcd`, `kube-apiserver`).
    pub name: String,
    pub program: PathBuf,
    pub args: Vec<OsString>,
    /// Extra environment variables.
    pub env: Vec<(OsString, OsString)>,
    /// stdout and stderr are appended here.
    pub log_file: PathBuf,
    pub pid_file: PathBuf,
    /// See the module documentation.
    pub detach: bool,
    /// A network namespace file (`/run/netns/<name>`) the daemon runs in; the mount
    /// namespace stays the caller's (unlike `ip netns exec`), so what it mounts is seen
    /// by every other process.
    pub netns: Option<PathBuf>,
}

impl DaemonSpec {
    pub fn new(
        name: &str,
        program: impl Into<PathBuf>,
        log_file: impl Into<PathBuf>,
        pid_file: impl Into<PathBuf>,
    ) -> Self {
        DaemonSpec {
            name: name.to_string(),
            program: program.into(),
            args: Vec::new(),
            env: Vec::new(),
            log_file: log_file.into(),
            pid_file: pid_file.into(),
            detach: false,
            netns: None,
        }
    }

    pub fn network_namespace(mut self, netns: impl Into<PathBuf>) -> Self {
        self.netns = Some(netns.into());
        self
    }

    pub fn arg(mut self, arg: impl Into<OsString>) -> Self {
        self.args.push(arg.into());
        self
    }

    pub fn args<I, S>(mut self, args: I) -> Self
    where
        I: IntoIterator<Item = S>,
        S: Into<OsString>,
    {
        self.args.extend(args.into_iter().map(Into::into));
        self
    }

    pub fn env(mut self, key: impl Into<OsString>, value: impl Into<OsString>) -> Self {
        self.env.push((key.into(), value.into()));
        self
    }

    pub fn detach(mut self, detach: bool) -> Self {
        self.detach = detach;
        self
    }
}

/// A running (or once running) daemon.
#[derive(Debug)]
pub struct Daemon {
    name: String,
    pid: u32,
    /// File name of the program, checked against `/proc/<pid>/cmdline` so that a reused PID
    /// is never taken for the daemon.
    program_name: String,
    child: Option<Child>,
    exit_status: Option<ExitStatus>,
    pid_file: PathBuf,
    log_file: PathBuf,
}

impl Daemon {
    /// Starts the daemon in the background and writes its pid file.
    pub fn spawn(spec: &DaemonSpec) -> Result<Daemon> {
        if let Some(parent) = spec.log_file.parent() {
            fs::create_dir_all(parent).with_context(|| format!("creating {}", parent.display()))?;
        }
        let mut log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(&spec.log_file)
            .with_context(|| format!("opening log file {}", spec.log_file.display()))?;
        let now = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .map(|d| d.as_secs())
            .unwrap_or(0);
        let cmdline: Vec<String> = std::iter::once(spec.program.as_os_str())
            .chain(spec.args.iter().map(OsString::as_os_str))
            .map(|a| a.to_string_lossy().into_owned())
            .collect();
        writeln!(
            log,
            "--- ferrokube: starting {} at unix time {now}: {}",
            spec.name,
            cmdline.join(" ")
        )
        .with_context(|| format!("writing {}", spec.log_file.display()))?;
        let stderr = log
            .try_clone()
            .with_context(|| format!("duplicating {}", spec.log_file.display()))?;

        let mut cmd = Command::new(&spec.program);
        if let Some(path) = &spec.netns {
            let netns = fs::File::open(path).with_context(|| {
                format!(
                    "opening network namespace {} for {}",
                    path.display(),
                    spec.name
                )
            })?;
            // SAFETY: setns(2) is async-signal-safe; the fd is owned by the closure (and
            // so open until exec, where O_CLOEXEC closes it in the child).
            unsafe {
                cmd.pre_exec(move || {
                    use std::os::fd::AsRawFd;
                    if libc::setns(netns.as_raw_fd(), libc::CLONE_NEWNET) != 0 {
                        return Err(io::Error::last_os_error());
                    }
                    Ok(())
                });
            }
        }
        cmd.args(&spec.args)
            .envs(spec.env.iter().map(|(k, v)| (k, v)))
            .stdin(Stdio::null())
            .stdout(Stdio::from(log))
            .stderr(Stdio::from(stderr));
        let child = if spec.detach {
            // Own process group: a Ctrl-C in the terminal that ran `xtask up` does not reach it.
            cmd.process_group(0);
            cmd.spawn()
        } else {
            spawn_attached(cmd)
        }
        .with_context(|| format!("starting {} ({})", spec.name, spec.program.display()))?;
        let pid = child.id();
        let daemon = Daemon {
            name: spec.name.clone(),
            pid,
            program_name: program_name(&spec.program),
            child: Some(child),
            exit_status: None,
            pid_file: spec.pid_file.clone(),
            log_file: spec.log_file.clone(),
        };
        if let Err(e) = write_public(&spec.pid_file, format!("{pid}\n").as_bytes()) {
            let mut daemon = daemon;
            let _ = daemon.stop(Duration::from_secs(5));
            return Err(e);
        }
        Ok(daemon)
    }

    /// Finds a daemon started earlier (possibly by another process) through its pid file:
    /// `Some` if the file names a live process running `program`.
    pub fn adopt(
        name: &str,
        program: &Path,
        pid_file: &Path,
        log_file: &Path,
    ) -> Result<Option<Daemon>> {
        let Some(pid) = read_pid_file(pid_file)? else {
            return Ok(None);
        };
        let program_name = program_name(program);
        if !pid_alive(pid) || !pid_runs(pid, &program_name) {
            return Ok(None);
        }
        Ok(Some(Daemon {
            name: name.to_string(),
            pid,
            program_name,
            child: None,
            exit_status: None,
            pid_file: pid_file.to_path_buf(),
            log_file: log_file.to_path_buf(),
        }))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    pub fn pid(&self) -> u32 {
        self.pid
    }

    pub fn log_file(&self) -> &Path {
        &self.log_file
    }

    pub fn pid_file(&self) -> &Path {
        &self.pid_file
    }

    /// Whether this process was started by us (so we can reap it) rather than adopted.
    pub fn is_child(&self) -> bool {
        self.child.is_some()
    }

    /// The exit status, once a child of ours has exited.
    pub fn exit_status(&self) -> Option<ExitStatus> {
        self.exit_status
    }

    /// Whether the process still runs (reaps it if it is our child and has exited).
    pub fn is_alive(&mut self) -> bool {
        if self.exit_status.is_some() {
            return false;
        }
        match &mut self.child {
            Some(child) => match child.try_wait() {
                Ok(None) => true,
                Ok(Some(status)) => {
                    self.exit_status = Some(status);
                    false
                }
                Err(_) => pid_alive(self.pid),
            },
            None => pid_alive(self.pid) && pid_runs(self.pid, &self.program_name),
        }
    }

    /// SIGTERM, up to `grace` for it to exit, then SIGKILL. Removes the pid file.
    pub fn stop(&mut self, grace: Duration) -> Result<()> {
        if self.is_alive() {
            signal(self.pid, libc::SIGTERM)
                .with_context(|| format!("stopping {} (pid {})", self.name, self.pid))?;
            if !self.wait_exit(grace) {
                tracing::warn!(
                    "{} (pid {}) did not exit within {grace:?} of SIGTERM; sending SIGKILL",
                    self.name,
                    self.pid
                );
                signal(self.pid, libc::SIGKILL)
                    .with_context(|| format!("killing {} (pid {})", self.name, self.pid))?;
                if !self.wait_exit(Duration::from_secs(10)) {
                    bail!("{} (pid {}) still runs after SIGKILL", self.name, self.pid);
                }
            }
        }
        if read_pid_file(&self.pid_file).ok().flatten() == Some(self.pid) {
            let _ = fs::remove_file(&self.pid_file);
        }
        Ok(())
    }

    fn wait_exit(&mut self, timeout: Duration) -> bool {
        let deadline = Instant::now() + timeout;
        loop {
            if !self.is_alive() {
                return true;
            }
            if Instant::now() >= deadline {
                return false;
            }
            thread::sleep(Duration::from_millis(25));
        }
    }

    /// The last `lines` lines of the daemon's log file.
    pub fn log_tail(&self, lines: usize) -> String {
        tail_file(&self.log_file, lines)
    }
}

/// The file name of a program path (`/usr/bin/etcd` -> `etcd`).
fn program_name(program: &Path) -> String {
    program
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_else(|| program.to_string_lossy().into_owned())
}

/// Reads a pid file: `Ok(None)` if it does not exist.
pub fn read_pid_file(path: &Path) -> Result<Option<u32>> {
    match fs::read_to_string(path) {
        Ok(text) => {
            let pid: u32 = text.trim().parse().with_context(|| {
                format!("pid file {} does not hold a pid: {text:?}", path.display())
            })?;
            Ok(Some(pid))
        }
        Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
        Err(e) => Err(e).with_context(|| format!("reading {}", path.display())),
    }
}

/// Whether a process with this PID exists and is not a zombie.
pub fn pid_alive(pid: u32) -> bool {
    let Ok(raw) = i32::try_from(pid) else {
        return false;
    };
    if raw <= 0 {
        return false;
    }
    // SAFETY: kill with signal 0 only checks for the process; it sends nothing.
    let rc = unsafe { libc::kill(raw, 0) };
    if rc != 0 && io::Error::last_os_error().raw_os_error() != Some(libc::EPERM) {
        return false;
    }
    // A zombie still has a PID but is not running.
    match fs::read_to_string(format!("/proc/{pid}/stat")) {
        Ok(stat) => stat
            .rsplit_once(')')
            .map(|(_, rest)| !rest.trim_start().starts_with('Z'))
            .unwrap_or(true),
        Err(_) => false,
    }
}

/// Whether `/proc/<pid>/cmdline`'s program (argv\[0\]) has the file name `program_name`.
pub fn pid_runs(pid: u32, program_name: &str) -> bool {
    let Ok(cmdline) = fs::read(format!("/proc/{pid}/cmdline")) else {
        return false;
    };
    let argv0 = cmdline.split(|b| *b == 0).next().unwrap_or_default();
    let argv0 = String::from_utf8_lossy(argv0);
    Path::new(argv0.as_ref())
        .file_name()
        .map(|n| n.to_string_lossy() == program_name)
        .unwrap_or(false)
}

/// Stops the process named by a pid file if it is alive and runs `program` (SIGTERM, then
/// SIGKILL after `grace`), and removes the pid file. Returns the PID if one was stopped.
pub fn stop_pid_file(pid_file: &Path, program: &Path, grace: Duration) -> Result<Option<u32>> {
    let name = program_name(program);
    match Daemon::adopt(&name, program, pid_file, Path::new("")) {
        Ok(Some(mut daemon)) => {
            let pid = daemon.pid();
            daemon.stop(grace)?;
            Ok(Some(pid))
        }
        Ok(None) | Err(_) => {
            // Stale or unreadable pid file: the process is gone.
            match fs::remove_file(pid_file) {
                Ok(()) => Ok(None),
                Err(e) if e.kind() == io::ErrorKind::NotFound => Ok(None),
                Err(e) => Err(e).with_context(|| format!("removing {}", pid_file.display())),
            }
        }
    }
}

fn signal(pid: u32, sig: libc::c_int) -> Result<()> {
    let raw = i32::try_from(pid).context("pid out of range")?;
    if raw <= 1 {
        bail!("refusing to signal pid {raw}");
    }
    // SAFETY: plain kill(2) on one positive PID.
    let rc = unsafe { libc::kill(raw, sig) };
    if rc != 0 {
        let err = io::Error::last_os_error();
        if err.raw_os_error() == Some(libc::ESRCH) {
            return Ok(()); // already gone
        }
        return Err(err).context(format!("kill({raw}, {sig})"));
    }
    Ok(())
}

/// The last `lines` lines of a file (at most its last 64 KiB), or a note that it cannot be read.
pub fn tail_file(path: &Path, lines: usize) -> String {
    let read = || -> io::Result<String> {
        let mut file = fs::File::open(path)?;
        let len = file.metadata()?.len();
        let start = len.saturating_sub(64 * 1024);
        file.seek(SeekFrom::Start(start))?;
        let mut buf = Vec::new();
        file.read_to_end(&mut buf)?;
        Ok(String::from_utf8_lossy(&buf).into_owned())
    };
    match read() {
        Ok(text) => {
            let all: Vec<&str> = text.lines().collect();
            all[all.len().saturating_sub(lines)..].join("\n")
        }
        Err(e) => format!("(cannot read {}: {e})", path.display()),
    }
}

type SpawnJob = (Command, mpsc::Sender<io::Result<Child>>);

/// Forks `cmd` from the long-lived spawner thread with `PR_SET_PDEATHSIG(SIGKILL)`.
fn spawn_attached(mut cmd: Command) -> io::Result<Child> {
    static SPAWNER: OnceLock<Mutex<mpsc::Sender<SpawnJob>>> = OnceLock::new();
    let parent = std::process::id();
    // SAFETY: the closure runs between fork and exec and calls only async-signal-safe
    // functions (prctl, getppid); it allocates nothing on success.
    unsafe {
        cmd.pre_exec(move || {
            if libc::prctl(
                libc::PR_SET_PDEATHSIG,
                libc::SIGKILL as libc::c_ulong,
                0,
                0,
                0,
            ) != 0
            {
                return Err(io::Error::last_os_error());
            }
            // The parent may have died before prctl took effect.
            if libc::getppid() as u32 != parent {
                return Err(io::Error::other("parent exited during spawn"));
            }
            Ok(())
        });
    }
    let sender = SPAWNER.get_or_init(|| {
        let (tx, rx) = mpsc::channel::<SpawnJob>();
        let spawned = thread::Builder::new().name("ferrokube-spawner".into()).spawn(move || {
            for (mut cmd, reply) in rx {
                let _ = reply.send(cmd.spawn());
            }
        });
        if let Err(e) = spawned {
            tracing::warn!("cannot start the spawner thread ({e}); daemons will be forked from the calling thread");
        }
        Mutex::new(tx)
    });
    let (reply_tx, reply_rx) = mpsc::channel();
    let sent = match sender.lock() {
        Ok(tx) => tx.send((cmd, reply_tx)),
        Err(poisoned) => poisoned.into_inner().send((cmd, reply_tx)),
    };
    match sent {
        Ok(()) => reply_rx
            .recv()
            .map_err(|_| io::Error::other("spawner thread went away"))?,
        // No spawner thread: fork here (the daemon then dies with this thread).
        Err(mpsc::SendError((mut cmd, _))) => cmd.spawn(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn spawn_check_stop() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let spec = DaemonSpec::new(
            "sleep",
            "/bin/sleep",
            tmp.path().join("logs/sleep.log"),
            tmp.path().join("sleep.pid"),
        )
        .arg("30");
        let mut d = Daemon::spawn(&spec)?;
        assert!(d.is_alive());
        assert_eq!(read_pid_file(&spec.pid_file)?, Some(d.pid()));
        let adopted = Daemon::adopt(
            "sleep",
            Path::new("/bin/sleep"),
            &spec.pid_file,
            &spec.log_file,
        )?;
        assert_eq!(adopted.map(|a| a.pid()), Some(d.pid()));
        // A pid file naming a live process that runs something else is not adopted.
        assert!(Daemon::adopt(
            "etcd",
            Path::new("/usr/bin/etcd"),
            &spec.pid_file,
            &spec.log_file
        )?
        .is_none());
        d.stop(Duration::from_secs(5))?;
        assert!(!d.is_alive());
        assert!(!spec.pid_file.exists());
        assert!(tail_file(&spec.log_file, 5).contains("starting sleep"));
        Ok(())
    }

    #[test]
    fn sigkill_after_grace() -> Result<()> {
        let tmp = tempfile::tempdir()?;
        let spec = DaemonSpec::new(
            "sh",
            "/bin/sh",
            tmp.path().join("sh.log"),
            tmp.path().join("sh.pid"),
        )
        .args([
            "-c",
            "trap '' TERM; echo ready; while :; do sleep 0.1; done",
        ]);
        let mut d = Daemon::spawn(&spec)?;
        let deadline = Instant::now() + Duration::from_secs(5);
        // The header line quotes the command (with "ready" in it): wait for the echo itself.
        while !tail_file(&spec.log_file, 5).lines().any(|l| l == "ready")
            && Instant::now() < deadline
        {
            thread::sleep(Duration::from_millis(20));
        }
        let start = Instant::now();
        d.stop(Duration::from_millis(300))?;
        assert!(!d.is_alive());
        assert!(start.elapsed() >= Duration::from_millis(300));
        Ok(())
    }

    #[test]
    fn dead_pid_is_not_alive() {
        assert!(!pid_alive(0));
        assert!(!pid_alive(u32::MAX));
        assert!(pid_alive(std::process::id()));
    }
}
