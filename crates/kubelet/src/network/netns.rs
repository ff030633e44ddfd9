//! Named network namespaces, created the way `ip netns` does (a bind mount of a new net
//! namespace at /var/run/netns/<name>), so `ip netns`, CNI plugins and containerd all see
//! them. We shell out to iproute2 rather than re-implement its mount-propagation setup
//! (it makes /var/run/netns a shared mount so the bind mount is visible everywhere).

use std::path::{Path, PathBuf};
use std::process::Command;

use super::{CniError, Result};

/// Where iproute2 (and containerd, and this kubelet) keep named network namespaces.
pub const NETNS_DIR: &str = "/var/run/netns";

/// A named network namespace. Not deleted on drop: a pod's netns must outlive kubelet
/// restarts; call [`NetNs::delete`] when the sandbox goes.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NetNs {
    name: String,
    path: PathBuf,
}

impl NetNs {
    /// A handle for `name` without touching the system.
    pub fn named(name: &str) -> Result<Self> {
        validate(name)?;
        Ok(Self {
            name: name.to_string(),
            path: Path::new(NETNS_DIR).join(name),
        })
    }

    /// Creates a new namespace `name` (fails if it already exists).
    pub fn create(name: &str) -> Result<Self> {
        let ns = Self::named(name)?;
        ip(&["netns", "add", name], name)?;
        Ok(ns)
    }

    /// Creates a namespace with a fresh `cni-<uuid>` name, as containerd names sandboxes'.
    pub fn create_unique() -> Result<Self> {
        Self::create(&format!("cni-{}", uuid::Uuid::new_v4()))
    }

    pub fn name(&self) -> &str {
        &self.name
    }

    /// The path handed to CNI plugins as CNI_NETNS.
    pub fn path(&self) -> &Path {
        &self.path
    }

    pub fn exists(&self) -> bool {
        self.path.exists()
    }

    /// Unmounts and removes the namespace. Succeeds if it is already gone, so teardown can
    /// be retried. Interfaces inside (the pod's veth end) are destroyed with it.
    pub fn delete(&self) -> Result<()> {
        if !self.exists() {
            return Ok(());
        }
        ip(&["netns", "delete", &self.name], &self.name)?;
        Ok(())
    }
}

/// Names become a path component and an `ip` argument: keep them plain.
fn validate(name: &str) -> Result<()> {
    let ok = !name.is_empty()
        && name.len() <= 255
        && name != "."
        && name != ".."
        && name
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '-' | '_' | '.'));
    if ok {
        Ok(())
    } else {
        Err(CniError::Netns {
            name: name.into(),
            reason: "invalid name (allowed: ASCII letters, digits, '-', '_', '.')".into(),
        })
    }
}

fn ip(args: &[&str], name: &str) -> Result<()> {
    let out = Command::new("ip")
        .args(args)
        .output()
        .map_err(|e| CniError::Netns {
            name: name.into(),
            reason: format!(
                "running `ip {}` (is iproute2 installed?): {e}",
                args.join(" ")
            ),
        })?;
    if out.status.success() {
        Ok(())
    } else {
        Err(CniError::Netns {
            name: name.into(),
            reason: format!(
                "`ip {}` failed ({}): {}",
                args.join(" "),
                out.status,
                String::from_utf8_lossy(&out.stderr).trim()
            ),
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn validates_names() {
        assert_eq!(
            NetNs::named("cni-1234").unwrap().path(),
            Path::new("/var/run/netns/cni-1234")
        );
        for bad in ["", "..", "a/b", "a b", "x;y"] {
            assert!(NetNs::named(bad).is_err(), "{bad:?}");
        }
    }
}
