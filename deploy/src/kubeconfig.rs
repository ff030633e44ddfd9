//! kubeconfig files with the CA and credentials embedded (`*-data` fields, base64), so a
//! kubeconfig can be copied to another machine on its own.

use std::path::Path;

use anyhow::{Context, Result};
use base64::engine::general_purpose::STANDARD;
use base64::Engine as _;

use crate::fsutil::write_private;
use crate::pki::{CertPair, Pki};

/// How the user authenticates.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Credentials {
    /// A client certificate and its key (PEM).
    ClientCertificate { cert_pem: String, key_pem: String },
    /// A bearer token (as listed in `--token-auth-file`).
    Token(String),
}

/// One cluster, one user, one context (the current one).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Kubeconfig {
    /// Name of the cluster entry (and of the context).
    pub cluster_name: String,
    /// `https://host:port`.
    pub server: String,
    /// The CA that signed the server's certificate (PEM).
    pub ca_pem: String,
    /// Name of the user entry.
    pub user_name: String,
    pub credentials: Credentials,
    /// Default namespace of the context, if any.
    pub namespace: Option<String>,
}

impl Kubeconfig {
    /// A kubeconfig authenticating with a client certificate read from `pair`.
    pub fn with_client_cert(
        cluster_name: &str,
        server: &str,
        ca_pem: &str,
        user_name: &str,
        pair: &CertPair,
    ) -> Result<Kubeconfig> {
        Ok(Kubeconfig {
            cluster_name: cluster_name.to_string(),
            server: server.to_string(),
            ca_pem: ca_pem.to_string(),
            user_name: user_name.to_string(),
            credentials: Credentials::ClientCertificate {
                cert_pem: pair.cert_pem()?,
                key_pem: pair.key_pem()?,
            },
            namespace: None,
        })
    }

    /// A kubeconfig authenticating with a bearer token.
    pub fn with_token(
        cluster_name: &str,
        server: &str,
        ca_pem: &str,
        user_name: &str,
        token: &str,
    ) -> Kubeconfig {
        Kubeconfig {
            cluster_name: cluster_name.to_string(),
            server: server.to_string(),
            ca_pem: ca_pem.to_string(),
            user_name: user_name.to_string(),
            credentials: Credentials::Token(token.to_string()),
            namespace: None,
        }
    }

    /// The admin kubeconfig of a PKI made by [`crate::pki::ensure_pki`].
    pub fn admin(pki: &Pki, cluster_name: &str, server: &str) -> Result<Kubeconfig> {
        Kubeconfig::with_client_cert(
            cluster_name,
            server,
            &pki.ca_pem()?,
            crate::pki::ADMIN_USER,
            &pki.admin(),
        )
    }

    /// The name of the context: `<user>@<cluster>` like kubeadm.
    pub fn context_name(&self) -> String {
        format!("{}@{}", self.user_name, self.cluster_name)
    }

    /// The kubeconfig as YAML (every string is a double-quoted scalar, so any name is safe).
    pub fn to_yaml(&self) -> String {
        let q = |s: &str| serde_json::Value::String(s.to_string()).to_string();
        let b64 = |s: &str| q(&STANDARD.encode(s.as_bytes()));
        let context = self.context_name();
        let mut out = String::new();
        out.push_str("apiVersion: v1\nkind: Config\npreferences: {}\n");
        out.push_str("clusters:\n");
        out.push_str(&format!("- name: {}\n  cluster:\n", q(&self.cluster_name)));
        out.push_str(&format!("    server: {}\n", q(&self.server)));
        out.push_str(&format!(
            "    certificate-authority-data: {}\n",
            b64(&self.ca_pem)
        ));
        out.push_str("users:\n");
        out.push_str(&format!("- name: {}\n  user:\n", q(&self.user_name)));
        match &self.credentials {
            Credentials::ClientCertificate { cert_pem, key_pem } => {
                out.push_str(&format!("    client-certificate-data: {}\n", b64(cert_pem)));
                out.push_str(&format!("    client-key-data: {}\n", b64(key_pem)));
            }
            Credentials::Token(token) => out.push_str(&format!("    token: {}\n", q(token))),
        }
        out.push_str("contexts:\n");
        out.push_str(&format!("- name: {}\n  context:\n", q(&context)));
        out.push_str(&format!("    cluster: {}\n", q(&self.cluster_name)));
        out.push_str(&format!("    user: {}\n", q(&self.user_name)));
        if let Some(ns) = &self.namespace {
            out.push_str(&format!("    namespace: {}\n", q(ns)));
        }
        out.push_str(&format!("current-context: {}\n", q(&context)));
        out
    }

    /// Writes the kubeconfig with mode 0600 (it holds credentials).
    pub fn write(&self, path: &Path) -> Result<()> {
        write_private(path, self.to_yaml().as_bytes())
            .with_context(|| format!("writing kubeconfig {}", path.display()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn yaml_shape() {
        let mut kc =
            Kubeconfig::with_token("c", "https://127.0.0.1:6443", "PEM", "system:admin", "t\"k");
        kc.namespace = Some("ns".into());
        let y = kc.to_yaml();
        assert!(
            y.contains("    server: \"https://127.0.0.1:6443\"\n"),
            "{y}"
        );
        assert!(
            y.contains("    certificate-authority-data: \"UEVN\"\n"),
            "{y}"
        );
        assert!(y.contains("    token: \"t\\\"k\"\n"), "{y}");
        assert!(y.contains("current-context: \"system:admin@c\"\n"), "{y}");
        assert!(y.contains("    namespace: \"ns\"\n"), "{y}");
    }
}
