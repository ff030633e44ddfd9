//! A minimal SPDY/3.1 framing layer for port-forward (what kubectl's spdystream speaks):
//! frame parsing and encoding, and the zlib header blocks with the SPDY/3 dictionary
//! (one compression context per direction for the whole connection).

use std::sync::OnceLock;

use flate2::{Compress, Compression, Decompress, FlushCompress, FlushDecompress, Status};

pub const VERSION: u16 = 3;
pub const FLAG_FIN: u8 = 0x01;

pub const SYN_STREAM: u16 = 1;
pub const SYN_REPLY: u16 = 2;
pub const RST_STREAM: u16 = 3;
pub const SETTINGS: u16 = 4;
pub const PING: u16 = 6;
pub const GOAWAY: u16 = 7;
pub const HEADERS: u16 = 8;
pub const WINDOW_UPDATE: u16 = 9;

/// RST_STREAM status codes.
pub const RST_PROTOCOL_ERROR: u32 = 1;
pub const RST_CANCEL: u32 = 5;

/// Largest frame body accepted (spdystream's limit is 16 MiB).
pub const MAX_FRAME: usize = 16 << 20;

/// The SPDY/3 header compression dictionary (draft-mbelshe-httpbis-spdy-00 2.6.10.1).
pub fn dictionary() -> &'static [u8] {
    static DICT: OnceLock<Vec<u8>> = OnceLock::new();
    DICT.get_or_init(|| {
        const WORDS: &[&str] = &[
            "options", "head", "post", "put", "delete", "trace", "accept", "accept-charset",
            "accept-encoding", "accept-language", "accept-ranges", "age", "allow",
            "authorization", "cache-control", "connection", "content-base", "content-encoding",
            "content-language", "content-length", "content-location", "content-md5",
            "content-range", "content-type", "date", "etag", "expect", "expires", "from", "host",
            "if-match", "if-modified-since", "if-none-match", "if-range", "if-unmodified-since",
            "last-modified", "location", "max-forwards", "pragma", "proxy-authenticate",
            "proxy-authorization", "range", "referer", "retry-after", "server", "te", "trailer",
            "transfer-encoding", "upgrade", "user-agent", "vary", "via", "warning",
            "www-authenticate", "method", "get", "status", "200 OK", "version", "HTTP/1.1", "url",
            "public", "set-cookie", "keep-alive", "origin",
        ];
        const TAIL: &str = "100101201202205206300302303304305306307402405406407408409410411412413414415416417502504505\
203 Non-Authoritative Information204 No Content301 Moved Permanently400 Bad Request401 Unauthorized\
403 Forbidden404 Not Found500 Internal Server Error501 Not Implemented503 Service Unavailable\
Jan Feb Mar Apr May Jun Jul Aug Sept Oct Nov Dec 00:00:00 Mon, Tue, Wed, Thu, Fri, Sat, Sun, GMT\
chunked,text/html,image/png,image/jpg,image/gif,application/xml,application/xhtml+xml,text/plain,\
text/javascript,publicprivatemax-age=gzip,deflate,sdchcharset=utf-8charset=iso-8859-1,utf-,*,enq=0.";
        let mut d = Vec::with_capacity(1423);
        for w in WORDS {
            d.extend_from_slice(&(w.len() as u32).to_be_bytes());
            d.extend_from_slice(w.as_bytes());
        }
        d.extend_from_slice(TAIL.as_bytes());
        d
    })
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum SpdyError {
    #[error("unsupported SPDY version {0}")]
    Version(u16),
    #[error("frame of {0} bytes is too large")]
    TooLarge(usize),
    #[error("malformed {0} frame")]
    Malformed(&'static str),
    #[error("header block: {0}")]
    Headers(String),
}

/// A frame's 8-byte header: how long its body is.
pub fn body_len(header: &[u8; 8]) -> usize {
    u32::from_be_bytes([0, header[5], header[6], header[7]]) as usize
}

/// One decoded frame (header blocks still compressed).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Frame {
    Data {
        stream: u32,
        fin: bool,
        data: Vec<u8>,
    },
    SynStream {
        stream: u32,
        fin: bool,
        headers: Vec<u8>,
    },
    SynReply {
        stream: u32,
        fin: bool,
        headers: Vec<u8>,
    },
    RstStream {
        stream: u32,
        status: u32,
    },
    Settings,
    Ping {
        id: u32,
    },
    GoAway {
        last_stream: u32,
    },
    Headers {
        stream: u32,
        fin: bool,
        headers: Vec<u8>,
    },
    WindowUpdate {
        stream: u32,
        delta: u32,
    },
    /// A control frame type this server ignores.
    Other(u16),
}

fn u32_at(b: &[u8], i: usize, what: &'static str) -> Result<u32, SpdyError> {
    b.get(i..i + 4)
        .map(|s| u32::from_be_bytes([s[0], s[1], s[2], s[3]]))
        .ok_or(SpdyError::Malformed(what))
}

/// Decodes a frame from its header and body.
pub fn decode(header: &[u8; 8], body: Vec<u8>) -> Result<Frame, SpdyError> {
    let flags = header[4];
    let fin = flags & FLAG_FIN != 0;
    if header[0] & 0x80 == 0 {
        let stream = u32::from_be_bytes([header[0], header[1], header[2], header[3]]) & 0x7fff_ffff;
        return Ok(Frame::Data {
            stream,
            fin,
            data: body,
        });
    }
    let version = u16::from_be_bytes([header[0], header[1]]) & 0x7fff;
    if version != VERSION {
        return Err(SpdyError::Version(version));
    }
    let kind = u16::from_be_bytes([header[2], header[3]]);
    let sid = |what| u32_at(&body, 0, what).map(|v| v & 0x7fff_ffff);
    Ok(match kind {
        SYN_STREAM => {
            if body.len() < 10 {
                return Err(SpdyError::Malformed("SYN_STREAM"));
            }
            Frame::SynStream {
                stream: sid("SYN_STREAM")?,
                fin,
                headers: body[10..].to_vec(),
            }
        }
        SYN_REPLY => Frame::SynReply {
            stream: sid("SYN_REPLY")?,
            fin,
            headers: body.get(4..).unwrap_or_default().to_vec(),
        },
        RST_STREAM => Frame::RstStream {
            stream: sid("RST_STREAM")?,
            status: u32_at(&body, 4, "RST_STREAM")?,
        },
        SETTINGS => Frame::Settings,
        PING => Frame::Ping {
            id: u32_at(&body, 0, "PING")?,
        },
        GOAWAY => Frame::GoAway {
            last_stream: sid("GOAWAY")?,
        },
        HEADERS => Frame::Headers {
            stream: sid("HEADERS")?,
            fin,
            headers: body.get(4..).unwrap_or_default().to_vec(),
        },
        WINDOW_UPDATE => Frame::WindowUpdate {
            stream: sid("WINDOW_UPDATE")?,
            delta: u32_at(&body, 4, "WINDOW_UPDATE")? & 0x7fff_ffff,
        },
        other => Frame::Other(other),
    })
}

fn control(kind: u16, flags: u8, body: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + body.len());
    out.extend_from_slice(&(0x8000 | VERSION).to_be_bytes());
    out.extend_from_slice(&kind.to_be_bytes());
    out.push(flags);
    out.extend_from_slice(&(body.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(body);
    out
}

pub fn data_frame(stream: u32, fin: bool, data: &[u8]) -> Vec<u8> {
    let mut out = Vec::with_capacity(8 + data.len());
    out.extend_from_slice(&(stream & 0x7fff_ffff).to_be_bytes());
    out.push(if fin { FLAG_FIN } else { 0 });
    out.extend_from_slice(&(data.len() as u32).to_be_bytes()[1..]);
    out.extend_from_slice(data);
    out
}

pub fn syn_reply(stream: u32, fin: bool, compressed_headers: &[u8]) -> Vec<u8> {
    let mut body = stream.to_be_bytes().to_vec();
    body.extend_from_slice(compressed_headers);
    control(SYN_REPLY, if fin { FLAG_FIN } else { 0 }, &body)
}

pub fn rst_stream(stream: u32, status: u32) -> Vec<u8> {
    let mut body = stream.to_be_bytes().to_vec();
    body.extend_from_slice(&status.to_be_bytes());
    control(RST_STREAM, 0, &body)
}

pub fn ping(id: u32) -> Vec<u8> {
    control(PING, 0, &id.to_be_bytes())
}

pub fn goaway(last_stream: u32) -> Vec<u8> {
    let mut body = last_stream.to_be_bytes().to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    control(GOAWAY, 0, &body)
}

/// A SYN_STREAM (used by tests acting as the client).
pub fn syn_stream(stream: u32, fin: bool, compressed_headers: &[u8]) -> Vec<u8> {
    let mut body = stream.to_be_bytes().to_vec();
    body.extend_from_slice(&0u32.to_be_bytes());
    body.extend_from_slice(&[0, 0]);
    body.extend_from_slice(compressed_headers);
    control(SYN_STREAM, if fin { FLAG_FIN } else { 0 }, &body)
}

/// The uncompressed header block: count, then length-prefixed names and values.
pub fn encode_headers(headers: &[(&str, &str)]) -> Vec<u8> {
    let mut out = (headers.len() as u32).to_be_bytes().to_vec();
    for (k, v) in headers {
        out.extend_from_slice(&(k.len() as u32).to_be_bytes());
        out.extend_from_slice(k.to_ascii_lowercase().as_bytes());
        out.extend_from_slice(&(v.len() as u32).to_be_bytes());
        out.extend_from_slice(v.as_bytes());
    }
    out
}

pub fn parse_headers(block: &[u8]) -> Result<Vec<(String, String)>, SpdyError> {
    let bad = || SpdyError::Headers("truncated header block".into());
    let mut i = 0;
    let mut take = |n: usize| -> Result<&[u8], SpdyError> {
        let s = block.get(i..i + n).ok_or_else(bad)?;
        i += n;
        Ok(s)
    };
    let count = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?);
    let mut out = Vec::new();
    for _ in 0..count {
        let kl = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
        let k = String::from_utf8_lossy(take(kl)?).into_owned();
        let vl = u32::from_be_bytes(take(4)?.try_into().map_err(|_| bad())?) as usize;
        let v = String::from_utf8_lossy(take(vl)?).into_owned();
        // Multiple values are NUL-separated.
        for part in v.split('\0') {
            out.push((k.clone(), part.to_string()));
        }
    }
    Ok(out)
}

/// The connection's header compressor (our direction).
pub struct HeaderCompressor {
    z: Compress,
    started: bool,
}

impl Default for HeaderCompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderCompressor {
    pub fn new() -> Self {
        HeaderCompressor {
            z: Compress::new(Compression::default(), true),
            started: false,
        }
    }

    pub fn compress(&mut self, headers: &[(&str, &str)]) -> Result<Vec<u8>, SpdyError> {
        let err = |e: flate2::CompressError| SpdyError::Headers(e.to_string());
        if !self.started {
            self.z.set_dictionary(dictionary()).map_err(err)?;
            self.started = true;
        }
        let input = encode_headers(headers);
        let mut out = Vec::with_capacity(input.len() + 64);
        let mut consumed = 0;
        loop {
            out.reserve(256);
            let before = self.z.total_in();
            self.z
                .compress_vec(&input[consumed..], &mut out, FlushCompress::Sync)
                .map_err(err)?;
            consumed += (self.z.total_in() - before) as usize;
            // Sync flush is complete once all input is in and there was spare room.
            if consumed == input.len() && out.len() < out.capacity() {
                return Ok(out);
            }
        }
    }
}

/// The connection's header decompressor (the peer's direction).
pub struct HeaderDecompressor {
    z: Decompress,
}

impl Default for HeaderDecompressor {
    fn default() -> Self {
        Self::new()
    }
}

impl HeaderDecompressor {
    pub fn new() -> Self {
        HeaderDecompressor {
            z: Decompress::new(true),
        }
    }

    pub fn decompress(&mut self, block: &[u8]) -> Result<Vec<(String, String)>, SpdyError> {
        let mut out = Vec::with_capacity(block.len() * 4 + 64);
        let mut consumed = 0;
        loop {
            out.reserve(1024);
            let before = self.z.total_in();
            let status =
                match self
                    .z
                    .decompress_vec(&block[consumed..], &mut out, FlushDecompress::Sync)
                {
                    Ok(s) => s,
                    Err(e) if e.needs_dictionary().is_some() => {
                        consumed += (self.z.total_in() - before) as usize;
                        self.z
                            .set_dictionary(dictionary())
                            .map_err(|e| SpdyError::Headers(e.to_string()))?;
                        continue;
                    }
                    Err(e) => return Err(SpdyError::Headers(e.to_string())),
                };
            consumed += (self.z.total_in() - before) as usize;
            if out.len() > MAX_FRAME {
                return Err(SpdyError::TooLarge(out.len()));
            }
            let done = consumed == block.len() && out.len() < out.capacity();
            if done || status == Status::StreamEnd {
                break;
            }
            if status == Status::BufError && consumed == block.len() {
                break;
            }
        }
        parse_headers(&out)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn dictionary_is_the_spdy3_one() {
        let d = dictionary();
        assert_eq!(d.len(), 1423);
        assert_eq!(&d[..12], b"\0\0\0\x07options\0");
        assert!(d.ends_with(b"utf-,*,enq=0."));
        // "origin" directly precedes the status codes.
        let i = d.windows(9).position(|w| w == b"origin100").unwrap();
        assert_eq!(&d[i - 4..i], &[0, 0, 0, 6]);
    }

    #[test]
    fn header_blocks_round_trip_across_frames() {
        let mut c = HeaderCompressor::new();
        let mut d = HeaderDecompressor::new();
        let a = c
            .compress(&[
                ("streamType", "error"),
                ("port", "8080"),
                ("requestID", "0"),
            ])
            .unwrap();
        let b = c
            .compress(&[("streamtype", "data"), ("port", "8080"), ("requestid", "0")])
            .unwrap();
        assert_eq!(
            d.decompress(&a).unwrap(),
            vec![
                ("streamtype".to_string(), "error".to_string()),
                ("port".into(), "8080".into()),
                ("requestid".into(), "0".into())
            ]
        );
        assert_eq!(d.decompress(&b).unwrap()[0].1, "data");
        let empty = c.compress(&[]).unwrap();
        assert!(d.decompress(&empty).unwrap().is_empty());
    }

    #[test]
    fn frames_round_trip() {
        let f = data_frame(3, true, b"hello");
        let h: [u8; 8] = f[..8].try_into().unwrap();
        assert_eq!(body_len(&h), 5);
        assert_eq!(
            decode(&h, f[8..].to_vec()).unwrap(),
            Frame::Data {
                stream: 3,
                fin: true,
                data: b"hello".to_vec()
            }
        );
        let f = syn_stream(5, false, b"zz");
        let h: [u8; 8] = f[..8].try_into().unwrap();
        assert_eq!(
            decode(&h, f[8..].to_vec()).unwrap(),
            Frame::SynStream {
                stream: 5,
                fin: false,
                headers: b"zz".to_vec()
            }
        );
        let f = rst_stream(7, RST_CANCEL);
        let h: [u8; 8] = f[..8].try_into().unwrap();
        assert_eq!(
            decode(&h, f[8..].to_vec()).unwrap(),
            Frame::RstStream {
                stream: 7,
                status: 5
            }
        );
        let f = ping(9);
        let h: [u8; 8] = f[..8].try_into().unwrap();
        assert_eq!(decode(&h, f[8..].to_vec()).unwrap(), Frame::Ping { id: 9 });
        let f = goaway(1);
        let h: [u8; 8] = f[..8].try_into().unwrap();
        assert_eq!(
            decode(&h, f[8..].to_vec()).unwrap(),
            Frame::GoAway { last_stream: 1 }
        );
        let mut bad = ping(1);
        bad[1] = 2;
        let h: [u8; 8] = bad[..8].try_into().unwrap();
        assert_eq!(
            decode(&h, bad[8..].to_vec()).unwrap_err(),
            SpdyError::Version(2)
        );
        assert!(parse_headers(&[0, 0, 0, 1, 0, 0]).is_err());
    }
}
