//! The DNS server: our [`Handler`] (a hickory-server `RequestHandler`) over UDP (our own
//! receive loops, see `udp`) and TCP (hickory-server's `Server`). hickory-server parses
//! requests (a packet shorter than a header is dropped; one that does not parse,
//! such as a name of 255 labels, gets FORMERR) and encodes answers, setting TC when an
//! answer exceeds the client's UDP buffer (512 bytes, or the EDNS0 payload size it
//! offered); TCP always carries the full answer.

use std::net::SocketAddr;
use std::sync::{Arc, RwLock};
use std::time::{Duration, Instant};

use hickory_server::net::runtime::Time;
use hickory_server::net::xfer::Protocol;
use hickory_server::proto::op::{
    Edns, Header, HeaderCounts, MessageType, Metadata, OpCode, ResponseCode,
};
use hickory_server::proto::rr::{DNSClass, Name, Record, RecordType};
use hickory_server::server::{Request, RequestHandler, ResponseHandler, ResponseInfo};
use hickory_server::zone_handler::MessageResponseBuilder;
use hickory_server::Server;
use tokio::net::{TcpListener, UdpSocket};

use crate::cache::Kind;
use crate::forward::{servfail, Forwarder};
use crate::metrics::Metrics;
use crate::records::{Answer, Index, Lookup};

/// The index shared between the watchers (writers) and the server (readers): the whole
/// zone is swapped at once.
pub type SharedIndex = Arc<RwLock<Arc<Index>>>;

/// The largest UDP payload we accept to send, whatever the client offers.
pub const MAX_UDP_PAYLOAD: u16 = 4096;

/// How long an idle TCP connection is kept.
pub const TCP_TIMEOUT: Duration = Duration::from_secs(10);

mod answers;
mod mmsg;
mod pktinfo;
mod udp;

/// Answers one request: the cluster zone from the index, the rest through the forwarder.
#[derive(Clone)]
pub struct Handler {
    pub index: SharedIndex,
    pub forwarder: Arc<Forwarder>,
    pub metrics: Option<Metrics>,
    /// CoreDNS's `server` label, e.g. `dns://:53`.
    pub server_label: String,
}

pub(crate) struct Reply {
    pub(crate) rcode: ResponseCode,
    authoritative: bool,
    answers: Vec<Record>,
    authorities: Vec<Record>,
    additionals: Vec<Record>,
    /// The `zone` label: the cluster domain, or "." for forwarded names.
    pub(crate) zone: String,
}

impl Reply {
    /// An authoritative answer from the index.
    fn from_index(index: &Index, answer: Answer) -> Reply {
        Reply {
            rcode: answer.rcode,
            authoritative: true,
            answers: answer.answers,
            authorities: answer.authorities,
            additionals: answer.additionals,
            zone: index.config().domain.to_ascii(),
        }
    }

    fn error(rcode: ResponseCode) -> Reply {
        Reply {
            rcode,
            authoritative: false,
            answers: Vec::new(),
            authorities: Vec::new(),
            additionals: Vec::new(),
            zone: ".".to_string(),
        }
    }
}

impl Handler {
    fn index(&self) -> Arc<Index> {
        match self.index.read() {
            Ok(guard) => guard.clone(),
            Err(poisoned) => poisoned.into_inner().clone(),
        }
    }

    fn count_cache(&self, kind: Option<Kind>) {
        if let Some(m) = &self.metrics {
            match kind {
                Some(k) => m
                    .cache_hits
                    .with_label_values(&[self.server_label.as_str(), k.as_str()])
                    .inc(),
                None => m
                    .cache_misses
                    .with_label_values(&[self.server_label.as_str()])
                    .inc(),
            }
        }
    }

    async fn forward(&self, name: &Name, qtype: RecordType, class: DNSClass) -> Reply {
        match self.forwarder.resolve(name, qtype, class).await {
            Ok(resolved) => {
                self.count_cache(resolved.cache);
                if resolved.cache.is_none() {
                    if let (Some(m), Some(to)) = (&self.metrics, self.forwarder.upstreams().first())
                    {
                        m.forward_requests
                            .with_label_values(&[&to.to_string()])
                            .inc();
                    }
                }
                let u = resolved.upstream;
                Reply {
                    rcode: u.rcode,
                    authoritative: false,
                    answers: u.answers,
                    authorities: u.authorities,
                    additionals: u.additionals,
                    zone: ".".to_string(),
                }
            }
            Err(e) => {
                tracing::warn!(name = %name, qtype = %qtype, error = %e, "forwarding failed");
                let u = servfail();
                Reply {
                    rcode: u.rcode,
                    ..Reply::error(ResponseCode::ServFail)
                }
            }
        }
    }

    /// The answer for one question.
    async fn resolve(&self, name: &Name, qtype: RecordType, class: DNSClass) -> Reply {
        if class != DNSClass::IN {
            return self.forward(name, qtype, class).await;
        }
        let index = self.index();
        let mut reply = match index.lookup(name, qtype) {
            Lookup::Answer(a) => Reply::from_index(&index, a),
            Lookup::Forward => return self.forward(name, qtype, class).await,
        };
        if let Some(target) = chase_target(&reply, qtype) {
            let chased = match index.lookup(&target, qtype) {
                Lookup::Answer(a) => a.answers,
                Lookup::Forward => self.forward(&target, qtype, class).await.answers,
            };
            reply.answers.extend(chased);
        }
        reply
    }

    /// The answer for one question when the index alone gives it (no upstream to ask):
    /// the same answer as [`Handler::resolve`], computed without waiting.
    fn resolve_local(
        index: &Index,
        name: &Name,
        qtype: RecordType,
        class: DNSClass,
    ) -> Option<Reply> {
        if class != DNSClass::IN {
            return None;
        }
        let mut reply = match index.lookup(name, qtype) {
            Lookup::Answer(a) => Reply::from_index(index, a),
            Lookup::Forward => return None,
        };
        if let Some(target) = chase_target(&reply, qtype) {
            match index.lookup(&target, qtype) {
                Lookup::Answer(a) => reply.answers.extend(a.answers),
                Lookup::Forward => return None,
            }
        }
        Some(reply)
    }

    /// The reply to `request` when it needs no upstream (the cluster zone, or an error
    /// such as FORMERR / NOTIMP / BADVERS), with the query type for the metrics; `None`
    /// when only [`RequestHandler::handle_request`] (which forwards) can answer it.
    pub(crate) fn reply_local(
        &self,
        index: &Index,
        request: &Request,
    ) -> Option<(Reply, RecordType)> {
        match classify(request) {
            Question::Done(reply, qtype) => Some((reply, qtype)),
            Question::Ask(q) => {
                Self::resolve_local(index, q.name(), q.query_type(), q.query_class())
                    .map(|reply| (reply, q.query_type()))
            }
        }
    }

    /// The zone currently served.
    pub(crate) fn current_index(&self) -> Arc<Index> {
        self.index()
    }
}

/// An ExternalName's CNAME target, to chase as CoreDNS does through its upstream (not for
/// CNAME or ANY questions, which get the CNAME alone).
fn chase_target(reply: &Reply, qtype: RecordType) -> Option<Name> {
    if qtype == RecordType::CNAME || qtype == RecordType::ANY {
        return None;
    }
    match reply.answers.last().map(|r| &r.data) {
        Some(hickory_server::proto::rr::RData::CNAME(c)) => Some(c.0.clone()),
        _ => None,
    }
}

/// What a request asks, once the checks every request goes through are done.
enum Question<'a> {
    /// Answered without looking anything up (an error).
    Done(Reply, RecordType),
    /// The one question to resolve.
    Ask(&'a hickory_server::proto::op::Query),
}

fn classify(request: &Request) -> Question<'_> {
    let queries = request.queries.queries();
    if request.metadata.op_code != OpCode::Query {
        Question::Done(Reply::error(ResponseCode::NotImp), RecordType::Unknown(0))
    } else if queries.len() != 1 {
        Question::Done(Reply::error(ResponseCode::FormErr), RecordType::Unknown(0))
    } else if request.edns.as_ref().is_some_and(|e| e.version() > 0) {
        // RFC 6891: an unknown EDNS version gets BADVERS.
        Question::Done(Reply::error(ResponseCode::BADVERS), queries[0].query_type())
    } else {
        Question::Ask(queries[0].original())
    }
}

/// The response header for `reply` to `request`.
pub(crate) fn response_metadata(request: &Request, reply: &Reply) -> Metadata {
    let mut metadata = Metadata::response_from_request(&request.metadata);
    metadata.authoritative = reply.authoritative;
    metadata.recursion_available = true;
    metadata.response_code = reply.rcode;
    metadata
}

pub(crate) fn response_edns(request: &Request) -> Option<Edns> {
    let req = request.edns.as_ref()?;
    let mut edns = Edns::new();
    edns.set_max_payload(req.max_payload().clamp(512, MAX_UDP_PAYLOAD));
    edns.set_dnssec_ok(false);
    Some(edns)
}

#[async_trait::async_trait]
impl RequestHandler for Handler {
    async fn handle_request<R: ResponseHandler, T: Time>(
        &self,
        request: &Request,
        mut response_handle: R,
    ) -> ResponseInfo {
        let start = Instant::now();
        let edns = response_edns(request);
        let (reply, qtype) = match classify(request) {
            Question::Done(reply, qtype) => (reply, qtype),
            Question::Ask(q) => (
                self.resolve(q.name(), q.query_type(), q.query_class())
                    .await,
                q.query_type(),
            ),
        };
        let metadata = response_metadata(request, &reply);
        let mut builder = MessageResponseBuilder::new(&request.queries, None);
        if let Some(e) = edns.as_ref() {
            builder.edns(e);
        }
        let response = builder.build(
            metadata,
            reply.answers.iter(),
            reply.authorities.iter(),
            std::iter::empty(),
            reply.additionals.iter(),
        );
        let result = response_handle.send_response(response).await;
        if let Some(m) = &self.metrics {
            let proto = match request.protocol() {
                Protocol::Udp => "udp",
                _ => "tcp",
            };
            m.observe(
                &self.server_label,
                &reply.zone,
                proto,
                request.src().is_ipv6(),
                qtype,
                reply.rcode,
                start.elapsed(),
            );
        }
        match result {
            Ok(info) => info,
            Err(e) => {
                tracing::debug!(src = %request.src(), error = %e, "sending the answer failed");
                let mut metadata =
                    Metadata::new(request.metadata.id, MessageType::Response, OpCode::Query);
                metadata.response_code = ResponseCode::ServFail;
                ResponseInfo::from(Header {
                    metadata,
                    counts: HeaderCounts::default(),
                })
            }
        }
    }
}

/// Binds UDP and TCP on `addr`; with port 0, the same free port for both.
pub async fn bind(addr: SocketAddr) -> std::io::Result<(UdpSocket, TcpListener)> {
    if addr.port() != 0 {
        let udp = UdpSocket::bind(addr).await?;
        let tcp = TcpListener::bind(addr).await?;
        return Ok((udp, tcp));
    }
    let mut last = None;
    for _ in 0..32 {
        let udp = UdpSocket::bind(addr).await?;
        let port = udp.local_addr()?.port();
        match TcpListener::bind(SocketAddr::new(addr.ip(), port)).await {
            Ok(tcp) => return Ok((udp, tcp)),
            Err(e) => last = Some(e),
        }
    }
    Err(last.unwrap_or_else(|| std::io::Error::other("no free port for UDP and TCP")))
}

/// Serves DNS on the bound sockets until `shutdown` resolves.
pub async fn serve(
    udp: UdpSocket,
    tcp: TcpListener,
    handler: Handler,
    shutdown: impl std::future::Future<Output = ()>,
) -> anyhow::Result<()> {
    let loops = std::thread::available_parallelism()
        .map(|n| n.get())
        .unwrap_or(1);
    let mut server = Server::new(handler.clone());
    server.register_listener(tcp, TCP_TIMEOUT, 64);
    // Dropping this future (on shutdown) stops the UDP loops.
    let udp = udp.into_std()?;
    let udp_loops = udp::serve_udp(udp, Arc::new(handler), loops);
    tokio::pin!(udp_loops);
    let stopped = tokio::select! {
        r = server.block_until_done() => Some(r),
        r = &mut udp_loops => Some(Err(hickory_server::net::NetError::from(match r {
            Ok(()) => "the UDP loops ended".to_string(),
            Err(e) => format!("serving UDP: {e}"),
        }))),
        _ = shutdown => None,
    };
    match stopped {
        Some(r) => r.map_err(|e| anyhow::anyhow!("DNS server stopped: {e}")),
        None => server
            .shutdown_gracefully()
            .await
            .map_err(|e| anyhow::anyhow!("stopping the DNS server: {e}")),
    }
}
