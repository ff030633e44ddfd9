//! The UDP side of the server. hickory-server's own UDP loop hands every packet to a new
//! task and every answer to one writer task through a channel, so each query costs two
//! cross-thread wake-ups; under load that scheduling dominated the profile. Here one
//! receive loop per core shares the socket, parses with hickory-server's [`Request`],
//! runs the same [`RequestHandler`], and writes the answer itself. An answer that is not
//! ready at once (forwarding, which waits for an upstream) continues in its own task, so a
//! slow upstream never stalls a loop.
//!
//! Same rules as hickory-server: fewer bytes than a header is dropped, a response (QR set)
//! is dropped, a request that does not parse gets FORMERR, and the answer is cut to the
//! client's buffer (512 bytes, or its EDNS0 payload size) with TC set.

use std::future::Future;
use std::net::SocketAddr;
use std::pin::Pin;
use std::sync::Arc;

use hickory_server::net::runtime::TokioTime;
use hickory_server::net::xfer::Protocol;
use hickory_server::net::NetError;
use hickory_server::proto::op::{
    Header, HeaderCounts, Message, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_server::proto::rr::Record;
use hickory_server::proto::serialize::binary::{
    BinDecodable, BinDecoder, BinEncodable, BinEncoder,
};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponse;
use tokio::net::UdpSocket;

/// Writes one answer to one client over the shared socket.
#[derive(Clone)]
struct UdpResponder {
    socket: Arc<UdpSocket>,
    dst: SocketAddr,
    /// The address the query was sent to: the answer's source (see `pktinfo`).
    local: Option<std::net::IpAddr>,
}

#[async_trait::async_trait]
impl ResponseHandler for UdpResponder {
    async fn send_response<'a>(
        &mut self,
        response: MessageResponse<
            '_,
            'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
            impl Iterator<Item = &'a Record> + Send + 'a,
        >,
    ) -> Result<ResponseInfo, NetError> {
        // RFC 1035 4.2.1: 512 bytes without EDNS; else the payload size in our OPT (the
        // client's offer, clamped by the handler).
        let max = response.edns().map_or(512, |e| e.max_payload().max(512));
        let id = response.metadata().id;
        let mut buf = Vec::with_capacity(512);
        let info = {
            let mut encoder = BinEncoder::new(&mut buf);
            encoder.set_max_size(max);
            response.destructive_emit(&mut encoder)
        };
        let info = match info {
            Ok(info) => info,
            Err(e) => {
                tracing::warn!(error = %e, "encoding an answer failed; SERVFAIL");
                let mut metadata = Metadata::new(id, MessageType::Response, OpCode::Query);
                metadata.response_code = ResponseCode::ServFail;
                let header = Header {
                    metadata,
                    counts: HeaderCounts::default(),
                };
                buf.clear();
                let mut encoder = BinEncoder::new(&mut buf);
                header
                    .emit(&mut encoder)
                    .map_err(|e| NetError::from(e.to_string()))?;
                ResponseInfo::from(header)
            }
        };
        super::pktinfo::send(&self.socket, &buf, self.dst, self.local).await?;
        Ok(info)
    }
}

/// FORMERR for a packet whose header parsed but whose body did not.
fn formerr(header: &Header) -> Option<Vec<u8>> {
    let mut msg = Message::error_msg(
        header.metadata.id,
        header.metadata.op_code,
        ResponseCode::FormErr,
    );
    msg.metadata.recursion_desired = header.metadata.recursion_desired;
    msg.to_vec().ok()
}

async fn handle_packet<H: RequestHandler>(
    handler: &Arc<H>,
    socket: &Arc<UdpSocket>,
    packet: &[u8],
    src: SocketAddr,
    local: Option<std::net::IpAddr>,
) {
    let mut decoder = BinDecoder::new(packet);
    let Ok(header) = Header::read(&mut decoder) else {
        return;
    };
    if header.metadata.message_type == MessageType::Response {
        return;
    }
    let request = match Request::from_bytes(packet.to_vec(), src, Protocol::Udp) {
        Ok(r) => r,
        Err(e) => {
            tracing::debug!(%src, error = %e, "malformed request; FORMERR");
            if let Some(bytes) = formerr(&header) {
                let _ = super::pktinfo::send(socket, &bytes, src, local).await;
            }
            return;
        }
    };
    let responder = UdpResponder {
        socket: socket.clone(),
        dst: src,
        local,
    };
    let handler = handler.clone();
    let mut answer: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
        handler
            .handle_request::<_, TokioTime>(&request, responder)
            .await;
    });
    // Answered at once (the cluster zone, a cache hit): done. Waiting on an upstream: let
    // it finish in its own task and go back to receiving.
    if futures::poll!(answer.as_mut()).is_pending() {
        tokio::spawn(answer);
    }
}

/// Serves DNS over UDP on `socket` with `loops` receive loops until the returned future
/// is dropped.
pub async fn serve_udp<H: RequestHandler>(socket: UdpSocket, handler: Arc<H>, loops: usize) {
    // Only a wildcard socket needs each query's destination to answer from it.
    let wildcard = socket.local_addr().is_ok_and(|a| a.ip().is_unspecified());
    if wildcard {
        if let Err(e) = super::pktinfo::enable(&socket) {
            tracing::warn!(error = %e, "IP_PKTINFO unavailable: answers leave from the interface address");
        }
    }
    let socket = Arc::new(socket);
    let mut tasks = tokio::task::JoinSet::new();
    for _ in 0..loops.max(1) {
        let socket = socket.clone();
        let handler = handler.clone();
        tasks.spawn(async move {
            let mut buf = vec![0u8; 4096];
            loop {
                let received = if wildcard {
                    super::pktinfo::recv(&socket, &mut buf).await
                } else {
                    socket
                        .recv_from(&mut buf)
                        .await
                        .map(|(n, src)| (n, src, None))
                };
                let (n, src, local) = match received {
                    Ok(r) => r,
                    Err(e) => {
                        // ICMP errors from earlier sends surface here; keep serving, but do
                        // not spin on a socket that keeps failing.
                        tracing::debug!(error = %e, "UDP receive failed");
                        if !matches!(
                            e.kind(),
                            std::io::ErrorKind::ConnectionRefused
                                | std::io::ErrorKind::ConnectionReset
                        ) {
                            tokio::time::sleep(std::time::Duration::from_millis(10)).await;
                        }
                        continue;
                    }
                };
                if src.port() == 0 {
                    continue;
                }
                handle_packet(&handler, &socket, &buf[..n], src, local).await;
            }
        });
    }
    while tasks.join_next().await.is_some() {}
}
