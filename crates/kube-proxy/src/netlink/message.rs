//! Netlink message and attribute encoding (nlmsghdr + nfgenmsg + TLV attributes, each
//! padded to 4 bytes), appended to one buffer that becomes the batch.

/// NLMSG_HDRLEN + sizeof(nfgenmsg).
const HEADER_LEN: usize = 16 + 4;
const NLA_F_NESTED: u16 = 0x8000;

#[derive(Debug, thiserror::Error)]
#[error("netlink attribute {attr} too large ({len} bytes, at most 65535)")]
pub struct TooLarge {
    pub attr: u16,
    pub len: usize,
}

/// A buffer of netlink messages.
#[derive(Default)]
pub struct Buf {
    pub bytes: Vec<u8>,
}

/// A message being written: its start offset.
pub struct Msg(usize);
/// A nested attribute being written: its start offset and type.
pub struct Nest(usize, u16);

impl Buf {
    pub fn with_capacity(n: usize) -> Buf {
        Buf {
            bytes: Vec::with_capacity(n),
        }
    }

    /// Starts a message: header with length patched by [`Buf::end`], then nfgenmsg.
    pub fn begin(&mut self, ty: u16, flags: u16, seq: u32, family: u8, res_id: u16) -> Msg {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.extend_from_slice(&ty.to_ne_bytes());
        self.bytes.extend_from_slice(&flags.to_ne_bytes());
        self.bytes.extend_from_slice(&seq.to_ne_bytes());
        self.bytes.extend_from_slice(&0u32.to_ne_bytes());
        self.bytes.push(family);
        self.bytes.push(0); // NFNETLINK_V0
        self.bytes.extend_from_slice(&res_id.to_be_bytes());
        debug_assert_eq!(self.bytes.len() - start, HEADER_LEN);
        Msg(start)
    }

    pub fn end(&mut self, msg: Msg) {
        let len = (self.bytes.len() - msg.0) as u32;
        self.bytes[msg.0..msg.0 + 4].copy_from_slice(&len.to_ne_bytes());
    }

    pub fn attr(&mut self, ty: u16, data: &[u8]) {
        let len = 4 + data.len();
        // Callers keep plain attributes small (names, keys, comments).
        let len16 = u16::try_from(len).unwrap_or(u16::MAX);
        self.bytes.extend_from_slice(&len16.to_ne_bytes());
        self.bytes.extend_from_slice(&ty.to_ne_bytes());
        self.bytes.extend_from_slice(data);
        self.pad();
    }

    /// A NUL-terminated string.
    pub fn str(&mut self, ty: u16, s: &str) {
        let len = 4 + s.len() + 1;
        let len16 = u16::try_from(len).unwrap_or(u16::MAX);
        self.bytes.extend_from_slice(&len16.to_ne_bytes());
        self.bytes.extend_from_slice(&ty.to_ne_bytes());
        self.bytes.extend_from_slice(s.as_bytes());
        self.bytes.push(0);
        self.pad();
    }

    pub fn u32_be(&mut self, ty: u16, v: u32) {
        self.attr(ty, &v.to_be_bytes());
    }

    pub fn u64_be(&mut self, ty: u16, v: u64) {
        self.attr(ty, &v.to_be_bytes());
    }

    pub fn nest(&mut self, ty: u16) -> Nest {
        let start = self.bytes.len();
        self.bytes.extend_from_slice(&0u16.to_ne_bytes());
        self.bytes
            .extend_from_slice(&(ty | NLA_F_NESTED).to_ne_bytes());
        Nest(start, ty)
    }

    pub fn end_nest(&mut self, nest: Nest) -> Result<(), TooLarge> {
        let len = self.bytes.len() - nest.0;
        let len16 = u16::try_from(len).map_err(|_| TooLarge { attr: nest.1, len })?;
        self.bytes[nest.0..nest.0 + 2].copy_from_slice(&len16.to_ne_bytes());
        Ok(())
    }

    /// Size of what was written since `nest` began.
    pub fn nest_len(&self, nest: &Nest) -> usize {
        self.bytes.len() - nest.0
    }

    fn pad(&mut self) {
        while !self.bytes.len().is_multiple_of(4) {
            self.bytes.push(0);
        }
    }
}

/// libnftnl's "udata" TLVs (u8 type, u8 length), which `nft` stores in tables, chains,
/// rules, sets and elements for comments and key byte order.
#[derive(Default)]
pub struct Udata(pub Vec<u8>);

impl Udata {
    pub fn u32(mut self, ty: u8, v: u32) -> Udata {
        self.0.push(ty);
        self.0.push(4);
        self.0.extend_from_slice(&v.to_ne_bytes());
        self
    }

    pub fn raw(mut self, bytes: &[u8]) -> Udata {
        self.0.extend_from_slice(bytes);
        self
    }

    /// A NUL-terminated string, cut to the 128 bytes `nft` allows for a comment (the
    /// kernel holds at most 256 bytes of userdata per object).
    pub fn strz(mut self, ty: u8, s: &str) -> Udata {
        let mut end = s.len().min(128);
        while !s.is_char_boundary(end) {
            end -= 1;
        }
        self.0.push(ty);
        self.0.push((end + 1) as u8);
        self.0.extend_from_slice(&s.as_bytes()[..end]);
        self.0.push(0);
        self
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn attributes_are_padded_and_messages_sized() {
        let mut b = Buf::default();
        let m = b.begin(0x0a00, 1, 7, 2, 0);
        b.str(1, "kube-proxy");
        let n = b.nest(4);
        b.u32_be(1, 3);
        b.end_nest(n).unwrap();
        b.end(m);
        // 20 header + 4+11 (+1 pad) + 4 + 8.
        assert_eq!(b.bytes.len(), 20 + 16 + 12);
        assert_eq!(&b.bytes[0..4], &(48u32).to_ne_bytes());
        assert_eq!(&b.bytes[20..22], &(15u16).to_ne_bytes());
        assert_eq!(&b.bytes[38..40], &(4u16 | 0x8000).to_ne_bytes());
        assert_eq!(&b.bytes[44..48], &[0, 0, 0, 3]);
    }

    #[test]
    fn udata_comment_is_nul_terminated() {
        let u = Udata::default().strz(0, "ab");
        assert_eq!(u.0, vec![0, 3, b'a', b'b', 0]);
    }
}
