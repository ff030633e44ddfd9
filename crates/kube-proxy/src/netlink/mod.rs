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
use std::sync::Arc;

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
    #[error("nftables refused {command}: {error}")]
    Refused { command: String, error: io::Error },
    #[error("nftables transaction of {bytes} bytes was not acknowledged")]
    NotAcknowledged { bytes: usize },
    #[error("netlink worker: {0}")]
    Join(String),
}

const NLMSG_ERROR: u16 = 2;
const NLM_F_ACK: u16 = 0x4;
const NETLINK_NETFILTER: i32 = 12;

/// A NETLINK_NETFILTER socket in the network namespace the proxier programs.
#[derive(Clone, Debug)]
pub struct Netlink {
    fd: Arc<OwnedFd>,
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
        Ok(Netlink { fd: Arc::new(fd) })
    }

    /// Applies `ops` to the `kube-proxy` table of `family` as one transaction: all of
    /// it or none of it. Returns the batch size in bytes.
    pub async fn apply(&self, family: Family, ops: &[Op<'_>]) -> Result<usize, NetlinkError> {
        if ops.is_empty() {
            return Ok(0);
        }
        let batch = encode::encode(family, ops)?;
        let fd = self.fd.clone();
        let n = batch.bytes.len();
        tokio::task::spawn_blocking(move || send_batch(fd.as_raw_fd(), &batch))
            .await
            .map_err(|e| NetlinkError::Join(e.to_string()))??;
        Ok(n)
    }

    /// Whether the `kube-proxy` table of `family` exists (one GETTABLE request).
    pub async fn table_present(&self, family: Family) -> Result<bool, NetlinkError> {
        let fd = self.fd.clone();
        tokio::task::spawn_blocking(move || get_table(fd.as_raw_fd(), family))
            .await
            .map_err(|e| NetlinkError::Join(e.to_string()))?
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
    // Room for many error messages from a refused batch.
    set_buffer(fd.as_raw_fd(), libc::SO_RCVBUFFORCE, 4 << 20);
    Ok(fd)
}

fn set_buffer(fd: RawFd, opt: i32, size: usize) {
    let v = i32::try_from(size).unwrap_or(i32::MAX);
    // SAFETY: setsockopt with a valid int. Failure leaves the default size, which only
    // limits how large a batch can be (reported by sendto).
    unsafe {
        libc::setsockopt(
            fd,
            libc::SOL_SOCKET,
            opt,
            (&v as *const i32).cast(),
            std::mem::size_of::<i32>() as u32,
        );
    }
}

fn send(fd: RawFd, bytes: &[u8]) -> io::Result<()> {
    // SAFETY: a zeroed sockaddr_nl (pid 0) addresses the kernel.
    let mut addr: libc::sockaddr_nl = unsafe { std::mem::zeroed() };
    addr.nl_family = libc::AF_NETLINK as u16;
    // A whole batch must arrive as one message; the kernel caps it at the send buffer.
    set_buffer(fd, libc::SO_SNDBUFFORCE, bytes.len() + 4096);
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

/// One reply: (type, flags, seq, payload).
struct Reply {
    ty: u16,
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

fn send_batch(fd: RawFd, batch: &encode::Batch) -> Result<(), NetlinkError> {
    drain(fd)?; // anything left from an earlier exchange
    send(fd, &batch.bytes)?;
    let replies = drain(fd)?;
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
        });
    }
    if !acked {
        return Err(NetlinkError::NotAcknowledged {
            bytes: batch.bytes.len(),
        });
    }
    Ok(())
}

fn get_table(fd: RawFd, family: Family) -> Result<bool, NetlinkError> {
    drain(fd)?;
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
                }),
            };
        }
    }
    Err(NetlinkError::NotAcknowledged {
        bytes: buf.bytes.len(),
    })
}
