//! FIFO stdio for containerd processes (exec processes and stdin/tty containers' tasks),
//! following the runc shim's protocol (containerd 1.6 `pkg/process/io.go` copyPipes and
//! `copyConsole`): the shim opens stdin for reading (non-blocking) and keeps a writer of
//! its own until CloseIO, and opens stdout/stderr for writing with a blocking open, so
//! their readers must be opening while the Create/Exec RPC runs.
//!
//! Here stdin is opened read-write before the RPC (the shim never sees EOF early;
//! dropping it plus CloseIO is EOF), and stdout/stderr are opened read-only in blocking
//! threads that finish once the shim opens its end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::net::unix::pipe;
use tokio::task::JoinHandle;

use super::{Result, RuntimeError};

/// How long the shim gets to open the output FIFOs after the RPC that hands them over.
pub const FIFO_OPEN_TIMEOUT: Duration = Duration::from_secs(30);

/// The FIFO paths of one process (`None`: that stream is not wired).
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct FifoSet {
    pub stdin: Option<PathBuf>,
    pub stdout: Option<PathBuf>,
    pub stderr: Option<PathBuf>,
}

impl FifoSet {
    /// The paths under `dir` (`stdin`, `stdout`, `stderr`) for the wanted streams.
    pub fn in_dir(dir: &Path, stdin: bool, stdout: bool, stderr: bool) -> FifoSet {
        let path = |name: &str, wanted: bool| wanted.then(|| dir.join(name));
        FifoSet {
            stdin: path("stdin", stdin),
            stdout: path("stdout", stdout),
            stderr: path("stderr", stderr),
        }
    }

    fn all(&self) -> impl Iterator<Item = &PathBuf> {
        [&self.stdin, &self.stdout, &self.stderr]
            .into_iter()
            .flatten()
    }

    /// A path as the shim wants it (empty: not wired).
    pub fn uri(p: &Option<PathBuf>) -> String {
        p.as_ref()
            .map(|p| p.display().to_string())
            .unwrap_or_default()
    }

    /// Makes the FIFOs (the directory must exist).
    pub fn create(&self) -> Result<()> {
        self.all().try_for_each(|p| mkfifo(p))
    }

    /// Opens our ends before the RPC: stdin read-write now, the outputs in blocking
    /// threads that return once the shim opened its end.
    pub fn open(&self) -> Result<PendingFifos> {
        let stdin = match &self.stdin {
            Some(p) => Some(open_stdin(p)?),
            None => None,
        };
        Ok(PendingFifos {
            set: self.clone(),
            stdin,
            stdout: self.stdout.clone().map(open_reader),
            stderr: self.stderr.clone().map(open_reader),
        })
    }

    /// Opens our ends of FIFOs the shim already holds (after a kubelet restart): the
    /// outputs open at once because the shim keeps its writers (and a reader) open.
    pub fn reopen(&self) -> Result<OpenFifos> {
        let stdin = match &self.stdin {
            Some(p) => Some(open_stdin(p)?),
            None => None,
        };
        let receiver = |p: &Option<PathBuf>| -> Result<Option<pipe::Receiver>> {
            let Some(p) = p else { return Ok(None) };
            pipe::OpenOptions::new()
                .open_receiver(p)
                .map(Some)
                .map_err(|e| RuntimeError::io(format!("opening {}", p.display()), e))
        };
        Ok(OpenFifos {
            stdin,
            stdout: receiver(&self.stdout)?,
            stderr: receiver(&self.stderr)?,
        })
    }
}

/// Our ends of a process's FIFOs.
#[derive(Debug, Default)]
pub struct OpenFifos {
    pub stdin: Option<pipe::Sender>,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
}

type OpenJob = JoinHandle<std::io::Result<std::fs::File>>;

/// FIFOs whose output ends are still being opened (see [`FifoSet::open`]).
#[derive(Debug)]
pub struct PendingFifos {
    set: FifoSet,
    stdin: Option<pipe::Sender>,
    stdout: Option<OpenJob>,
    stderr: Option<OpenJob>,
}

impl PendingFifos {
    /// Unblocks the pending opens when the shim will never open the FIFOs (the RPC
    /// failed) and waits for them to finish, so no thread stays blocked.
    pub async fn abandon(self) {
        let jobs = [
            (&self.set.stdout, self.stdout),
            (&self.set.stderr, self.stderr),
        ];
        for (path, job) in jobs {
            let (Some(path), Some(job)) = (path, job) else {
                continue;
            };
            // The thread may not have reached open(2) yet: knock until it returns.
            for _ in 0..500 {
                unblock_reader(path);
                if job.is_finished() {
                    break;
                }
                tokio::time::sleep(Duration::from_millis(10)).await;
            }
            let _ = job.await;
        }
    }

    /// Waits (at most [`FIFO_OPEN_TIMEOUT`]) for the shim to open the output FIFOs.
    pub async fn opened(self) -> Result<OpenFifos> {
        let PendingFifos {
            set,
            stdin,
            stdout,
            stderr,
        } = self;
        let stdout = receiver(stdout).await;
        let stderr = receiver(stderr).await;
        match (stdout, stderr) {
            (Ok(stdout), Ok(stderr)) => Ok(OpenFifos {
                stdin,
                stdout,
                stderr,
            }),
            (Err(e), _) | (_, Err(e)) => {
                for p in [&set.stdout, &set.stderr].into_iter().flatten() {
                    unblock_reader(p);
                }
                Err(e)
            }
        }
    }
}

async fn receiver(open: Option<OpenJob>) -> Result<Option<pipe::Receiver>> {
    let Some(open) = open else { return Ok(None) };
    let file = tokio::time::timeout(FIFO_OPEN_TIMEOUT, open)
        .await
        .map_err(|_| {
            RuntimeError::io(
                "opening an output FIFO",
                std::io::ErrorKind::TimedOut.into(),
            )
        })?
        .map_err(|e| RuntimeError::io("opening an output FIFO", std::io::Error::other(e)))?
        .map_err(|e| RuntimeError::io("opening an output FIFO", e))?;
    pipe::Receiver::from_file(file)
        .map(Some)
        .map_err(|e| RuntimeError::io("opening an output FIFO", e))
}

fn open_stdin(p: &Path) -> Result<pipe::Sender> {
    pipe::OpenOptions::new()
        .read_write(true)
        .open_sender(p)
        .map_err(|e| RuntimeError::io(format!("opening {}", p.display()), e))
}

fn mkfifo(path: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| RuntimeError::Invalid {
            what: "fifo path".into(),
            msg: e.to_string(),
        })?;
    // SAFETY: c is a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(RuntimeError::io(
            format!("mkfifo {}", path.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Opens a FIFO for reading in a blocking thread (returns once a writer opened it).
fn open_reader(path: PathBuf) -> OpenJob {
    tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().read(true).open(path))
}

/// Unblocks a pending [`open_reader`] when the shim will never open the FIFO.
fn unblock_reader(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
}

#[cfg(test)]
mod tests {
    use super::*;
    use tokio::io::{AsyncReadExt, AsyncWriteExt};

    #[test]
    fn paths_for_the_wanted_streams() {
        let set = FifoSet::in_dir(Path::new("/run/x"), true, true, false);
        assert_eq!(set.stdin.as_deref(), Some(Path::new("/run/x/stdin")));
        assert_eq!(set.stdout.as_deref(), Some(Path::new("/run/x/stdout")));
        assert_eq!(set.stderr, None);
        assert_eq!(FifoSet::uri(&set.stderr), "");
        assert_eq!(FifoSet::uri(&set.stdout), "/run/x/stdout");
    }

    #[tokio::test]
    async fn open_then_reopen_like_the_shim() {
        let dir = tempfile::tempdir().unwrap();
        let set = FifoSet::in_dir(dir.path(), true, true, false);
        set.create().unwrap();
        let pending = set.open().unwrap();
        // The "shim": a writer on stdout (blocking open in a thread), a reader on stdin.
        let out = set.stdout.clone().unwrap();
        let writer = std::thread::spawn(move || {
            use std::io::Write;
            let mut w = std::fs::OpenOptions::new().write(true).open(out).unwrap();
            w.write_all(b"hello").unwrap();
            w
        });
        let mut open = pending.opened().await.unwrap();
        let shim_out = writer.join().unwrap();
        let mut buf = [0u8; 5];
        open.stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut buf)
            .await
            .unwrap();
        assert_eq!(&buf, b"hello");
        let mut stdin_reader = pipe::OpenOptions::new()
            .open_receiver(set.stdin.as_ref().unwrap())
            .unwrap();
        open.stdin.as_mut().unwrap().write_all(b"in").await.unwrap();
        let mut buf = [0u8; 2];
        stdin_reader.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"in");

        // A "kubelet restart": our ends go, the shim's stay; reopening works at once.
        drop(open);
        let mut again = set.reopen().unwrap();
        {
            use std::io::Write;
            (&shim_out).write_all(b"more").unwrap();
        }
        let mut buf = [0u8; 4];
        again
            .stdout
            .as_mut()
            .unwrap()
            .read_exact(&mut buf)
            .await
            .unwrap();
        assert_eq!(&buf, b"more");
    }

    #[tokio::test]
    async fn abandoned_opens_do_not_hang() {
        let dir = tempfile::tempdir().unwrap();
        let set = FifoSet::in_dir(dir.path(), false, true, true);
        set.create().unwrap();
        let pending = set.open().unwrap();
        // Returns (the blocked opens were released) instead of hanging the test.
        pending.abandon().await;
        // Creating the set again fails: the FIFOs exist.
        assert!(set.create().is_err());
    }
}
