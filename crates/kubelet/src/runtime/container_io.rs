//! The stdio of a container started with `stdin: true` or `tty: true` (containerd's CRI
//! plugin `internal/cri/io` ContainerIO): its task's stdin/stdout/stderr are FIFOs the
//! kubelet holds. Its output is copied into the same CRI-format log file the log driver
//! writes for other containers (so `kubectl logs` reads it unchanged) and fanned out to
//! the attach sessions; attach sessions write its stdin.
//!
//! Attach semantics (upstream `ContainerIO.Attach`): a session's stdin is copied into the
//! container's; when the session's stdin ends, a `stdinOnce` container without a tty has
//! its stdin closed for good (FIFO end dropped + containerd CloseIO), otherwise only the
//! session ends. Output goes to every session until the container's output ends.

use std::collections::HashMap;
use std::fs::File;
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use bytes::Bytes;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::unix::pipe;
use tokio::sync::{broadcast, watch};

use super::stdio::{FifoSet, OpenFifos};
use crate::logs::driver::{open_log, write_records};
use crate::logs::format::{LineSplitter, Stream};

/// Chunks buffered for a slow attach session before it starts losing output.
const SESSION_BUFFER: usize = 1024;

/// How a stdin/tty container's task is wired (see [`super::TaskIo::Attachable`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct StdioConfig {
    /// Directory of the FIFOs (recreated at every start of the container).
    pub dir: PathBuf,
    /// The CRI log file of this run of the container (`<n>.log`).
    pub log_path: PathBuf,
    /// spec.containers[].stdin: a stdin FIFO.
    pub stdin: bool,
    /// spec.containers[].tty: a terminal (stdout only, no stderr FIFO).
    pub tty: bool,
    /// spec.containers[].stdinOnce.
    pub stdin_once: bool,
}

impl StdioConfig {
    /// The FIFOs the task gets: stdin when asked, stdout, and stderr unless a terminal
    /// merges it into stdout.
    pub fn fifos(&self) -> FifoSet {
        FifoSet::in_dir(&self.dir, self.stdin, true, !self.tty)
    }
}

/// One chunk of the container's output.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Chunk {
    pub stream: Stream,
    pub data: Bytes,
}

/// The kubelet's side of a stdin/tty container's stdio.
#[derive(Debug)]
pub struct ContainerIo {
    pub container_id: String,
    pub config: StdioConfig,
    /// Our writer on the stdin FIFO; None when the container has no stdin or it was
    /// closed (stdinOnce).
    stdin: tokio::sync::Mutex<Option<pipe::Sender>>,
    /// Present while output flows; taken when every output stream ended.
    output: Mutex<Option<broadcast::Sender<Chunk>>>,
    /// True once every output stream ended.
    done: watch::Sender<bool>,
    tasks: Mutex<Vec<tokio::task::AbortHandle>>,
}

/// What an attach session does when its stdin ends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StdinEnd {
    /// stdinOnce without a tty: close the container's stdin; the session keeps
    /// receiving output until the container's output ends.
    CloseContainerStdin,
    /// Otherwise the session ends; the container's stdin stays open.
    EndSession,
}

/// Upstream's rule (containerd `ContainerIO.Attach`).
pub fn on_stdin_end(stdin_once: bool, tty: bool) -> StdinEnd {
    if stdin_once && !tty {
        StdinEnd::CloseContainerStdin
    } else {
        StdinEnd::EndSession
    }
}

impl ContainerIo {
    /// Starts copying the container's output (log file + sessions) from `fifos`.
    pub fn start(container_id: &str, config: StdioConfig, fifos: OpenFifos) -> Arc<ContainerIo> {
        let (tx, _) = broadcast::channel(SESSION_BUFFER);
        let (done, _) = watch::channel(false);
        let io = Arc::new(ContainerIo {
            container_id: container_id.to_string(),
            config,
            stdin: tokio::sync::Mutex::new(fifos.stdin),
            output: Mutex::new(Some(tx.clone())),
            done,
            tasks: Mutex::new(Vec::new()),
        });
        let log = match open_log(&io.config.log_path) {
            Ok(f) => Some(Arc::new(Mutex::new(f))),
            Err(e) => {
                tracing::warn!(container = container_id, path = %io.config.log_path.display(), error = %e, "opening the container log");
                None
            }
        };
        let pumps: Vec<_> = [
            (fifos.stdout, Stream::Stdout),
            (fifos.stderr, Stream::Stderr),
        ]
        .into_iter()
        .filter_map(|(rx, stream)| rx.map(|rx| (rx, stream)))
        .map(|(rx, stream)| {
            tokio::spawn(pump(
                rx,
                stream,
                log.clone(),
                tx.clone(),
                io.container_id.clone(),
            ))
        })
        .collect();
        drop(tx);
        let mut handles: Vec<_> = pumps.iter().map(|p| p.abort_handle()).collect();
        let weak = Arc::downgrade(&io);
        let closer = tokio::spawn(async move {
            for p in pumps {
                let _ = p.await;
            }
            if let Some(io) = weak.upgrade() {
                if let Ok(mut out) = io.output.lock() {
                    out.take();
                }
                io.done.send_replace(true);
            }
        });
        handles.push(closer.abort_handle());
        if let Ok(mut tasks) = io.tasks.lock() {
            *tasks = handles;
        }
        io
    }

    /// A receiver of the output from now on; None once the output ended.
    pub fn subscribe(&self) -> Option<broadcast::Receiver<Chunk>> {
        self.output
            .lock()
            .ok()
            .and_then(|o| o.as_ref().map(|tx| tx.subscribe()))
    }

    /// Resolves once the container's output ended (it exited).
    pub async fn finished(&self) {
        let mut rx = self.done.subscribe();
        let _ = rx.wait_for(|d| *d).await;
    }

    pub fn is_finished(&self) -> bool {
        *self.done.borrow()
    }

    /// True while the container's stdin is open.
    pub async fn stdin_open(&self) -> bool {
        self.stdin.lock().await.is_some()
    }

    /// Writes to the container's stdin; false when it has none (or it is closed).
    pub async fn write_stdin(&self, data: &[u8]) -> bool {
        let mut stdin = self.stdin.lock().await;
        let Some(w) = stdin.as_mut() else {
            return false;
        };
        if let Err(e) = w.write_all(data).await {
            tracing::debug!(container = %self.container_id, error = %e, "writing container stdin");
            *stdin = None;
            return false;
        }
        true
    }

    /// Drops our stdin writer; true when it was open (the caller then tells containerd
    /// with CloseIO so the shim drops its own).
    pub async fn close_stdin(&self) -> bool {
        self.stdin.lock().await.take().is_some()
    }

    /// Stops copying (the container is being deleted, or the kubelet detaches).
    pub fn stop(&self) {
        if let Ok(mut tasks) = self.tasks.lock() {
            for t in tasks.drain(..) {
                t.abort();
            }
        }
        // Sessions see the output end; our stdin end goes (unless a write holds it).
        if let Ok(mut out) = self.output.lock() {
            out.take();
        }
        self.done.send_replace(true);
        if let Ok(mut stdin) = self.stdin.try_lock() {
            stdin.take();
        }
    }
}

/// Copies one output FIFO into the CRI log file and to the sessions until EOF.
async fn pump(
    mut rx: pipe::Receiver,
    stream: Stream,
    log: Option<Arc<Mutex<File>>>,
    sessions: broadcast::Sender<Chunk>,
    container_id: String,
) {
    let mut splitter = LineSplitter::new(stream);
    let mut buf = vec![0u8; 32 * 1024];
    let write_log = |records: Vec<u8>| {
        if let Some(log) = &log {
            if let Err(e) = write_records(log, &records) {
                tracing::warn!(container = %container_id, error = %e, "writing the container log");
            }
        }
    };
    loop {
        let n = match rx.read(&mut buf).await {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => {
                tracing::debug!(container = %container_id, error = %e, "reading container output");
                break;
            }
        };
        write_log(splitter.push(&buf[..n], jiff::Timestamp::now()));
        // No session attached is fine.
        let _ = sessions.send(Chunk {
            stream,
            data: Bytes::copy_from_slice(&buf[..n]),
        });
    }
    write_log(splitter.finish(jiff::Timestamp::now()));
}

/// The kubelet's stdin/tty containers by containerd id, shared by every clone of the
/// runtime client (the pod workers register, the API server attaches).
#[derive(Debug, Clone, Default)]
pub struct ContainerIos {
    inner: Arc<Mutex<HashMap<String, Arc<ContainerIo>>>>,
}

impl ContainerIos {
    pub fn get(&self, container_id: &str) -> Option<Arc<ContainerIo>> {
        self.inner
            .lock()
            .ok()
            .and_then(|m| m.get(container_id).cloned())
    }

    /// Registers `io`, stopping the one of the container's previous run.
    pub fn insert(&self, io: Arc<ContainerIo>) {
        let old = match self.inner.lock() {
            Ok(mut m) => m.insert(io.container_id.clone(), io),
            Err(_) => None,
        };
        if let Some(old) = old {
            old.stop();
        }
    }

    /// Stops every relay but leaves the FIFOs (the shim keeps its ends): what a kubelet
    /// exiting does; the next one re-opens them (see `pod::adopt`).
    pub fn detach_all(&self) {
        let all: Vec<_> = match self.inner.lock() {
            Ok(mut m) => m.drain().map(|(_, io)| io).collect(),
            Err(_) => Vec::new(),
        };
        for io in all {
            io.stop();
        }
    }

    /// Forgets the container (deleted): stops copying and removes its FIFOs.
    pub fn remove(&self, container_id: &str) {
        let old = match self.inner.lock() {
            Ok(mut m) => m.remove(container_id),
            Err(_) => None,
        };
        if let Some(old) = old {
            old.stop();
            remove_fifo_dir(&old.config.dir);
        }
    }
}

/// Removes a FIFO directory (a missing one is fine).
pub fn remove_fifo_dir(dir: &Path) {
    if let Err(e) = std::fs::remove_dir_all(dir) {
        if e.kind() != std::io::ErrorKind::NotFound {
            tracing::warn!(dir = %dir.display(), error = %e, "removing container FIFOs");
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::format::parse_line;

    #[test]
    fn stdin_end_rule_is_upstreams() {
        assert_eq!(on_stdin_end(true, false), StdinEnd::CloseContainerStdin);
        assert_eq!(on_stdin_end(true, true), StdinEnd::EndSession);
        assert_eq!(on_stdin_end(false, false), StdinEnd::EndSession);
        assert_eq!(on_stdin_end(false, true), StdinEnd::EndSession);
    }

    #[test]
    fn fifos_follow_the_terminal() {
        let cfg = StdioConfig {
            dir: "/d".into(),
            log_path: "/l/0.log".into(),
            stdin: true,
            tty: true,
            stdin_once: true,
        };
        let set = cfg.fifos();
        assert!(set.stdin.is_some() && set.stdout.is_some() && set.stderr.is_none());
        let set = StdioConfig {
            tty: false,
            stdin: false,
            ..cfg
        }
        .fifos();
        assert!(set.stdin.is_none() && set.stdout.is_some() && set.stderr.is_some());
    }

    /// The relay with plain FIFOs standing in for the shim: output lands in the CRI log
    /// and reaches a subscriber; stdin reaches the "process"; EOF finishes the io.
    #[tokio::test]
    async fn relays_output_to_log_and_sessions() {
        let dir = tempfile::tempdir().unwrap();
        let cfg = StdioConfig {
            dir: dir.path().join("fifo"),
            log_path: dir.path().join("log").join("0.log"),
            stdin: true,
            tty: false,
            stdin_once: true,
        };
        std::fs::create_dir_all(&cfg.dir).unwrap();
        let set = cfg.fifos();
        set.create().unwrap();
        let pending = set.open().unwrap();
        let (out_path, err_path) = (set.stdout.clone().unwrap(), set.stderr.clone().unwrap());
        let shim = std::thread::spawn(move || {
            let w = |p| std::fs::OpenOptions::new().write(true).open(p).unwrap();
            (w(out_path), w(err_path))
        });
        let fifos = pending.opened().await.unwrap();
        let (out_w, err_w) = shim.join().unwrap();
        let mut stdin_r = pipe::OpenOptions::new()
            .open_receiver(set.stdin.as_ref().unwrap())
            .unwrap();

        let ios = ContainerIos::default();
        let io = ContainerIo::start("c1", cfg.clone(), fifos);
        ios.insert(io.clone());
        let mut rx = ios.get("c1").unwrap().subscribe().unwrap();
        {
            use std::io::Write;
            (&out_w).write_all(b"hello\n").unwrap();
        }
        let chunk = rx.recv().await.unwrap();
        assert_eq!(chunk.stream, Stream::Stdout);
        assert_eq!(&chunk.data[..], b"hello\n");
        {
            use std::io::Write;
            (&err_w).write_all(b"oops").unwrap();
        }
        let chunk = rx.recv().await.unwrap();
        assert_eq!(
            (chunk.stream, &chunk.data[..]),
            (Stream::Stderr, &b"oops"[..])
        );

        assert!(io.write_stdin(b"typed").await);
        let mut buf = [0u8; 5];
        stdin_r.read_exact(&mut buf).await.unwrap();
        assert_eq!(&buf, b"typed");
        assert!(io.close_stdin().await);
        assert!(!io.write_stdin(b"late").await);
        assert!(!io.stdin_open().await);

        drop((out_w, err_w));
        io.finished().await;
        assert!(io.is_finished());
        assert!(io.subscribe().is_none());
        let text = std::fs::read(&cfg.log_path).unwrap();
        let lines: Vec<_> = text
            .split_inclusive(|b| *b == b'\n')
            .map(|l| parse_line(l).unwrap())
            .map(|l| (l.stream, l.content.to_vec()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Stream::Stdout, b"hello".to_vec()),
                (Stream::Stderr, b"oops".to_vec())
            ]
        );
        ios.remove("c1");
        assert!(ios.get("c1").is_none());
        assert!(!cfg.dir.exists());
    }
}
