//! The kubelet API's TLS: the serving certificate from --tls-cert-file/--tls-private-key-file,
//! or (like upstream) a self-signed one created once under `<root-dir>/pki`; client
//! certificates verified against authentication.x509.clientCAFile.

use std::net::IpAddr;
use std::path::{Path, PathBuf};

use anyhow::{Context, Result};

/// Where the certificate comes from.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TlsFiles {
    pub cert: Option<PathBuf>,
    pub key: Option<PathBuf>,
    pub client_ca: Option<PathBuf>,
}

/// Creates `<dir>/kubelet.crt` and `<dir>/kubelet.key` (upstream's names) for the node's
/// hostname and IP unless both exist; returns their paths.
pub fn ensure_self_signed(dir: &Path, hostname: &str, ip: IpAddr) -> Result<(PathBuf, PathBuf)> {
    let cert = dir.join("kubelet.crt");
    let key = dir.join("kubelet.key");
    if cert.exists() && key.exists() {
        return Ok((cert, key));
    }
    std::fs::create_dir_all(dir).with_context(|| format!("creating {}", dir.display()))?;
    let mut names = vec![hostname.to_string(), ip.to_string()];
    if hostname != "localhost" {
        names.push("localhost".into());
    }
    let generated = rcgen::generate_simple_self_signed(names)
        .context("generating the kubelet's self-signed serving certificate")?;
    write_private(&key, generated.signing_key.serialize_pem().as_bytes())?;
    std::fs::write(&cert, generated.cert.pem())
        .with_context(|| format!("writing {}", cert.display()))?;
    Ok((cert, key))
}

fn write_private(path: &Path, data: &[u8]) -> Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new()
        .create(true)
        .truncate(true)
        .write(true)
        .mode(0o600)
        .open(path)
        .with_context(|| format!("writing {}", path.display()))?;
    f.write_all(data)
        .with_context(|| format!("writing {}", path.display()))
}

/// The rustls config: HTTP/1.1 only (the streaming upgrades are HTTP/1.1), client
/// certificates verified against the CA when offered; the server refuses requests
/// without one (except /healthz).
pub fn server_config(
    files: &TlsFiles,
    self_signed_dir: &Path,
    hostname: &str,
    ip: IpAddr,
) -> Result<rustls::ServerConfig> {
    let (cert, key) = match (&files.cert, &files.key) {
        (Some(c), Some(k)) => (c.clone(), k.clone()),
        (None, None) => ensure_self_signed(self_signed_dir, hostname, ip)?,
        _ => anyhow::bail!("--tls-cert-file and --tls-private-key-file must be given together"),
    };
    component_base::tls::server_config(&cert, &key, files.client_ca.as_deref(), false)
        .with_context(|| format!("loading the kubelet serving certificate {}", cert.display()))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn self_signed_is_created_once_and_loads() {
        let dir = tempfile::tempdir().unwrap();
        let ip: IpAddr = "10.0.0.5".parse().unwrap();
        let (c1, k1) = ensure_self_signed(dir.path(), "node-a", ip).unwrap();
        let first = std::fs::read(&c1).unwrap();
        let (c2, _) = ensure_self_signed(dir.path(), "node-a", ip).unwrap();
        assert_eq!(first, std::fs::read(&c2).unwrap());
        let files = TlsFiles {
            cert: None,
            key: None,
            client_ca: None,
        };
        server_config(&files, dir.path(), "node-a", ip).unwrap();
        let partial = TlsFiles {
            cert: Some(c1),
            key: None,
            client_ca: None,
        };
        assert!(server_config(&partial, dir.path(), "node-a", ip).is_err());
        let mode =
            std::os::unix::fs::PermissionsExt::mode(&std::fs::metadata(&k1).unwrap().permissions());
        assert_eq!(mode & 0o777, 0o600);
    }
}
