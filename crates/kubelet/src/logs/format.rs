//! The CRI log line: `<RFC3339Nano time> <stdout|stderr> <F|P> <content>\n`.

use jiff::Timestamp;

/// Longest content of one CRI line; longer output lines are cut into partial (`P`)
/// lines of this size (containerd's CRI plugin uses 16 KiB too).
pub const MAX_LINE: usize = 16 * 1024;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Stream {
    Stdout,
    Stderr,
}

impl Stream {
    pub fn as_str(self) -> &'static str {
        match self {
            Stream::Stdout => "stdout",
            Stream::Stderr => "stderr",
        }
    }
}

/// One parsed line; `content` excludes the trailing newline.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct CriLine<'a> {
    pub time: Timestamp,
    /// The timestamp as written (RFC3339Nano), for `--timestamps`.
    pub time_raw: &'a str,
    pub stream: Stream,
    /// `P`: the line continues in the next record; `F`: it ends here.
    pub partial: bool,
    pub content: &'a [u8],
}

#[derive(Debug, thiserror::Error, PartialEq, Eq)]
pub enum ParseError {
    #[error("CRI log line has fewer than four fields")]
    Short,
    #[error("CRI log line has an invalid timestamp {0:?}")]
    Time(String),
    #[error("CRI log line has an unknown stream {0:?}")]
    Stream(String),
    #[error("CRI log line has an unknown tag {0:?}")]
    Tag(String),
}

/// Go's `time.RFC3339Nano` (trailing zeros of the fraction trimmed), UTC.
pub fn format_time(t: Timestamp) -> String {
    t.to_string()
}

/// Appends one CRI record for `content` (which must not contain a newline) to `out`.
pub fn format_line(
    out: &mut Vec<u8>,
    time: Timestamp,
    stream: Stream,
    partial: bool,
    content: &[u8],
) {
    out.extend_from_slice(format_time(time).as_bytes());
    out.push(b' ');
    out.extend_from_slice(stream.as_str().as_bytes());
    out.extend_from_slice(if partial { b" P " } else { b" F " });
    out.extend_from_slice(content);
    out.push(b'\n');
}

/// Parses one record (with or without its trailing newline).
pub fn parse_line(line: &[u8]) -> Result<CriLine<'_>, ParseError> {
    let line = line.strip_suffix(b"\n").unwrap_or(line);
    let mut parts = line.splitn(4, |b| *b == b' ');
    let time_raw = parts.next().ok_or(ParseError::Short)?;
    let stream = parts.next().ok_or(ParseError::Short)?;
    let tag = parts.next().ok_or(ParseError::Short)?;
    // "<time> stdout F" with empty content has no fourth field after the space.
    let content = parts.next().unwrap_or(&[]);
    let time_raw = std::str::from_utf8(time_raw)
        .map_err(|_| ParseError::Time(String::from_utf8_lossy(time_raw).into_owned()))?;
    let time: Timestamp = time_raw
        .parse()
        .map_err(|_| ParseError::Time(time_raw.to_string()))?;
    let stream = match stream {
        b"stdout" => Stream::Stdout,
        b"stderr" => Stream::Stderr,
        other => {
            return Err(ParseError::Stream(
                String::from_utf8_lossy(other).into_owned(),
            ))
        }
    };
    // Tags may carry more ':'-separated parts in future; the first one is P or F.
    let first_tag = tag.split(|b| *b == b':').next().unwrap_or(tag);
    let partial = match first_tag {
        b"P" => true,
        b"F" => false,
        other => return Err(ParseError::Tag(String::from_utf8_lossy(other).into_owned())),
    };
    Ok(CriLine {
        time,
        time_raw,
        stream,
        partial,
        content,
    })
}

/// Cuts one output stream into CRI records: each newline ends a full record, and
/// [`MAX_LINE`] bytes without one make a partial record.
#[derive(Debug)]
pub struct LineSplitter {
    stream: Stream,
    pending: Vec<u8>,
}

impl LineSplitter {
    pub fn new(stream: Stream) -> Self {
        LineSplitter {
            stream,
            pending: Vec::new(),
        }
    }

    /// Feeds `data` read at `now`; returns the complete records to append to the file.
    pub fn push(&mut self, data: &[u8], now: Timestamp) -> Vec<u8> {
        let mut out = Vec::new();
        let mut rest = data;
        while !rest.is_empty() {
            let room = MAX_LINE - self.pending.len();
            let window = &rest[..rest.len().min(room)];
            if let Some(i) = window.iter().position(|b| *b == b'\n') {
                self.pending.extend_from_slice(&window[..i]);
                format_line(&mut out, now, self.stream, false, &self.pending);
                self.pending.clear();
                rest = &rest[i + 1..];
            } else {
                self.pending.extend_from_slice(window);
                rest = &rest[window.len()..];
                if self.pending.len() == MAX_LINE {
                    format_line(&mut out, now, self.stream, true, &self.pending);
                    self.pending.clear();
                }
            }
        }
        out
    }

    /// At end of stream: what is left without a newline, as a full record.
    pub fn finish(&mut self, now: Timestamp) -> Vec<u8> {
        let mut out = Vec::new();
        if !self.pending.is_empty() {
            format_line(&mut out, now, self.stream, false, &self.pending);
            self.pending.clear();
        }
        out
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn t(s: &str) -> Timestamp {
        s.parse().unwrap()
    }

    #[test]
    fn formats_like_containerd() {
        let mut out = Vec::new();
        format_line(
            &mut out,
            t("2016-10-06T00:17:09.669794202Z"),
            Stream::Stdout,
            false,
            b"hello",
        );
        format_line(
            &mut out,
            t("2016-10-06T00:17:09.5Z"),
            Stream::Stderr,
            true,
            b"",
        );
        format_line(
            &mut out,
            t("2016-10-06T00:17:09Z"),
            Stream::Stdout,
            false,
            b"x",
        );
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2016-10-06T00:17:09.669794202Z stdout F hello\n\
             2016-10-06T00:17:09.5Z stderr P \n\
             2016-10-06T00:17:09Z stdout F x\n"
        );
    }

    #[test]
    fn parses_and_round_trips() {
        let l = parse_line(b"2016-10-06T00:17:09.669794202Z stdout F hello world\n").unwrap();
        assert_eq!(l.time, t("2016-10-06T00:17:09.669794202Z"));
        assert_eq!(l.time_raw, "2016-10-06T00:17:09.669794202Z");
        assert_eq!(l.stream, Stream::Stdout);
        assert!(!l.partial);
        assert_eq!(l.content, b"hello world");

        let l = parse_line(b"2016-10-06T00:17:09Z stderr P  two  spaces").unwrap();
        assert!(l.partial);
        assert_eq!(l.stream, Stream::Stderr);
        assert_eq!(l.content, b" two  spaces");

        let l = parse_line(b"2016-10-06T00:17:09Z stdout F").unwrap();
        assert_eq!(l.content, b"");
        // Offsets other than Z are RFC 3339 too.
        let l = parse_line(b"2016-10-06T02:17:09+02:00 stdout F:x y").unwrap();
        assert_eq!(l.time, t("2016-10-06T00:17:09Z"));
        assert_eq!(l.content, b"y");
    }

    #[test]
    fn rejects_bad_lines() {
        assert_eq!(parse_line(b"only two").unwrap_err(), ParseError::Short);
        assert!(matches!(
            parse_line(b"yesterday stdout F x"),
            Err(ParseError::Time(_))
        ));
        assert!(matches!(
            parse_line(b"2016-10-06T00:17:09Z stdin F x"),
            Err(ParseError::Stream(_))
        ));
        assert!(matches!(
            parse_line(b"2016-10-06T00:17:09Z stdout Q x"),
            Err(ParseError::Tag(_))
        ));
    }

    #[test]
    fn splitter_cuts_lines_and_partials() {
        let now = t("2020-01-01T00:00:00Z");
        let mut s = LineSplitter::new(Stream::Stdout);
        let out = s.push(b"a\nb", now);
        assert_eq!(out, b"2020-01-01T00:00:00Z stdout F a\n");
        let out = s.push(b"c\n\n", now);
        assert_eq!(
            out,
            b"2020-01-01T00:00:00Z stdout F bc\n2020-01-01T00:00:00Z stdout F \n"
        );
        assert!(s.finish(now).is_empty());

        // A line longer than MAX_LINE: one P record of MAX_LINE bytes, then the rest F.
        let mut long = vec![b'x'; MAX_LINE + 3];
        long.push(b'\n');
        let out = s.push(&long, now);
        let lines: Vec<&[u8]> = out.split_inclusive(|b| *b == b'\n').collect();
        assert_eq!(lines.len(), 2);
        let first = parse_line(lines[0]).unwrap();
        assert!(first.partial);
        assert_eq!(first.content.len(), MAX_LINE);
        let second = parse_line(lines[1]).unwrap();
        assert!(!second.partial);
        assert_eq!(second.content, b"xxx");

        // Unterminated output is flushed as a full record at the end.
        let mut s = LineSplitter::new(Stream::Stderr);
        assert!(s.push(b"tail", now).is_empty());
        assert_eq!(s.finish(now), b"2020-01-01T00:00:00Z stderr F tail\n");
    }
}
