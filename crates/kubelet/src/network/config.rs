//! CNI network configuration: loading the node's network list from the conf dir and
//! rendering the default bridge network the install writes.

use std::path::{Path, PathBuf};

use serde_json::{json, Map, Value};

use super::{CniError, Result};

/// The CNI spec version this kubelet writes and speaks by default.
pub const DEFAULT_CNI_VERSION: &str = "1.0.0";

/// File name the install gives the default network; "10-" sorts it before most
/// add-ons' files only if they use higher numbers, as with k3s and kubeadm guides.
pub const DEFAULT_CONFLIST_NAME: &str = "10-ferrokube.conflist";

/// File extensions libcni (and so kubelet/containerd) consider network configs.
const CONF_EXTENSIONS: &[&str] = &["conf", "conflist", "json"];

/// A network configuration list (spec section "Network Configuration Lists").
/// Single-plugin `.conf` files are normalised into a one-element list, as libcni does.
#[derive(Debug, Clone, PartialEq)]
pub struct NetworkConfigList {
    pub name: String,
    pub cni_version: String,
    pub disable_check: bool,
    /// Each plugin's raw configuration object (must carry `type`).
    pub plugins: Vec<Map<String, Value>>,
    /// Where it was loaded from, for error messages (None when built in memory).
    pub source: Option<PathBuf>,
}

impl NetworkConfigList {
    /// Parses a `.conflist` document, or a single-plugin `.conf` one when `single` is set.
    pub fn parse(bytes: &[u8], single: bool, source: Option<&Path>) -> Result<Self> {
        let where_ = || {
            source
                .map(|p| p.display().to_string())
                .unwrap_or_else(|| "<memory>".into())
        };
        let invalid = |reason: String| CniError::InvalidConfig {
            path: where_(),
            reason,
        };
        let doc: Value = serde_json::from_slice(bytes).map_err(|source| CniError::ParseConfig {
            path: where_(),
            source,
        })?;
        let Value::Object(mut obj) = doc else {
            return Err(invalid("not a JSON object".into()));
        };
        let name = match obj.get("name") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => return Err(invalid("missing network \"name\"".into())),
        };
        // Spec 0.1.0 configs may omit cniVersion; libcni treats that as 0.1.0.
        let cni_version = match obj.get("cniVersion") {
            Some(Value::String(s)) if !s.is_empty() => s.clone(),
            _ => "0.1.0".to_string(),
        };
        let disable_check = matches!(obj.get("disableCheck"), Some(Value::Bool(true)));
        let plugins = if single {
            // A .conf file is itself the plugin config; keep it whole (minus nothing: the
            // plugin tolerates name/cniVersion, which we re-inject anyway).
            if !matches!(obj.get("type"), Some(Value::String(_))) {
                return Err(invalid("missing plugin \"type\"".into()));
            }
            vec![obj]
        } else {
            let Some(Value::Array(list)) = obj.remove("plugins") else {
                return Err(invalid("missing \"plugins\" array".into()));
            };
            let mut plugins = Vec::with_capacity(list.len());
            for (i, p) in list.into_iter().enumerate() {
                let Value::Object(p) = p else {
                    return Err(invalid(format!("plugins[{i}] is not an object")));
                };
                if !matches!(p.get("type"), Some(Value::String(t)) if !t.is_empty()) {
                    return Err(invalid(format!("plugins[{i}] has no \"type\"")));
                }
                plugins.push(p);
            }
            if plugins.is_empty() {
                return Err(invalid("\"plugins\" is empty".into()));
            }
            plugins
        };
        Ok(Self {
            name,
            cni_version,
            disable_check,
            plugins,
            source: source.map(Path::to_path_buf),
        })
    }

    /// Reads one file, choosing list or single-plugin parsing by extension like libcni.
    pub fn from_file(path: &Path) -> Result<Self> {
        let bytes = std::fs::read(path).map_err(|source| CniError::ReadConfig {
            path: path.to_path_buf(),
            source,
        })?;
        let single = path.extension().and_then(|e| e.to_str()) != Some("conflist");
        Self::parse(&bytes, single, Some(path))
    }

    /// The `type` of plugin `i` (validated at parse time).
    pub fn plugin_type(&self, i: usize) -> &str {
        self.plugins
            .get(i)
            .and_then(|p| p.get("type"))
            .and_then(Value::as_str)
            .unwrap_or("")
    }
}

/// Loads the lexically first network config in `conf_dir` (kubelet/containerd behaviour:
/// the file that sorts first wins, so "10-x.conflist" beats "20-y.conf").
pub fn load_first(conf_dir: &Path) -> Result<NetworkConfigList> {
    let entries = std::fs::read_dir(conf_dir).map_err(|source| CniError::ReadConfig {
        path: conf_dir.to_path_buf(),
        source,
    })?;
    let mut files: Vec<PathBuf> = Vec::new();
    for entry in entries {
        let entry = entry.map_err(|source| CniError::ReadConfig {
            path: conf_dir.to_path_buf(),
            source,
        })?;
        let path = entry.path();
        let ext_ok = path
            .extension()
            .and_then(|e| e.to_str())
            .is_some_and(|e| CONF_EXTENSIONS.contains(&e));
        if ext_ok && path.is_file() {
            files.push(path);
        }
    }
    files.sort();
    let Some(first) = files.first() else {
        return Err(CniError::NoConfig {
            dir: conf_dir.to_path_buf(),
        });
    };
    NetworkConfigList::from_file(first)
}

/// The default pod network: a Linux bridge with host-local IPAM over the node's
/// podCIDR(s), port mapping for hostPort, and loopback, as k3s/kubeadm bridge guides use.
#[derive(Debug, Clone)]
pub struct BridgeNetwork {
    /// Network name (also names iptables chains and host-local's data subdir).
    pub name: String,
    /// Bridge device on the host, `cni0` by default.
    pub bridge: String,
    /// The node's podCIDRs (one per family; dual-stack gives two).
    pub pod_cidrs: Vec<String>,
    /// host-local's lease directory; None keeps the plugin default /var/lib/cni/networks.
    pub ipam_data_dir: Option<PathBuf>,
    /// Masquerade traffic leaving the pod subnet (off-node egress).
    pub ip_masq: bool,
}

impl BridgeNetwork {
    pub fn new(pod_cidrs: Vec<String>) -> Self {
        Self {
            name: "ferrokube".into(),
            bridge: "cni0".into(),
            pod_cidrs,
            ipam_data_dir: None,
            ip_masq: true,
        }
    }

    /// The conflist document (cniVersion 1.0.0).
    pub fn to_json(&self) -> Value {
        // host-local: one range set per podCIDR => one address per family.
        let ranges: Vec<Value> = self
            .pod_cidrs
            .iter()
            .map(|c| json!([{ "subnet": c }]))
            .collect();
        let mut routes = Vec::new();
        if self.pod_cidrs.iter().any(|c| !c.contains(':')) {
            routes.push(json!({ "dst": "0.0.0.0/0" }));
        }
        if self.pod_cidrs.iter().any(|c| c.contains(':')) {
            routes.push(json!({ "dst": "::/0" }));
        }
        let mut ipam = json!({ "type": "host-local", "ranges": ranges, "routes": routes });
        if let (Some(dir), Value::Object(m)) = (&self.ipam_data_dir, &mut ipam) {
            m.insert("dataDir".into(), json!(dir.display().to_string()));
        }
        json!({
            "cniVersion": DEFAULT_CNI_VERSION,
            "name": self.name,
            "plugins": [
                {
                    "type": "bridge",
                    "bridge": self.bridge,
                    // The bridge holds the gateway address and is the pods' default route.
                    "isGateway": true,
                    "ipMasq": self.ip_masq,
                    // Lets a pod reach itself through a Service VIP.
                    "hairpinMode": true,
                    "ipam": ipam
                },
                // hostPort support: the runtime passes portMappings as a capability.
                { "type": "portmap", "capabilities": { "portMappings": true }, "snat": true },
                // Brings up lo in the pod; passes the bridge's result through unchanged.
                { "type": "loopback" }
            ]
        })
    }

    /// Pretty-printed conflist text, as written to disk.
    pub fn render(&self) -> String {
        // Serialising a Value cannot fail; fall back to compact just in case.
        serde_json::to_string_pretty(&self.to_json()).unwrap_or_else(|_| self.to_json().to_string())
            + "\n"
    }

    /// Writes the conflist into `conf_dir` atomically (temp file + rename), so a kubelet
    /// scanning the dir never reads a half-written file. Returns the written path.
    pub fn write_to(&self, conf_dir: &Path) -> Result<PathBuf> {
        let path = conf_dir.join(DEFAULT_CONFLIST_NAME);
        super::write_atomic(&path, self.render().as_bytes())?;
        Ok(path)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_conflist() {
        let text = br#"{"cniVersion":"1.0.0","name":"n","disableCheck":true,
            "plugins":[{"type":"bridge","bridge":"b"},{"type":"portmap"}]}"#;
        let l = NetworkConfigList::parse(text, false, None).unwrap();
        assert_eq!(l.name, "n");
        assert_eq!(l.cni_version, "1.0.0");
        assert!(l.disable_check);
        assert_eq!(l.plugins.len(), 2);
        assert_eq!(l.plugin_type(1), "portmap");
    }

    #[test]
    fn parses_single_conf_as_list() {
        let text = br#"{"cniVersion":"0.4.0","name":"n","type":"bridge","bridge":"b"}"#;
        let l = NetworkConfigList::parse(text, true, None).unwrap();
        assert_eq!(l.plugins.len(), 1);
        assert_eq!(l.plugin_type(0), "bridge");
    }

    #[test]
    fn rejects_bad_configs() {
        for (text, single) in [
            (&br#"{"name":"n","plugins":[]}"#[..], false),
            (br#"{"plugins":[{"type":"x"}]}"#, false),
            (br#"{"name":"n","plugins":[{"bridge":"x"}]}"#, false),
            (br#"{"name":"n"}"#, true),
            (br#"[1]"#, false),
            (br#"{"#, false),
        ] {
            assert!(
                NetworkConfigList::parse(text, single, None).is_err(),
                "{}",
                String::from_utf8_lossy(text)
            );
        }
    }

    #[test]
    fn load_first_picks_lexically_first() {
        let dir = tempfile::tempdir().unwrap();
        let conf =
            |name: &str| format!(r#"{{"cniVersion":"1.0.0","name":"{name}","type":"bridge"}}"#);
        std::fs::write(dir.path().join("20-b.conf"), conf("b")).unwrap();
        std::fs::write(dir.path().join("05-ignored.txt"), "junk").unwrap();
        std::fs::write(
            dir.path().join("10-a.conflist"),
            r#"{"cniVersion":"1.0.0","name":"a","plugins":[{"type":"bridge"}]}"#,
        )
        .unwrap();
        assert_eq!(load_first(dir.path()).unwrap().name, "a");
        let empty = tempfile::tempdir().unwrap();
        assert!(matches!(
            load_first(empty.path()),
            Err(CniError::NoConfig { .. })
        ));
    }

    #[test]
    fn default_conflist_shape() {
        let mut n = BridgeNetwork::new(vec!["10.42.0.0/24".into(), "fd00:42::/64".into()]);
        n.ipam_data_dir = Some("/tmp/x".into());
        let dir = tempfile::tempdir().unwrap();
        let path = n.write_to(dir.path()).unwrap();
        let l = NetworkConfigList::from_file(&path).unwrap();
        assert_eq!(l.name, "ferrokube");
        assert_eq!(l.cni_version, DEFAULT_CNI_VERSION);
        let types: Vec<_> = (0..l.plugins.len()).map(|i| l.plugin_type(i)).collect();
        assert_eq!(types, ["bridge", "portmap", "loopback"]);
        let bridge = &l.plugins[0];
        assert_eq!(bridge["bridge"], "cni0");
        assert_eq!(bridge["isGateway"], true);
        assert_eq!(bridge["ipam"]["type"], "host-local");
        assert_eq!(bridge["ipam"]["dataDir"], "/tmp/x");
        assert_eq!(bridge["ipam"]["ranges"][0][0]["subnet"], "10.42.0.0/24");
        assert_eq!(bridge["ipam"]["ranges"][1][0]["subnet"], "fd00:42::/64");
        assert_eq!(bridge["ipam"]["routes"][1]["dst"], "::/0");
        assert_eq!(l.plugins[1]["capabilities"]["portMappings"], true);
    }
}
