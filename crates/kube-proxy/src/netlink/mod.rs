//! nf_tables over netlink: kube-proxy's transactions go to the kernel as one
//! NETLINK_NETFILTER batch each, without the `nft` binary. `nft` 1.0 loads the cache of
//! every chain in the ruleset before each command that adds a rule or an element
//! (0.5–0.9 s at 10,000 Services, whatever the size of the change) and resolves chains
//! created in the same transaction by id, which the kernel looks up by walking the
//! transaction; a batch that names everything avoids both.
//!
//! The kernel processes a batch inside `sendmsg` on our socket, so by the time it
//! returns, the errors (and the acknowledgement of the last message, which comes only
//! after the commit) are queued for us to read.

pub mod encode;
mod expr;
pub mod message;

use std::io;
use std::os::fd::{AsRawFd, FromRawFd, OwnedFd, RawFd};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use crate::model::Family;
use crate::ruleset::{Op, TABLE};
use encode::{EncodeError, NFT_MSG_GETTABLE, NLM_F_REQUEST};
use message::Buf;

#[derive(Debug, thiserror::Error)]
pub enum NetlinkError {
    #[error("netlink socket: {0}")]
    Io(#[from] io::Error),
    #[error("entering network namespace {netns}: {source}")]
    Netns { netns: String, source: io::Error },
    #[error("encoding the nftables transaction: {0}")]
    Encode(#[from] EncodeError),
    #[error("nftables refused {command}: {error}{}", detail.as_deref().map(|d| format!(" ({d})")).unwrap_or_default())]
    Refused {
        command: String,
        error: io::Error,
        /// The kernel's extended ack message, when it gave one.
        detail: Option<String>,
    },
    #[error("nftables refused the transaction; its error replies overflowed the socket buffer")]
    Overflowed,
    #[error("nftables transaction of {bytes} bytes was not acknowledged")]
    NotAcknowledged { bytes: usize },
    #[error("netlink worker: {0}")]
    Join(String),
}

const NLMSG_ERROR: u16 = 2;
const NLM_F_ACK: u16 = 0x4;
/// The error reply carries extended-ack attributes.
const NLM_F_ACK_TLVS: u16 = 0x200;
const NLMSGERR_ATTR_MSG: u16 = 1;
const NETLINK_NETFILTER: i32 = 12;
const SOL_NETLINK: i32 = 270;
const NETLINK_CAP_ACK: i32 = 10;
const NETLINK_EXT_ACK: i32 = 11;

/// A NETLINK_NETFILTER socket in the network namespace the proxier programs. One
/// exchange (a batch and its replies) at a time: replies are matched by sequence number
/// within a batch.
#[derive(Clone, Debug)]
pub struct Netlink {
    fd: Arc<Mutex<OwnedFd>>,
}

/// What one applied transaction cost.
#[derive(Clone, Copy, Debug, Default)]
pub struct Commit {
    /// Size of the batch.
    pub bytes: usize,
    /// Time inside `sendmsg`: the kernel parsing, validating and committing it.
    pub kernel: Duration,
}

impl Netlink {
    /// A socket in our own network namespace, or in `netns` (a name under /run/netns,
    /// or a path) for tests and the benchmark. The socket stays in the namespace it was
    /// created in; only a short-lived thread enters it.
    pub fn open(netns: Option<&str>) -> Result<Netlink, NetlinkError> {
        let fd = match netns {
            None => socket()?,
            Some(ns) => {
                let path = if ns.contains('/') {
                    ns.to_string()
                } else {
                    format!("/run/netns/{ns}")
                };
                let ns_name = ns.to_string();
                std::thread::spawn(move || -> Result<OwnedFd, NetlinkError> {
                    let err = |source| NetlinkError::Netns {
                        netns: ns_name.clone(),
                        source,
                    };
                    let file = std::fs::File::open(&path).map_err(err)?;
                    // SAFETY: setns on this thread only, with a valid namespace fd.
                    if unsafe { libc::setns(file.as_raw_fd(), libc::CLONE_NEWNET) } != 0 {
                        return Err(err(io::Error::last_os_error()));
                    }
                    socket()
                })
                .join()
                .map_err(|_| NetlinkError::Join("namespace thread panicked".into()))??
            }
        };
        Ok(Netlink {
            fd: Arc::new(Mutex::new(fd)),
        })
    }

    /// Runs `f` with the socket, off the async workers when the runtime has several
    /// (encoding and committing a full sync takes seconds at 10,000 Services).
    fn exchange<T>(
        &self,
        f: impl FnOnce(RawFd) -> Result<T, NetlinkError>,
    ) -> Result<T, NetlinkError> {
        let run = || {
            let fd = self
                .fd
                .lock()
                .map_err(|_| NetlinkError::Join("netlink socket lock poisoned".into()))?;
            f(fd.as_raw_fd())
        };
        match tokio::runtime::Handle::try_current().map(|h| h.runtime_flavor()) {
            Ok(tokio::runtime::RuntimeFlavor::MultiThread) => tokio::task::block_in_place(run),
            _ => run(),
        }
    }

    /// Applies `ops` to the `kube-proxy` table of `family` as one transaction: all of
    /// it or none of it.
    pub async fn apply(&self, family: Family, ops: &[Op<'_>]) -> Result<Commit, NetlinkError> {
        if ops.is_empty() {
            return Ok(Commit::default());
        }
        self.exchange(|fd| {
            let batch = encode::encode(family, ops)?;
            let kernel = send_batch(fd, &batch)?;
            Ok(Commit {
                bytes: batch.bytes.len(),
                kernel,
            })
        })
    }

    /// Whether the `kube-proxy` table of `family` exists (one GETTABLE request).
    pub async fn table_present(&self, family: Family) -> Result<bool, NetlinkError> {
        self.exchange(|fd| get_table(fd, family))
    }

    /// Deletes the `kube-proxy` table of `family` (kube-proxy --cleanup); absent is
    /// not an error.
    pub async fn delete_table(&self, family: Family) -> Result<(), NetlinkError> {
        self.apply(family, &[Op::AddTable, Op::DeleteTable])
            .await
            .map(|_| ())
    }
}

fn socket() -> Result<OwnedFd, NetlinkError> {
    // SAFETY: plain socket(2); the fd is owned below.
    let raw = unsafe {
        libc::socket(
            libc::AF_NETLINK,
            libc::SOCK_RAW | libc::SOCK_CLOEXEC,
            NETLINK_NETFILTER,
        )
    };
    if raw < 0 {
        return Err(io::Error::last_os_error().into());
    }
    // SAFETY: raw is a fresh, valid fd that nothing else owns.
    let fd = unsafe { OwnedFd::from_raw_fd(raw) };
    // SAFETY: a zeroed sockaddr_nl is valid; the kernel assigns our port id.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // SAFETY: addr is a valid sockaddr_nl of the given size.
    let rc = unsafe {
        libc::bind(
            fd.as_raw_fd(),
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error().into());
    }
    // Error replies carry only the refused message's header, plus the kernel's text.
    set_int(fd.as_raw_fd(), SOL_NETLINK, NETLINK_CAP_ACK, 1);
    set_int(fd.as_raw_fd(), SOL_NETLINK, NETLINK_EXT_ACK, 1);
    // Room for many error messages from a refused batch.
    set_buffer(
        fd.as_raw_fd(),
        libc::SO_RCVBUFFORCE,
        libc::SO_RCVBUF,
        4 << 20,
    );
    Ok(fd)
}

fn set_int(fd: RawFd, level: i32, opt: i32, v: i32) -> bool {
    // SAFETY: setsockopt with a valid int.
    unsafe {
        libc::setsockopt(
            fd,
            level,
            opt,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        ) == 0
    }
}

/// Sets a socket buffer size: the FORCE option needs CAP_NET_ADMIN in the initial user
/// namespace; without it the plain option (capped by the net.core sysctls) is tried, and
/// a batch larger than that is refused by sendto with EMSGSIZE.
fn set_buffer(fd: RawFd, force: i32, plain: i32, size: usize) {
    let v = i32::try_from(size).unwrap_or(i32::MAX);
    if !set_int(fd, libc::SOL_SOCKET, force, v) && !set_int(fd, libc::SOL_SOCKET, plain, v) {
        tracing::warn!(bytes = size, "cannot size the netlink socket buffer");
    }
}

fn send(fd: RawFd, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: a zeroed sockaddr_nl (pid 0) addresses the kernel.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // A whole batch must arrive as one message; the kernel caps it at the send buffer.
    set_buffer(
        fd,
        libc::SO_SNDBUFFORCE,
        libc::SO_SNDBUF,
        bytes.len() + 4096,
    );
    // SAFETY: bytes and addr are valid for the given lengths.
    let n = unsafe {
        libc::sendto(
            fd,
            bytes.as_ptr().cast(),
            bytes.len(),
            0,
            (&addr as *const libc::sockaddr_nl).cast(),
            std::mem::size_of::<libc::sockaddr_nl>() as u32,
        )
    };
    if n < 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

/// One reply.
struct Reply {
    ty: u16,
    flags: u16,
    seq: u32,
    payload: Vec<u8>,
}

/// Reads what is queued, without waiting.
fn drain(fd: RawFd) -> io::Result<Vec<Reply>> {
    let mut out = Vec::new();
    let mut buf = vec![0u8; 1 << 16];
    loop {
        // SAFETY: buf is valid for its length.
        let n = unsafe { libc::recv(fd, buf.as_mut_ptr().cast(), buf.len(), libc::MSG_DONTWAIT) };
        if n < 0 {
            let e = io::Error::last_os_error();
            if e.kind() == io::ErrorKind::WouldBlock {
                return Ok(out);
            }
            return Err(e);
        }
        let mut off = 0;
        let n = n as usize;
        while off + 16 <= n {
            let len =
                u32::from_ne_bytes([buf[off], buf[off + 1], buf[off + 2], buf[off + 3]]) as usize;
            if len < 16 || off + len > n {
                break;
            }
            out.push(Reply {
                ty: u16::from_ne_bytes([buf[off + 4], buf[off + 5]]),
                flags: u16::from_ne_bytes([buf[off + 6], buf[off + 7]]),
                seq: u32::from_ne_bytes([buf[off + 8], buf[off + 9], buf[off + 10], buf[off + 11]]),
                payload: buf[off + 16..off + len].to_vec(),
            });
            off += len.next_multiple_of(4);
        }
    }
}

/// The errno of an NLMSG_ERROR reply (0 = acknowledgement).
fn error_code(payload: &[u8]) -> i32 {
    payload
        .get(0..4)
        .map(|b| i32::from_ne_bytes([b[0], b[1], b[2], b[3]]))
        .unwrap_or(0)
}

/// The extended ack's message: the attributes follow the error code and, with
/// NETLINK_CAP_ACK, the refused message's bare header.
fn ext_ack_message(reply: &Reply) -> Option<String> {
    if reply.flags & NLM_F_ACK_TLVS == 0 {
        return None;
    }
    let mut off = 4 + 16;
    while off + 4 <= reply.payload.len() {
        let len = usize::from(u16::from_ne_bytes([
            reply.payload[off],
            reply.payload[off + 1],
        ]));
        let ty = u16::from_ne_bytes([reply.payload[off + 2], reply.payload[off + 3]]) & 0x3fff;
        if len < 4 || off + len > reply.payload.len() {
            return None;
        }
        if ty == NLMSGERR_ATTR_MSG {
            let text = &reply.payload[off + 4..off + len];
            let text = text.split(|b| *b == 0).next().unwrap_or_default();
            return Some(String::from_utf8_lossy(text).into_owned());
        }
        off += len.next_multiple_of(4);
    }
    None
}

/// Reads what is queued before an exchange. A reply dropped for lack of room belongs to
/// an earlier exchange, which already failed.
fn drain_stale(fd: RawFd) -> io::Result<()> {
    match drain(fd) {
        Ok(_) => Ok(()),
        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => drain(fd).map(|_| ()),
        Err(e) => Err(e),
    }
}

/// Sends the batch and reads the kernel's verdict; returns the time inside sendmsg.
fn send_batch(fd: RawFd, batch: &encode::Batch) -> Result<Duration, NetlinkError> {
    drain_stale(fd)?;
    let start = Instant::now();
    send(fd, &batch.bytes)?;
    let kernel = start.elapsed();
    let replies = match drain(fd) {
        Ok(r) => r,
        Err(e) if e.raw_os_error() == Some(libc::ENOBUFS) => return Err(NetlinkError::Overflowed),
        Err(e) => return Err(e.into()),
    };
    let mut acked = false;
    for r in &replies {
        if r.ty != NLMSG_ERROR {
            continue;
        }
        let code = error_code(&r.payload);
        if code == 0 {
            acked |= r.seq == batch.last_seq;
            continue;
        }
        let command = batch
            .commands
            .iter()
            .rev()
            .find(|(seq, _)| *seq <= r.seq)
            .map(|(seq, text)| {
                let text = text.trim_end();
                if *seq == r.seq {
                    format!("`{text}`")
                } else {
                    format!("message {} (after `{text}`)", r.seq)
                }
            })
            .unwrap_or_else(|| "the transaction".to_string());
        return Err(NetlinkError::Refused {
            command,
            error: io::Error::from_raw_os_error(-code),
            detail: ext_ack_message(r),
        });
    }
    if !acked {
        return Err(NetlinkError::NotAcknowledged {
            bytes: batch.bytes.len(),
        });
    }
    Ok(kernel)
}

fn get_table(fd: RawFd, family: Family) -> Result<bool, NetlinkError> {
    drain_stale(fd)?;
    const SEQ: u32 = 1;
    let mut buf = Buf::default();
    let m = buf.begin(
        (10 << 8) | NFT_MSG_GETTABLE,
        NLM_F_REQUEST | NLM_F_ACK,
        SEQ,
        encode::nfproto(family),
        0,
    );
    buf.str(1, TABLE); // NFTA_TABLE_NAME
    buf.end(m);
    send(fd, &buf.bytes)?;
    for r in drain(fd)? {
        if r.ty == NLMSG_ERROR && r.seq == SEQ {
            return match error_code(&r.payload) {
                0 => Ok(true),
                e if e == -libc::ENOENT => Ok(false),
                e => Err(NetlinkError::Refused {
                    command: format!("get table {} {TABLE}", family.nft()),
                    error: io::Error::from_raw_os_error(-e),
                    detail: ext_ack_message(&r),
                }),
            };
        }
    }
    Err(NetlinkError::NotAcknowledged {
        bytes: buf.bytes.len(),
    })
}
