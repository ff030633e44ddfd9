//! Pod networking through CNI plugins (the standard exec protocol, spec 0.4.0 / 1.0.0).
//!
//! - [`config`]: loading the node's network list and the default bridge network.
//! - [`cni`]: running a plugin chain for ADD / CHECK / DEL, with the result cache DEL needs.
//! - [`netns`]: named network namespaces under /var/run/netns (one per pod sandbox).
//!
//! Everything here blocks (it execs plugins and `ip`); async callers wrap calls in
//! `tokio::task::spawn_blocking`.

pub mod cni;
pub mod config;
pub mod netns;

use std::path::{Path, PathBuf};

pub use cni::{
    CapabilityArgs, Cni, CniResult, Dns, Interface, IpConfig, PodArgs, PortMapping, Route, Sandbox,
};
pub use config::{BridgeNetwork, NetworkConfigList};
pub use netns::NetNs;

pub type Result<T, E = CniError> = std::result::Result<T, E>;

/// Everything that can go wrong setting up pod networking, with enough context to act on.
#[derive(Debug, thiserror::Error)]
pub enum CniError {
    #[error("no CNI network config (*.conflist, *.conf, *.json) in {dir}")]
    NoConfig { dir: PathBuf },
    #[error("reading CNI config {path}: {source}")]
    ReadConfig {
        path: PathBuf,
        source: std::io::Error,
    },
    #[error("parsing CNI config {path}: {source}")]
    ParseConfig {
        path: String,
        source: serde_json::Error,
    },
    #[error("invalid CNI config {path}: {reason}")]
    InvalidConfig { path: String, reason: String },
    #[error("CNI plugin {plugin:?} not found in {dirs:?}")]
    PluginNotFound { plugin: String, dirs: Vec<PathBuf> },
    #[error("running CNI plugin {plugin} ({command}): {source}")]
    Exec {
        plugin: String,
        command: String,
        source: std::io::Error,
    },
    /// The plugin failed and reported a spec error object (code, msg, details).
    #[error(
        "CNI plugin {plugin} {command} failed: code {code}: {msg}{}",
        details_suffix(details)
    )]
    Plugin {
        plugin: String,
        command: String,
        code: u32,
        msg: String,
        details: String,
        stderr: String,
    },
    /// The plugin failed without a parsable error object.
    #[error("CNI plugin {plugin} {command} failed ({status}): {output}")]
    PluginFailed {
        plugin: String,
        command: String,
        status: String,
        output: String,
    },
    #[error("CNI plugin {plugin} {command} returned an unparsable result: {reason}")]
    BadResult {
        plugin: String,
        command: String,
        reason: String,
    },
    #[error("CNI result cache {path}: {reason}")]
    Cache { path: PathBuf, reason: String },
    #[error("network namespace {name}: {reason}")]
    Netns { name: String, reason: String },
}

fn details_suffix(details: &str) -> String {
    if details.is_empty() {
        String::new()
    } else {
        format!(" ({details})")
    }
}

/// Writes a file via a temp file in the same directory and a rename, creating parents,
/// so readers (the kubelet after a restart, a scanning runtime) never see partial data.
pub(crate) fn write_atomic(path: &Path, data: &[u8]) -> Result<()> {
    let err = |reason: String| CniError::Cache {
        path: path.to_path_buf(),
        reason,
    };
    let dir = path
        .parent()
        .ok_or_else(|| err("path has no parent directory".into()))?;
    std::fs::create_dir_all(dir).map_err(|e| err(format!("creating {}: {e}", dir.display())))?;
    let file_name = path
        .file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default();
    let tmp = dir.join(format!(".{file_name}.tmp{}", std::process::id()));
    std::fs::write(&tmp, data).map_err(|e| err(format!("writing {}: {e}", tmp.display())))?;
    std::fs::rename(&tmp, path).map_err(|e| {
        let _ = std::fs::remove_file(&tmp);
        err(format!("renaming {}: {e}", tmp.display()))
    })
}
