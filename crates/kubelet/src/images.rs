//! Air-gapped images: at start the kubelet imports every `*.tar` (OCI image-layout
//! tarball) found in its images directory into containerd, like k3s does with
//! `/var/lib/rancher/k3s/agent/images`. ferrokube's directory is `<root-dir>/images`
//! (`/var/lib/kubelet/images` by default): the way images reach a node that has no
//! registry (registry pulls, with mirrors, are the other way: [`service`]).
//!
//! A tarball whose every named image already exists in containerd is skipped, so a
//! restart does not re-read gigabytes. One bad tarball is reported and the rest still
//! import: a kubelet must start even with a corrupt file in the directory.
//!
//! Registry pulls, pull policies and pull secrets are in [`service`] (the image manager)
//! and [`reference`] (image names, policies); the registry client is
//! [`crate::runtime::pull`].

pub mod pod_images;
pub mod reference;
pub mod service;

use std::path::{Path, PathBuf};

use crate::runtime::oci_layout::OciLayout;
use crate::runtime::{Containerd, RuntimeError};

/// `<root-dir>/images`: where the kubelet looks for image tarballs.
pub fn default_images_dir(root_dir: &Path) -> PathBuf {
    root_dir.join("images")
}

/// What [`import_dir`] did with each tarball.
#[derive(Debug, Default, Clone, PartialEq, Eq)]
pub struct ImportReport {
    /// Tarballs imported, with the image names they carried.
    pub imported: Vec<(PathBuf, Vec<String>)>,
    /// Tarballs skipped because all their images were already present.
    pub skipped: Vec<PathBuf>,
    /// Tarballs that failed, with the error.
    pub failed: Vec<(PathBuf, String)>,
    /// (image name, repo digest) of every image imported or already present, for
    /// containers' imageID.
    pub digests: Vec<(String, String)>,
}

/// `docker.io/library/busybox:latest` + `sha256:..` -> (name, `repo@sha256:..`).
fn repo_digest_of(name: &str, digest: &str) -> Option<(String, String)> {
    let parsed = reference::ImageName::parse(name).ok()?;
    Some((parsed.full_name(), parsed.repo_digest(digest)))
}

/// The `*.tar` files directly in `dir`, sorted so imports happen in a stable order.
/// A missing directory has no tarballs (it is optional).
pub fn tarballs(dir: &Path) -> std::io::Result<Vec<PathBuf>> {
    let entries = match std::fs::read_dir(dir) {
        Ok(e) => e,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
        Err(e) => {
            return Err(std::io::Error::new(
                e.kind(),
                format!("reading images dir {}: {e}", dir.display()),
            ))
        }
    };
    let mut out = Vec::new();
    for entry in entries {
        let path = entry
            .map_err(|e| std::io::Error::new(e.kind(), format!("listing {}: {e}", dir.display())))?
            .path();
        if path.extension().is_some_and(|x| x == "tar") && path.is_file() {
            out.push(path);
        }
    }
    out.sort();
    Ok(out)
}

/// The image names a tarball's index.json declares, with their target digests (reads
/// the whole tarball).
async fn names_in(path: &Path) -> Result<Vec<(String, String)>, RuntimeError> {
    let p = path.to_path_buf();
    let layout = tokio::task::spawn_blocking(move || OciLayout::read_tar(&p))
        .await
        .map_err(|e| RuntimeError::Io {
            context: format!("reading {}", path.display()),
            source: std::io::Error::other(e),
        })??;
    Ok(layout
        .named_images()?
        .into_iter()
        .map(|(name, desc)| (name, desc.digest))
        .collect())
}

/// Imports every tarball in `dir` whose images are not all in containerd yet.
/// Only listing the directory or containerd's images can fail the whole call.
pub async fn import_dir(runtime: &Containerd, dir: &Path) -> Result<ImportReport, RuntimeError> {
    let files = tarballs(dir).map_err(|source| RuntimeError::Io {
        context: "finding image tarballs".into(),
        source,
    })?;
    let mut report = ImportReport::default();
    if files.is_empty() {
        tracing::info!(dir = %dir.display(), "no image tarballs to import");
        return Ok(report);
    }
    let present = runtime.list_images().await?;
    for file in files {
        // Reading the index costs a pass over the tarball, far less than an import.
        match names_in(&file).await {
            Ok(names) if names.iter().all(|(n, _)| present.contains(n)) => {
                tracing::info!(file = %file.display(), images = ?names, "images already present, skipping");
                report
                    .digests
                    .extend(names.iter().filter_map(|(n, d)| repo_digest_of(n, d)));
                report.skipped.push(file);
                continue;
            }
            Ok(_) => {}
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "not an OCI image tarball");
                report.failed.push((file, e.to_string()));
                continue;
            }
        }
        match runtime.import_image(&file).await {
            Ok(imported) => {
                report.digests.extend(
                    imported
                        .iter()
                        .filter_map(|i| repo_digest_of(&i.name, &i.target_digest)),
                );
                let names: Vec<String> = imported.into_iter().map(|i| i.name).collect();
                tracing::info!(file = %file.display(), images = ?names, "imported images");
                report.imported.push((file, names));
            }
            Err(e) => {
                tracing::warn!(file = %file.display(), error = %e, "importing image tarball");
                report.failed.push((file, e.to_string()));
            }
        }
    }
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn finds_only_tar_files_sorted() {
        let dir = tempfile::tempdir().unwrap_or_else(|e| panic!("{e}"));
        for f in ["b.tar", "a.tar", "c.tar.gz", "notes.txt"] {
            std::fs::write(dir.path().join(f), b"x").unwrap_or_else(|e| panic!("{e}"));
        }
        std::fs::create_dir(dir.path().join("d.tar")).unwrap_or_else(|e| panic!("{e}"));
        let got = tarballs(dir.path()).unwrap_or_else(|e| panic!("{e}"));
        assert_eq!(
            got,
            vec![dir.path().join("a.tar"), dir.path().join("b.tar")]
        );
        assert!(tarballs(&dir.path().join("missing"))
            .unwrap_or_else(|e| panic!("{e}"))
            .is_empty());
        assert_eq!(
            default_images_dir(Path::new("/var/lib/kubelet")),
            Path::new("/var/lib/kubelet/images")
        );
    }
}
