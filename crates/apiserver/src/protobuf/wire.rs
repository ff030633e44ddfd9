//! The protobuf wire format, read-only: varints, fixed 32/64-bit values, length-delimited
//! payloads, and skipping what we do not know. Every read is bounds-checked against the
//! remaining input, so a hostile length can never make us allocate or index past the body.

/// Wire types (the low 3 bits of a tag).
pub const VARINT: u8 = 0;
pub const FIXED64: u8 = 1;
pub const LEN: u8 = 2;
pub const START_GROUP: u8 = 3;
pub const END_GROUP: u8 = 4;
pub const FIXED32: u8 = 5;

/// How deeply (deprecated) groups may nest while being skipped.
const MAX_GROUP_DEPTH: usize = 32;

/// What went wrong at the wire level; the decoder adds the field path.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum WireError {
    Truncated,
    VarintOverflow,
    BadTag(u64),
    BadWireType(u8),
    UnbalancedGroup,
}

impl std::fmt::Display for WireError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            WireError::Truncated => {
                f.write_str("unexpected end of data (truncated message or length too large)")
            }
            WireError::VarintOverflow => f.write_str("varint longer than 10 bytes"),
            WireError::BadTag(t) => write!(f, "illegal field tag {t}"),
            WireError::BadWireType(w) => write!(f, "illegal wire type {w}"),
            WireError::UnbalancedGroup => f.write_str("unbalanced or too deeply nested group"),
        }
    }
}

/// One field value as it appears on the wire.
#[derive(Debug, Clone, Copy, PartialEq)]
pub enum Value<'a> {
    Varint(u64),
    Fixed64(u64),
    Fixed32(u32),
    Len(&'a [u8]),
    /// A whole (skipped) group; never meaningful for Kubernetes types.
    Group,
}

impl Value<'_> {
    pub fn wire_type(&self) -> u8 {
        match self {
            Value::Varint(_) => VARINT,
            Value::Fixed64(_) => FIXED64,
            Value::Fixed32(_) => FIXED32,
            Value::Len(_) => LEN,
            Value::Group => START_GROUP,
        }
    }
}

/// A cursor over one message's bytes.
pub struct Reader<'a> {
    buf: &'a [u8],
}

impl<'a> Reader<'a> {
    pub fn new(buf: &'a [u8]) -> Self {
        Reader { buf }
    }

    pub fn is_empty(&self) -> bool {
        self.buf.is_empty()
    }

    pub fn varint(&mut self) -> Result<u64, WireError> {
        let mut v: u64 = 0;
        for i in 0..10 {
            let (&b, rest) = self.buf.split_first().ok_or(WireError::Truncated)?;
            self.buf = rest;
            // The 10th byte may only carry the top bit of a u64; more is overflow (as in Go).
            if i == 9 && b > 1 {
                return Err(WireError::VarintOverflow);
            }
            v |= u64::from(b & 0x7f) << (7 * i);
            if b < 0x80 {
                return Ok(v);
            }
        }
        Err(WireError::VarintOverflow)
    }

    fn take(&mut self, n: usize) -> Result<&'a [u8], WireError> {
        if n > self.buf.len() {
            return Err(WireError::Truncated);
        }
        let (head, rest) = self.buf.split_at(n);
        self.buf = rest;
        Ok(head)
    }

    pub fn fixed64(&mut self) -> Result<u64, WireError> {
        let b = self.take(8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(u64::from_le_bytes(a))
    }

    pub fn fixed32(&mut self) -> Result<u32, WireError> {
        let b = self.take(4)?;
        let mut a = [0u8; 4];
        a.copy_from_slice(b);
        Ok(u32::from_le_bytes(a))
    }

    pub fn len_delimited(&mut self) -> Result<&'a [u8], WireError> {
        let n = self.varint()?;
        // A length beyond the remaining input is truncation, whatever its size.
        let n = usize::try_from(n).map_err(|_| WireError::Truncated)?;
        self.take(n)
    }

    /// The next (field number, value), or None at the end of the message.
    pub fn next_field(&mut self) -> Result<Option<(u32, Value<'a>)>, WireError> {
        if self.buf.is_empty() {
            return Ok(None);
        }
        let (num, wt) = self.tag()?;
        let v = match wt {
            VARINT => Value::Varint(self.varint()?),
            FIXED64 => Value::Fixed64(self.fixed64()?),
            LEN => Value::Len(self.len_delimited()?),
            FIXED32 => Value::Fixed32(self.fixed32()?),
            START_GROUP => {
                self.skip_group(num, 0)?;
                Value::Group
            }
            // A stray END_GROUP, or wire types 6 and 7, which do not exist.
            END_GROUP => return Err(WireError::UnbalancedGroup),
            other => return Err(WireError::BadWireType(other)),
        };
        Ok(Some((num, v)))
    }

    fn tag(&mut self) -> Result<(u32, u8), WireError> {
        let t = self.varint()?;
        let num = t >> 3;
        // Field numbers are 1..2^29-1.
        if num == 0 || num > 0x1fff_ffff {
            return Err(WireError::BadTag(t));
        }
        // Truncation is intended: the low 3 bits are the wire type.
        Ok((num as u32, (t & 7) as u8))
    }

    /// Skips the body of a group up to its END_GROUP with the same number.
    fn skip_group(&mut self, num: u32, depth: usize) -> Result<(), WireError> {
        if depth >= MAX_GROUP_DEPTH {
            return Err(WireError::UnbalancedGroup);
        }
        loop {
            if self.buf.is_empty() {
                return Err(WireError::Truncated);
            }
            let (n, wt) = self.tag()?;
            match wt {
                VARINT => {
                    self.varint()?;
                }
                FIXED64 => {
                    self.take(8)?;
                }
                LEN => {
                    self.len_delimited()?;
                }
                FIXED32 => {
                    self.take(4)?;
                }
                START_GROUP => self.skip_group(n, depth + 1)?,
                END_GROUP if n == num => return Ok(()),
                END_GROUP => return Err(WireError::UnbalancedGroup),
                other => return Err(WireError::BadWireType(other)),
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn varints() {
        assert_eq!(Reader::new(&[0x00]).varint(), Ok(0));
        assert_eq!(Reader::new(&[0x96, 0x01]).varint(), Ok(150));
        let max = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01];
        assert_eq!(Reader::new(&max).varint(), Ok(u64::MAX));
        let over = [0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x02];
        assert_eq!(Reader::new(&over).varint(), Err(WireError::VarintOverflow));
        assert_eq!(Reader::new(&[0x80]).varint(), Err(WireError::Truncated));
    }

    #[test]
    fn fields_and_groups() {
        // 1: varint 5; 2: "ab"; 3: group { 1: varint 1 }; 4: fixed32
        let data = [
            0x08, 0x05, 0x12, 0x02, b'a', b'b', 0x1b, 0x08, 0x01, 0x1c, 0x25, 1, 0, 0, 0,
        ];
        let mut r = Reader::new(&data);
        assert_eq!(r.next_field(), Ok(Some((1, Value::Varint(5)))));
        assert_eq!(r.next_field(), Ok(Some((2, Value::Len(b"ab")))));
        assert_eq!(r.next_field(), Ok(Some((3, Value::Group))));
        assert_eq!(r.next_field(), Ok(Some((4, Value::Fixed32(1)))));
        assert_eq!(r.next_field(), Ok(None));
        // Length past the end.
        assert_eq!(
            Reader::new(&[0x12, 0x05, b'a']).next_field(),
            Err(WireError::Truncated)
        );
        // Huge length.
        let huge = [
            0x12, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ];
        assert_eq!(Reader::new(&huge).next_field(), Err(WireError::Truncated));
        // Field number 0, wire type 7, stray end group.
        assert!(Reader::new(&[0x00, 0x00]).next_field().is_err());
        assert_eq!(
            Reader::new(&[0x0f]).next_field(),
            Err(WireError::BadWireType(7))
        );
        assert_eq!(
            Reader::new(&[0x0c]).next_field(),
            Err(WireError::UnbalancedGroup)
        );
    }
}
