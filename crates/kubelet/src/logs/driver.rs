//! The containerd binary log driver: the runc v2 shim (containerd 1.6
//! `pkg/process/io.go`, `NewBinaryIO`) starts `binary:///<driver>?log=<file>` as
//! `<driver> log <file>` with fd 3 = the container's stdout, fd 4 = its stderr and fd 5 =
//! a pipe to close once ready, and env CONTAINER_ID / CONTAINER_NAMESPACE. The driver
//! appends CRI records to the file until both streams end. It is a child of the shim, not
//! of the kubelet, so the logs keep flowing while the kubelet restarts.

use std::fs::{File, OpenOptions};
use std::io::{Read, Write};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};

use super::format::{LineSplitter, Stream};

/// The driver's fds, as the shim passes them.
pub const STDOUT_FD: i32 = 3;
pub const STDERR_FD: i32 = 4;
pub const READY_FD: i32 = 5;

/// The `binary://` URI containerd hands the shim for a container whose CRI log is `log`
/// (the query becomes the driver's arguments: `log <file>`).
pub fn binary_log_uri(driver: &Path, log: &Path) -> String {
    format!(
        "binary://{}?log={}",
        percent_encode(&driver.display().to_string()),
        percent_encode(&log.display().to_string())
    )
}

/// Escapes everything but unreserved characters and '/' (what Go's url.Parse unescapes).
fn percent_encode(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for b in s.bytes() {
        if b.is_ascii_alphanumeric() || matches!(b, b'-' | b'_' | b'.' | b'~' | b'/') {
            out.push(b as char);
        } else {
            out.push_str(&format!("%{b:02X}"));
        }
    }
    out
}

/// The driver binary: `ferrokube-log-driver` next to the running executable (the
/// kubelet's install directory), else in /usr/local/bin or /usr/bin.
pub fn find_driver() -> Option<PathBuf> {
    let beside = std::env::current_exe()
        .ok()
        .and_then(|exe| exe.parent().map(|d| d.join(DRIVER_NAME)));
    beside
        .into_iter()
        .chain([
            PathBuf::from("/usr/local/bin").join(DRIVER_NAME),
            PathBuf::from("/usr/bin").join(DRIVER_NAME),
        ])
        .find(|p| p.is_file())
}

/// The driver's binary name.
pub const DRIVER_NAME: &str = "ferrokube-log-driver";

/// The log file from the driver's arguments (`log <file>`, or just `<file>`).
pub fn parse_args(args: &[String]) -> Option<PathBuf> {
    match args {
        [flag, path, ..] if flag == "log" && !path.is_empty() => Some(PathBuf::from(path)),
        [path] if !path.is_empty() && path != "log" => Some(PathBuf::from(path)),
        _ => None,
    }
}

/// Copies one stream into the shared log file as CRI records until EOF.
pub fn copy_stream(mut input: impl Read, stream: Stream, out: &Mutex<File>) -> std::io::Result<()> {
    let mut splitter = LineSplitter::new(stream);
    let mut buf = vec![0u8; 32 * 1024];
    loop {
        let n = match input.read(&mut buf) {
            Ok(0) => break,
            Ok(n) => n,
            Err(e) if e.kind() == std::io::ErrorKind::Interrupted => continue,
            Err(e) => return Err(e),
        };
        let records = splitter.push(&buf[..n], jiff::Timestamp::now());
        write_records(out, &records)?;
    }
    let records = splitter.finish(jiff::Timestamp::now());
    write_records(out, &records)
}

/// Appends CRI records to the shared log file.
pub fn write_records(out: &Mutex<File>, records: &[u8]) -> std::io::Result<()> {
    if records.is_empty() {
        return Ok(());
    }
    let mut f = out
        .lock()
        .map_err(|_| std::io::Error::other("log file lock poisoned"))?;
    f.write_all(records)
}

/// Opens (creating its directory) the log file in append mode.
pub fn open_log(path: &Path) -> std::io::Result<File> {
    if let Some(dir) = path.parent() {
        std::fs::create_dir_all(dir)?;
    }
    OpenOptions::new().create(true).append(true).open(path)
}

/// Runs the driver on fds 3, 4 and 5 (see the module docs). Returns when both streams end.
pub fn run(log: &Path) -> std::io::Result<()> {
    use std::os::fd::FromRawFd;
    let file = Arc::new(Mutex::new(open_log(log)?));
    // SAFETY: the shim passes these fds to the driver and nothing else in this process
    // owns them; each is wrapped exactly once.
    let (stdout, stderr, ready) = unsafe {
        (
            File::from_raw_fd(STDOUT_FD),
            File::from_raw_fd(STDERR_FD),
            File::from_raw_fd(READY_FD),
        )
    };
    // Closing the ready pipe tells the shim the driver is up.
    drop(ready);
    let f2 = file.clone();
    let err_thread = std::thread::spawn(move || copy_stream(stderr, Stream::Stderr, &f2));
    let out_result = copy_stream(stdout, Stream::Stdout, &file);
    let err_result = err_thread
        .join()
        .map_err(|_| std::io::Error::other("stderr copier panicked"))?;
    out_result.and(err_result)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::logs::format::parse_line;

    #[test]
    fn uri_and_args() {
        let uri = binary_log_uri(
            Path::new("/usr/bin/ferrokube-log-driver"),
            Path::new("/var/log/pods/ns_p_u/c a/0.log"),
        );
        assert_eq!(
            uri,
            "binary:///usr/bin/ferrokube-log-driver?log=/var/log/pods/ns_p_u/c%20a/0.log"
        );
        let args = |v: &[&str]| v.iter().map(|s| s.to_string()).collect::<Vec<_>>();
        assert_eq!(
            parse_args(&args(&["log", "/x/0.log"])),
            Some("/x/0.log".into())
        );
        assert_eq!(parse_args(&args(&["/x/0.log"])), Some("/x/0.log".into()));
        assert_eq!(parse_args(&args(&[])), None);
        assert_eq!(parse_args(&args(&["log", ""])), None);
    }

    #[test]
    fn copies_both_streams_into_one_cri_file() {
        let dir = tempfile::tempdir().unwrap();
        let path = dir.path().join("c").join("0.log");
        let file = Mutex::new(open_log(&path).unwrap());
        copy_stream(&b"one\ntwo"[..], Stream::Stdout, &file).unwrap();
        copy_stream(&b"oops\n"[..], Stream::Stderr, &file).unwrap();
        let text = std::fs::read(&path).unwrap();
        let lines: Vec<_> = text
            .split_inclusive(|b| *b == b'\n')
            .map(|l| parse_line(l).unwrap())
            .map(|l| (l.stream, l.partial, l.content.to_vec()))
            .collect();
        assert_eq!(
            lines,
            vec![
                (Stream::Stdout, false, b"one".to_vec()),
                (Stream::Stdout, false, b"two".to_vec()),
                (Stream::Stderr, false, b"oops".to_vec()),
            ]
        );
    }
}
