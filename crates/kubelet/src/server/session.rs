//! One streaming session (exec or attach), independent of the transport: the client's
//! input arrives as [`Input`] events and the session answers with [`Output`]s. Two
//! transports feed it, chosen by the upgrade the client asks for:
//!
//! * WebSocket with the channel protocols `v5.channel.k8s.io` / `v4.channel.k8s.io`
//!   (kubectl 1.30+), here;
//! * SPDY/3.1 with the v4 stream protocol (kubectl before 1.30), in `spdy_exec`.

use bytes::Bytes;
use futures::{SinkExt, StreamExt};
use http::{Request, Response, StatusCode};
use hyper::body::Incoming;
use hyper_util::rt::TokioIo;
use k8s_openapi::apimachinery::pkg::apis::meta::v1::Status;
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::protocol::{CloseFrame, Role};
use tokio_tungstenite::tungstenite::Message;
use tokio_tungstenite::WebSocketStream;

use super::query;
use super::{text, Body};
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

    pub fn any(self) -> bool {
        self.stdin || self.stdout || self.stderr
    }

    /// The channel the "connection established" empty frame goes to: the lowest one the
    /// server writes (upstream wsstream does the same).
    pub fn first_channel(self) -> u8 {
        if self.stdout {
            channel::STDOUT
        } else if self.stderr {
            channel::STDERR
        } else {
            channel::ERROR
        }
    }
}

/// What the client sent.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Input {
    Stdin(Vec<u8>),
    /// The client closed its stdin (WebSocket v5 close frame, SPDY FIN).
    StdinEof,
    Resize(TerminalSize),
}

/// What the session sends.
#[derive(Debug, Clone, PartialEq)]
pub enum Output {
    Stdout(Bytes),
    Stderr(Bytes),
    /// The outcome, on the error channel/stream; the last output.
    Status(Box<Status>),
}

impl Output {
    pub fn status(status: Status) -> Output {
        Output::Status(Box::new(status))
    }
}

/// A session's ends of the transport. `input` ends when the client is gone; dropping
/// `output` ends the transport.
#[derive(Debug)]
pub struct Streams {
    pub input: mpsc::Receiver<Input>,
    pub output: mpsc::Sender<Output>,
}

/// Answers the upgrade (WebSocket or SPDY/3.1) and runs `session` on the streams.
pub fn upgrade<F, Fut>(req: Request<Incoming>, flags: StreamFlags, session: F) -> Response<Body>
where
    F: FnOnce(Streams) -> Fut + Send + 'static,
    Fut: std::future::Future<Output = ()> + Send + 'static,
{
    let spdy =
        super::portforward::transport(req.headers()) == Some(super::portforward::Transport::Spdy);
    let mut req = req;
    if spdy {
        // kubectl before 1.30: SPDY/3.1 with the v4 stream protocol.
        if !super::spdy_exec::offers_v4(req.headers()) {
            return text(
                StatusCode::BAD_REQUEST,
                "SPDY streaming needs X-Stream-Protocol-Version v4.channel.k8s.io",
            );
        }
        let on_upgrade = hyper::upgrade::on(&mut req);
        tokio::spawn(async move {
            match on_upgrade.await {
                Ok(up) => {
                    let Some((streams, writer)) =
                        super::spdy_exec::streams(TokioIo::new(up), flags).await
                    else {
                        return;
                    };
                    session(streams).await;
                    let _ = writer.await;
                }
                Err(e) => tracing::debug!(error = %e, "kubelet API: upgrade failed"),
            }
        });
        return websocket::switching_protocols(super::spdy_exec::upgrade_headers());
    }
    if !websocket::is_websocket_upgrade(req.headers()) {
        return text(
            StatusCode::BAD_REQUEST,
            "this endpoint streams over WebSocket (v5.channel.k8s.io or v4.channel.k8s.io) or SPDY/3.1 (v4.channel.k8s.io)",
        );
    }
    let (_, headers, protocol) = match websocket::accept(req.headers()) {
        Ok(a) => a,
        Err(e) => return text(StatusCode::BAD_REQUEST, e.to_string()),
    };
    let on_upgrade = hyper::upgrade::on(&mut req);
    tokio::spawn(async move {
        match on_upgrade.await {
            Ok(upgraded) => {
                let ws =
                    WebSocketStream::from_raw_socket(TokioIo::new(upgraded), Role::Server, None)
                        .await;
                let (streams, writer) = websocket_streams(ws, protocol, flags);
                session(streams).await;
                let _ = writer.await;
            }
            Err(e) => tracing::debug!(error = %e, "kubelet API: upgrade failed"),
        }
    });
    websocket::switching_protocols(headers)
}

/// The client's channel-protocol message as an input event (None: nothing for us).
pub fn websocket_input(msg: &[u8], protocol: Protocol) -> Option<Input> {
    match channel::decode(msg, protocol).ok()? {
        Frame::Data {
            channel: channel::STDIN,
            data,
        } => Some(Input::Stdin(data.to_vec())),
        Frame::Close {
            channel: channel::STDIN,
        } => Some(Input::StdinEof),
        Frame::Data {
            channel: channel::RESIZE,
            data,
        } => serde_json::from_slice::<TerminalSize>(data)
            .ok()
            .map(Input::Resize),
        _ => None,
    }
}

/// An output as a channel-protocol message.
pub fn websocket_output(out: &Output) -> Vec<u8> {
    match out {
        Output::Stdout(d) => channel::encode(channel::STDOUT, d),
        Output::Stderr(d) => channel::encode(channel::STDERR, d),
        Output::Status(s) => channel::status_frame(s),
    }
}

type Ws = WebSocketStream<TokioIo<hyper::upgrade::Upgraded>>;

/// The WebSocket transport: a writer task (the "connection established" frame first,
/// then the outputs in order, then a normal Close) and a reader task.
fn websocket_streams(
    ws: Ws,
    protocol: Protocol,
    flags: StreamFlags,
) -> (Streams, tokio::task::JoinHandle<()>) {
    let (mut sink, mut source) = ws.split();
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(64);
    let (in_tx, in_rx) = mpsc::channel::<Input>(64);
    let reader = tokio::spawn(async move {
        while let Some(msg) = source.next().await {
            let data = match msg {
                Ok(Message::Binary(b)) => b,
                Ok(Message::Close(_)) | Err(_) => break,
                Ok(_) => continue,
            };
            if let Some(input) = websocket_input(&data, protocol) {
                if in_tx.send(input).await.is_err() {
                    break;
                }
            }
        }
    });
    let writer = tokio::spawn(async move {
        let hello = channel::encode(flags.first_channel(), &[]);
        let mut ok = sink.send(Message::Binary(Bytes::from(hello))).await.is_ok();
        while let Some(out) = out_rx.recv().await {
            let frame = Bytes::from(websocket_output(&out));
            if ok && sink.send(Message::Binary(frame)).await.is_err() {
                ok = false;
            }
        }
        if ok {
            let _ = sink
                .send(Message::Close(Some(CloseFrame {
                    code:
                        tokio_tungstenite::tungstenite::protocol::frame::coding::CloseCode::Normal,
                    reason: "".into(),
                })))
                .await;
            let _ = sink.close().await;
        }
        reader.abort();
    });
    (
        Streams {
            input: in_rx,
            output: out_tx,
        },
        writer,
    )
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
        assert!(!StreamFlags::from_query(&query::pairs(Some("tty=1"))).any());
    }

    #[test]
    fn websocket_frames_as_events() {
        let v5 = Protocol::V5;
        assert_eq!(
            websocket_input(&[0, b'h', b'i'], v5),
            Some(Input::Stdin(b"hi".to_vec()))
        );
        assert_eq!(websocket_input(&[255, 0], v5), Some(Input::StdinEof));
        assert_eq!(websocket_input(&[255, 0], Protocol::V4), None);
        let mut resize = vec![channel::RESIZE];
        resize.extend_from_slice(br#"{"Width":80,"Height":24}"#);
        assert_eq!(
            websocket_input(&resize, v5),
            Some(Input::Resize(TerminalSize {
                width: 80,
                height: 24
            }))
        );
        assert_eq!(websocket_input(&[channel::RESIZE, b'{'], v5), None);
        assert_eq!(websocket_input(&[], v5), None);
        assert_eq!(
            websocket_output(&Output::Stderr(Bytes::from_static(b"e"))),
            vec![channel::STDERR, b'e']
        );
        let status = websocket_output(&Output::status(channel::exit_status(&[], 0)));
        assert_eq!(status[0], channel::ERROR);
    }
}
