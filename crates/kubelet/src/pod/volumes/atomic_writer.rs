//! Upstream's `AtomicWriter` (pkg/volume/util/atomic_writer.go): a configMap, secret,
//! downwardAPI or projected volume's files are written into a fresh timestamped
//! directory, then the `..data` symlink is swapped to it with one rename, so a reader
//! sees either the old set of files or the new one, never a mix:
//!
//! ```text
//! <target>/..2026_11_25_15_04_05.123456789/key     the payload
//! <target>/..data -> ..2026_11_25_15_04_05.123456789
//! <target>/key -> ..data/key                       one symlink per top-level path
//! ```
//!
//! Writing the same payload again does nothing (so the periodic resync is cheap).

use std::collections::{BTreeMap, BTreeSet};
use std::fs;
use std::io;
use std::os::unix::fs::{symlink, PermissionsExt};
use std::path::{Component, Path, PathBuf};

pub const DATA_DIR: &str = "..data";
const DATA_DIR_TMP: &str = "..data_tmp";

/// One file of a volume's payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct FileProjection {
    pub data: Vec<u8>,
    /// Permission bits (defaultMode / mode).
    pub mode: u32,
}

/// Relative path -> content.
pub type Payload = BTreeMap<String, FileProjection>;

/// Rejects absolute paths, `..` elements and paths starting with `..` (upstream
/// `validatePath`), which would escape the volume or clash with the writer's own names.
pub fn validate_path(path: &str) -> Result<(), String> {
    if path.is_empty() {
        return Err("invalid path: must not be empty".into());
    }
    if Path::new(path).is_absolute() {
        return Err(format!("invalid path: must be relative path: {path}"));
    }
    if path.starts_with("..") {
        return Err(format!("invalid path: must not start with '..': {path}"));
    }
    if Path::new(path)
        .components()
        .any(|c| matches!(c, Component::ParentDir))
    {
        return Err(format!("invalid path: must not contain '..': {path}"));
    }
    Ok(())
}

/// The first element of each payload path: what gets a user-visible symlink.
fn top_level(payload: &Payload) -> BTreeSet<String> {
    payload
        .keys()
        .filter_map(|p| p.split('/').find(|s| !s.is_empty()).map(str::to_string))
        .collect()
}

/// Reads back what `..data` holds, to skip identical writes.
fn current_payload(data_dir: &Path, payload: &Payload) -> Option<bool> {
    for (path, file) in payload {
        let full = data_dir.join(path);
        let meta = fs::metadata(&full).ok()?;
        if meta.permissions().mode() & 0o7777 != file.mode & 0o7777 {
            return Some(false);
        }
        if fs::read(&full).ok()? != file.data {
            return Some(false);
        }
    }
    // Same files; also no extra files left from an earlier payload.
    let mut count = 0usize;
    let mut stack = vec![data_dir.to_path_buf()];
    while let Some(dir) = stack.pop() {
        for entry in fs::read_dir(&dir).ok()?.flatten() {
            let ft = entry.file_type().ok()?;
            if ft.is_dir() {
                stack.push(entry.path());
            } else {
                count += 1;
            }
        }
    }
    Some(count == payload.len())
}

fn timestamp_name() -> String {
    let now = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap_or_default();
    let secs = i64::try_from(now.as_secs()).unwrap_or(0);
    let ts = jiff::Timestamp::from_second(secs).unwrap_or(jiff::Timestamp::UNIX_EPOCH);
    let dt = ts.to_zoned(jiff::tz::TimeZone::UTC);
    format!(
        "..{:04}_{:02}_{:02}_{:02}_{:02}_{:02}.{:09}",
        dt.year(),
        dt.month(),
        dt.day(),
        dt.hour(),
        dt.minute(),
        dt.second(),
        now.subsec_nanos()
    )
}

/// Writes `payload` into `target` atomically; returns whether anything changed.
pub fn write(target: &Path, payload: &Payload) -> io::Result<bool> {
    for path in payload.keys() {
        validate_path(path).map_err(io::Error::other)?;
    }
    fs::create_dir_all(target)?;
    let data_link = target.join(DATA_DIR);
    let old_ts = fs::read_link(&data_link).ok();
    if old_ts.is_some() && current_payload(&data_link, payload) == Some(true) {
        return Ok(false);
    }

    // New timestamped directory with the files.
    let mut ts_name = timestamp_name();
    while target.join(&ts_name).exists() {
        ts_name.push('x');
    }
    let ts_dir = target.join(&ts_name);
    fs::create_dir(&ts_dir)?;
    fs::set_permissions(&ts_dir, fs::Permissions::from_mode(0o755))?;
    let written = (|| -> io::Result<()> {
        for (path, file) in payload {
            let full = ts_dir.join(path);
            if let Some(parent) = full.parent() {
                fs::create_dir_all(parent)?;
            }
            fs::write(&full, &file.data)?;
            fs::set_permissions(&full, fs::Permissions::from_mode(file.mode & 0o7777))?;
        }
        // ..data_tmp -> new dir, then rename over ..data: the atomic switch.
        let tmp_link = target.join(DATA_DIR_TMP);
        let _ = fs::remove_file(&tmp_link);
        symlink(&ts_name, &tmp_link)?;
        fs::rename(&tmp_link, &data_link)
    })();
    if let Err(e) = written {
        let _ = fs::remove_dir_all(&ts_dir);
        return Err(e);
    }

    // User-visible symlinks: create new ones, remove ones no longer in the payload.
    let wanted = top_level(payload);
    for name in &wanted {
        let link = target.join(name);
        if fs::symlink_metadata(&link).is_err() {
            symlink(PathBuf::from(DATA_DIR).join(name), &link)?;
        }
    }
    for entry in fs::read_dir(target)?.flatten() {
        let name = entry.file_name().to_string_lossy().into_owned();
        if name.starts_with("..") || wanted.contains(&name) {
            continue;
        }
        if entry.file_type().map(|t| t.is_symlink()).unwrap_or(false) {
            fs::remove_file(entry.path())?;
        }
    }
    if let Some(old) = old_ts {
        let old = target.join(old);
        if old != ts_dir {
            fs::remove_dir_all(old)?;
        }
    }
    Ok(true)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn file(s: &str, mode: u32) -> FileProjection {
        FileProjection {
            data: s.as_bytes().to_vec(),
            mode,
        }
    }

    #[test]
    fn paths_are_validated() {
        assert!(validate_path("a/b").is_ok());
        assert!(validate_path("/etc/x").is_err());
        assert!(validate_path("../x").is_err());
        assert!(validate_path("a/../../x").is_err());
        assert!(validate_path("..data").is_err());
        assert!(validate_path("").is_err());
    }

    #[test]
    fn write_update_and_noop() {
        let dir = tempfile::tempdir().unwrap();
        let target = dir.path().join("vol");
        let p1 = Payload::from([
            ("color".to_string(), file("blue", 0o644)),
            ("sub/dir/key".to_string(), file("k", 0o400)),
        ]);
        assert!(write(&target, &p1).unwrap());
        assert_eq!(fs::read_to_string(target.join("color")).unwrap(), "blue");
        assert_eq!(fs::read_to_string(target.join("sub/dir/key")).unwrap(), "k");
        assert_eq!(
            fs::read_link(target.join("color")).unwrap(),
            Path::new("..data/color")
        );
        let mode = fs::metadata(target.join("sub/dir/key"))
            .unwrap()
            .permissions()
            .mode();
        assert_eq!(mode & 0o777, 0o400);
        let first = fs::read_link(target.join(DATA_DIR)).unwrap();
        assert!(first.to_string_lossy().starts_with("..20"), "{first:?}");

        // Same payload: nothing changes.
        assert!(!write(&target, &p1).unwrap());
        assert_eq!(fs::read_link(target.join(DATA_DIR)).unwrap(), first);

        // New payload: new dir, old one and stale links gone.
        let p2 = Payload::from([("color".to_string(), file("red", 0o644))]);
        assert!(write(&target, &p2).unwrap());
        assert_eq!(fs::read_to_string(target.join("color")).unwrap(), "red");
        assert!(fs::symlink_metadata(target.join("sub")).is_err());
        assert!(!target.join(&first).exists());
        let entries: Vec<String> = fs::read_dir(&target)
            .unwrap()
            .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
            .collect();
        assert_eq!(entries.len(), 3, "{entries:?}");
    }
}
