//! Reading CRI log files for `kubectl logs` (upstream pkg/kubelet/kuberuntime/logs):
//! the options of `PodLogOptions` applied to the records, and follow mode.

use std::future::Future;
use std::path::Path;
use std::time::Duration;

use bytes::Bytes;
use jiff::Timestamp;
use tokio::io::{AsyncReadExt, AsyncSeekExt};
use tokio::sync::mpsc;

use super::format::{parse_line, CriLine};

/// How often a followed file is checked for new records.
const FOLLOW_POLL: Duration = Duration::from_millis(200);

/// The `PodLogOptions` the kubelet's /containerLogs applies (query parameters as upstream).
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct LogOptions {
    pub follow: bool,
    pub previous: bool,
    pub timestamps: bool,
    pub tail_lines: Option<u64>,
    /// From sinceTime, or now - sinceSeconds.
    pub since: Option<Timestamp>,
    pub limit_bytes: Option<u64>,
}

#[derive(Debug, thiserror::Error)]
pub enum LogReadError {
    #[error("invalid {param} {value:?}: {msg}")]
    Param {
        param: &'static str,
        value: String,
        msg: String,
    },
    #[error("reading {path}: {source}")]
    Io {
        path: String,
        #[source]
        source: std::io::Error,
    },
}

fn param_err(param: &'static str, value: &str, msg: impl Into<String>) -> LogReadError {
    LogReadError::Param {
        param,
        value: value.to_string(),
        msg: msg.into(),
    }
}

fn parse_bool(param: &'static str, v: &str) -> Result<bool, LogReadError> {
    match v {
        "" | "true" | "1" | "True" | "TRUE" | "t" | "T" => Ok(true),
        "false" | "0" | "False" | "FALSE" | "f" | "F" => Ok(false),
        _ => Err(param_err(param, v, "not a boolean")),
    }
}

impl LogOptions {
    /// Parses the query parameters (already percent-decoded pairs) at time `now`.
    pub fn from_query<'a>(
        pairs: impl IntoIterator<Item = (&'a str, &'a str)>,
        now: Timestamp,
    ) -> Result<LogOptions, LogReadError> {
        let mut o = LogOptions::default();
        let mut since_seconds = None;
        let mut since_time = None;
        for (k, v) in pairs {
            match k {
                "follow" => o.follow = parse_bool("follow", v)?,
                "previous" => o.previous = parse_bool("previous", v)?,
                "timestamps" => o.timestamps = parse_bool("timestamps", v)?,
                "tailLines" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| param_err("tailLines", v, "not an integer"))?;
                    // Upstream: a negative tailLines means "all lines".
                    o.tail_lines = u64::try_from(n).ok();
                }
                "limitBytes" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| param_err("limitBytes", v, "not an integer"))?;
                    if n < 1 {
                        return Err(param_err("limitBytes", v, "must be greater than 0"));
                    }
                    o.limit_bytes = Some(n as u64);
                }
                "sinceSeconds" => {
                    let n: i64 = v
                        .parse()
                        .map_err(|_| param_err("sinceSeconds", v, "not an integer"))?;
                    if n < 1 {
                        return Err(param_err("sinceSeconds", v, "must be greater than 0"));
                    }
                    since_seconds = Some(n);
                }
                "sinceTime" => {
                    let t: Timestamp = v
                        .parse()
                        .map_err(|e| param_err("sinceTime", v, format!("{e}")))?;
                    since_time = Some(t);
                }
                _ => {}
            }
        }
        o.since = match (since_seconds, since_time) {
            (Some(_), Some(_)) => {
                return Err(param_err(
                    "sinceSeconds",
                    "",
                    "at most one of sinceTime or sinceSeconds may be specified",
                ))
            }
            (Some(s), None) => now
                .checked_sub(jiff::SignedDuration::from_secs(s))
                .ok()
                .or(Some(Timestamp::MIN)),
            (None, t) => t,
        };
        Ok(o)
    }
}

/// What one record contributes to the output (None: filtered out by `since`).
pub fn render(line: &CriLine<'_>, opts: &LogOptions) -> Option<Vec<u8>> {
    if let Some(since) = opts.since {
        if line.time < since {
            return None;
        }
    }
    let mut out = Vec::with_capacity(line.content.len() + 40);
    if opts.timestamps {
        out.extend_from_slice(line.time_raw.as_bytes());
        out.push(b' ');
    }
    out.extend_from_slice(line.content);
    if !line.partial {
        out.push(b'\n');
    }
    Some(out)
}

/// The byte offset where the last `n` records of `data` begin.
pub fn tail_offset(data: &[u8], n: u64) -> usize {
    if n == 0 {
        return data.len();
    }
    // Ignore the final newline: it ends the last record, it does not start a new one.
    let end = if data.ends_with(b"\n") {
        data.len() - 1
    } else {
        data.len()
    };
    let mut seen = 0u64;
    for i in (0..end).rev() {
        if data[i] == b'\n' {
            seen += 1;
            if seen == n {
                return i + 1;
            }
        }
    }
    0
}

/// Renders the complete records in `data` (a trailing incomplete one is left for later);
/// returns the output and how many bytes were consumed. Unparseable records are skipped
/// with a warning, as upstream does.
pub fn render_records(data: &[u8], opts: &LogOptions) -> (Vec<u8>, usize) {
    let mut out = Vec::new();
    let mut consumed = 0;
    while let Some(i) = data[consumed..].iter().position(|b| *b == b'\n') {
        let record = &data[consumed..consumed + i + 1];
        consumed += i + 1;
        match parse_line(record) {
            Ok(line) => {
                if let Some(r) = render(&line, opts) {
                    out.extend_from_slice(&r);
                }
            }
            Err(e) => tracing::warn!(error = %e, "skipping a malformed CRI log record"),
        }
    }
    (out, consumed)
}

/// Streams `path` per `opts` into `tx` until done: at end of file without follow; with
/// follow, once `running()` says the container stopped and the file has no more records,
/// or when the receiver goes away.
pub async fn stream<F, Fut>(
    path: &Path,
    opts: &LogOptions,
    mut running: F,
    tx: mpsc::Sender<Bytes>,
) -> Result<(), LogReadError>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let io_err = |source| LogReadError::Io {
        path: path.display().to_string(),
        source,
    };
    let mut file = tokio::fs::File::open(path).await.map_err(io_err)?;
    if let Some(n) = opts.tail_lines {
        let mut all = Vec::new();
        file.read_to_end(&mut all).await.map_err(io_err)?;
        let start = tail_offset(&all, n) as u64;
        file.seek(std::io::SeekFrom::Start(start))
            .await
            .map_err(io_err)?;
    }
    let mut remaining = opts.limit_bytes.unwrap_or(u64::MAX);
    let mut pending: Vec<u8> = Vec::new();
    let mut buf = vec![0u8; 64 * 1024];
    loop {
        let n = file.read(&mut buf).await.map_err(io_err)?;
        if n == 0 {
            if !opts.follow || tx.is_closed() {
                return Ok(());
            }
            // Check liveness before the last read, so records written just before the
            // container exited are still sent.
            let alive = running().await;
            let n = file.read(&mut buf).await.map_err(io_err)?;
            if n == 0 {
                if !alive {
                    return Ok(());
                }
                tokio::time::sleep(FOLLOW_POLL).await;
                continue;
            }
            pending.extend_from_slice(&buf[..n]);
        } else {
            pending.extend_from_slice(&buf[..n]);
        }
        let (mut out, consumed) = render_records(&pending, opts);
        pending.drain(..consumed);
        if out.is_empty() {
            continue;
        }
        if (out.len() as u64) >= remaining {
            out.truncate(remaining as usize);
            let _ = tx.send(Bytes::from(out)).await;
            return Ok(());
        }
        remaining -= out.len() as u64;
        if tx.send(Bytes::from(out)).await.is_err() {
            return Ok(());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    const LOG: &str = "2024-01-01T00:00:01Z stdout F one\n\
                       2024-01-01T00:00:02Z stderr P tw\n\
                       2024-01-01T00:00:02.5Z stderr F o\n\
                       2024-01-01T00:00:03Z stdout F three\n";

    fn now() -> Timestamp {
        "2024-01-01T00:00:10Z".parse().unwrap()
    }

    #[test]
    fn options_from_query() {
        let o = LogOptions::from_query(
            [
                ("follow", "true"),
                ("tailLines", "2"),
                ("timestamps", "1"),
                ("limitBytes", "10"),
                ("sinceSeconds", "8"),
                ("container", "c"),
            ],
            now(),
        )
        .unwrap();
        assert!(o.follow && o.timestamps && !o.previous);
        assert_eq!(o.tail_lines, Some(2));
        assert_eq!(o.limit_bytes, Some(10));
        assert_eq!(o.since, Some("2024-01-01T00:00:02Z".parse().unwrap()));

        let o = LogOptions::from_query([("tailLines", "-1"), ("previous", "")], now()).unwrap();
        assert_eq!(o.tail_lines, None);
        assert!(o.previous);
        assert!(LogOptions::from_query([("limitBytes", "0")], now()).is_err());
        assert!(LogOptions::from_query([("follow", "maybe")], now()).is_err());
        assert!(LogOptions::from_query([("sinceTime", "yesterday")], now()).is_err());
        assert!(LogOptions::from_query(
            [("sinceTime", "2024-01-01T00:00:00Z"), ("sinceSeconds", "1")],
            now()
        )
        .is_err());
    }

    #[test]
    fn renders_partials_timestamps_and_since() {
        let (out, consumed) = render_records(LOG.as_bytes(), &LogOptions::default());
        assert_eq!(consumed, LOG.len());
        assert_eq!(String::from_utf8(out).unwrap(), "one\ntwo\nthree\n");

        let opts = LogOptions {
            timestamps: true,
            since: Some("2024-01-01T00:00:02.5Z".parse().unwrap()),
            ..Default::default()
        };
        let (out, _) = render_records(LOG.as_bytes(), &opts);
        assert_eq!(
            String::from_utf8(out).unwrap(),
            "2024-01-01T00:00:02.5Z o\n2024-01-01T00:00:03Z three\n"
        );

        // An incomplete trailing record waits for the rest.
        let (out, consumed) = render_records(
            b"2024-01-01T00:00:01Z stdout F a\n2024-01",
            &LogOptions::default(),
        );
        assert_eq!(out, b"a\n");
        assert_eq!(consumed, 32);
        // Garbage is skipped.
        let (out, _) = render_records(
            b"garbage\n2024-01-01T00:00:01Z stdout F a\n",
            &LogOptions::default(),
        );
        assert_eq!(out, b"a\n");
    }

    #[test]
    fn tail_offsets() {
        let data = LOG.as_bytes();
        assert_eq!(
            &data[tail_offset(data, 1)..],
            b"2024-01-01T00:00:03Z stdout F three\n"
        );
        assert_eq!(tail_offset(data, 4), 0);
        assert_eq!(tail_offset(data, 100), 0);
        assert_eq!(tail_offset(data, 0), data.len());
        assert_eq!(tail_offset(b"", 3), 0);
    }

    async fn collect(path: &Path, opts: LogOptions) -> String {
        let (tx, mut rx) = mpsc::channel(16);
        stream(path, &opts, || async { false }, tx).await.unwrap();
        let mut out = Vec::new();
        while let Some(b) = rx.recv().await {
            out.extend_from_slice(&b);
        }
        String::from_utf8(out).unwrap()
    }

    #[tokio::test]
    async fn streams_with_tail_and_limit() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, LOG).unwrap();
        assert_eq!(
            collect(&path, LogOptions::default()).await,
            "one\ntwo\nthree\n"
        );
        let tail = LogOptions {
            tail_lines: Some(2),
            ..Default::default()
        };
        assert_eq!(collect(&path, tail).await, "o\nthree\n");
        let limit = LogOptions {
            limit_bytes: Some(5),
            ..Default::default()
        };
        assert_eq!(collect(&path, limit).await, "one\nt");
    }

    #[tokio::test]
    async fn follow_sees_appended_records_until_the_container_stops() {
        use std::io::Write;
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("0.log");
        std::fs::write(&path, "2024-01-01T00:00:01Z stdout F first\n").unwrap();
        let running = std::sync::Arc::new(std::sync::atomic::AtomicBool::new(true));
        let (tx, mut rx) = mpsc::channel(16);
        let opts = LogOptions {
            follow: true,
            ..Default::default()
        };
        let r = running.clone();
        let p = path.clone();
        let task = tokio::spawn(async move {
            stream(
                &p,
                &opts,
                move || {
                    let r = r.clone();
                    async move { r.load(std::sync::atomic::Ordering::SeqCst) }
                },
                tx,
            )
            .await
        });
        assert_eq!(&rx.recv().await.unwrap()[..], b"first\n");
        let mut f = std::fs::OpenOptions::new()
            .append(true)
            .open(&path)
            .unwrap();
        f.write_all(b"2024-01-01T00:00:02Z stdout F second\n")
            .unwrap();
        assert_eq!(&rx.recv().await.unwrap()[..], b"second\n");
        f.write_all(b"2024-01-01T00:00:03Z stdout F last\n")
            .unwrap();
        running.store(false, std::sync::atomic::Ordering::SeqCst);
        let mut rest = Vec::new();
        while let Some(b) = rx.recv().await {
            rest.extend_from_slice(&b);
        }
        assert_eq!(rest, b"last\n");
        task.await.unwrap().unwrap();
    }
}
