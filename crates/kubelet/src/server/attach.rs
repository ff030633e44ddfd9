//! /attach over WebSocket or SPDY (see `session`), as upstream's kubelet + containerd
//! CRI plugin serve it:
//!
//! * the container must be running (CRI Attach: "container is in CONTAINER_EXITED
//!   state" otherwise);
//! * the terminal setting is the container's (`tty` in its spec), not the request's;
//! * a container with `stdin: true` or `tty: true` has its stdio relayed by the kubelet
//!   (`runtime::container_io`): the session writes its stdin, receives its output from
//!   now on, resizes its terminal; when the session's stdin ends, a `stdinOnce`
//!   container without a tty has its stdin closed, otherwise the session ends;
//! * any other container's output goes to the log driver: the session follows its CRI
//!   log file from now on, and input is discarded (containerd has no stdin for it
//!   either; upstream answers the same way, without an error).

use std::path::{Path, PathBuf};
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use k8s_openapi::api::core::v1::Container;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::broadcast::error::RecvError;
use tokio::sync::mpsc;

use super::query::{self, Target};
use super::routes::find_container;
use super::session::{self, Input, Output, StreamFlags, Streams};
use super::{text, Body, ServerState};
use crate::logs::format::{parse_line, Stream};
use crate::runtime::container_io::{on_stdin_end, Chunk, ContainerIo, StdinEnd};
use crate::runtime::{TaskState, TaskStatus};
use crate::streams::channel;

/// The CRI state name of a task (what upstream's CRI Attach error names).
pub fn cri_state(status: Option<&TaskStatus>) -> &'static str {
    match status.map(|s| s.state) {
        None | Some(TaskState::Created) => "CONTAINER_CREATED",
        Some(TaskState::Running | TaskState::Paused | TaskState::Pausing) => "CONTAINER_RUNNING",
        Some(TaskState::Stopped) => "CONTAINER_EXITED",
        Some(TaskState::Unknown) => "CONTAINER_UNKNOWN",
    }
}

/// Which output channel a chunk goes to in a session, if any: with a terminal there is
/// only stdout; stderr only when the client asked for it.
pub fn route_chunk(stream: Stream, flags: StreamFlags, tty: bool) -> Option<fn(Bytes) -> Output> {
    match stream {
        Stream::Stdout if flags.stdout => Some(Output::Stdout),
        Stream::Stderr if tty && flags.stdout => Some(Output::Stdout),
        Stream::Stderr if !tty && flags.stderr => Some(Output::Stderr),
        _ => None,
    }
}

fn container_spec<'a>(
    pod: &'a k8s_openapi::api::core::v1::Pod,
    name: &str,
) -> Option<&'a Container> {
    let spec = pod.spec.as_ref()?;
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .find(|c| c.name == name)
}

pub async fn attach(state: Arc<ServerState>, t: Target, req: Request<Incoming>) -> Response<Body> {
    let pairs = query::pairs(req.uri().query());
    let flags = StreamFlags::from_query(&pairs);
    if !flags.any() {
        return text(
            StatusCode::BAD_REQUEST,
            "you must specify at least 1 of stdin, stdout, stderr",
        );
    }
    let (rp, container_id) = match find_container(&state, &t) {
        Ok(found) => found,
        Err(resp) => return *resp,
    };
    let status = state.runtime.task_status(&container_id).await.ok();
    if status.as_ref().map(|s| s.state) != Some(TaskState::Running) {
        // Upstream: the CRI error through streaming.WriteError (500, the gRPC text).
        return text(
            StatusCode::INTERNAL_SERVER_ERROR,
            format!(
                "rpc error: code = Unknown desc = container is in {} state",
                cri_state(status.as_ref())
            ),
        );
    }
    let tty = container_spec(&rp.pod, &t.container).is_some_and(|c| c.tty == Some(true));
    if let Some(io) = state.runtime.container_io(&container_id) {
        return session::upgrade(req, flags, move |streams| {
            relay_session(state, io, flags, streams)
        });
    }
    let Some((log_path, _)) = rp.log_path(&t.container).await else {
        return text(
            StatusCode::NOT_FOUND,
            format!("container {} has no log", t.container),
        );
    };
    session::upgrade(req, flags, move |streams| {
        log_session(state, container_id, log_path, flags, tty, streams)
    })
}

/// How a relay session's client side ended.
enum ClientEnd {
    /// The session's stdin ended and the session ends with it (upstream: the outputs
    /// are detached and Attach returns).
    Session,
    /// The client went away.
    Gone,
}

/// A session on a stdin/tty container's relayed stdio.
async fn relay_session(
    state: Arc<ServerState>,
    io: Arc<ContainerIo>,
    flags: StreamFlags,
    streams: Streams,
) {
    let Streams { mut input, output } = streams;
    let cfg = io.config.clone();
    let id = io.container_id.clone();
    let runtime = state.runtime.clone();
    let wants_output = flags.stdout || flags.stderr;
    let sub = if wants_output { io.subscribe() } else { None };
    let out = output.clone();
    let forward = async {
        let Some(mut rx) = sub else {
            io.finished().await;
            return;
        };
        loop {
            match rx.recv().await {
                Ok(Chunk { stream, data }) => {
                    if let Some(wrap) = route_chunk(stream, flags, cfg.tty) {
                        if out.send(wrap(data)).await.is_err() {
                            // The client is gone; the input side notices too.
                            std::future::pending::<()>().await;
                        }
                    }
                }
                Err(RecvError::Lagged(n)) => {
                    tracing::debug!(container = %id, skipped = n, "attach session lagging; output dropped");
                }
                Err(RecvError::Closed) => return,
            }
        }
    };
    // The session's stdin reaches the container only when both want it.
    let stdin = flags.stdin && cfg.stdin;
    let on_end = on_stdin_end(cfg.stdin_once, cfg.tty);
    let close_stdin = || async {
        match runtime.close_container_stdin(&id).await {
            Ok(_) => {}
            Err(e) => tracing::warn!(container = %id, error = %e, "closing the container's stdin"),
        }
    };
    let client = async {
        while let Some(event) = input.recv().await {
            match event {
                Input::Stdin(data) if stdin => {
                    io.write_stdin(&data).await;
                }
                Input::StdinEof if stdin => match on_end {
                    StdinEnd::CloseContainerStdin => close_stdin().await,
                    StdinEnd::EndSession => return ClientEnd::Session,
                },
                Input::Resize(size) if cfg.tty => {
                    if let Err(e) = runtime
                        .resize_pty(&id, "", size.width.into(), size.height.into())
                        .await
                    {
                        tracing::debug!(container = %id, error = %e, "resizing the container's terminal");
                    }
                }
                _ => {}
            }
        }
        // The client leaving ends its stdin too.
        if stdin && on_end == StdinEnd::CloseContainerStdin {
            close_stdin().await;
        }
        ClientEnd::Gone
    };
    tokio::select! {
        _ = forward => {
            let _ = output.send(Output::status(channel::exit_status(&[], 0))).await;
        }
        end = client => {
            if let ClientEnd::Session = end {
                let _ = output.send(Output::status(channel::exit_status(&[], 0))).await;
            }
        }
    }
}

/// A session on a log-driver container: its CRI log from now on; input is discarded.
async fn log_session(
    state: Arc<ServerState>,
    container_id: String,
    log_path: PathBuf,
    flags: StreamFlags,
    tty: bool,
    streams: Streams,
) {
    let Streams { mut input, output } = streams;
    let follow = follow_output(&state, &container_id, &log_path, flags, tty, &output);
    let client_gone = async { while input.recv().await.is_some() {} };
    tokio::select! {
        r = follow => {
            let status = match r {
                Ok(()) => channel::exit_status(&[], 0),
                Err(e) => channel::failure_status(e),
            };
            let _ = output.send(Output::status(status)).await;
        }
        _ = client_gone => {}
    }
}

/// Sends the container's new output records until it stops running.
async fn follow_output(
    state: &ServerState,
    container_id: &str,
    log_path: &Path,
    flags: StreamFlags,
    tty: bool,
    out: &mpsc::Sender<Output>,
) -> Result<(), String> {
    let mut file = tokio::fs::File::open(log_path)
        .await
        .map_err(|e| format!("opening {}: {e}", log_path.display()))?;
    file.seek(std::io::SeekFrom::End(0))
        .await
        .map_err(|e| format!("reading {}: {e}", log_path.display()))?;
    let mut pending = Vec::new();
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = file
            .read(&mut buf)
            .await
            .map_err(|e| format!("reading {}: {e}", log_path.display()))?;
        if n == 0 {
            let running = matches!(
                state
                    .runtime
                    .task_status(container_id)
                    .await
                    .map(|s| s.state),
                Ok(TaskState::Running)
            );
            if !running {
                return Ok(());
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
            continue;
        }
        pending.extend_from_slice(&buf[..n]);
        while let Some(i) = pending.iter().position(|b| *b == b'\n') {
            let record: Vec<u8> = pending.drain(..=i).collect();
            let Ok(line) = parse_line(&record) else {
                continue;
            };
            let Some(wrap) = route_chunk(line.stream, flags, tty) else {
                continue;
            };
            let mut data = line.content.to_vec();
            if !line.partial {
                data.push(b'\n');
            }
            if out.send(wrap(Bytes::from(data))).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn flags(stdout: bool, stderr: bool) -> StreamFlags {
        StreamFlags {
            stdin: true,
            stdout,
            stderr,
            tty: false,
        }
    }

    fn routed(stream: Stream, f: StreamFlags, tty: bool) -> Option<Output> {
        route_chunk(stream, f, tty).map(|w| w(Bytes::from_static(b"x")))
    }

    #[test]
    fn chunks_go_to_the_asked_channels() {
        let x = || Bytes::from_static(b"x");
        assert_eq!(
            routed(Stream::Stdout, flags(true, true), false),
            Some(Output::Stdout(x()))
        );
        assert_eq!(
            routed(Stream::Stderr, flags(true, true), false),
            Some(Output::Stderr(x()))
        );
        assert_eq!(routed(Stream::Stderr, flags(true, false), false), None);
        assert_eq!(routed(Stream::Stdout, flags(false, true), false), None);
        // A terminal has one stream: stdout.
        assert_eq!(
            routed(Stream::Stderr, flags(true, false), true),
            Some(Output::Stdout(x()))
        );
    }

    #[test]
    fn cri_state_names() {
        let st = |state| TaskStatus {
            pid: 1,
            state,
            exit_code: 0,
        };
        assert_eq!(cri_state(Some(&st(TaskState::Stopped))), "CONTAINER_EXITED");
        assert_eq!(
            cri_state(Some(&st(TaskState::Running))),
            "CONTAINER_RUNNING"
        );
        assert_eq!(cri_state(None), "CONTAINER_CREATED");
    }

    #[test]
    fn finds_app_and_init_containers() {
        let pod: k8s_openapi::api::core::v1::Pod = serde_json::from_value(serde_json::json!({
            "spec": {
                "initContainers": [{"name": "init"}],
                "containers": [{"name": "app", "tty": true}]
            }
        }))
        .unwrap();
        assert_eq!(container_spec(&pod, "app").and_then(|c| c.tty), Some(true));
        assert!(container_spec(&pod, "init").is_some());
        assert!(container_spec(&pod, "nope").is_none());
    }
}
