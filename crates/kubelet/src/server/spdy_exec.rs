//! /exec over SPDY/3.1 with the v4.channel.k8s.io stream protocol, for kubectl before
//! 1.30 (which does not use WebSockets for exec): the client opens one SPDY stream per
//! channel (streamType error, stdin, stdout, stderr, resize); the exit Status is
//! written to the error stream, as upstream's remotecommand v4 server does.

use std::collections::HashMap;
use std::sync::Arc;

use http::{HeaderMap, HeaderValue};
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;

use super::exec::StreamFlags;
use super::portforward::read_frame;
use super::ServerState;
use crate::runtime::exec::ExecRequest;
use crate::streams::channel::{self, TerminalSize};
use crate::streams::spdy::{self, Frame, HeaderCompressor, HeaderDecompressor};

pub const PROTOCOL_V4: &str = "v4.channel.k8s.io";

/// True when the client offers the v4 stream protocol over SPDY.
pub fn offers_v4(headers: &HeaderMap) -> bool {
    headers
        .get_all("x-stream-protocol-version")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(','))
        .any(|p| p.trim() == PROTOCOL_V4)
}

/// The 101 response headers.
pub fn upgrade_headers() -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    h.insert(http::header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
    h.insert(
        "x-stream-protocol-version",
        HeaderValue::from_static(PROTOCOL_V4),
    );
    h
}

/// The stream types the client will open for these flags.
pub fn expected_streams(flags: StreamFlags) -> Vec<&'static str> {
    let mut v = vec!["error"];
    if flags.stdin {
        v.push("stdin");
    }
    if flags.stdout {
        v.push("stdout");
    }
    if flags.stderr {
        v.push("stderr");
    }
    if flags.tty {
        v.push("resize");
    }
    v
}

/// Complete JSON terminal sizes at the front of `buf` (the resize stream is a sequence
/// of JSON objects); the consumed bytes are removed.
pub fn take_sizes(buf: &mut Vec<u8>) -> Vec<TerminalSize> {
    let mut out = Vec::new();
    let mut consumed = 0;
    {
        let mut it = serde_json::Deserializer::from_slice(buf).into_iter::<TerminalSize>();
        while let Some(Ok(size)) = it.next() {
            out.push(size);
            consumed = it.byte_offset();
        }
    }
    buf.drain(..consumed);
    out
}

pub async fn session<S>(io: S, state: Arc<ServerState>, req: ExecRequest, flags: StreamFlags)
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let (tx, mut rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let writer = tokio::spawn(async move {
        while let Some(frame) = rx.recv().await {
            if wr.write_all(&frame).await.is_err() {
                return;
            }
        }
        let _ = wr.shutdown().await;
    });
    let mut compressor = HeaderCompressor::new();
    let mut decompressor = HeaderDecompressor::new();
    let expected = expected_streams(flags);
    let mut ids: HashMap<String, u32> = HashMap::new();
    let mut early_stdin: Vec<Vec<u8>> = Vec::new();
    let mut stdin_closed_early = false;

    // Phase 1: the client opens its streams.
    while !expected.iter().all(|t| ids.contains_key(*t)) {
        let Ok(Some((header, body))) = read_frame(&mut rd).await else {
            drop(tx);
            let _ = writer.await;
            return;
        };
        match spdy::decode(&header, body) {
            Ok(Frame::SynStream {
                stream, headers, ..
            }) => {
                let Ok(h) = decompressor.decompress(&headers) else {
                    break;
                };
                let Ok(reply) = compressor.compress(&[]) else {
                    break;
                };
                let _ = tx.send(spdy::syn_reply(stream, false, &reply));
                if let Some((_, t)) = h.iter().find(|(k, _)| k == "streamtype") {
                    ids.insert(t.clone(), stream);
                }
            }
            Ok(Frame::Data { stream, fin, data }) if Some(&stream) == ids.get("stdin") => {
                early_stdin.push(data);
                stdin_closed_early |= fin;
            }
            Ok(Frame::Ping { id }) => {
                let _ = tx.send(spdy::ping(id));
            }
            Ok(Frame::GoAway { .. }) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let Some(&error_id) = ids.get("error") else {
        drop(tx);
        let _ = writer.await;
        return;
    };
    let send_status = |tx: &mpsc::UnboundedSender<Vec<u8>>, status| {
        let body = serde_json::to_vec(&status).unwrap_or_default();
        let _ = tx.send(spdy::data_frame(error_id, false, &body));
        let _ = tx.send(spdy::data_frame(error_id, true, &[]));
    };
    let runtime = state.runtime.clone();
    let mut process = match runtime.exec(&req, &state.exec_dir).await {
        Ok(p) => p,
        Err(e) => {
            send_status(
                &tx,
                channel::failure_status(format!("exec in container {}: {e}", req.container_id)),
            );
            drop(tx);
            let _ = writer.await;
            return;
        }
    };
    let (cid, eid) = (process.container_id.clone(), process.exec_id.clone());
    let pump = |rx: Option<tokio::net::unix::pipe::Receiver>, id: Option<u32>| {
        let tx = tx.clone();
        tokio::spawn(async move {
            let (Some(mut rx), Some(id)) = (rx, id) else {
                return;
            };
            let mut buf = vec![0u8; 32 * 1024];
            loop {
                match rx.read(&mut buf).await {
                    Ok(0) | Err(_) => break,
                    Ok(n) => {
                        if tx.send(spdy::data_frame(id, false, &buf[..n])).is_err() {
                            return;
                        }
                    }
                }
            }
            let _ = tx.send(spdy::data_frame(id, true, &[]));
        })
    };
    let stdout_pump = pump(process.stdout.take(), ids.get("stdout").copied());
    let stderr_pump = pump(process.stderr.take(), ids.get("stderr").copied());

    let mut stdin = process.stdin.take();
    for chunk in early_stdin {
        if let Some(w) = stdin.as_mut() {
            if w.write_all(&chunk).await.is_err() {
                stdin = None;
            }
        }
    }
    if stdin_closed_early && stdin.take().is_some() {
        let _ = runtime.close_exec_stdin(&cid, &eid).await;
    }
    let (stdin_id, resize_id) = (ids.get("stdin").copied(), ids.get("resize").copied());
    let (rt, c2, e2, tx2) = (runtime.clone(), cid.clone(), eid.clone(), tx.clone());
    let mut reader = tokio::spawn(async move {
        let mut resize_buf = Vec::new();
        while let Ok(Some((header, body))) = read_frame(&mut rd).await {
            match spdy::decode(&header, body) {
                Ok(Frame::Data { stream, fin, data }) if Some(stream) == stdin_id => {
                    if let Some(w) = stdin.as_mut() {
                        if w.write_all(&data).await.is_err() {
                            stdin = None;
                        }
                    }
                    if fin && stdin.take().is_some() {
                        let _ = rt.close_exec_stdin(&c2, &e2).await;
                    }
                }
                Ok(Frame::Data { stream, data, .. }) if Some(stream) == resize_id => {
                    resize_buf.extend_from_slice(&data);
                    for size in take_sizes(&mut resize_buf) {
                        let _ = rt
                            .resize_pty(&c2, &e2, size.width.into(), size.height.into())
                            .await;
                    }
                }
                Ok(Frame::Ping { id }) => {
                    let _ = tx2.send(spdy::ping(id));
                }
                Ok(Frame::GoAway { .. }) | Err(_) => break,
                Ok(_) => {}
            }
        }
    });
    let waited = tokio::select! {
        code = runtime.wait_exec(&cid, &eid) => Some(code),
        _ = &mut reader => None,
    };
    match waited {
        Some(code) => {
            let _ = stdout_pump.await;
            let _ = stderr_pump.await;
            let status = match code {
                Ok(code) => channel::exit_status(&req.command, code),
                Err(e) => channel::failure_status(format!("waiting for the exec process: {e}")),
            };
            send_status(&tx, status);
            let _ = tx.send(spdy::goaway(0));
            reader.abort();
        }
        None => {
            stdout_pump.abort();
            stderr_pump.abort();
        }
    }
    drop(tx);
    let _ = writer.await;
    if let Err(e) = runtime.delete_exec(&cid, &eid).await {
        tracing::warn!(error = %e, "deleting exec process");
    }
    process.cleanup();
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiation_and_streams() {
        let mut h = HeaderMap::new();
        h.append(
            "x-stream-protocol-version",
            HeaderValue::from_static("v4.channel.k8s.io"),
        );
        h.append(
            "x-stream-protocol-version",
            HeaderValue::from_static("v3.channel.k8s.io"),
        );
        assert!(offers_v4(&h));
        assert!(!offers_v4(&HeaderMap::new()));
        assert_eq!(
            upgrade_headers()["x-stream-protocol-version"],
            "v4.channel.k8s.io"
        );
        let flags = StreamFlags {
            stdin: true,
            stdout: true,
            stderr: false,
            tty: true,
        };
        assert_eq!(
            expected_streams(flags),
            vec!["error", "stdin", "stdout", "resize"]
        );
    }

    #[test]
    fn resize_stream_is_a_json_sequence() {
        let mut buf = br#"{"Width":80,"Height":24}{"Width":100,"Height":30}{"Wid"#.to_vec();
        let sizes = take_sizes(&mut buf);
        assert_eq!(sizes.len(), 2);
        assert_eq!(
            sizes[1],
            TerminalSize {
                width: 100,
                height: 30
            }
        );
        assert_eq!(buf, br#"{"Wid"#);
    }
}
