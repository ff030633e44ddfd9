//! /exec and /attach over SPDY/3.1 with the v4.channel.k8s.io stream protocol, for
//! kubectl before 1.30 (which does not use WebSockets for them): the client opens one
//! SPDY stream per channel (streamType error, stdin, stdout, stderr, resize); the final
//! Status is written to the error stream, as upstream's remotecommand v4 server does.
//! This is only the transport: the sessions are in `exec` and `attach`.

use std::collections::HashMap;

use http::{HeaderMap, HeaderValue};
use tokio::io::{AsyncRead, AsyncWrite, AsyncWriteExt};
use tokio::sync::mpsc;
use tokio::task::JoinHandle;

use super::portforward::read_frame;
use super::session::{Input, Output, StreamFlags, Streams};
use crate::streams::channel::TerminalSize;
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

/// The SPDY transport of an exec/attach session: waits for the client to open the
/// streams `flags` call for, then returns the session's [`Streams`] and the writer task
/// (await it after the session dropped its output). None when the client went away
/// before opening its streams.
pub async fn streams<S>(io: S, flags: StreamFlags) -> Option<(Streams, JoinHandle<()>)>
where
    S: AsyncRead + AsyncWrite + Send + 'static,
{
    let (mut rd, mut wr) = tokio::io::split(io);
    let (raw_tx, mut raw_rx) = mpsc::unbounded_channel::<Vec<u8>>();
    let raw_writer = tokio::spawn(async move {
        while let Some(frame) = raw_rx.recv().await {
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
    let mut early: Vec<Input> = Vec::new();

    // Phase 1: the client opens its streams.
    while !expected.iter().all(|t| ids.contains_key(*t)) {
        let Ok(Some((header, body))) = read_frame(&mut rd).await else {
            break;
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
                let _ = raw_tx.send(spdy::syn_reply(stream, false, &reply));
                if let Some((_, t)) = h.iter().find(|(k, _)| k == "streamtype") {
                    ids.insert(t.clone(), stream);
                }
            }
            Ok(Frame::Data { stream, fin, data }) if Some(&stream) == ids.get("stdin") => {
                if !data.is_empty() {
                    early.push(Input::Stdin(data));
                }
                if fin {
                    early.push(Input::StdinEof);
                }
            }
            Ok(Frame::Ping { id }) => {
                let _ = raw_tx.send(spdy::ping(id));
            }
            Ok(Frame::GoAway { .. }) | Err(_) => break,
            Ok(_) => {}
        }
    }
    let (Some(&error_id), true) = (
        ids.get("error"),
        expected.iter().all(|t| ids.contains_key(*t)),
    ) else {
        drop(raw_tx);
        let _ = raw_writer.await;
        return None;
    };
    let ids = StreamIds {
        error: error_id,
        stdin: ids.get("stdin").copied(),
        stdout: ids.get("stdout").copied(),
        stderr: ids.get("stderr").copied(),
        resize: ids.get("resize").copied(),
    };

    // The client's frames as input events.
    let (in_tx, in_rx) = mpsc::channel::<Input>(64);
    let ping_tx = raw_tx.clone();
    let reader = tokio::spawn(async move {
        for input in early {
            if in_tx.send(input).await.is_err() {
                return;
            }
        }
        let mut resize_buf = Vec::new();
        while let Ok(Some((header, body))) = read_frame(&mut rd).await {
            let inputs = match spdy::decode(&header, body) {
                Ok(Frame::Ping { id }) => {
                    let _ = ping_tx.send(spdy::ping(id));
                    continue;
                }
                Ok(Frame::GoAway { .. }) | Err(_) => break,
                Ok(frame) => ids.inputs(frame, &mut resize_buf),
            };
            for input in inputs {
                if in_tx.send(input).await.is_err() {
                    return;
                }
            }
        }
    });
    // The session's outputs as frames; the status ends every stream, then the session.
    let (out_tx, mut out_rx) = mpsc::channel::<Output>(64);
    let writer = tokio::spawn(async move {
        while let Some(out) = out_rx.recv().await {
            for frame in ids.frames(&out) {
                let _ = raw_tx.send(frame);
            }
        }
        reader.abort();
        drop(raw_tx);
        let _ = raw_writer.await;
    });
    Some((
        Streams {
            input: in_rx,
            output: out_tx,
        },
        writer,
    ))
}

/// The SPDY stream ids the client opened, by stream type.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct StreamIds {
    pub error: u32,
    pub stdin: Option<u32>,
    pub stdout: Option<u32>,
    pub stderr: Option<u32>,
    pub resize: Option<u32>,
}

impl StreamIds {
    /// A client frame (after the streams are open) as input events; `resize_buf` keeps
    /// an incomplete terminal size between frames.
    pub fn inputs(&self, frame: Frame, resize_buf: &mut Vec<u8>) -> Vec<Input> {
        match frame {
            Frame::Data { stream, fin, data } if Some(stream) == self.stdin => {
                let mut v = Vec::new();
                if !data.is_empty() {
                    v.push(Input::Stdin(data));
                }
                if fin {
                    v.push(Input::StdinEof);
                }
                v
            }
            Frame::Data { stream, data, .. } if Some(stream) == self.resize => {
                resize_buf.extend_from_slice(&data);
                take_sizes(resize_buf)
                    .into_iter()
                    .map(Input::Resize)
                    .collect()
            }
            _ => Vec::new(),
        }
    }

    /// The frames for one output: data on the stdout/stderr stream (dropped when the
    /// client did not open it); the status closes stdout, stderr and the error stream,
    /// then goes away (upstream's v4 server ends a session so).
    pub fn frames(&self, out: &Output) -> Vec<Vec<u8>> {
        match out {
            Output::Stdout(d) => self
                .stdout
                .map(|id| spdy::data_frame(id, false, d))
                .into_iter()
                .collect(),
            Output::Stderr(d) => self
                .stderr
                .map(|id| spdy::data_frame(id, false, d))
                .into_iter()
                .collect(),
            Output::Status(status) => {
                let mut v: Vec<Vec<u8>> = [self.stdout, self.stderr]
                    .into_iter()
                    .flatten()
                    .map(|id| spdy::data_frame(id, true, &[]))
                    .collect();
                let body = serde_json::to_vec(status).unwrap_or_default();
                v.push(spdy::data_frame(self.error, false, &body));
                v.push(spdy::data_frame(self.error, true, &[]));
                v.push(spdy::goaway(0));
                v
            }
        }
    }
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
    fn frames_to_inputs_and_outputs_to_frames() {
        let ids = StreamIds {
            error: 1,
            stdin: Some(3),
            stdout: Some(5),
            stderr: None,
            resize: Some(7),
        };
        let mut buf = Vec::new();
        let got = ids.inputs(
            Frame::Data {
                stream: 3,
                fin: true,
                data: b"x".to_vec(),
            },
            &mut buf,
        );
        assert_eq!(got, vec![Input::Stdin(b"x".to_vec()), Input::StdinEof]);
        let got = ids.inputs(
            Frame::Data {
                stream: 7,
                fin: false,
                data: br#"{"Width":9,"Height":8}{"Wi"#.to_vec(),
            },
            &mut buf,
        );
        assert_eq!(
            got,
            vec![Input::Resize(TerminalSize {
                width: 9,
                height: 8
            })]
        );
        assert_eq!(buf, br#"{"Wi"#);
        // Data on a stream we did not open for input is ignored.
        let got = ids.inputs(
            Frame::Data {
                stream: 5,
                fin: false,
                data: b"y".to_vec(),
            },
            &mut buf,
        );
        assert!(got.is_empty());

        let out = ids.frames(&Output::Stdout(bytes::Bytes::from_static(b"hi")));
        assert_eq!(out, vec![spdy::data_frame(5, false, b"hi")]);
        assert!(ids
            .frames(&Output::Stderr(bytes::Bytes::from_static(b"e")))
            .is_empty());
        let status = crate::streams::channel::exit_status(&[], 0);
        let out = ids.frames(&Output::status(status.clone()));
        let body = serde_json::to_vec(&status).unwrap();
        assert_eq!(
            out,
            vec![
                spdy::data_frame(5, true, &[]),
                spdy::data_frame(1, false, &body),
                spdy::data_frame(1, true, &[]),
                spdy::goaway(0),
            ]
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
