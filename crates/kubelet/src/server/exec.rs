//! /exec: containerd tasks.Exec in the container (see `runtime::exec`), its stdin,
//! stdout and stderr pumped between the FIFOs and the session's streams (WebSocket or
//! SPDY, see `session`), resize events to the process's terminal, and the exit Status
//! when the process ends.

use std::sync::Arc;

use bytes::Bytes;
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::sync::mpsc;

use super::query::{self, Target};
use super::routes::find_container;
use super::session::{self, Input, Output, Streams};
use super::{text, Body, ServerState};
use crate::runtime::exec::ExecRequest;
use crate::streams::channel;

pub use super::session::StreamFlags;

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
    if !flags.any() {
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
    session::upgrade(req, flags, move |streams| {
        exec_session(state, exec_req, streams)
    })
}

/// Copies an output FIFO to the session until EOF.
fn pump(
    rx: Option<tokio::net::unix::pipe::Receiver>,
    out: mpsc::Sender<Output>,
    wrap: fn(Bytes) -> Output,
) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let Some(mut rx) = rx else { return };
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rx.read(&mut buf).await {
                Ok(0) | Err(_) => return,
                Ok(n) => {
                    if out
                        .send(wrap(Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
    })
}

/// Runs one exec process for the session; the exit status ends it, the client leaving
/// kills the process.
pub async fn exec_session(state: Arc<ServerState>, req: ExecRequest, streams: Streams) {
    let Streams { mut input, output } = streams;
    let runtime = state.runtime.clone();
    let mut process = match runtime.exec(&req, &state.exec_dir).await {
        Ok(p) => p,
        Err(e) => {
            let status =
                channel::failure_status(format!("exec in container {}: {e}", req.container_id));
            let _ = output.send(Output::status(status)).await;
            return;
        }
    };
    let (cid, eid) = (process.container_id.clone(), process.exec_id.clone());
    let stdout_pump = pump(process.stdout.take(), output.clone(), Output::Stdout);
    let stderr_pump = pump(process.stderr.take(), output.clone(), Output::Stderr);

    // The client's input: stdin, stdin close, resize; ends when the client leaves.
    let mut stdin = process.stdin.take();
    let (rt, c2, e2) = (runtime.clone(), cid.clone(), eid.clone());
    let mut reader = tokio::spawn(async move {
        while let Some(event) = input.recv().await {
            match event {
                Input::Stdin(data) => {
                    if let Some(w) = stdin.as_mut() {
                        if w.write_all(&data).await.is_err() {
                            stdin = None;
                        }
                    }
                }
                Input::StdinEof => {
                    if stdin.take().is_some() {
                        let _ = rt.close_exec_stdin(&c2, &e2).await;
                    }
                }
                Input::Resize(size) => {
                    let _ = rt
                        .resize_pty(&c2, &e2, size.width.into(), size.height.into())
                        .await;
                }
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
            let _ = output.send(Output::status(status)).await;
            reader.abort();
        }
        None => {
            // The client left: stop the process.
            stdout_pump.abort();
            stderr_pump.abort();
        }
    }
    drop(output);
    if let Err(e) = runtime.delete_exec(&cid, &eid).await {
        tracing::warn!(error = %e, "deleting exec process");
    }
    process.cleanup();
}
