//! The CNI exec protocol: run each plugin of a network list as a child process with the
//! CNI_* environment and its JSON config on stdin, chain results through `prevResult`,
//! and keep the ADD result on disk because DEL (spec 0.4.0+) must be given it back.

use std::io::Write;
use std::net::IpAddr;
use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

use serde::{Deserialize, Serialize};
use serde_json::{json, Map, Value};

use super::config::{self, NetworkConfigList};
use super::{write_atomic, CniError, Result};

/// Where plugins, configs and the result cache live. Upstream defaults are
/// `/opt/cni/bin` (Debian: `/usr/lib/cni`), `/etc/cni/net.d`, `/var/lib/cni`.
#[derive(Debug, Clone)]
pub struct Cni {
    pub bin_dirs: Vec<PathBuf>,
    pub conf_dir: PathBuf,
    pub cache_dir: PathBuf,
}

/// The pod a sandbox belongs to, passed to plugins as CNI_ARGS (K8S_POD_*).
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
pub struct PodArgs {
    pub namespace: String,
    pub name: String,
    pub uid: String,
}

/// One hostPort mapping, in the `portMappings` capability's wire format.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct PortMapping {
    pub host_port: u16,
    pub container_port: u16,
    /// "tcp", "udp" or "sctp" (lower case, as the portmap plugin expects).
    pub protocol: String,
    #[serde(rename = "hostIP", default, skip_serializing_if = "Option::is_none")]
    pub host_ip: Option<String>,
}

/// Runtime-provided capability arguments (spec "Dynamic plugin-specific fields").
/// Only plugins that declare a capability in their config receive it in `runtimeConfig`.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct CapabilityArgs {
    pub port_mappings: Vec<PortMapping>,
    /// Any other capability (e.g. "bandwidth", "ipRanges"), by its conventional key.
    pub other: Map<String, Value>,
}

impl CapabilityArgs {
    /// All capabilities as one map; empty ones are left out so plugins see no noise.
    pub fn to_map(&self) -> Map<String, Value> {
        let mut m = self.other.clone();
        if !self.port_mappings.is_empty() {
            m.insert("portMappings".into(), json!(self.port_mappings));
        }
        m
    }

    fn from_map(mut m: Map<String, Value>) -> Self {
        let port_mappings = m
            .remove("portMappings")
            .and_then(|v| serde_json::from_value(v).ok())
            .unwrap_or_default();
        Self {
            port_mappings,
            other: m,
        }
    }
}

/// One attachment of a network to a sandbox: what ADD, CHECK and DEL are called with.
#[derive(Debug, Clone)]
pub struct Sandbox {
    /// The pod sandbox (infra container) id: CNI_CONTAINERID and K8S_POD_INFRA_CONTAINER_ID.
    pub container_id: String,
    /// Path of the sandbox's network namespace, e.g. /var/run/netns/cni-<uuid>.
    pub netns: PathBuf,
    /// Interface name inside the sandbox, "eth0" for Kubernetes pods.
    pub ifname: String,
    pub pod: Option<PodArgs>,
    pub capabilities: CapabilityArgs,
}

/// A parsed CNI result (spec 0.3.0 – 1.0.0 layout; 0.1/0.2 `ip4`/`ip6` is converted).
/// `raw` keeps the plugin's exact JSON, which is what is chained and cached.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase", default)]
pub struct CniResult {
    pub cni_version: String,
    pub interfaces: Vec<Interface>,
    pub ips: Vec<IpConfig>,
    pub routes: Vec<Route>,
    pub dns: Dns,
    #[serde(skip)]
    pub raw: Value,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Interface {
    pub name: String,
    pub mac: Option<String>,
    /// Set (to the netns path) for interfaces inside the sandbox; empty/None on the host.
    pub sandbox: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct IpConfig {
    /// CIDR notation, e.g. "10.244.1.5/24".
    pub address: String,
    pub gateway: Option<String>,
    /// Index into `interfaces`.
    pub interface: Option<usize>,
}

impl IpConfig {
    /// The address without its prefix length.
    pub fn ip(&self) -> Option<IpAddr> {
        parse_cidr(&self.address).map(|(ip, _)| ip)
    }
    pub fn prefix_len(&self) -> Option<u8> {
        parse_cidr(&self.address).map(|(_, len)| len)
    }
    pub fn gateway_ip(&self) -> Option<IpAddr> {
        self.gateway.as_deref().and_then(|g| g.parse().ok())
    }
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Route {
    pub dst: String,
    pub gw: Option<String>,
}

#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(default)]
pub struct Dns {
    pub nameservers: Vec<String>,
    pub domain: Option<String>,
    pub search: Vec<String>,
    pub options: Vec<String>,
}

impl CniResult {
    /// The pod's IPs: those on the sandbox interface `ifname` (what the kubelet reports as
    /// status.podIPs); when the result names no interfaces, every IP.
    pub fn pod_ips(&self, ifname: &str) -> Vec<IpAddr> {
        let on_if = |c: &IpConfig| match c.interface.and_then(|i| self.interfaces.get(i)) {
            Some(intf) => {
                intf.name == ifname && intf.sandbox.as_deref().is_some_and(|s| !s.is_empty())
            }
            None => true,
        };
        let ips: Vec<IpAddr> = self
            .ips
            .iter()
            .filter(|c| on_if(c))
            .filter_map(IpConfig::ip)
            .collect();
        if ips.is_empty() {
            self.ips.iter().filter_map(IpConfig::ip).collect()
        } else {
            ips
        }
    }
}

/// "a.b.c.d/n" or "x::y/n" into its parts.
pub fn parse_cidr(s: &str) -> Option<(IpAddr, u8)> {
    let (ip, len) = s.split_once('/')?;
    let ip: IpAddr = ip.parse().ok()?;
    let len: u8 = len.parse().ok()?;
    let max = if ip.is_ipv4() { 32 } else { 128 };
    (len <= max).then_some((ip, len))
}

/// Parses a plugin's stdout as a result.
pub fn parse_result(bytes: &[u8]) -> std::result::Result<CniResult, String> {
    let raw: Value = serde_json::from_slice(bytes).map_err(|e| format!("invalid JSON: {e}"))?;
    let Value::Object(obj) = &raw else {
        return Err("result is not a JSON object".into());
    };
    let mut result: CniResult = if obj.contains_key("ip4") || obj.contains_key("ip6") {
        legacy_result(obj)
    } else {
        serde_json::from_value(raw.clone()).map_err(|e| format!("bad result: {e}"))?
    };
    for ip in &result.ips {
        if parse_cidr(&ip.address).is_none() {
            return Err(format!("bad IP address {:?} in result", ip.address));
        }
    }
    result.raw = raw;
    Ok(result)
}

/// Spec 0.1.0/0.2.0 results: `{"ip4": {"ip": cidr, "gateway": ip, "routes": [...]}}`.
fn legacy_result(obj: &Map<String, Value>) -> CniResult {
    let mut r = CniResult {
        cni_version: obj
            .get("cniVersion")
            .and_then(Value::as_str)
            .unwrap_or("0.2.0")
            .into(),
        ..Default::default()
    };
    for key in ["ip4", "ip6"] {
        let Some(ipc) = obj.get(key) else { continue };
        if let Some(addr) = ipc.get("ip").and_then(Value::as_str) {
            r.ips.push(IpConfig {
                address: addr.into(),
                gateway: ipc.get("gateway").and_then(Value::as_str).map(String::from),
                interface: None,
            });
        }
        if let Some(routes) = ipc.get("routes") {
            if let Ok(mut routes) = serde_json::from_value::<Vec<Route>>(routes.clone()) {
                r.routes.append(&mut routes);
            }
        }
    }
    if let Some(dns) = obj.get("dns") {
        r.dns = serde_json::from_value(dns.clone()).unwrap_or_default();
    }
    r
}

/// The spec's error object, if `bytes` is one: (code, msg, details).
pub fn parse_error(bytes: &[u8]) -> Option<(u32, String, String)> {
    let v: Value = serde_json::from_slice(bytes).ok()?;
    let code = v.get("code")?.as_u64()?;
    let text = |k: &str| v.get(k).and_then(Value::as_str).unwrap_or("").to_string();
    Some((
        u32::try_from(code).unwrap_or(u32::MAX),
        text("msg"),
        text("details"),
    ))
}

/// CNI_ARGS pairs the way kubelet/containerd send them. IgnoreUnknown=1 first, so plugins
/// that do not know the K8S_* keys accept them instead of failing.
pub fn cni_args(container_id: &str, pod: Option<&PodArgs>) -> Vec<(String, String)> {
    let mut args = vec![("IgnoreUnknown".to_string(), "1".to_string())];
    if let Some(pod) = pod {
        args.push(("K8S_POD_NAMESPACE".into(), pod.namespace.clone()));
        args.push(("K8S_POD_NAME".into(), pod.name.clone()));
        args.push(("K8S_POD_INFRA_CONTAINER_ID".into(), container_id.into()));
        args.push(("K8S_POD_UID".into(), pod.uid.clone()));
    }
    args
}

/// "K=V;K=V", the CNI_ARGS wire format.
pub fn format_cni_args(args: &[(String, String)]) -> String {
    args.iter()
        .map(|(k, v)| format!("{k}={v}"))
        .collect::<Vec<_>>()
        .join(";")
}

/// The stdin config for plugin `index` of `net`: its own object plus the list's name and
/// cniVersion, the previous plugin's result (chaining), and the runtimeConfig entries for
/// the capabilities this plugin declares (libcni's injectRuntimeConfig).
pub fn plugin_config(
    net: &NetworkConfigList,
    index: usize,
    prev_result: Option<&Value>,
    capabilities: &Map<String, Value>,
) -> Value {
    let mut conf = net.plugins.get(index).cloned().unwrap_or_default();
    conf.insert("name".into(), Value::String(net.name.clone()));
    conf.insert("cniVersion".into(), Value::String(net.cni_version.clone()));
    if let Some(prev) = prev_result {
        conf.insert("prevResult".into(), prev.clone());
    }
    let declared = conf.get("capabilities").and_then(Value::as_object);
    let mut runtime = Map::new();
    for (cap, value) in capabilities {
        let enabled = declared
            .and_then(|d| d.get(cap))
            .and_then(Value::as_bool)
            .unwrap_or(false);
        if enabled {
            runtime.insert(cap.clone(), value.clone());
        }
    }
    if !runtime.is_empty() {
        conf.insert("runtimeConfig".into(), Value::Object(runtime));
    }
    Value::Object(conf)
}

/// True when spec version `v` is at least `min` (numeric, dotted).
pub fn version_at_least(v: &str, min: &str) -> bool {
    let parse = |s: &str| -> Vec<u32> { s.split('.').map(|p| p.parse().unwrap_or(0)).collect() };
    parse(v) >= parse(min)
}

#[derive(Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct CacheEntry {
    kind: String,
    container_id: String,
    if_name: String,
    network_name: String,
    cni_args: Vec<(String, String)>,
    capability_args: Map<String, Value>,
    result: Value,
}

#[derive(Clone, Copy)]
enum Op {
    Add,
    Check,
    Del,
}

impl Op {
    fn as_str(self) -> &'static str {
        match self {
            Op::Add => "ADD",
            Op::Check => "CHECK",
            Op::Del => "DEL",
        }
    }
}

impl Cni {
    /// The node's network: the lexically first config file in `conf_dir`.
    pub fn load_network(&self) -> Result<NetworkConfigList> {
        config::load_first(&self.conf_dir)
    }

    /// Attaches `sb` to `net`: runs every plugin in order with CNI_COMMAND=ADD, each given
    /// the previous result, and caches the final result for DEL. On error nothing is undone:
    /// like kubelet/containerd, the caller calls [`Cni::del`] to release what was set up.
    pub fn add(&self, net: &NetworkConfigList, sb: &Sandbox) -> Result<CniResult> {
        let args = cni_args(&sb.container_id, sb.pod.as_ref());
        let caps = sb.capabilities.to_map();
        let mut prev: Option<Value> = None;
        let mut last_plugin = String::new();
        for i in 0..net.plugins.len() {
            let stdin = plugin_config(net, i, prev.as_ref(), &caps);
            let out = self.exec(net.plugin_type(i), Op::Add, sb, &args, &stdin)?;
            last_plugin = net.plugin_type(i).to_string();
            // A conformant plugin always prints a result on ADD; if one prints nothing,
            // keep the chain's previous result rather than losing it.
            if !out.iter().all(u8::is_ascii_whitespace) {
                let parsed = parse_result(&out).map_err(|reason| CniError::BadResult {
                    plugin: last_plugin.clone(),
                    command: "ADD".into(),
                    reason,
                })?;
                prev = Some(parsed.raw);
            }
        }
        let raw = prev.unwrap_or_else(|| json!({ "cniVersion": net.cni_version }));
        let result =
            parse_result(raw.to_string().as_bytes()).map_err(|reason| CniError::BadResult {
                plugin: last_plugin,
                command: "ADD".into(),
                reason,
            })?;
        let entry = CacheEntry {
            kind: "cniCacheV1".into(),
            container_id: sb.container_id.clone(),
            if_name: sb.ifname.clone(),
            network_name: net.name.clone(),
            cni_args: args,
            capability_args: caps,
            result: raw,
        };
        let path = self.cache_path(&net.name, &sb.container_id, &sb.ifname);
        let bytes = serde_json::to_vec_pretty(&entry).map_err(|e| CniError::Cache {
            path: path.clone(),
            reason: e.to_string(),
        })?;
        write_atomic(&path, &bytes)?;
        Ok(result)
    }

    /// Verifies an attachment (spec 0.4.0+): every plugin with CNI_COMMAND=CHECK and the
    /// cached ADD result as prevResult. A no-op for older versions or disableCheck lists.
    pub fn check(&self, net: &NetworkConfigList, sb: &Sandbox) -> Result<()> {
        if net.disable_check || !version_at_least(&net.cni_version, "0.4.0") {
            return Ok(());
        }
        let cached = self.read_cache(&net.name, &sb.container_id, &sb.ifname)?;
        let Some(cached) = cached else {
            return Err(CniError::Cache {
                path: self.cache_path(&net.name, &sb.container_id, &sb.ifname),
                reason: "no cached ADD result to check against".into(),
            });
        };
        let args = cni_args(&sb.container_id, sb.pod.as_ref());
        let caps = merge_caps(&sb.capabilities, cached.capability_args);
        for i in 0..net.plugins.len() {
            let stdin = plugin_config(net, i, Some(&cached.result), &caps);
            self.exec(net.plugin_type(i), Op::Check, sb, &args, &stdin)?;
        }
        Ok(())
    }

    /// Detaches `sb`: every plugin in reverse order with CNI_COMMAND=DEL and the cached ADD
    /// result as prevResult (0.4.0+). Safe to repeat and to call after a failed ADD or after
    /// the netns is gone (plugins must tolerate missing resources). Every plugin runs even if
    /// one fails, so as much as possible is released; the first error is returned and the
    /// cache kept, so a retry still has the result.
    pub fn del(&self, net: &NetworkConfigList, sb: &Sandbox) -> Result<()> {
        let cached = self.read_cache(&net.name, &sb.container_id, &sb.ifname)?;
        let args = cni_args(&sb.container_id, sb.pod.as_ref());
        let (prev, cached_caps) = match cached {
            Some(c) => (Some(c.result), c.capability_args),
            None => (None, Map::new()),
        };
        let prev = prev.filter(|_| version_at_least(&net.cni_version, "0.4.0"));
        // The spec wants DEL to see the same runtime config as ADD; if the caller no longer
        // has it (e.g. after a kubelet restart), use what was cached at ADD time.
        let caps = merge_caps(&sb.capabilities, cached_caps);
        let mut first_err = None;
        for i in (0..net.plugins.len()).rev() {
            let stdin = plugin_config(net, i, prev.as_ref(), &caps);
            if let Err(e) = self.exec(net.plugin_type(i), Op::Del, sb, &args, &stdin) {
                tracing::warn!(error = %e, container_id = %sb.container_id, "CNI DEL step failed");
                first_err.get_or_insert(e);
            }
        }
        if let Some(e) = first_err {
            return Err(e);
        }
        let path = self.cache_path(&net.name, &sb.container_id, &sb.ifname);
        match std::fs::remove_file(&path) {
            Ok(()) => Ok(()),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(()),
            Err(e) => Err(CniError::Cache {
                path,
                reason: format!("removing: {e}"),
            }),
        }
    }

    /// The ADD result cached for an attachment, if any (e.g. to report pod IPs after a
    /// kubelet restart without re-running ADD).
    pub fn cached_result(
        &self,
        net_name: &str,
        container_id: &str,
        ifname: &str,
    ) -> Result<Option<CniResult>> {
        let Some(entry) = self.read_cache(net_name, container_id, ifname)? else {
            return Ok(None);
        };
        let path = self.cache_path(net_name, container_id, ifname);
        parse_result(entry.result.to_string().as_bytes())
            .map(Some)
            .map_err(|reason| CniError::Cache { path, reason })
    }

    /// libcni's layout: <cache_dir>/results/<network>-<containerID>-<ifname>.
    pub fn cache_path(&self, net_name: &str, container_id: &str, ifname: &str) -> PathBuf {
        self.cache_dir
            .join("results")
            .join(format!("{net_name}-{container_id}-{ifname}"))
    }

    fn read_cache(
        &self,
        net_name: &str,
        container_id: &str,
        ifname: &str,
    ) -> Result<Option<CacheEntry>> {
        let path = self.cache_path(net_name, container_id, ifname);
        let bytes = match std::fs::read(&path) {
            Ok(b) => b,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
            Err(e) => {
                return Err(CniError::Cache {
                    path,
                    reason: e.to_string(),
                })
            }
        };
        serde_json::from_slice(&bytes)
            .map(Some)
            .map_err(|e| CniError::Cache {
                path,
                reason: e.to_string(),
            })
    }

    /// Finds a plugin binary: the first bin dir holding an executable file of that name.
    pub fn find_plugin(&self, plugin: &str) -> Result<PathBuf> {
        // A type with a path separator could escape the bin dirs; refuse it.
        if !plugin.contains('/') && !plugin.is_empty() {
            for dir in &self.bin_dirs {
                let p = dir.join(plugin);
                if is_executable(&p) {
                    return Ok(p);
                }
            }
        }
        Err(CniError::PluginNotFound {
            plugin: plugin.into(),
            dirs: self.bin_dirs.clone(),
        })
    }

    fn exec(
        &self,
        plugin: &str,
        op: Op,
        sb: &Sandbox,
        args: &[(String, String)],
        stdin_conf: &Value,
    ) -> Result<Vec<u8>> {
        let bin = self.find_plugin(plugin)?;
        let command = op.as_str();
        let exec_err = |source| CniError::Exec {
            plugin: plugin.into(),
            command: command.into(),
            source,
        };
        let cni_path = std::env::join_paths(&self.bin_dirs)
            .map_err(|e| exec_err(std::io::Error::new(std::io::ErrorKind::InvalidInput, e)))?;
        let mut child = Command::new(&bin)
            .env("CNI_COMMAND", command)
            .env("CNI_CONTAINERID", &sb.container_id)
            .env("CNI_NETNS", &sb.netns)
            .env("CNI_IFNAME", &sb.ifname)
            .env("CNI_ARGS", format_cni_args(args))
            .env("CNI_PATH", cni_path)
            .stdin(Stdio::piped())
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .map_err(exec_err)?;
        let data = stdin_conf.to_string().into_bytes();
        // Feed stdin from another thread so a plugin writing before it reads cannot
        // deadlock us on full pipes.
        let writer = child.stdin.take().map(|mut stdin| {
            std::thread::spawn(move || {
                // A plugin may exit without reading stdin; its exit status tells the story.
                let _ = stdin.write_all(&data);
            })
        });
        let output = child.wait_with_output().map_err(exec_err)?;
        if let Some(w) = writer {
            let _ = w.join();
        }
        if output.status.success() {
            return Ok(output.stdout);
        }
        let stderr = String::from_utf8_lossy(&output.stderr).trim().to_string();
        // Spec 1.0 prints the error on stdout; some plugins use stderr.
        if let Some((code, msg, details)) =
            parse_error(&output.stdout).or_else(|| parse_error(&output.stderr))
        {
            return Err(CniError::Plugin {
                plugin: plugin.into(),
                command: command.into(),
                code,
                msg,
                details,
                stderr,
            });
        }
        let stdout = String::from_utf8_lossy(&output.stdout).trim().to_string();
        Err(CniError::PluginFailed {
            plugin: plugin.into(),
            command: command.into(),
            status: output.status.to_string(),
            output: [stdout, stderr]
                .into_iter()
                .filter(|s| !s.is_empty())
                .collect::<Vec<_>>()
                .join(" / "),
        })
    }
}

/// Caller's capability args win; missing ones come from the cache.
fn merge_caps(current: &CapabilityArgs, cached: Map<String, Value>) -> Map<String, Value> {
    let mut caps = CapabilityArgs::from_map(cached).to_map();
    for (k, v) in current.to_map() {
        caps.insert(k, v);
    }
    caps
}

fn is_executable(p: &Path) -> bool {
    use std::os::unix::fs::PermissionsExt;
    std::fs::metadata(p).is_ok_and(|m| m.is_file() && m.permissions().mode() & 0o111 != 0)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn net() -> NetworkConfigList {
        NetworkConfigList::parse(
            br#"{"cniVersion":"1.0.0","name":"k8s","plugins":[
                {"type":"bridge","bridge":"cni0"},
                {"type":"portmap","capabilities":{"portMappings":true}}]}"#,
            false,
            None,
        )
        .unwrap()
    }

    #[test]
    fn injects_name_version_prev_result_and_capabilities() {
        let n = net();
        let caps = CapabilityArgs {
            port_mappings: vec![PortMapping {
                host_port: 8080,
                container_port: 80,
                protocol: "tcp".into(),
                host_ip: None,
            }],
            other: Map::from_iter([("bandwidth".to_string(), json!({"ingressRate": 1}))]),
        }
        .to_map();
        let first = plugin_config(&n, 0, None, &caps);
        assert_eq!(first["name"], "k8s");
        assert_eq!(first["cniVersion"], "1.0.0");
        assert_eq!(first["bridge"], "cni0");
        assert!(first.get("prevResult").is_none());
        // bridge declares no capabilities: no runtimeConfig at all.
        assert!(first.get("runtimeConfig").is_none());

        let prev = json!({"cniVersion":"1.0.0","ips":[{"address":"10.1.0.2/24"}]});
        let second = plugin_config(&n, 1, Some(&prev), &caps);
        assert_eq!(second["prevResult"], prev);
        assert_eq!(
            second["runtimeConfig"],
            json!({"portMappings":[{"hostPort":8080,"containerPort":80,"protocol":"tcp"}]})
        );
    }

    #[test]
    fn builds_cni_args() {
        let pod = PodArgs {
            namespace: "default".into(),
            name: "web-0".into(),
            uid: "u-1".into(),
        };
        assert_eq!(
            format_cni_args(&cni_args("abc", Some(&pod))),
            "IgnoreUnknown=1;K8S_POD_NAMESPACE=default;K8S_POD_NAME=web-0;\
             K8S_POD_INFRA_CONTAINER_ID=abc;K8S_POD_UID=u-1"
        );
        assert_eq!(format_cni_args(&cni_args("abc", None)), "IgnoreUnknown=1");
    }

    #[test]
    fn parses_current_result() {
        let out = br#"{"cniVersion":"1.0.0",
          "interfaces":[{"name":"cni0","mac":"aa:bb:cc:dd:ee:ff"},
                        {"name":"veth1","mac":"aa:bb:cc:dd:ee:01"},
                        {"name":"eth0","mac":"aa:bb:cc:dd:ee:02","sandbox":"/var/run/netns/x"}],
          "ips":[{"interface":2,"address":"10.244.3.7/24","gateway":"10.244.3.1"},
                 {"interface":2,"address":"fd00::7/64","gateway":"fd00::1"}],
          "routes":[{"dst":"0.0.0.0/0","gw":"10.244.3.1"}],
          "dns":{"nameservers":["10.96.0.10"]}}"#;
        let r = parse_result(out).unwrap();
        assert_eq!(r.interfaces.len(), 3);
        assert_eq!(r.ips[0].ip(), Some("10.244.3.7".parse().unwrap()));
        assert_eq!(r.ips[0].prefix_len(), Some(24));
        assert_eq!(r.ips[0].gateway_ip(), Some("10.244.3.1".parse().unwrap()));
        assert_eq!(
            r.pod_ips("eth0"),
            vec![
                "10.244.3.7".parse::<IpAddr>().unwrap(),
                "fd00::7".parse().unwrap()
            ]
        );
        assert_eq!(r.routes[0].gw.as_deref(), Some("10.244.3.1"));
        assert_eq!(r.dns.nameservers, ["10.96.0.10"]);
        assert_eq!(r.raw["cniVersion"], "1.0.0");
    }

    #[test]
    fn parses_legacy_result_and_rejects_garbage() {
        let r = parse_result(
            br#"{"cniVersion":"0.2.0","ip4":{"ip":"10.0.0.5/16","gateway":"10.0.0.1"}}"#,
        )
        .unwrap();
        assert_eq!(
            r.pod_ips("eth0"),
            vec!["10.0.0.5".parse::<IpAddr>().unwrap()]
        );
        assert!(parse_result(b"not json").is_err());
        assert!(parse_result(b"[]").is_err());
        assert!(parse_result(br#"{"ips":[{"address":"10.0.0.5"}]}"#).is_err());
    }

    #[test]
    fn parses_error_object() {
        let e = parse_error(br#"{"cniVersion":"1.0.0","code":7,"msg":"bad","details":"d"}"#);
        assert_eq!(e, Some((7, "bad".into(), "d".into())));
        assert_eq!(parse_error(br#"{"cniVersion":"1.0.0"}"#), None);
    }

    #[test]
    fn compares_versions() {
        assert!(version_at_least("1.0.0", "0.4.0"));
        assert!(version_at_least("0.4.0", "0.4.0"));
        assert!(!version_at_least("0.3.1", "0.4.0"));
    }

    /// Exercises exec, chaining, the cache and error mapping with a scripted fake plugin
    /// (no root needed; the real plugins are covered by tests/cni.rs).
    #[test]
    fn runs_chain_with_fake_plugins() {
        use std::os::unix::fs::PermissionsExt;
        let bin = tempfile::tempdir().unwrap();
        let cache = tempfile::tempdir().unwrap();
        let log = bin.path().join("log");
        // Echoes a fixed result on ADD, records command + stdin, fails when told to.
        let script = format!(
            "#!/bin/sh\nin=$(cat)\necho \"$CNI_COMMAND $CNI_IFNAME $CNI_ARGS $in\" >> {log}\n\
             case \"$in\" in *\\\"fail\\\":true*) echo '{{\"code\":11,\"msg\":\"boom\",\"details\":\"why\"}}'; exit 1;; esac\n\
             if [ \"$CNI_COMMAND\" = ADD ]; then echo '{{\"cniVersion\":\"1.0.0\",\"ips\":[{{\"address\":\"10.9.0.2/24\",\"gateway\":\"10.9.0.1\"}}]}}'; fi\n",
            log = log.display()
        );
        for name in ["fake-a", "fake-b"] {
            let p = bin.path().join(name);
            std::fs::write(&p, &script).unwrap();
            std::fs::set_permissions(&p, std::fs::Permissions::from_mode(0o755)).unwrap();
        }
        let cni = Cni {
            bin_dirs: vec!["/nonexistent".into(), bin.path().into()],
            conf_dir: bin.path().into(),
            cache_dir: cache.path().into(),
        };
        let net = NetworkConfigList::parse(
            br#"{"cniVersion":"1.0.0","name":"t","plugins":[{"type":"fake-a"},{"type":"fake-b"}]}"#,
            false,
            None,
        )
        .unwrap();
        let sb = Sandbox {
            container_id: "c1".into(),
            netns: "/var/run/netns/none".into(),
            ifname: "eth0".into(),
            pod: None,
            capabilities: CapabilityArgs::default(),
        };
        let r = cni.add(&net, &sb).unwrap();
        assert_eq!(
            r.pod_ips("eth0"),
            vec!["10.9.0.2".parse::<IpAddr>().unwrap()]
        );
        assert!(cni.cache_path("t", "c1", "eth0").exists());
        assert_eq!(
            cni.cached_result("t", "c1", "eth0").unwrap().unwrap().ips,
            r.ips
        );
        cni.check(&net, &sb).unwrap();
        cni.del(&net, &sb).unwrap();
        assert!(!cni.cache_path("t", "c1", "eth0").exists());
        let lines: Vec<String> = std::fs::read_to_string(&log)
            .unwrap()
            .lines()
            .map(String::from)
            .collect();
        // ADD a, ADD b (with a's result), CHECK a, CHECK b, DEL b, DEL a.
        let cmds: Vec<&str> = lines.iter().map(|l| l.split(' ').next().unwrap()).collect();
        assert_eq!(cmds, ["ADD", "ADD", "CHECK", "CHECK", "DEL", "DEL"]);
        assert!(!lines[0].contains("prevResult"));
        assert!(lines[1].contains("prevResult") && lines[1].contains("10.9.0.2/24"));
        assert!(lines[4].contains("prevResult") && lines[4].contains("\"type\":\"fake-b\""));

        let bad = NetworkConfigList::parse(
            br#"{"cniVersion":"1.0.0","name":"t","plugins":[{"type":"fake-a","fail":true}]}"#,
            false,
            None,
        )
        .unwrap();
        match cni.add(&bad, &sb) {
            Err(CniError::Plugin {
                code, msg, details, ..
            }) => {
                assert_eq!((code, msg.as_str(), details.as_str()), (11, "boom", "why"))
            }
            other => panic!("unexpected {other:?}"),
        }
        let missing = NetworkConfigList::parse(
            br#"{"cniVersion":"1.0.0","name":"t","plugins":[{"type":"nope"}]}"#,
            false,
            None,
        )
        .unwrap();
        assert!(matches!(
            cni.add(&missing, &sb),
            Err(CniError::PluginNotFound { .. })
        ));
    }
}
