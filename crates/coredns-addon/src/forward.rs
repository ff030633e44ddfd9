//! Forwarding of names outside the cluster zone to the upstream resolvers (those of
//! /etc/resolv.conf, or `--upstream`), like CoreDNS's `forward . /etc/resolv.conf`: UDP
//! first, TCP when the answer comes back truncated, the next upstream when one fails, and
//! the [`Cache`] in front.

use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr};
use std::sync::Mutex;
use std::time::{Duration, Instant};

use hickory_proto::op::{Edns, Message, Query, ResponseCode};
use hickory_proto::rr::{DNSClass, Name, RecordType};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::net::{TcpStream, UdpSocket};

use crate::cache::{Cache, Kind, Upstream};

/// The EDNS buffer size offered to upstreams (the DNS flag day 2020 value).
pub const UPSTREAM_PAYLOAD: u16 = 1232;

#[derive(Debug, thiserror::Error)]
pub enum ForwardError {
    #[error("no upstream resolvers configured")]
    NoUpstreams,
    #[error("encoding the query for {0}: {1}")]
    Encode(String, String),
    #[error("upstream {0}: {1}")]
    Io(SocketAddr, std::io::Error),
    #[error("upstream {0} timed out")]
    Timeout(SocketAddr),
    #[error("upstream {0} sent an invalid answer: {1}")]
    Invalid(SocketAddr, String),
    #[error("reading {0}: {1}")]
    ResolvConf(String, std::io::Error),
}

/// Parses the `nameserver` lines of a resolv.conf (port 53; IPv6 zone suffixes dropped).
pub fn parse_resolv_conf(text: &str) -> Vec<SocketAddr> {
    text.lines()
        .filter_map(|line| {
            let line = line.split(['#', ';']).next()?.trim();
            let mut words = line.split_whitespace();
            if words.next()? != "nameserver" {
                return None;
            }
            let addr = words.next()?;
            let addr = addr.split('%').next()?;
            addr.parse::<IpAddr>()
                .ok()
                .map(|ip| SocketAddr::new(ip, 53))
        })
        .collect()
}

/// Parses an `--upstream` value: `IP` or `IP:port` or `[IPv6]:port`.
pub fn parse_upstream(s: &str) -> Result<SocketAddr, String> {
    let s = s.trim();
    if let Ok(sa) = s.parse::<SocketAddr>() {
        return Ok(sa);
    }
    s.parse::<IpAddr>()
        .map(|ip| SocketAddr::new(ip, 53))
        .map_err(|_| format!("{s:?} is not an IP address or IP:port"))
}

/// Drops the upstreams that would be this server itself (a forwarding loop, which CoreDNS's
/// `loop` plugin guards against): the bind address, or a loopback address on the same port
/// when the server listens on every address. Returns (kept, dropped).
pub fn without_self(
    upstreams: &[SocketAddr],
    bind: SocketAddr,
) -> (Vec<SocketAddr>, Vec<SocketAddr>) {
    upstreams.iter().partition(|u| {
        let is_self = u.port() == bind.port()
            && (u.ip() == bind.ip() || (bind.ip().is_unspecified() && u.ip().is_loopback()));
        !is_self
    })
}

/// Reads the upstream resolvers of a resolv.conf file.
pub fn resolv_conf_upstreams(path: &str) -> Result<Vec<SocketAddr>, ForwardError> {
    let text =
        std::fs::read_to_string(path).map_err(|e| ForwardError::ResolvConf(path.to_string(), e))?;
    Ok(parse_resolv_conf(&text))
}

/// The forwarding client with its cache.
#[derive(Debug)]
pub struct Forwarder {
    upstreams: Vec<SocketAddr>,
    timeout: Duration,
    cache: Mutex<Cache>,
}

/// What [`Forwarder::resolve`] got, and whether the cache answered.
#[derive(Debug, Clone)]
pub struct Resolved {
    pub upstream: Upstream,
    pub cache: Option<Kind>,
}

impl Forwarder {
    pub fn new(upstreams: Vec<SocketAddr>, timeout: Duration, cache_capacity: usize) -> Self {
        Forwarder {
            upstreams,
            timeout,
            cache: Mutex::new(Cache::new(cache_capacity)),
        }
    }

    pub fn upstreams(&self) -> &[SocketAddr] {
        &self.upstreams
    }

    /// Answers `name`/`qtype` from the cache, else from the first upstream that answers.
    pub async fn resolve(
        &self,
        name: &Name,
        qtype: RecordType,
        class: DNSClass,
    ) -> Result<Resolved, ForwardError> {
        if let Ok(cache) = self.cache.lock() {
            if let Some((upstream, kind)) = cache.get(name, qtype, class, Instant::now()) {
                return Ok(Resolved {
                    upstream,
                    cache: Some(kind),
                });
            }
        }
        if self.upstreams.is_empty() {
            return Err(ForwardError::NoUpstreams);
        }
        let mut last = ForwardError::NoUpstreams;
        for &server in &self.upstreams {
            match exchange(server, name, qtype, class, self.timeout).await {
                Ok(upstream) => {
                    if let Ok(mut cache) = self.cache.lock() {
                        cache.insert(name, qtype, class, upstream.clone(), Instant::now());
                    }
                    return Ok(Resolved {
                        upstream,
                        cache: None,
                    });
                }
                Err(e) => {
                    tracing::debug!(upstream = %server, name = %name, error = %e, "upstream failed");
                    last = e;
                }
            }
        }
        Err(last)
    }
}

fn query_message(name: &Name, qtype: RecordType, class: DNSClass) -> Message {
    let mut msg = Message::query();
    msg.metadata.id = rand::random();
    msg.metadata.recursion_desired = true;
    let mut q = Query::query(name.clone(), qtype);
    q.set_query_class(class);
    msg.add_query(q);
    let mut edns = Edns::new();
    edns.set_max_payload(UPSTREAM_PAYLOAD);
    msg.set_edns(edns);
    msg
}

/// Is `resp` the answer to `req` (same id, same question)?
fn matches(req: &Message, resp: &Message) -> bool {
    resp.metadata.id == req.metadata.id
        && resp.queries.len() == req.queries.len()
        && resp
            .queries
            .iter()
            .zip(&req.queries)
            .all(|(a, b)| a.query_type() == b.query_type() && a.name().eq_ignore_root(b.name()))
}

fn into_upstream(resp: Message) -> Upstream {
    Upstream {
        rcode: resp.metadata.response_code,
        answers: resp.answers,
        authorities: resp.authorities,
        // OPT is per-hop: not carried over.
        additionals: resp
            .additionals
            .into_iter()
            .filter(|r| r.record_type() != RecordType::OPT)
            .collect(),
    }
}

/// One question to one upstream: UDP, then TCP if truncated.
pub async fn exchange(
    server: SocketAddr,
    name: &Name,
    qtype: RecordType,
    class: DNSClass,
    timeout: Duration,
) -> Result<Upstream, ForwardError> {
    let req = query_message(name, qtype, class);
    let bytes = req
        .to_vec()
        .map_err(|e| ForwardError::Encode(name.to_string(), e.to_string()))?;
    let resp = tokio::time::timeout(timeout, udp_exchange(server, &req, &bytes))
        .await
        .map_err(|_| ForwardError::Timeout(server))??;
    if !resp.metadata.truncation {
        return Ok(into_upstream(resp));
    }
    let resp = tokio::time::timeout(timeout, tcp_exchange(server, &req, &bytes))
        .await
        .map_err(|_| ForwardError::Timeout(server))??;
    Ok(into_upstream(resp))
}

async fn udp_exchange(
    server: SocketAddr,
    req: &Message,
    bytes: &[u8],
) -> Result<Message, ForwardError> {
    let local: SocketAddr = match server {
        SocketAddr::V4(_) => (Ipv4Addr::UNSPECIFIED, 0).into(),
        SocketAddr::V6(_) => (Ipv6Addr::UNSPECIFIED, 0).into(),
    };
    let io = |e| ForwardError::Io(server, e);
    let socket = UdpSocket::bind(local).await.map_err(io)?;
    socket.connect(server).await.map_err(io)?;
    socket.send(bytes).await.map_err(io)?;
    let mut buf = vec![0u8; usize::from(u16::MAX)];
    loop {
        let n = socket.recv(&mut buf).await.map_err(io)?;
        // Anything that is not our answer (a late or forged packet) is ignored.
        let Ok(resp) = Message::from_vec(&buf[..n]) else {
            continue;
        };
        if matches(req, &resp) {
            return Ok(resp);
        }
    }
}

async fn tcp_exchange(
    server: SocketAddr,
    req: &Message,
    bytes: &[u8],
) -> Result<Message, ForwardError> {
    let io = |e| ForwardError::Io(server, e);
    let mut stream = TcpStream::connect(server).await.map_err(io)?;
    let len = u16::try_from(bytes.len())
        .map_err(|_| ForwardError::Encode(String::new(), "query too long".into()))?;
    let mut framed = Vec::with_capacity(bytes.len() + 2);
    framed.extend_from_slice(&len.to_be_bytes());
    framed.extend_from_slice(bytes);
    stream.write_all(&framed).await.map_err(io)?;
    let mut len = [0u8; 2];
    stream.read_exact(&mut len).await.map_err(io)?;
    let mut buf = vec![0u8; usize::from(u16::from_be_bytes(len))];
    stream.read_exact(&mut buf).await.map_err(io)?;
    let resp = Message::from_vec(&buf).map_err(|e| ForwardError::Invalid(server, e.to_string()))?;
    if !matches(req, &resp) {
        return Err(ForwardError::Invalid(
            server,
            "the answer does not match the question".into(),
        ));
    }
    Ok(resp)
}

/// SERVFAIL, what a client gets when no upstream answers.
pub fn servfail() -> Upstream {
    Upstream {
        rcode: ResponseCode::ServFail,
        answers: Vec::new(),
        authorities: Vec::new(),
        additionals: Vec::new(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn resolv_conf_nameservers() {
        let text = "# generated\nsearch example.com\nnameserver 10.0.0.2\nnameserver fe80::1%eth0 # link-local\n; nameserver 1.1.1.1\nnameserver bogus\noptions ndots:5\n";
        assert_eq!(
            parse_resolv_conf(text),
            vec![
                "10.0.0.2:53".parse::<SocketAddr>().unwrap(),
                "[fe80::1]:53".parse().unwrap()
            ]
        );
    }

    #[test]
    fn the_server_itself_is_not_an_upstream() {
        let ups: Vec<SocketAddr> = [
            "127.0.0.1:53",
            "127.0.0.53:53",
            "10.0.0.2:53",
            "127.0.0.1:5300",
        ]
        .iter()
        .map(|s| s.parse().unwrap())
        .collect();
        let (kept, dropped) = without_self(&ups, "0.0.0.0:53".parse().unwrap());
        assert_eq!(kept, vec![ups[2], ups[3]]);
        assert_eq!(dropped, vec![ups[0], ups[1]]);
        let (kept, _) = without_self(&ups, "10.0.0.2:53".parse().unwrap());
        assert_eq!(kept, vec![ups[0], ups[1], ups[3]]);
    }

    #[test]
    fn upstream_flag_values() {
        assert_eq!(
            parse_upstream("127.0.0.1").unwrap(),
            "127.0.0.1:53".parse().unwrap()
        );
        assert_eq!(
            parse_upstream("127.0.0.1:5300").unwrap(),
            "127.0.0.1:5300".parse().unwrap()
        );
        assert_eq!(
            parse_upstream("[::1]:5300").unwrap(),
            "[::1]:5300".parse().unwrap()
        );
        assert!(parse_upstream("example.com").is_err());
    }

    #[test]
    fn answers_must_match_the_question() {
        let name = Name::from_ascii("example.com.").unwrap();
        let req = query_message(&name, RecordType::A, DNSClass::IN);
        let mut resp = req.clone();
        assert!(matches(&req, &resp));
        resp.metadata.id = req.metadata.id.wrapping_add(1);
        assert!(!matches(&req, &resp));
        let mut other = req.clone();
        other.queries[0].set_query_type(RecordType::AAAA);
        assert!(!matches(&req, &other));
    }
}
