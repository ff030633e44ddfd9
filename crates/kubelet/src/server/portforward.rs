//! /portForward/<ns>/<pod>: SPDY/3.1 port-forward (upstream
//! pkg/kubelet/cri/streaming/portforward/httpstream.go), reached either by a plain
//! `Upgrade: SPDY/3.1` (X-Stream-Protocol-Version: portforward.k8s.io) or, as kubectl
//! 1.31+ tries first, by a WebSocket with subprotocol `SPDY/3.1+portforward.k8s.io`
//! carrying the same SPDY bytes in binary messages.
//!
//! The client opens stream pairs (streamType error / data, with port and requestID
//! headers); each pair gets a TCP connection to localhost:<port> inside the pod's network
//! namespace (the socket is created by a thread that entered the netns).

use std::collections::HashMap;
use std::path::PathBuf;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{HeaderMap, HeaderValue, Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use tokio::io::{AsyncRead, AsyncReadExt, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::Role;
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::routes::find_pod;
use super::{text, Body, ServerState};
use crate::streams::spdy::{self, Frame, HeaderCompressor, HeaderDecompressor};
use crate::streams::websocket;

pub const PROTOCOL: &str = "portforward.k8s.io";
pub const WS_TUNNEL_PROTOCOL: &str = "SPDY/3.1+portforward.k8s.io";

fn header_has(headers: &HeaderMap, name: &str, token: &str) -> bool {
    headers.get_all(name).iter().any(|v| {
        v.to_str()
            .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
            .unwrap_or(false)
    })
}

/// How the client asked to stream.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Transport {
    Spdy,
    WebSocketTunnel,
}

pub fn transport(headers: &HeaderMap) -> Option<Transport> {
    if websocket::is_websocket_upgrade(headers) {
        return header_has(headers, "sec-websocket-protocol", WS_TUNNEL_PROTOCOL)
            .then_some(Transport::WebSocketTunnel);
    }
    (header_has(headers, "connection", "upgrade") && header_has(headers, "upgrade", "SPDY/3.1"))
        .then_some(Transport::Spdy)
}

pub async fn port_forward(
    state: Arc<ServerState>,
    namespace: String,
    pod: String,
    req: Request<Incoming>,
) -> Response<Body> {
    let Some(rp) = find_pod(&state, &namespace, &pod, None) else {
        return text(
            StatusCode::NOT_FOUND,
            format!("pod {namespace}/{pod} not found on this node"),
        );
    };
    let netns = rp.sandbox.netns.path().to_path_buf();
    let uid = rp.pod.metadata.uid.clone().unwrap_or_default();
    let Some(transport) = transport(req.headers()) else {
        return text(
            StatusCode::BAD_REQUEST,
            format!("port-forward needs an upgrade to SPDY/3.1 ({PROTOCOL}) or a WebSocket with subprotocol {WS_TUNNEL_PROTOCOL}"),
        );
    };
    let mut headers = HeaderMap::new();
    headers.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    match transport {
        Transport::Spdy => {
            headers.insert(http::header::UPGRADE, HeaderValue::from_static("SPDY/3.1"));
            headers.insert(
                "x-stream-protocol-version",
                HeaderValue::from_static(PROTOCOL),
            );
        }
        Transport::WebSocketTunnel => {
            let Some(key) = req.headers().get("sec-websocket-key") else {
                return text(StatusCode::BAD_REQUEST, "missing Sec-WebSocket-Key");
            };
            let accept =
                tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
            headers.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
            if let Ok(v) = HeaderValue::from_str(&accept) {
                headers.insert("sec-websocket-accept", v);
            }
            headers.insert(
                "sec-websocket-protocol",
                HeaderValue::from_static(WS_TUNNEL_PROTOCOL),
            );
        }
    }
    let target = Target {
        netns,
        pod: format!("{namespace}/{pod}"),
        uid,
    };
    let mut req = req;
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        let upgraded = match on_upgrade.await {
            Ok(u) => TokioIo::new(u),
            Err(e) => {
                tracing::debug!(error = %e, "port-forward upgrade failed");
                return;
            }
        };
        match transport {
            Transport::Spdy => session(upgraded, target).await,
            Transport::WebSocketTunnel => {
                let ws = WebSocketStream::from_raw_socket(upgraded, Role::Server, None).await;
                session(tunnel(ws), target).await
            }
        }
    });
    websocket::switching_protocols(headers)
}

/// Bytes in WebSocket binary messages <-> a byte stream.
fn tunnel<S>(ws: WebSocketStream<S>) -> tokio::io::DuplexStream
where
    S: AsyncRead + AsyncWrite + Unpin + Send + 'static,
{
    let (ours, theirs) = tokio::io::duplex(256 * 1024);
    let (mut rd, mut wr) = tokio::io::split(theirs);
    let (mut sink, mut source) = ws.split();
    tokio::spawn(async move {
        while let Some(Ok(msg)) = source.next().await {
            match msg {
                Message::Binary(b) if wr.write_all(&b).await.is_err() => break,
                Message::Close(_) => break,
                _ => {}
            }
        }
        let _ = wr.shutdown().await;
    });
    tokio::spawn(async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match rd.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if sink
                        .send(Message::Binary(Bytes::copy_from_slice(&buf[..n])))
                        .await
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let _ = sink.close().await;
    });
    ours
}

#[derive(Debug, Clone)]
struct Target {
    netns: PathBuf,
    pod: String,
    uid: String,
}

#[derive(Default)]
struct Pair {
    port: Option<u16>,
    error: Option<u32>,
    data: Option<(u32, mpsc::UnboundedReceiver<Option<Vec<u8>>>)>,
}

pub(crate) async fn read_frame<R: AsyncRead + Unpin>(
    rd: &mut R,
) -> std::io::Result<Option<([u8; 8], Vec<u8>)>> {
    let mut header = [0u8; 8];
    match rd.read_exact(&mut header).await {
        Ok(_) => {}
        Err(e) if e.kind() == std::io::ErrorKind::UnexpectedEof => return Ok(None),
        Err(e) => return Err(e),
    }
    let len = spdy::body_len(&header);
    if len > spdy::MAX_FRAME {
        return Err(std::io::Error::other(format!("SPDY frame of {len} bytes")));
    }
    let mut body = vec![0u8; len];
    rd.read_exact(&mut body).await?;
    Ok(Some((header, body)))
}

/// One SPDY connection: stream pairs until the client goes away.
async fn session<S>(io: S, target: Target)
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
    let mut pairs: HashMap<String, Pair> = HashMap::new();
    let mut inputs: HashMap<u32, mpsc::UnboundedSender<Option<Vec<u8>>>> = HashMap::new();
    let mut forwards = Vec::new();
    loop {
        let (header, body) = match read_frame(&mut rd).await {
            Ok(Some(f)) => f,
            Ok(None) => break,
            Err(e) => {
                tracing::debug!(error = %e, "port-forward connection");
                break;
            }
        };
        let frame = match spdy::decode(&header, body) {
            Ok(f) => f,
            Err(e) => {
                tracing::debug!(error = %e, "port-forward: bad SPDY frame");
                let _ = tx.send(spdy::goaway(0));
                break;
            }
        };
        match frame {
            Frame::SynStream {
                stream,
                fin,
                headers,
            } => {
                let headers = match decompressor.decompress(&headers) {
                    Ok(h) => h,
                    Err(e) => {
                        tracing::debug!(error = %e, "port-forward: bad header block");
                        let _ = tx.send(spdy::rst_stream(stream, spdy::RST_PROTOCOL_ERROR));
                        continue;
                    }
                };
                let get = |k: &str| headers.iter().find(|(n, _)| n == k).map(|(_, v)| v.clone());
                let reply = match compressor.compress(&[]) {
                    Ok(r) => r,
                    Err(e) => {
                        tracing::debug!(error = %e, "port-forward: compressing headers");
                        break;
                    }
                };
                let _ = tx.send(spdy::syn_reply(stream, false, &reply));
                let request = get("requestid").unwrap_or_else(|| get("port").unwrap_or_default());
                let pair = pairs.entry(request.clone()).or_default();
                if let Some(p) = get("port").and_then(|p| p.parse::<u16>().ok()) {
                    pair.port = Some(p);
                }
                match get("streamtype").as_deref() {
                    Some("error") => pair.error = Some(stream),
                    Some("data") => {
                        let (in_tx, in_rx) = mpsc::unbounded_channel();
                        if fin {
                            let _ = in_tx.send(None);
                        } else {
                            inputs.insert(stream, in_tx);
                        }
                        pair.data = Some((stream, in_rx));
                    }
                    other => {
                        tracing::debug!(?other, "port-forward: unknown streamType");
                        let _ = tx.send(spdy::rst_stream(stream, spdy::RST_PROTOCOL_ERROR));
                        continue;
                    }
                }
                if pair.error.is_some() && pair.data.is_some() {
                    if let Some(mut pair) = pairs.remove(&request) {
                        if let (Some(error), Some((data, input))) = (pair.error, pair.data.take()) {
                            let port = pair.port.unwrap_or(0);
                            forwards.push(tokio::spawn(forward(
                                target.clone(),
                                port,
                                error,
                                data,
                                input,
                                tx.clone(),
                            )));
                        }
                    }
                }
            }
            Frame::Data { stream, fin, data } => {
                if let Some(input) = inputs.get(&stream) {
                    if !data.is_empty() {
                        let _ = input.send(Some(data));
                    }
                    if fin {
                        let _ = input.send(None);
                        inputs.remove(&stream);
                    }
                }
            }
            Frame::RstStream { stream, .. } => {
                inputs.remove(&stream);
            }
            Frame::Ping { id } => {
                let _ = tx.send(spdy::ping(id));
            }
            Frame::GoAway { .. } => break,
            Frame::SynReply { .. }
            | Frame::Headers { .. }
            | Frame::Settings
            | Frame::WindowUpdate { .. }
            | Frame::Other(_) => {}
        }
    }
    for f in forwards {
        f.abort();
    }
    drop(inputs);
    drop(tx);
    let _ = writer.await;
}

/// Copies between one stream pair and a connection to the pod's port.
async fn forward(
    target: Target,
    port: u16,
    error_stream: u32,
    data_stream: u32,
    mut input: mpsc::UnboundedReceiver<Option<Vec<u8>>>,
    tx: mpsc::UnboundedSender<Vec<u8>>,
) {
    let conn = match connect_in_netns(target.netns.clone(), port).await {
        Ok(c) => c,
        Err(e) => {
            let msg = format!(
                "error forwarding port {port} to pod {}, uid {}: {e}",
                target.pod, target.uid
            );
            let _ = tx.send(spdy::data_frame(error_stream, false, msg.as_bytes()));
            let _ = tx.send(spdy::data_frame(error_stream, true, &[]));
            let _ = tx.send(spdy::data_frame(data_stream, true, &[]));
            return;
        }
    };
    let (mut r, mut w) = conn.into_split();
    let up = async move {
        while let Some(Some(chunk)) = input.recv().await {
            if w.write_all(&chunk).await.is_err() {
                break;
            }
        }
        let _ = w.shutdown().await;
    };
    let tx2 = tx.clone();
    let down = async move {
        let mut buf = vec![0u8; 32 * 1024];
        loop {
            match r.read(&mut buf).await {
                Ok(0) | Err(_) => break,
                Ok(n) => {
                    if tx2
                        .send(spdy::data_frame(data_stream, false, &buf[..n]))
                        .is_err()
                    {
                        return;
                    }
                }
            }
        }
        let _ = tx2.send(spdy::data_frame(data_stream, true, &[]));
    };
    // The pod closing its side ends the pair; the client's half-close only ends `up`.
    let up = tokio::spawn(up);
    down.await;
    up.abort();
    let _ = tx.send(spdy::data_frame(error_stream, true, &[]));
}

/// A TCP connection to localhost:`port` made inside the network namespace at `netns`:
/// a fresh thread enters the namespace (setns) and creates the socket, which keeps the
/// namespace after the thread ends.
pub async fn connect_in_netns(netns: PathBuf, port: u16) -> std::io::Result<tokio::net::TcpStream> {
    let (tx, rx) = tokio::sync::oneshot::channel();
    std::thread::spawn(move || {
        let result = (|| {
            use std::os::fd::AsRawFd;
            let ns = std::fs::File::open(&netns)?;
            // SAFETY: setns on a valid netns fd only changes this (short-lived) thread.
            if unsafe { libc::setns(ns.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                return Err(std::io::Error::last_os_error());
            }
            let timeout = Duration::from_secs(10);
            let v4 = std::net::SocketAddr::from(([127, 0, 0, 1], port));
            let v6 = std::net::SocketAddr::from((std::net::Ipv6Addr::LOCALHOST, port));
            let stream = std::net::TcpStream::connect_timeout(&v4, timeout)
                .or_else(|_| std::net::TcpStream::connect_timeout(&v6, timeout))?;
            stream.set_nonblocking(true)?;
            Ok(stream)
        })();
        let _ = tx.send(result);
    });
    let std_stream = rx
        .await
        .map_err(|_| std::io::Error::other("netns connect thread ended"))??;
    tokio::net::TcpStream::from_std(std_stream)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn transports() {
        let mut h = HeaderMap::new();
        h.insert("connection", HeaderValue::from_static("Upgrade"));
        h.insert("upgrade", HeaderValue::from_static("SPDY/3.1"));
        assert_eq!(transport(&h), Some(Transport::Spdy));
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("SPDY/3.1+portforward.k8s.io"),
        );
        assert_eq!(transport(&h), Some(Transport::WebSocketTunnel));
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_static("v5.channel.k8s.io"),
        );
        assert_eq!(transport(&h), None);
        assert_eq!(transport(&HeaderMap::new()), None);
    }

    /// A client speaking SPDY over an in-memory pipe: a stream pair to a port nothing
    /// listens on gets the upstream error message on the error stream.
    #[tokio::test]
    async fn refused_port_reports_on_the_error_stream() {
        let (client, server) = tokio::io::duplex(64 * 1024);
        let target = Target {
            netns: PathBuf::from("/proc/self/ns/net"),
            pod: "ns/p".into(),
            uid: "u1".into(),
        };
        let task = tokio::spawn(session(server, target));
        let (mut rd, mut wr) = tokio::io::split(client);
        let mut c = HeaderCompressor::new();
        // Port 1 on loopback: refused.
        let h = c
            .compress(&[("streamtype", "error"), ("port", "1"), ("requestid", "0")])
            .unwrap();
        wr.write_all(&spdy::syn_stream(1, true, &h)).await.unwrap();
        let h = c
            .compress(&[("streamtype", "data"), ("port", "1"), ("requestid", "0")])
            .unwrap();
        wr.write_all(&spdy::syn_stream(3, false, &h)).await.unwrap();
        wr.write_all(&spdy::ping(7)).await.unwrap();
        let mut d = HeaderDecompressor::new();
        let mut error_text = Vec::new();
        let (mut replies, mut pong, mut error_fin, mut data_fin) = (0, false, false, false);
        while !(replies == 2 && pong && error_fin && data_fin) {
            let (header, body) = read_frame(&mut rd).await.unwrap().unwrap();
            match spdy::decode(&header, body).unwrap() {
                Frame::SynReply { headers, .. } => {
                    d.decompress(&headers).unwrap();
                    replies += 1;
                }
                Frame::Ping { id } => pong = id == 7,
                Frame::Data {
                    stream: 1,
                    fin,
                    data,
                } => {
                    error_text.extend(data);
                    error_fin |= fin;
                }
                Frame::Data { stream: 3, fin, .. } => data_fin |= fin,
                other => panic!("unexpected {other:?}"),
            }
        }
        let msg = String::from_utf8(error_text).unwrap();
        assert!(
            msg.starts_with("error forwarding port 1 to pod ns/p, uid u1: "),
            "{msg}"
        );
        wr.write_all(&spdy::goaway(0)).await.unwrap();
        task.await.unwrap();
    }

    /// A listener in our own netns: bytes flow both ways through a stream pair.
    #[tokio::test]
    async fn forwards_bytes_both_ways() {
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let port = listener.local_addr().unwrap().port();
        let echo = tokio::spawn(async move {
            let (mut s, _) = listener.accept().await.unwrap();
            let mut buf = [0u8; 5];
            s.read_exact(&mut buf).await.unwrap();
            s.write_all(b"pong:").await.unwrap();
            s.write_all(&buf).await.unwrap();
        });
        let (client, server) = tokio::io::duplex(64 * 1024);
        let target = Target {
            netns: PathBuf::from("/proc/self/ns/net"),
            pod: "ns/p".into(),
            uid: "u1".into(),
        };
        let task = tokio::spawn(session(server, target));
        let (mut rd, mut wr) = tokio::io::split(client);
        let mut c = HeaderCompressor::new();
        let p = port.to_string();
        let h = c
            .compress(&[("streamtype", "error"), ("port", &p), ("requestid", "1")])
            .unwrap();
        wr.write_all(&spdy::syn_stream(1, true, &h)).await.unwrap();
        let h = c
            .compress(&[("streamtype", "data"), ("port", &p), ("requestid", "1")])
            .unwrap();
        wr.write_all(&spdy::syn_stream(3, false, &h)).await.unwrap();
        wr.write_all(&spdy::data_frame(3, false, b"hello"))
            .await
            .unwrap();
        let mut got = Vec::new();
        loop {
            let (header, body) = read_frame(&mut rd).await.unwrap().unwrap();
            if let Frame::Data {
                stream: 3,
                fin,
                data,
            } = spdy::decode(&header, body).unwrap()
            {
                got.extend(data);
                if fin {
                    break;
                }
            }
        }
        assert_eq!(got, b"pong:hello");
        echo.await.unwrap();
        wr.write_all(&spdy::goaway(0)).await.unwrap();
        task.await.unwrap();
    }
}
