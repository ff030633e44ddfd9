//! Answers leave from the address the query was sent to. A socket bound to the wildcard
//! address on a host with several addresses (every node: its own address plus the CNI
//! bridge's) would otherwise answer from the outgoing interface's primary address: a pod
//! asking 10.96.0.10 (DNAT to the node IP) would get its answer from the bridge address,
//! which conntrack cannot map back, and the resolver drops it. IP_PKTINFO /
//! IPV6_RECVPKTINFO tell each query's destination; the reply names it as its source, as
//! CoreDNS (miekg/dns) does.

use std::io;
use std::mem::{size_of, zeroed};
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr, SocketAddr, SocketAddrV4, SocketAddrV6};
use std::os::fd::AsRawFd;

use std::net::UdpSocket;

/// Asks the kernel for each datagram's destination address.
pub fn enable(socket: &UdpSocket) -> io::Result<()> {
    let fd = socket.as_raw_fd();
    let on: libc::c_int = 1;
    let (level, name) = match socket.local_addr()? {
        SocketAddr::V4(_) => (libc::IPPROTO_IP, libc::IP_PKTINFO),
        SocketAddr::V6(_) => (libc::IPPROTO_IPV6, libc::IPV6_RECVPKTINFO),
    };
    // SAFETY: a valid fd and a c_int option value of the stated size.
    let rc = unsafe {
        libc::setsockopt(
            fd,
            level,
            name,
            &on as *const libc::c_int as *const libc::c_void,
            size_of::<libc::c_int>() as libc::socklen_t,
        )
    };
    if rc != 0 {
        return Err(io::Error::last_os_error());
    }
    Ok(())
}

pub(super) fn sockaddr_to_std(storage: &libc::sockaddr_storage) -> Option<SocketAddr> {
    match libc::c_int::from(storage.ss_family) {
        libc::AF_INET => {
            // SAFETY: the family says this storage holds a sockaddr_in.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in) };
            Some(SocketAddr::V4(SocketAddrV4::new(
                Ipv4Addr::from(u32::from_be(a.sin_addr.s_addr)),
                u16::from_be(a.sin_port),
            )))
        }
        libc::AF_INET6 => {
            // SAFETY: the family says this storage holds a sockaddr_in6.
            let a = unsafe { &*(storage as *const _ as *const libc::sockaddr_in6) };
            Some(SocketAddr::V6(SocketAddrV6::new(
                Ipv6Addr::from(a.sin6_addr.s6_addr),
                u16::from_be(a.sin6_port),
                a.sin6_flowinfo,
                a.sin6_scope_id,
            )))
        }
        _ => None,
    }
}

/// Control-message space, 8-byte aligned.
pub(super) type CmsgBuf = [u64; 16];

/// Sends `buf` to `dst`, from `local` when given (the query's destination), without
/// blocking: `WouldBlock` when the socket's send buffer is full.
pub fn send_now(
    socket: &UdpSocket,
    buf: &[u8],
    dst: SocketAddr,
    local: Option<IpAddr>,
) -> io::Result<usize> {
    let fd = socket.as_raw_fd();
    // SAFETY: every pointer in msghdr points at a live local of the stated size; the one
    // control message fits the aligned buffer.
    unsafe {
        let (mut storage, namelen) = write_sockaddr(dst);
        let mut iov = libc::iovec {
            iov_base: buf.as_ptr() as *mut libc::c_void,
            iov_len: buf.len(),
        };
        let mut control: CmsgBuf = [0; 16];
        let mut msg: libc::msghdr = zeroed();
        msg.msg_name = &mut storage as *mut _ as *mut libc::c_void;
        msg.msg_namelen = namelen as libc::socklen_t;
        msg.msg_iov = &mut iov;
        msg.msg_iovlen = 1;
        if let Some(local) = local {
            msg.msg_control = control.as_mut_ptr() as *mut libc::c_void;
            write_pktinfo(&mut msg, local);
        }
        let n = libc::sendmsg(fd, &msg, libc::MSG_DONTWAIT);
        if n < 0 {
            return Err(io::Error::last_os_error());
        }
        Ok(n as usize)
    }
}

/// [`send_now`], waiting (a little, a few times) while the send buffer is full.
pub async fn send(
    socket: &UdpSocket,
    buf: &[u8],
    dst: SocketAddr,
    local: Option<IpAddr>,
) -> io::Result<usize> {
    let mut tries = 0;
    loop {
        match send_now(socket, buf, dst, local) {
            Err(e) if e.kind() == io::ErrorKind::WouldBlock && tries < 50 => {
                tries += 1;
                tokio::time::sleep(std::time::Duration::from_millis(2)).await;
            }
            result => return result,
        }
    }
}

/// The destination address of a received datagram, from its IP_PKTINFO / IPV6_PKTINFO
/// control message.
///
/// # Safety
/// `msg` must be a msghdr filled by recvmsg/recvmmsg whose control buffer is still alive.
pub(super) unsafe fn read_pktinfo(msg: &libc::msghdr) -> Option<IpAddr> {
    let mut local = None;
    // SAFETY: the caller's msghdr is valid; the CMSG_* macros keep the walk inside it.
    unsafe {
        let mut cmsg = libc::CMSG_FIRSTHDR(msg);
        while !cmsg.is_null() {
            let (level, kind) = ((*cmsg).cmsg_level, (*cmsg).cmsg_type);
            if level == libc::IPPROTO_IP && kind == libc::IP_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in_pktinfo);
                local = Some(IpAddr::V4(Ipv4Addr::from(u32::from_be(
                    info.ipi_addr.s_addr,
                ))));
            } else if level == libc::IPPROTO_IPV6 && kind == libc::IPV6_PKTINFO {
                let info =
                    std::ptr::read_unaligned(libc::CMSG_DATA(cmsg) as *const libc::in6_pktinfo);
                local = Some(IpAddr::V6(Ipv6Addr::from(info.ipi6_addr.s6_addr)));
            }
            cmsg = libc::CMSG_NXTHDR(msg, cmsg);
        }
    }
    local
}

/// `dst` as a sockaddr and its length.
pub(super) fn write_sockaddr(dst: SocketAddr) -> (libc::sockaddr_storage, libc::socklen_t) {
    // SAFETY: an all-zero sockaddr_storage is valid; the casts below view it as the
    // (smaller) sockaddr_in / sockaddr_in6 it is large and aligned enough to hold.
    unsafe {
        let mut storage: libc::sockaddr_storage = zeroed();
        let len = match dst {
            SocketAddr::V4(a) => {
                let sin = &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in);
                sin.sin_family = libc::AF_INET as libc::sa_family_t;
                sin.sin_port = a.port().to_be();
                sin.sin_addr.s_addr = u32::from(*a.ip()).to_be();
                size_of::<libc::sockaddr_in>()
            }
            SocketAddr::V6(a) => {
                let sin6 = &mut *(&mut storage as *mut _ as *mut libc::sockaddr_in6);
                sin6.sin6_family = libc::AF_INET6 as libc::sa_family_t;
                sin6.sin6_port = a.port().to_be();
                sin6.sin6_addr.s6_addr = a.ip().octets();
                sin6.sin6_scope_id = a.scope_id();
                size_of::<libc::sockaddr_in6>()
            }
        };
        (storage, len as libc::socklen_t)
    }
}

/// Sets `msg`'s one control message to "send from `local`".
///
/// # Safety
/// `msg.msg_control` must point at a live, 8-byte aligned buffer of at least
/// `size_of::<CmsgBuf>()` bytes.
pub(super) unsafe fn write_pktinfo(msg: &mut libc::msghdr, local: IpAddr) {
    // SAFETY: the caller's control buffer holds one in6_pktinfo message with room to spare.
    unsafe {
        match local {
            IpAddr::V4(ip) => {
                let len = size_of::<libc::in_pktinfo>() as u32;
                msg.msg_controllen = libc::CMSG_SPACE(len) as _;
                let cmsg = libc::CMSG_FIRSTHDR(msg);
                (*cmsg).cmsg_level = libc::IPPROTO_IP;
                (*cmsg).cmsg_type = libc::IP_PKTINFO;
                (*cmsg).cmsg_len = libc::CMSG_LEN(len) as _;
                let info = libc::CMSG_DATA(cmsg) as *mut libc::in_pktinfo;
                let mut pi: libc::in_pktinfo = zeroed();
                pi.ipi_spec_dst.s_addr = u32::from(ip).to_be();
                std::ptr::write_unaligned(info, pi);
            }
            IpAddr::V6(ip) => {
                let len = size_of::<libc::in6_pktinfo>() as u32;
                msg.msg_controllen = libc::CMSG_SPACE(len) as _;
                let cmsg = libc::CMSG_FIRSTHDR(msg);
                (*cmsg).cmsg_level = libc::IPPROTO_IPV6;
                (*cmsg).cmsg_type = libc::IPV6_PKTINFO;
                (*cmsg).cmsg_len = libc::CMSG_LEN(len) as _;
                let info = libc::CMSG_DATA(cmsg) as *mut libc::in6_pktinfo;
                let mut pi: libc::in6_pktinfo = zeroed();
                pi.ipi6_addr.s6_addr = ip.octets();
                std::ptr::write_unaligned(info, pi);
            }
        }
    }
}
