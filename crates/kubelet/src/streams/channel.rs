//! Kubernetes' WebSocket channel protocol (`v5.channel.k8s.io`, `v4.channel.k8s.io`).

use k8s_openapi::apimachinery::pkg::apis::meta::v1::{
    ListMeta, Status, StatusCause, StatusDetails,
};

pub const STDIN: u8 = 0;
pub const STDOUT: u8 = 1;
pub const STDERR: u8 = 2;
pub const ERROR: u8 = 3;
pub const RESIZE: u8 = 4;
/// v5 only: `[255, <channel>]` says the peer closed that channel (stdin EOF).
pub const CLOSE: u8 = 255;

/// The subprotocols served, in order of preference (upstream's remotecommand server
/// prefers v5, then v4; the base64 and pre-v4 variants are not served).
pub const PROTOCOLS: [&str; 2] = ["v5.channel.k8s.io", "v4.channel.k8s.io"];

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Protocol {
    V5,
    V4,
}

impl Protocol {
    pub fn name(self) -> &'static str {
        match self {
            Protocol::V5 => PROTOCOLS[0],
            Protocol::V4 => PROTOCOLS[1],
        }
    }
}

/// Picks our preferred protocol among those the client offered
/// (`Sec-WebSocket-Protocol` values, comma separated, possibly in several headers).
pub fn negotiate<'a>(offered: impl IntoIterator<Item = &'a str>) -> Option<Protocol> {
    let offered: Vec<String> = offered
        .into_iter()
        .flat_map(|h| h.split(','))
        .map(|p| p.trim().to_string())
        .collect();
    [Protocol::V5, Protocol::V4]
        .into_iter()
        .find(|p| offered.iter().any(|o| o == p.name()))
}

/// One message from the client.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame<'a> {
    Data {
        channel: u8,
        data: &'a [u8],
    },
    /// v5: the client closed `channel` (its stdin).
    Close {
        channel: u8,
    },
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum FrameError {
    #[error("empty message (no channel byte)")]
    Empty,
    #[error("close message without a channel")]
    CloseWithoutChannel,
}

pub fn decode(msg: &[u8], protocol: Protocol) -> Result<Frame<'_>, FrameError> {
    let (&channel, data) = msg.split_first().ok_or(FrameError::Empty)?;
    if channel == CLOSE && protocol == Protocol::V5 {
        let &closed = data.first().ok_or(FrameError::CloseWithoutChannel)?;
        return Ok(Frame::Close { channel: closed });
    }
    Ok(Frame::Data { channel, data })
}

pub fn encode(channel: u8, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(data.len() + 1);
    out.push(channel);
    out.extend_from_slice(data);
    out
}

/// A terminal size on the resize channel (`{"Width":80,"Height":24}`, Go field names).
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Deserialize, serde::Serialize)]
pub struct TerminalSize {
    #[serde(rename = "Width")]
    pub width: u16,
    #[serde(rename = "Height")]
    pub height: u16,
}

/// The Status the error channel carries when the command finished: Success for exit 0,
/// else upstream's NonZeroExitCode with the code as an ExitCode cause.
pub fn exit_status(command: &[String], code: u32) -> Status {
    if code == 0 {
        return Status {
            metadata: ListMeta::default(),
            status: Some("Success".into()),
            ..Default::default()
        };
    }
    Status {
        metadata: ListMeta::default(),
        status: Some("Failure".into()),
        message: Some(format!(
            "command terminated with non-zero exit code: error executing command [{}], exit code {code}",
            command.join(" ")
        )),
        reason: Some("NonZeroExitCode".into()),
        details: Some(StatusDetails {
            causes: Some(vec![StatusCause {
                reason: Some("ExitCode".into()),
                message: Some(code.to_string()),
                field: None,
            }]),
            ..Default::default()
        }),
        ..Default::default()
    }
}

/// The Status for a failure before or while running the command (upstream: 500
/// InternalError).
pub fn failure_status(message: impl Into<String>) -> Status {
    Status {
        metadata: ListMeta::default(),
        status: Some("Failure".into()),
        message: Some(message.into()),
        reason: Some("InternalError".into()),
        code: Some(500),
        ..Default::default()
    }
}

/// The error-channel message for a Status.
pub fn status_frame(status: &Status) -> Vec<u8> {
    // Serializing a Status cannot fail (no maps with non-string keys).
    encode(ERROR, &serde_json::to_vec(status).unwrap_or_default())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn negotiates_preferred_protocol() {
        assert_eq!(
            negotiate(["v4.channel.k8s.io, v5.channel.k8s.io"]),
            Some(Protocol::V5)
        );
        assert_eq!(
            negotiate(["channel.k8s.io", "v4.channel.k8s.io"]),
            Some(Protocol::V4)
        );
        assert_eq!(negotiate(["base64.channel.k8s.io"]), None);
        assert_eq!(negotiate([]), None);
    }

    #[test]
    fn frames_round_trip() {
        assert_eq!(encode(STDOUT, b"hi"), vec![1, b'h', b'i']);
        assert_eq!(
            decode(&[0, b'x'], Protocol::V5).unwrap(),
            Frame::Data {
                channel: STDIN,
                data: b"x"
            }
        );
        assert_eq!(
            decode(&[255, 0], Protocol::V5).unwrap(),
            Frame::Close { channel: STDIN }
        );
        // v4 has no close channel: 255 is just data on an unknown channel.
        assert_eq!(
            decode(&[255, 0], Protocol::V4).unwrap(),
            Frame::Data {
                channel: 255,
                data: &[0]
            }
        );
        assert_eq!(decode(&[], Protocol::V5).unwrap_err(), FrameError::Empty);
        assert_eq!(
            decode(&[255], Protocol::V5).unwrap_err(),
            FrameError::CloseWithoutChannel
        );
    }

    #[test]
    fn resize_json_uses_go_names() {
        let s: TerminalSize = serde_json::from_slice(br#"{"Width":120,"Height":40}"#).unwrap();
        assert_eq!(
            s,
            TerminalSize {
                width: 120,
                height: 40
            }
        );
    }

    #[test]
    fn exit_statuses_as_upstream() {
        let ok = serde_json::to_value(exit_status(&["true".into()], 0)).unwrap();
        assert_eq!(ok["status"], "Success");
        assert_eq!(ok["kind"], "Status");
        assert!(ok.get("reason").is_none());
        let cmd = vec!["sh".to_string(), "-c".into(), "exit 3".into()];
        let failed = serde_json::to_value(exit_status(&cmd, 3)).unwrap();
        assert_eq!(failed["status"], "Failure");
        assert_eq!(failed["reason"], "NonZeroExitCode");
        assert_eq!(
            failed["details"]["causes"],
            serde_json::json!([{"reason": "ExitCode", "message": "3"}])
        );
        let frame = status_frame(&failure_status("boom"));
        assert_eq!(frame[0], ERROR);
        let v: serde_json::Value = serde_json::from_slice(&frame[1..]).unwrap();
        assert_eq!(v["message"], "boom");
    }
}
