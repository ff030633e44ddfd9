//! `cargo xtask images`: build the test images and serve them from a local registry, so
//! node tests pull `127.0.0.1:5000/library/busybox:latest` (or import the tarball) instead
//! of reaching the internet. Idempotent: the build is deterministic, the registry is reused
//! through its pid file, and blobs it already has are not uploaded again.

use std::path::Path;
use std::time::Duration;

use anyhow::{bail, Context, Result};
use ferrokube_deploy::images::{
    build_busybox_image, get_manifest, push_to_registry, start_registry, RegistryPaths,
    DEFAULT_REGISTRY_BIN,
};
use ferrokube_deploy::process::stop_pid_file;

/// Loopback only: the registry has no TLS and no auth.
pub const REGISTRY_ADDR: &str = "127.0.0.1:5000";
pub const BUSYBOX_REFERENCE: &str = "docker.io/library/busybox:latest";
const BUSYBOX_REPOSITORY: &str = "library/busybox";
const BUSYBOX_TAG: &str = "latest";

#[derive(clap::Args)]
pub struct ImagesArgs {
    /// Only build the tarballs; start and push nothing.
    #[arg(long)]
    no_push: bool,
}

pub fn run(dir: &Path, args: ImagesArgs) -> Result<()> {
    crate::apt::ensure_packages()?;
    let tar = dir.join("images/busybox.tar");
    let info = build_busybox_image(&tar, BUSYBOX_REFERENCE)?;
    println!(
        "built {}  {}  manifest {}  config {}  {} bytes",
        tar.display(),
        info.reference,
        info.manifest_digest,
        info.config_digest,
        info.size
    );
    if args.no_push {
        return Ok(());
    }
    let registry = start_registry(Path::new(DEFAULT_REGISTRY_BIN), dir, REGISTRY_ADDR, true)
        .with_context(|| {
            format!(
                "starting docker-registry (log {})",
                RegistryPaths::new(dir).log_file.display()
            )
        })?;
    println!(
        "docker-registry pid {:<8} http://{REGISTRY_ADDR}  log {}",
        registry.pid(),
        registry.log_file().display()
    );
    push_to_registry(&tar, REGISTRY_ADDR, BUSYBOX_REPOSITORY, BUSYBOX_TAG)?;
    let (digest, _) = get_manifest(REGISTRY_ADDR, BUSYBOX_REPOSITORY, BUSYBOX_TAG)?;
    if digest != info.manifest_digest {
        bail!(
            "the registry serves {BUSYBOX_REPOSITORY}:{BUSYBOX_TAG} as {digest}, expected {}",
            info.manifest_digest
        );
    }
    println!("pushed {REGISTRY_ADDR}/{BUSYBOX_REPOSITORY}:{BUSYBOX_TAG}  {digest}");
    Ok(())
}

/// Stops the registry `run` started (by its pid file); the PID if one was running.
pub fn stop_registry(dir: &Path) -> Result<Option<u32>> {
    stop_pid_file(
        &RegistryPaths::new(dir).pid_file,
        Path::new(DEFAULT_REGISTRY_BIN),
        Duration::from_secs(15),
    )
}
