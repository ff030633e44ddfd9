//! Registry configuration: k3s-style `registries.yaml` mirrors and per-host settings,
//! and the image pull credentials of `kubernetes.io/dockerconfigjson` secrets.
//!
//! The file (`--registry-config`, default [`DEFAULT_REGISTRY_CONFIG`]) has k3s's shape:
//!
//! ```yaml
//! mirrors:
//!   docker.io:
//!     endpoint: ["http://127.0.0.1:5000"]
//! configs:
//!   "127.0.0.1:5000":
//!     auth: {username: u, password: p}
//!     tls: {insecure_skip_verify: true}
//! ```
//!
//! A pull from `docker.io/...` tries each mirror endpoint in order, then the registry
//! itself (like containerd's hosts resolution); `http://` endpoints are plain HTTP. A
//! `"*"` mirror applies to every registry without its own entry. Everything here is
//! pure: the puller ([`crate::runtime::pull`]) does the I/O.

use std::collections::BTreeMap;
use std::path::Path;

use base64::Engine;
use serde::Deserialize;

/// Where the kubelet reads its registry configuration when no flag names one.
pub const DEFAULT_REGISTRY_CONFIG: &str = "/etc/ferrokube/registries.yaml";
/// The host Docker Hub images are pulled from (docker.io is its name in references).
pub const DOCKER_HUB_HOST: &str = "registry-1.docker.io";

#[derive(Debug, thiserror::Error)]
pub enum RegistryConfigError {
    #[error("reading registry config {path}: {source}")]
    Read {
        path: String,
        #[source]
        source: std::io::Error,
    },
    #[error("parsing registry config {path}: {msg}")]
    Parse { path: String, msg: String },
    #[error("registry config: mirror {registry}: endpoint {endpoint:?}: {msg}")]
    Endpoint {
        registry: String,
        endpoint: String,
        msg: String,
    },
}

/// `registries.yaml` as written.
#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct RegistriesFile {
    pub mirrors: BTreeMap<String, MirrorSpec>,
    pub configs: BTreeMap<String, HostConfigSpec>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct MirrorSpec {
    pub endpoint: Vec<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Deserialize)]
#[serde(default)]
pub struct HostConfigSpec {
    pub auth: Option<AuthSpec>,
    pub tls: Option<TlsSpec>,
}

/// Registry credentials: username/password, `auth` (base64 `user:pass`), or a token.
#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct AuthSpec {
    pub username: Option<String>,
    pub password: Option<String>,
    pub auth: Option<String>,
    #[serde(alias = "identityToken")]
    pub identitytoken: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Eq, Deserialize)]
#[serde(default)]
pub struct TlsSpec {
    pub insecure_skip_verify: bool,
    pub ca_file: Option<String>,
    pub cert_file: Option<String>,
    pub key_file: Option<String>,
}

/// Credentials the puller can present.
#[derive(Clone, PartialEq, Eq)]
pub enum Credential {
    Basic { username: String, password: String },
    Bearer(String),
}

impl std::fmt::Debug for Credential {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        // Never log secrets.
        match self {
            Credential::Basic { username, .. } => write!(f, "Basic({username})"),
            Credential::Bearer(_) => write!(f, "Bearer(..)"),
        }
    }
}

impl AuthSpec {
    /// The credential this entry describes, if any (a bad `auth` is ignored).
    pub fn credential(&self) -> Option<Credential> {
        if let (Some(u), Some(p)) = (&self.username, &self.password) {
            if !u.is_empty() {
                return Some(Credential::Basic {
                    username: u.clone(),
                    password: p.clone(),
                });
            }
        }
        if let Some(encoded) = self.auth.as_deref().filter(|a| !a.is_empty()) {
            let decoded = base64::engine::general_purpose::STANDARD
                .decode(encoded.trim())
                .ok()
                .and_then(|b| String::from_utf8(b).ok());
            if let Some((u, p)) = decoded.as_deref().and_then(|d| d.split_once(':')) {
                return Some(Credential::Basic {
                    username: u.to_string(),
                    password: p.to_string(),
                });
            }
        }
        self.identitytoken
            .as_ref()
            .filter(|t| !t.is_empty())
            .map(|t| Credential::Bearer(t.clone()))
    }
}

/// One place to try an image at.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Endpoint {
    /// `host[:port]` the requests go to.
    pub host: String,
    /// Plain HTTP (an `http://` endpoint).
    pub plain_http: bool,
    pub insecure_skip_verify: bool,
    /// Credentials from `configs.<host>.auth`.
    pub auth: Option<Credential>,
    /// A mirror (false for the registry itself).
    pub mirror: bool,
}

/// The parsed registry configuration.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Registries {
    pub file: RegistriesFile,
}

impl Registries {
    /// Parses `registries.yaml` text; endpoints are validated here so a typo shows at
    /// start, not at the first pull.
    pub fn parse(text: &str, path: &str) -> Result<Self, RegistryConfigError> {
        let file: RegistriesFile = if text.trim().is_empty() {
            RegistriesFile::default()
        } else {
            serde_saphyr::from_str(text).map_err(|e| RegistryConfigError::Parse {
                path: path.to_string(),
                msg: e.to_string(),
            })?
        };
        for (registry, m) in &file.mirrors {
            for ep in &m.endpoint {
                parse_endpoint(ep).map_err(|msg| RegistryConfigError::Endpoint {
                    registry: registry.clone(),
                    endpoint: ep.clone(),
                    msg,
                })?;
            }
        }
        Ok(Registries { file })
    }

    /// Reads the file; a missing file means no mirrors (the default path is optional).
    pub fn load(path: &Path) -> Result<Self, RegistryConfigError> {
        match std::fs::read_to_string(path) {
            Ok(text) => Self::parse(&text, &path.display().to_string()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(Registries::default()),
            Err(source) => Err(RegistryConfigError::Read {
                path: path.display().to_string(),
                source,
            }),
        }
    }

    /// Where to pull an image of `registry` (e.g. `docker.io`) from, in order: its
    /// mirrors (or the `*` mirrors), then the registry itself.
    pub fn endpoints(&self, registry: &str) -> Vec<Endpoint> {
        let mirrors = self
            .file
            .mirrors
            .get(registry)
            .or_else(|| self.file.mirrors.get("*"));
        let mut out: Vec<Endpoint> = Vec::new();
        for raw in mirrors.map(|m| m.endpoint.as_slice()).unwrap_or_default() {
            if let Ok((host, plain_http)) = parse_endpoint(raw) {
                out.push(self.endpoint(host, plain_http, true));
            }
        }
        let default_host = if registry == "docker.io" {
            DOCKER_HUB_HOST.to_string()
        } else {
            registry.to_string()
        };
        if !out.iter().any(|e| e.host == default_host) {
            out.push(self.endpoint(default_host, false, false));
        }
        out
    }

    fn endpoint(&self, host: String, plain_http: bool, mirror: bool) -> Endpoint {
        let cfg = self.file.configs.get(&host);
        Endpoint {
            auth: cfg
                .and_then(|c| c.auth.as_ref())
                .and_then(AuthSpec::credential),
            insecure_skip_verify: cfg
                .and_then(|c| c.tls.as_ref())
                .is_some_and(|t| t.insecure_skip_verify),
            host,
            plain_http,
            mirror,
        }
    }
}

/// `http://127.0.0.1:5000` -> (`127.0.0.1:5000`, plain HTTP). A trailing `/v2` is
/// accepted; other paths are not supported.
pub fn parse_endpoint(raw: &str) -> Result<(String, bool), String> {
    let (plain_http, rest) = if let Some(r) = raw.strip_prefix("http://") {
        (true, r)
    } else if let Some(r) = raw.strip_prefix("https://") {
        (false, r)
    } else if raw.contains("://") {
        return Err("scheme must be http or https".into());
    } else {
        (false, raw)
    };
    let (host, path) = rest.split_once('/').unwrap_or((rest, ""));
    let path = path.trim_end_matches('/');
    if !(path.is_empty() || path == "v2") {
        return Err(format!("path /{path} is not supported"));
    }
    if host.is_empty() {
        return Err("no host".into());
    }
    Ok((host.to_string(), plain_http))
}

// ---- pull secrets --------------------------------------------------------------

/// One registry's entry in a docker config.
#[derive(Debug, Clone, Default, Deserialize)]
struct DockerConfigFile {
    #[serde(default)]
    auths: BTreeMap<String, AuthSpec>,
}

/// Credentials from pull secrets, keyed as written (`https://index.docker.io/v1/`,
/// `registry.example.com:5000`, `*.example.com/team`, ...).
#[derive(Debug, Clone, Default, PartialEq)]
pub struct Keyring {
    entries: Vec<(String, Credential)>,
}

impl Keyring {
    /// Adds a `.dockerconfigjson` (`{"auths": {...}}`) or legacy `.dockercfg` (the map
    /// itself) document.
    pub fn add_docker_config(&mut self, data: &[u8]) -> Result<(), String> {
        let value: serde_json::Value =
            serde_json::from_slice(data).map_err(|e| format!("not JSON: {e}"))?;
        let auths: BTreeMap<String, AuthSpec> = if value.get("auths").is_some() {
            serde_json::from_value::<DockerConfigFile>(value)
                .map_err(|e| e.to_string())?
                .auths
        } else {
            serde_json::from_value(value).map_err(|e| e.to_string())?
        };
        for (key, spec) in auths {
            if let Some(c) = spec.credential() {
                self.entries.push((key, c));
            }
        }
        Ok(())
    }

    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Credentials whose key matches `host` + `repository`, most specific (longest key
    /// path) first, like upstream's credential provider keyring.
    pub fn lookup(&self, host: &str, repository: &str) -> Vec<Credential> {
        let mut hits: Vec<(usize, &Credential)> = self
            .entries
            .iter()
            .filter_map(|(key, c)| key_matches(key, host, repository).map(|len| (len, c)))
            .collect();
        hits.sort_by_key(|h| std::cmp::Reverse(h.0));
        let mut out: Vec<Credential> = Vec::new();
        for (_, c) in hits {
            if !out.contains(c) {
                out.push(c.clone());
            }
        }
        out
    }
}

/// The names Docker Hub is known by in docker configs.
fn canonical_host(host: &str) -> &str {
    match host {
        "index.docker.io" | "registry-1.docker.io" | "registry.hub.docker.com" => "docker.io",
        other => other,
    }
}

/// Some(specificity) when docker-config key `key` covers `host`/`repository`.
fn key_matches(key: &str, host: &str, repository: &str) -> Option<usize> {
    let k = key
        .trim_start_matches("https://")
        .trim_start_matches("http://");
    let (k_host, k_path) = k.split_once('/').unwrap_or((k, ""));
    // Docker Hub's legacy key carries the API version, not a repository path.
    let k_path = k_path.trim_end_matches('/');
    let k_path = if k_path == "v1" || k_path == "v2" {
        ""
    } else {
        k_path
    };
    let want = canonical_host(host);
    let host_ok = match k_host.strip_prefix("*.") {
        Some(suffix) => want
            .strip_suffix(suffix)
            .is_some_and(|pre| pre.ends_with('.') && !pre[..pre.len() - 1].contains('.')),
        None => canonical_host(k_host) == want,
    };
    if !host_ok {
        return None;
    }
    let path_ok =
        k_path.is_empty() || repository == k_path || repository.starts_with(&format!("{k_path}/"));
    if !path_ok {
        return None;
    }
    Some(k_host.len() + k_path.len())
}

#[cfg(test)]
mod tests {
    use super::*;

    const K3S: &str = r#"
mirrors:
  docker.io:
    endpoint:
      - "http://127.0.0.1:5000"
      - "https://mirror.example.com/v2"
configs:
  "mirror.example.com":
    auth:
      username: u
      password: p
    tls:
      insecure_skip_verify: true
"#;

    #[test]
    fn mirrors_come_first_then_the_registry() {
        let r = Registries::parse(K3S, "t").unwrap();
        let eps = r.endpoints("docker.io");
        let hosts: Vec<(&str, bool, bool)> = eps
            .iter()
            .map(|e| (e.host.as_str(), e.plain_http, e.mirror))
            .collect();
        assert_eq!(
            hosts,
            vec![
                ("127.0.0.1:5000", true, true),
                ("mirror.example.com", false, true),
                ("registry-1.docker.io", false, false),
            ]
        );
        assert!(eps[1].insecure_skip_verify);
        assert_eq!(
            eps[1].auth,
            Some(Credential::Basic {
                username: "u".into(),
                password: "p".into()
            })
        );
        assert_eq!(eps[0].auth, None);
        // Other registries have no mirror here.
        let q = r.endpoints("quay.io");
        assert_eq!(q.len(), 1);
        assert_eq!(q[0].host, "quay.io");
        assert!(!q[0].mirror);
    }

    #[test]
    fn wildcard_mirror_and_empty_file() {
        let r =
            Registries::parse("mirrors:\n  \"*\":\n    endpoint: [\"http://m:1\"]\n", "t").unwrap();
        assert_eq!(r.endpoints("ghcr.io")[0].host, "m:1");
        assert_eq!(r.endpoints("ghcr.io")[1].host, "ghcr.io");
        let empty = Registries::parse("", "t").unwrap();
        assert_eq!(empty.endpoints("docker.io")[0].host, DOCKER_HUB_HOST);
    }

    #[test]
    fn bad_endpoints_are_rejected_at_load() {
        for bad in ["ftp://x", "http://", "https://h/some/path"] {
            let text = format!("mirrors:\n  docker.io:\n    endpoint: [\"{bad}\"]\n");
            let err = Registries::parse(&text, "f.yaml").unwrap_err().to_string();
            assert!(err.contains("docker.io"), "{err}");
        }
        assert!(Registries::parse("mirrors: [1", "f.yaml").is_err());
        let missing = Registries::load(Path::new("/nonexistent/registries.yaml")).unwrap();
        assert_eq!(missing, Registries::default());
    }

    #[test]
    fn docker_config_auth_forms() {
        let mut k = Keyring::default();
        // "auth" is base64("alice:s3cret").
        let cfg = br#"{"auths":{
            "https://index.docker.io/v1/":{"auth":"YWxpY2U6czNjcmV0"},
            "registry.example.com:5000":{"username":"bob","password":"pw"},
            "registry.example.com:5000/team":{"username":"team","password":"tp"},
            "*.corp.example":{"identitytoken":"tok"}
        }}"#;
        k.add_docker_config(cfg).unwrap();
        assert_eq!(
            k.lookup("registry-1.docker.io", "library/busybox"),
            vec![Credential::Basic {
                username: "alice".into(),
                password: "s3cret".into()
            }]
        );
        let team = k.lookup("registry.example.com:5000", "team/app");
        assert_eq!(team.len(), 2);
        assert_eq!(
            team[0],
            Credential::Basic {
                username: "team".into(),
                password: "tp".into()
            }
        );
        assert_eq!(k.lookup("registry.example.com:5000", "other/app").len(), 1);
        assert_eq!(
            k.lookup("r.corp.example", "x"),
            vec![Credential::Bearer("tok".into())]
        );
        assert!(k.lookup("a.b.corp.example", "x").is_empty());
        assert!(k.lookup("quay.io", "x").is_empty());
        // Legacy .dockercfg: the map itself.
        let mut legacy = Keyring::default();
        legacy
            .add_docker_config(br#"{"quay.io":{"username":"q","password":"w"}}"#)
            .unwrap();
        assert_eq!(legacy.lookup("quay.io", "x").len(), 1);
        assert!(legacy.add_docker_config(b"nope").is_err());
        // Debug never prints a password.
        assert!(!format!("{:?}", k).contains("s3cret"));
    }
}
