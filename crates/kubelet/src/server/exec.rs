//! /exec and /attach over the WebSocket channel protocols.
//!
//! exec: containerd tasks.Exec in the container (see `runtime::exec`), stdin/stdout/
//! stderr pumped between the FIFOs and the channels, resize on channel 4, and the exit
//! Status on channel 3 when the process ends.
//!
//! attach: containers run with their output going to the CRI log driver and without a
//! stdin stream, so attach streams the container's output from now on (read from its
//! CRI log, stdout and stderr on their channels) until the container stops or the client
//! leaves; stdin sent by the client is discarded.

use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncReadExt, AsyncSeekExt, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::query::{self, Target};
use super::routes::find_container;
use super::{text, Body, ServerState};
use crate::logs::format::{parse_line, Stream};
use crate::runtime::exec::ExecRequest;
use crate::runtime::TaskState;
use crate::streams::channel::{self, Frame, Protocol, TerminalSize};
use crate::streams::websocket;

/// The stream flags of an exec/attach request.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamFlags {
    pub stdin: bool,
    pub stdout: bool,
    pub stderr: bool,
    pub tty: bool,
}

impl StreamFlags {
    pub fn from_query(pairs: &[(String, String)]) -> StreamFlags {
        let tty = query::flag(pairs, "tty");
        StreamFlags {
            stdin: query::flag(pairs, "stdin") || query::flag(pairs, "input"),
            stdout: query::flag(pairs, "stdout") || query::flag(pairs, "output"),
            // A terminal merges stderr into stdout (upstream refuses tty+stderr too).
            stderr: (query::flag(pairs, "stderr") || query::flag(pairs, "error")) && !tty,
            tty,
        }
    }

    /// The channel the "connection established" empty frame goes to: the lowest one the
    /// server writes (upstream wsstream does the same).
    fn first_channel(self) -> u8 {
        if self.stdout {
            channel::STDOUT
        } else if self.stderr {
            channel::STDERR
        } else {
            channel::ERROR
        }
    }
}

/// Validates the request and answers the upgrade; `session` runs on the upgraded stream.
async fn upgrade<F, Fut>(req: Request<Incoming>, session: F) -> Response<Body>
where
    F: FnOnce(WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>, Protocol) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    if !websocket::is_websocket_upgrade(req.headers()) {
        return text(
            StatusCode::BAD_REQUEST,
            "this endpoint streams over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io) or, for exec, SPDY/3.1",
        );
    }
    let (_, headers, protocol) = match websocket::accept(req.headers()) {
        Ok(a) => a,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let mut req = req;
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                session(ws, protocol).await;
            }
            Err(e) => tracing::debug!(error = %e, "kubelet API: upgrade failed"),
        }
    });
    websocket::switching_protocols(headers)
}

/// Sends frames in order from one task; ends with a normal Close.
fn spawn_writer(
    mut sink: futures::stream::SplitSink<
        WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
        Message,
    >,
) -> (mpsc::Sender<Vec<u8>>, tokio::task::JoinHandle<()>) {
    let (tx, mut rx) = mpsc::channel::<Vec<u8>>(64);
    let task = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if sink
                .send(Message::Binary(Bytes::from(frame)))
                .await
                .is_err()
            {
                return;
            }
        }
        let _ = sink
            .send(Message::Close(Some(CloseFrame {
                code: tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
                reason: "".into(),
            })))
            .await;
        let _ = sink.close().await;
    });
    (tx, task)
}

pub async fn exec(state: Arc<ServerState>, t: Target, req: Request<Incoming>) -> Response<Body> {
    let pairs = query::pairs(req.uri().query());
    let command = query::all(&pairs, "command");
    if command.is_empty() {
        return text(
            StatusCode::BAD_REQUEST,
            "you must specify at least 1 command",
        );
    }
    let flags = StreamFlags::from_query(&pairs);
    if !flags.stdin && !flags.stdout && !flags.stderr {
        return text(
            StatusCode::BAD_REQUEST,
            "you must specify at least 1 of stdin, stdout, stderr",
        );
    }
    let (_, container_id) = match find_container(&state, &t) {
        Ok(found) => found,
        Err(resp) => return *resp,
    };
    let exec_req = ExecRequest {
        container_id,
        command,
        tty: flags.tty,
        stdin: flags.stdin,
        stdout: flags.stdout,
        stderr: flags.stderr,
    };
    // kubectl before 1.30: SPDY/3.1 with the v4 stream protocol.
    if super::portforward::transport(req.headers()) == Some(super::portforward::Transport::Spdy) {
        if !super::spdy_exec::offers_v4(req.headers()) {
            return text(
                StatusCode::BAD_REQUEST,
                "SPDY exec needs X-Stream-Protocol-Version v4.channel.k8s.io",
            );
        }
        let mut req = req;
        let on_upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(up) => super::spdy_exec::session(TokioIo::new(up), state, exec_req, flags).await,
                Err(e) => tracing::debug!(error = %e, "kubelet API: upgrade failed"),
            }
        });
        return websocket::switching_protocols(super::spdy_exec::upgrade_headers());
    }
    upgrade(req, move |ws, protocol| {
        run_exec(state, exec_req, flags, ws, protocol)
    })
    .await
}

async fn run_exec(
    state: Arc<ServerState>,
    req: ExecRequest,
    flags: StreamFlags,
    ws: WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>,
    protocol: Protocol,
) {
    let (sink, mut source) = ws.split();
    let (out, writer) = spawn_writer(sink);
    let _ = out.send(channel::encode(flags.first_channel(), &[])).await;
    let runtime = state.runtime.clone();
    let mut process = match runtime.exec(&req, &state.exec_dir).await {
        Ok(p) => p,
        Err(e) => {
            let status =
                channel::failure_status(format!("exec in container {}: {e}", req.container_id));
            let _ = out.send(channel::status_frame(&status)).await;
            drop(out);
            let _ = writer.await;
            return;
        }
    };
    let (cid, eid) = (process.container_id.clone(), process.exec_id.clone());
    let pump = |rx: Option<tokio::net::unix::pipe::Receiver>, ch: u8| {
        let out = out.clone();
        tokio::spawn(async move {
            let Some(mut rx) = rx else { return };
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match rx.read(&mut buf).await {
                    Ok(0) | Err(_) => return,
                    Ok(n) => {
                        if out.send(channel::encode(ch, &buf[..n])).await.is_err() {
                            return;
                        }
                    }
                }
            }
        })
    };
    let stdout_pump = pump(process.stdout.take(), channel::STDOUT);
    let stderr_pump = pump(process.stderr.take(), channel::STDERR);

    // The client's frames: stdin, stdin close (v5), resize.
    let mut stdin = process.stdin.take();
    let (rt, c2, e2) = (runtime.clone(), cid.clone(), eid.clone());
    let mut reader = tokio::spawn(async move {
        while let Some(msg) = source.next().await {
            let data = match msg {
                Ok(Message::Binary(b)) => b,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            match channel::decode(&data, protocol) {
                Ok(Frame::Data {
                    channel: channel::STDIN,
                    data,
                }) => {
                    if let Some(w) = stdin.as_mut() {
                        if w.write_all(data).await.is_err() {
                            stdin = None;
                        }
                    }
                }
                Ok(Frame::Close {
                    channel: channel::STDIN,
                }) => {
                    if stdin.take().is_some() {
                        let _ = rt.close_exec_stdin(&c2, &e2).await;
                    }
                }
                Ok(Frame::Data {
                    channel: channel::RESIZE,
                    data,
                }) => {
                    if let Ok(size) = serde_json::from_slice::<TerminalSize>(data) {
                        let _ = rt
                            .resize_pty(&c2, &e2, size.width.into(), size.height.into())
                            .await;
                    }
                }
                Ok(_) | Err(_) => {}
            }
        }
    });

    let waited = tokio::select! {
        code = runtime.wait_exec(&cid, &eid) => Some(code),
        _ = &mut reader => None,
    };
    match waited {
        Some(code) => {
            // The output FIFOs reach EOF once the shim copied everything.
            let _ = stdout_pump.await;
            let _ = stderr_pump.await;
            let status = match code {
                Ok(code) => channel::exit_status(&req.command, code),
                Err(e) => channel::failure_status(format!("waiting for the exec process: {e}")),
            };
            let _ = out.send(channel::status_frame(&status)).await;
            reader.abort();
        }
        None => {
            // The client left: stop the process.
            stdout_pump.abort();
            stderr_pump.abort();
        }
    }
    drop(out);
    let _ = writer.await;
    if let Err(e) = runtime.delete_exec(&cid, &eid).await {
        tracing::warn!(error = %e, "deleting exec process");
    }
    process.cleanup();
}

pub async fn attach(state: Arc<ServerState>, t: Target, req: Request<Incoming>) -> Response<Body> {
    let pairs = query::pairs(req.uri().query());
    let flags = StreamFlags::from_query(&pairs);
    if !flags.stdin && !flags.stdout && !flags.stderr {
        return text(
            StatusCode::BAD_REQUEST,
            "you must specify at least 1 of stdin, stdout, stderr",
        );
    }
    let (rp, container_id) = match find_container(&state, &t) {
        Ok(found) => found,
        Err(resp) => return *resp,
    };
    let Some(log_path) = rp
        .app
        .iter()
        .chain(&rp.init)
        .find(|c| c.id == container_id)
        .map(|c| c.log_path.clone())
    else {
        return text(
            StatusCode::NOT_FOUND,
            format!("container {} has no log", t.container),
        );
    };
    upgrade(req, move |ws, _protocol| async move {
        let (sink, mut source) = ws.split();
        let (out, writer) = spawn_writer(sink);
        let _ = out.send(channel::encode(flags.first_channel(), &[])).await;
        let follow = follow_output(&state, &container_id, &log_path, flags, &out);
        // Input is read and discarded (no stdin stream); the client closing ends attach.
        let client_gone = async {
            while let Some(Ok(m)) = source.next().await {
                if m.is_close() {
                    break;
                }
            }
        };
        tokio::select! {
            r = follow => {
                let status = match r {
                    Ok(()) => channel::exit_status(&[], 0),
                    Err(e) => channel::failure_status(e),
                };
                let _ = out.send(channel::status_frame(&status)).await;
            }
            _ = client_gone => {}
        }
        drop(out);
        let _ = writer.await;
    })
    .await
}

/// Sends the container's new output records until it stops running.
async fn follow_output(
    state: &ServerState,
    container_id: &str,
    log_path: &std::path::Path,
    flags: StreamFlags,
    out: &mpsc::Sender<Vec<u8>>,
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
            let (ch, wanted) = match line.stream {
                Stream::Stdout => (channel::STDOUT, flags.stdout),
                // With a tty, both streams are shown on stdout.
                Stream::Stderr if flags.tty => (channel::STDOUT, flags.stdout),
                Stream::Stderr => (channel::STDERR, flags.stderr),
            };
            if !wanted {
                continue;
            }
            let mut data = line.content.to_vec();
            if !line.partial {
                data.push(b'\n');
            }
            if out.send(channel::encode(ch, &data)).await.is_err() {
                return Ok(());
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn stream_flags() {
        let p = query::pairs(Some("command=ls&stdout=1&stderr=1"));
        let f = StreamFlags::from_query(&p);
        assert_eq!(
            f,
            StreamFlags {
                stdin: false,
                stdout: true,
                stderr: true,
                tty: false
            }
        );
        assert_eq!(f.first_channel(), channel::STDOUT);
        let f = StreamFlags::from_query(&query::pairs(Some("stdin=true&stderr=true&tty=true")));
        assert!(!f.stderr && f.tty && f.stdin);
        assert_eq!(f.first_channel(), channel::ERROR);
        let f = StreamFlags::from_query(&query::pairs(Some("stderr=1")));
        assert_eq!(f.first_channel(), channel::STDERR);
    }
}
