//! The UDP side of the server. hickory-server's own UDP loop hands every packet to a new
//! task and every answer to one writer task through a channel, so each query costs two
//! cross-thread wake-ups; under load that scheduling dominated the profile. Here one
//! receive loop per core shares the socket and, per wake-up, takes every waiting query
//! with one recvmmsg(2) and sends the answers with one sendmmsg(2) (see `mmsg`).
//!
//! A query answered before from the current zone is answered from [`Answers`] (its earlier
//! answer with the new ID). Any other query is parsed with hickory-server's [`Request`] and
//! answered by the [`Handler`]: from the index at once (and the answer kept), or, when
//! it needs an upstream, in its own task through the [`RequestHandler`], so a slow
//! upstream never stalls a loop.
//!
//! Same rules as hickory-server: fewer bytes than a header is dropped, a response (QR set)
//! is dropped, a request that does not parse gets FORMERR, and the answer is cut to the
//! client's buffer (512 bytes, or its EDNS0 payload size) with TC set.

use std::future::Future;
use std::net::{IpAddr, SocketAddr, UdpSocket};
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

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
use hickory_server::zone_handler::MessageResponseBuilder;

use super::answers::Answers;
use super::mmsg::{RecvBatch, SendBatch};
use super::{response_edns, response_metadata, Handler, Reply};
use crate::metrics::LocalMetrics;

/// Writes one answer to one client over the shared socket.
#[derive(Clone)]
struct UdpResponder {
    socket: Arc<UdpSocket>,
    dst: SocketAddr,
    /// The address the query was sent to: the answer's source (see `pktinfo`).
    local: Option<IpAddr>,
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
        let (buf, info) = encode(response);
        super::pktinfo::send(&self.socket, &buf, self.dst, self.local).await?;
        Ok(info)
    }
}

/// Encodes an answer for UDP: cut to the client's buffer with TC set when longer (RFC 1035
/// 4.2.1: 512 bytes without EDNS; else the payload size in our OPT, the client's offer
/// clamped by the handler). An answer that cannot be encoded becomes SERVFAIL.
fn encode<'a>(
    response: MessageResponse<
        '_,
        'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
        impl Iterator<Item = &'a Record> + Send + 'a,
    >,
) -> (Vec<u8>, ResponseInfo) {
    let max = response.edns().map_or(512, |e| e.max_payload().max(512));
    let id = response.metadata().id;
    let mut buf = Vec::with_capacity(512);
    let info = {
        let mut encoder = BinEncoder::new(&mut buf);
        encoder.set_max_size(max);
        response.destructive_emit(&mut encoder)
    };
    match info {
        Ok(info) => (buf, info),
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
            if let Err(e) = header.emit(&mut encoder) {
                tracing::warn!(error = %e, "encoding SERVFAIL failed");
                buf.clear();
            }
            (buf, ResponseInfo::from(header))
        }
    }
}

/// The encoded UDP answer for `reply` to `request`.
fn encode_reply(request: &Request, reply: &Reply) -> Vec<u8> {
    let edns = response_edns(request);
    let mut builder = MessageResponseBuilder::new(&request.queries, None);
    if let Some(e) = edns.as_ref() {
        builder.edns(e);
    }
    let response = builder.build(
        response_metadata(request, reply),
        reply.answers.iter(),
        reply.authorities.iter(),
        std::iter::empty(),
        reply.additionals.iter(),
    );
    encode(response).0
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

/// One receive loop's state.
struct Worker {
    handler: Arc<Handler>,
    socket: Arc<UdpSocket>,
    /// The runtime that forwarded queries are answered on.
    runtime: tokio::runtime::Handle,
    answers: Answers,
    metrics: LocalMetrics,
    out: SendBatch,
}

impl Worker {
    /// Answers one datagram: from the kept answers, from the index, or (needing an
    /// upstream) in a task of its own.
    fn handle(&mut self, packet: &[u8], src: SocketAddr, local: Option<IpAddr>) {
        let ipv6 = src.is_ipv6();
        if let Some(kept) = self.answers.get(packet, ipv6) {
            kept.write(packet, self.out.push(src, local));
            self.metrics.count(kept.metrics);
            return;
        }
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
                    self.out.push(src, local).extend_from_slice(&bytes);
                }
                return;
            }
        };
        match self.handler.reply_local(self.answers.index(), &request) {
            Some((reply, qtype)) => {
                let answer = encode_reply(&request, &reply);
                let slot = self.metrics.slot(&reply.zone, ipv6, qtype, reply.rcode);
                self.metrics.count(slot);
                self.out.push(src, local).extend_from_slice(&answer);
                self.answers.insert(packet, ipv6, &answer, slot);
            }
            None => self.forward(request, src, local),
        }
    }

    /// Answers through the [`RequestHandler`] (which asks the upstream resolvers) in a
    /// task of its own on the runtime, unless it is done at once (a forward-cache hit).
    fn forward(&self, request: Request, src: SocketAddr, local: Option<IpAddr>) {
        let responder = UdpResponder {
            socket: self.socket.clone(),
            dst: src,
            local,
        };
        let handler = self.handler.clone();
        let mut answer: Pin<Box<dyn Future<Output = ()> + Send>> = Box::pin(async move {
            handler
                .handle_request::<_, TokioTime>(&request, responder)
                .await;
        });
        let _runtime = self.runtime.enter();
        let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
        // A future that is not ready is polled again once spawned (and then registers
        // the task's waker): polling it here first only saves the task when it is done.
        if answer.as_mut().poll(&mut cx).is_pending() {
            self.runtime.spawn(answer);
        }
    }
}

/// How often a receive loop with nothing to do checks whether it should stop.
const STOP_CHECK: Duration = Duration::from_millis(200);

fn receive_loop(mut worker: Worker, pktinfo: bool, stop: &AtomicBool) {
    let mut batch = RecvBatch::new();
    while !stop.load(Ordering::Relaxed) {
        let n = match batch.recv(&worker.socket, pktinfo) {
            Ok(n) => n,
            Err(e) => {
                // Nothing within STOP_CHECK, a signal, or an ICMP error from an earlier
                // send: keep serving, but do not spin on a socket that keeps failing.
                if !matches!(
                    e.kind(),
                    std::io::ErrorKind::WouldBlock
                        | std::io::ErrorKind::TimedOut
                        | std::io::ErrorKind::Interrupted
                        | std::io::ErrorKind::ConnectionRefused
                        | std::io::ErrorKind::ConnectionReset
                ) {
                    tracing::debug!(error = %e, "UDP receive failed");
                    std::thread::sleep(Duration::from_millis(10));
                }
                continue;
            }
        };
        let start = Instant::now();
        worker.answers.refresh(worker.handler.current_index());
        for i in 0..n {
            let Some((packet, r)) = batch.get(i) else {
                break;
            };
            if r.src.port() == 0 {
                continue;
            }
            worker.handle(packet, r.src, r.local);
        }
        if !worker.out.is_empty() {
            worker.out.flush(&worker.socket);
        }
        worker.metrics.flush(start.elapsed());
    }
}

/// Sets the flag when dropped: the receive loops stop.
struct StopOnDrop(Arc<AtomicBool>);

impl Drop for StopOnDrop {
    fn drop(&mut self) {
        self.0.store(true, Ordering::Relaxed);
    }
}

/// Tells `serve_udp` that a loop ended when dropped.
struct EndedOnDrop(tokio::sync::mpsc::Sender<()>);

impl Drop for EndedOnDrop {
    fn drop(&mut self) {
        let _ = self.0.try_send(());
    }
}

/// Serves DNS over UDP on `socket` with `loops` receive loops, each on a thread of its
/// own blocked in recvmmsg(2) (a query wakes its loop directly, not through the runtime's
/// reactor and a worker thread), until the returned future is dropped. Forwarded queries
/// are answered on the current runtime. Returns when a loop could not start or ended.
pub async fn serve_udp(
    socket: UdpSocket,
    handler: Arc<Handler>,
    loops: usize,
) -> std::io::Result<()> {
    // Only a wildcard socket needs each query's destination to answer from it.
    let wildcard = socket.local_addr().is_ok_and(|a| a.ip().is_unspecified());
    let mut pktinfo = false;
    if wildcard {
        match super::pktinfo::enable(&socket) {
            Ok(()) => pktinfo = true,
            Err(e) => {
                tracing::warn!(error = %e, "IP_PKTINFO unavailable: answers leave from the interface address")
            }
        }
    }
    // One socket shared by the loops: the kernel hands each datagram to whichever loop is
    // waiting, so the load spreads evenly whatever the clients' addresses. (A socket per
    // loop with SO_REUSEPORT spreads clients by address hash instead: measured slower,
    // one loop saturating while the other idled.)
    socket.set_nonblocking(false)?;
    socket.set_read_timeout(Some(STOP_CHECK))?;
    let socket = Arc::new(socket);
    let stop = Arc::new(AtomicBool::new(false));
    let _stop_on_drop = StopOnDrop(stop.clone());
    let runtime = tokio::runtime::Handle::current();
    let (ended_tx, mut ended) = tokio::sync::mpsc::channel::<()>(loops.max(1));
    for i in 0..loops.max(1) {
        let worker = Worker {
            answers: Answers::new(handler.current_index()),
            metrics: LocalMetrics::new(handler.metrics.clone(), &handler.server_label, "udp"),
            out: SendBatch::new(),
            handler: handler.clone(),
            socket: socket.clone(),
            runtime: runtime.clone(),
        };
        let stop = stop.clone();
        let ended = EndedOnDrop(ended_tx.clone());
        std::thread::Builder::new()
            .name(format!("dns-udp-{i}"))
            .spawn(move || {
                // Reports the end of the loop, also when it panics.
                let _ended = ended;
                receive_loop(worker, pktinfo, &stop);
            })?;
    }
    drop(ended_tx);
    let _ = ended.recv().await;
    Err(std::io::Error::other("a UDP receive loop ended"))
}
