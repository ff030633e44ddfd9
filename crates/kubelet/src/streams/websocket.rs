//! The server side of a WebSocket upgrade (RFC 6455) for the channel protocols.

use http::{HeaderMap, HeaderValue, Response, StatusCode};

use super::channel::{self, Protocol};

/// True when the request asks to upgrade to WebSocket.
pub fn is_websocket_upgrade(headers: &HeaderMap) -> bool {
    let has_token = |name: http::header::HeaderName, token: &str| {
        headers.get_all(name).iter().any(|v| {
            v.to_str()
                .map(|s| s.split(',').any(|t| t.trim().eq_ignore_ascii_case(token)))
                .unwrap_or(false)
        })
    };
    has_token(http::header::CONNECTION, "upgrade") && has_token(http::header::UPGRADE, "websocket")
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum HandshakeError {
    #[error("missing Sec-WebSocket-Key")]
    NoKey,
    #[error("none of the offered subprotocols {0:?} is supported (want one of {want:?})", want = channel::PROTOCOLS)]
    NoProtocol(Vec<String>),
}

/// Checks the handshake and builds the `101 Switching Protocols` response parts; returns
/// them with the chosen channel protocol.
pub fn accept(headers: &HeaderMap) -> Result<(StatusCode, HeaderMap, Protocol), HandshakeError> {
    let key = headers
        .get("sec-websocket-key")
        .ok_or(HandshakeError::NoKey)?;
    let offered: Vec<&str> = headers
        .get_all("sec-websocket-protocol")
        .iter()
        .filter_map(|v| v.to_str().ok())
        .collect();
    let protocol = channel::negotiate(offered.iter().copied()).ok_or_else(|| {
        HandshakeError::NoProtocol(offered.iter().map(|s| s.to_string()).collect())
    })?;
    let mut out = HeaderMap::new();
    out.insert(
        http::header::CONNECTION,
        HeaderValue::from_static("Upgrade"),
    );
    out.insert(http::header::UPGRADE, HeaderValue::from_static("websocket"));
    let accept = tokio_tungstenite::tungstenite::handshake::derive_accept_key(key.as_bytes());
    if let Ok(v) = HeaderValue::from_str(&accept) {
        out.insert("sec-websocket-accept", v);
    }
    out.insert(
        "sec-websocket-protocol",
        HeaderValue::from_static(protocol.name()),
    );
    Ok((StatusCode::SWITCHING_PROTOCOLS, out, protocol))
}

/// Applies [`accept`]'s parts to a response.
pub fn switching_protocols<B: Default>(headers: HeaderMap) -> Response<B> {
    let mut resp = Response::new(B::default());
    *resp.status_mut() = StatusCode::SWITCHING_PROTOCOLS;
    *resp.headers_mut() = headers;
    resp
}

#[cfg(test)]
mod tests {
    use super::*;

    fn request(protocols: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(
            "connection",
            HeaderValue::from_static("keep-alive, Upgrade"),
        );
        h.insert("upgrade", HeaderValue::from_static("websocket"));
        h.insert(
            "sec-websocket-key",
            HeaderValue::from_static("dGhlIHNhbXBsZSBub25jZQ=="),
        );
        h.insert(
            "sec-websocket-protocol",
            HeaderValue::from_str(protocols).unwrap(),
        );
        h
    }

    #[test]
    fn accepts_rfc_example_key() {
        let h = request("v4.channel.k8s.io, v5.channel.k8s.io");
        assert!(is_websocket_upgrade(&h));
        let (code, out, proto) = accept(&h).unwrap();
        assert_eq!(code, StatusCode::SWITCHING_PROTOCOLS);
        assert_eq!(proto, Protocol::V5);
        // RFC 6455 section 1.3's example.
        assert_eq!(out["sec-websocket-accept"], "s3pPLMBiTxaQ9kYGzzhZRbK+xOo=");
        assert_eq!(out["sec-websocket-protocol"], "v5.channel.k8s.io");
    }

    #[test]
    fn refuses_unknown_protocols_and_plain_requests() {
        assert!(matches!(
            accept(&request("base64.channel.k8s.io")),
            Err(HandshakeError::NoProtocol(_))
        ));
        let mut h = request("v5.channel.k8s.io");
        h.remove("sec-websocket-key");
        assert_eq!(accept(&h).unwrap_err(), HandshakeError::NoKey);
        assert!(!is_websocket_upgrade(&HeaderMap::new()));
    }
}
