//! The streaming protocols of the kubelet API (exec, attach):
//!
//! * [`channel`]: the WebSocket channel protocols `v5.channel.k8s.io` and
//!   `v4.channel.k8s.io` (upstream apimachinery/pkg/util/httpstream/wsstream): every
//!   binary message starts with a channel byte (0 stdin, 1 stdout, 2 stderr, 3 error,
//!   4 resize; v5 adds 255 = close a stream), and the exit `Status` on the error channel.
//! * [`websocket`]: the server side of the HTTP/1.1 upgrade (RFC 6455 handshake, the
//!   subprotocol choice).
//!
//! * [`spdy`]: SPDY/3.1 frames and header compression, for port-forward and for
//!   exec/attach from kubectl before 1.30.
//!
//! Pure framing only; the I/O lives in `server::session` (the exec/attach transports),
//! `server::spdy_exec` and `server::portforward`.

pub mod channel;
pub mod spdy;
pub mod websocket;
