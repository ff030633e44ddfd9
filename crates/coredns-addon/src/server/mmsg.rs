//! Many datagrams per system call: recvmmsg(2) takes every query waiting on the socket
//! (up to [`BATCH`]) at once and sendmmsg(2) sends their answers at once, as NSD and
//! Unbound do. Per query, the system-call entry and the readiness wake-up were the larger
//! part of the cost; batching leaves only the network stack's own work per datagram.
//!
//! Both keep the `pktinfo` behaviour: on a wildcard socket each query's destination is
//! read from its control message and the answer is sent from it.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, SocketAddr};
use std::os::fd::{AsRawFd, RawFd};

use std::net::UdpSocket;

use super::pktinfo::{read_pktinfo, sockaddr_to_std, write_pktinfo, write_sockaddr, CmsgBuf};

/// Datagrams per system call.
pub const BATCH: usize = 32;

/// The largest query read; longer datagrams are cut (and then fail to parse: FORMERR).
pub const RECV_BUF: usize = 4096;

/// One received datagram.
#[derive(Debug, Clone, Copy)]
pub struct Received {
    pub len: usize,
    pub src: SocketAddr,
    /// The address it was sent to (wildcard sockets only).
    pub local: Option<IpAddr>,
}

/// Reusable receive buffers for [`BATCH`] datagrams.
pub struct RecvBatch {
    bufs: Vec<u8>,
    addrs: Vec<libc::sockaddr_storage>,
    controls: Vec<CmsgBuf>,
    received: Vec<Received>,
}

impl Default for RecvBatch {
    fn default() -> Self {
        RecvBatch::new()
    }
}

impl RecvBatch {
    pub fn new() -> RecvBatch {
        RecvBatch {
            bufs: vec![0; BATCH * RECV_BUF],
            // SAFETY: sockaddr_storage is plain data; all-zero is a valid value.
            addrs: vec![unsafe { zeroed() }; BATCH],
            controls: vec![[0; 16]; BATCH],
            received: Vec::with_capacity(BATCH),
        }
    }

    /// Waits (on a blocking socket; up to its read timeout) for at least one datagram and
    /// takes every one waiting, up to [`BATCH`]; with `pktinfo`, also each one's
    /// destination address. Returns how many.
    pub fn recv(&mut self, socket: &UdpSocket, pktinfo: bool) -> io::Result<usize> {
        let fd = socket.as_raw_fd();
        let RecvBatch {
            bufs,
            addrs,
            controls,
            received,
        } = self;
        received.clear();
        // SAFETY: every msghdr points at live, distinct parts of `bufs`, `addrs`
        // and `controls` (each of BATCH entries) that outlive the call.
        unsafe {
            let mut iovs: [libc::iovec; BATCH] = zeroed();
            let mut msgs: [libc::mmsghdr; BATCH] = zeroed();
            for i in 0..BATCH {
                iovs[i] = libc::iovec {
                    iov_base: bufs.as_mut_ptr().add(i * RECV_BUF) as *mut libc::c_void,
                    iov_len: RECV_BUF,
                };
                let hdr = &mut msgs[i].msg_hdr;
                hdr.msg_name = &mut addrs[i] as *mut _ as *mut libc::c_void;
                hdr.msg_namelen = size_of::<libc::sockaddr_storage>() as libc::socklen_t;
                hdr.msg_iov = &mut iovs[i];
                hdr.msg_iovlen = 1;
                if pktinfo {
                    hdr.msg_control = controls[i].as_mut_ptr() as *mut libc::c_void;
                    hdr.msg_controllen = size_of::<CmsgBuf>() as _;
                }
            }
            let n = libc::recvmmsg(
                fd,
                msgs.as_mut_ptr(),
                BATCH as libc::c_uint,
                libc::MSG_WAITFORONE,
                std::ptr::null_mut(),
            );
            if n < 0 {
                return Err(io::Error::last_os_error());
            }
            for msg in msgs.iter().take(n as usize) {
                let hdr = &msg.msg_hdr;
                let Some(src) = sockaddr_to_std(&*(hdr.msg_name as *const _)) else {
                    continue;
                };
                let local = if pktinfo { read_pktinfo(hdr) } else { None };
                received.push(Received {
                    len: (msg.msg_len as usize).min(RECV_BUF),
                    src,
                    local,
                });
            }
        }
        Ok(self.received.len())
    }

    /// The `i`-th datagram of the last [`RecvBatch::recv`].
    pub fn get(&self, i: usize) -> Option<(&[u8], Received)> {
        let r = *self.received.get(i)?;
        let start = i * RECV_BUF;
        Some((&self.bufs[start..start + r.len], r))
    }
}

/// Answers waiting to be sent together.
#[derive(Default)]
pub struct SendBatch {
    bufs: Vec<Vec<u8>>,
    dsts: Vec<(SocketAddr, Option<IpAddr>)>,
}

impl SendBatch {
    pub fn new() -> SendBatch {
        SendBatch::default()
    }

    pub fn is_empty(&self) -> bool {
        self.dsts.is_empty()
    }

    /// An empty buffer for the next answer, to `dst` from `local` (when given).
    pub fn push(&mut self, dst: SocketAddr, local: Option<IpAddr>) -> &mut Vec<u8> {
        let i = self.dsts.len();
        self.dsts.push((dst, local));
        if self.bufs.len() <= i {
            self.bufs.push(Vec::with_capacity(512));
        }
        let buf = &mut self.bufs[i];
        buf.clear();
        buf
    }

    /// Sends every queued answer ([`BATCH`] per system call; on a blocking socket, waiting
    /// while its send buffer is full) and empties the queue. An answer the kernel refuses
    /// is logged and skipped; the others still go.
    pub fn flush(&mut self, socket: &UdpSocket) {
        let fd = socket.as_raw_fd();
        let mut sent = 0;
        while sent < self.dsts.len() {
            let bufs = &self.bufs[sent..self.dsts.len()];
            let dsts = &self.dsts[sent..];
            let result = send_some(fd, bufs, dsts);
            match result {
                Ok(n) if n > 0 => sent += n,
                Ok(_) => sent += 1,
                Err(e) if e.kind() == io::ErrorKind::Interrupted => {}
                Err(e) => {
                    // The first answer of this call failed (e.g. no route to the client):
                    // drop it, send the rest.
                    tracing::debug!(dst = %self.dsts[sent].0, error = %e, "sending an answer failed");
                    sent += 1;
                }
            }
        }
        self.dsts.clear();
    }
}

/// One sendmmsg(2) of the first [`BATCH`] (at most) of `bufs` to `dsts`: how many went.
fn send_some(
    fd: RawFd,
    bufs: &[Vec<u8>],
    dsts: &[(SocketAddr, Option<IpAddr>)],
) -> io::Result<usize> {
    let count = dsts.len().min(bufs.len()).min(BATCH);
    // SAFETY: every msghdr points at locals of this function or at `bufs`,
    // all alive during the call; sendmmsg only reads them.
    unsafe {
        let mut names: [libc::sockaddr_storage; BATCH] = zeroed();
        let mut controls: [CmsgBuf; BATCH] = zeroed();
        let mut iovs: [libc::iovec; BATCH] = zeroed();
        let mut msgs: [libc::mmsghdr; BATCH] = zeroed();
        for i in 0..count {
            let (dst, local) = dsts[i];
            let (name, len) = write_sockaddr(dst);
            names[i] = name;
            iovs[i] = libc::iovec {
                iov_base: bufs[i].as_ptr() as *mut libc::c_void,
                iov_len: bufs[i].len(),
            };
            let hdr = &mut msgs[i].msg_hdr;
            hdr.msg_name = &mut names[i] as *mut _ as *mut libc::c_void;
            hdr.msg_namelen = len;
            hdr.msg_iov = &mut iovs[i];
            hdr.msg_iovlen = 1;
            if let Some(local) = local {
                hdr.msg_control = controls[i].as_mut_ptr() as *mut libc::c_void;
                write_pktinfo(hdr, local);
            }
        }
        let n = libc::sendmmsg(fd, msgs.as_mut_ptr(), count as libc::c_uint, 0);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}
