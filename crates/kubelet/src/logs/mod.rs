//! Container logs in the CRI format, as upstream's runtimes write them under
//! `/var/log/pods/<namespace>_<pod>_<uid>/<container>/<restartCount>.log`:
//!
//! ```text
//! 2016-10-06T00:17:09.669794202Z stdout F a full line
//! 2016-10-06T00:17:09.669794203Z stderr P the first 16 KiB of a long line
//! ```
//!
//! * [`format`]: one CRI line (pure) and [`format::LineSplitter`], which cuts a byte
//!   stream into full (`F`) and partial (`P`, at most [`MAX_LINE`] bytes) lines.
//! * [`driver`]: the containerd binary log driver (`binary:///...`), run by the runc shim
//!   with the container's stdout on fd 3 and stderr on fd 4; the output keeps flowing
//!   while the kubelet restarts because it never passes through the kubelet.
//! * [`reader`]: `kubectl logs` options (tailLines, sinceTime, timestamps, limitBytes,
//!   follow, previous) applied to CRI files.

pub mod driver;
pub mod format;
pub mod reader;

pub use format::{CriLine, LineSplitter, ParseError, Stream, MAX_LINE};
pub use reader::{LogOptions, LogReadError};

use std::path::{Path, PathBuf};

/// The `<n>.log` files in a container's log directory, by restart number (ascending).
pub fn log_files(container_dir: &Path) -> std::io::Result<Vec<(u32, PathBuf)>> {
    let mut out = Vec::new();
    let entries = match std::fs::read_dir(container_dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(out),
        Err(e) => return Err(e),
    };
    for entry in entries {
        let entry = entry?;
        let name = entry.file_name();
        let Some(n) = name
            .to_str()
            .and_then(|n| n.strip_suffix(".log"))
            .and_then(|n| n.parse::<u32>().ok())
        else {
            continue;
        };
        out.push((n, entry.path()));
    }
    out.sort();
    Ok(out)
}

/// The file `kubectl logs` reads: the newest one, or with `previous` the one before it
/// (upstream: `<restartCount-1>.log`).
pub fn select_log_file(container_dir: &Path, previous: bool) -> std::io::Result<Option<PathBuf>> {
    let mut files = log_files(container_dir)?;
    let current = files.pop();
    if previous {
        Ok(files.pop().map(|(_, p)| p))
    } else {
        Ok(current.map(|(_, p)| p))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn selects_current_and_previous_by_number() {
        let dir = tempfile::tempdir().unwrap();
        for n in ["0.log", "2.log", "10.log", "junk.txt", "x.log"] {
            std::fs::write(dir.path().join(n), b"").unwrap();
        }
        let files = log_files(dir.path()).unwrap();
        let nums: Vec<u32> = files.iter().map(|(n, _)| *n).collect();
        assert_eq!(nums, vec![0, 2, 10]);
        assert_eq!(
            select_log_file(dir.path(), false).unwrap(),
            Some(dir.path().join("10.log"))
        );
        assert_eq!(
            select_log_file(dir.path(), true).unwrap(),
            Some(dir.path().join("2.log"))
        );
        let empty = tempfile::tempdir().unwrap();
        assert_eq!(select_log_file(empty.path(), true).unwrap(), None);
        assert!(log_files(&empty.path().join("missing")).unwrap().is_empty());
    }
}
