//! The pod's /etc/resolv.conf and /etc/hosts, as pure functions with upstream's rules
//! (kubelet `network/dns` `GetPodDNS` and `managedHostsFileContent`). The worker writes
//! them under the pod directory and bind-mounts them into every container.

use k8s_openapi::api::core::v1::Pod;

/// Upstream's limits (`validation.MaxDNSNameservers`, `MaxDNSSearchPaths`).
pub const MAX_NAMESERVERS: usize = 3;
pub const MAX_SEARCH_PATHS: usize = 32;

/// What the kubelet configuration says about cluster DNS.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ClusterDns {
    /// KubeletConfiguration clusterDNS.
    pub servers: Vec<String>,
    /// KubeletConfiguration clusterDomain (cluster.local by default).
    pub domain: String,
}

/// A parsed resolv.conf.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct ResolvConf {
    pub nameservers: Vec<String>,
    pub searches: Vec<String>,
    pub options: Vec<String>,
}

impl ResolvConf {
    /// Parses `nameserver`, `search` / `domain` and `options` lines (the last search or
    /// domain line wins, as in glibc).
    pub fn parse(text: &str) -> ResolvConf {
        let mut out = ResolvConf::default();
        for line in text.lines() {
            let line = line.split(['#', ';']).next().unwrap_or("").trim();
            let mut fields = line.split_whitespace();
            match fields.next() {
                Some("nameserver") => out.nameservers.extend(fields.next().map(str::to_string)),
                Some("search") | Some("domain") => {
                    out.searches = fields.map(str::to_string).collect();
                }
                Some("options") => out.options.extend(fields.map(str::to_string)),
                _ => {}
            }
        }
        out
    }

    /// The file's text (upstream's order: search, nameserver, options).
    pub fn render(&self) -> String {
        let mut out = String::new();
        if !self.searches.is_empty() {
            out.push_str(&format!("search {}\n", self.searches.join(" ")));
        }
        for ns in &self.nameservers {
            out.push_str(&format!("nameserver {ns}\n"));
        }
        if !self.options.is_empty() {
            out.push_str(&format!("options {}\n", self.options.join(" ")));
        }
        out
    }
}

fn push_unique(list: &mut Vec<String>, v: &str) {
    if !v.is_empty() && !list.iter().any(|x| x == v) {
        list.push(v.to_string());
    }
}

/// Merges options by name (`ndots:5` replaced by a later `ndots:2`).
fn merge_option(options: &mut Vec<String>, opt: &str) {
    let name = opt.split(':').next().unwrap_or(opt);
    match options
        .iter_mut()
        .find(|o| o.split(':').next().unwrap_or(o) == name)
    {
        Some(slot) => *slot = opt.to_string(),
        None => options.push(opt.to_string()),
    }
}

/// The pod's effective dnsPolicy: ClusterFirst for a hostNetwork pod means Default, and
/// ClusterFirst without clusterDNS configured falls back to Default (upstream logs
/// MissingClusterDNS). Returns the policy used.
pub fn effective_policy(pod: &Pod, cluster: &ClusterDns) -> &'static str {
    let spec = pod.spec.as_ref();
    let host_network = spec.and_then(|s| s.host_network).unwrap_or(false);
    let policy = spec
        .and_then(|s| s.dns_policy.as_deref())
        .unwrap_or("ClusterFirst");
    match policy {
        "None" => "None",
        "Default" => "Default",
        "ClusterFirstWithHostNet" if cluster.servers.is_empty() => "Default",
        "ClusterFirstWithHostNet" => "ClusterFirst",
        _ if host_network || cluster.servers.is_empty() => "Default",
        _ => "ClusterFirst",
    }
}

/// The pod's resolv.conf from its dnsPolicy and dnsConfig, the cluster DNS settings and
/// the node's own resolv.conf (for Default, and the host search paths ClusterFirst keeps).
pub fn pod_resolv_conf(pod: &Pod, cluster: &ClusterDns, host: &ResolvConf) -> ResolvConf {
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let mut out = match effective_policy(pod, cluster) {
        "None" => ResolvConf::default(),
        "Default" => host.clone(),
        _ => {
            let domain = cluster.domain.trim_end_matches('.');
            let mut searches = vec![
                format!("{ns}.svc.{domain}"),
                format!("svc.{domain}"),
                domain.to_string(),
            ];
            for s in &host.searches {
                push_unique(&mut searches, s);
            }
            ResolvConf {
                nameservers: cluster.servers.clone(),
                searches,
                options: vec!["ndots:5".into()],
            }
        }
    };
    if let Some(cfg) = pod.spec.as_ref().and_then(|s| s.dns_config.as_ref()) {
        for n in cfg.nameservers.iter().flatten() {
            push_unique(&mut out.nameservers, n);
        }
        for s in cfg.searches.iter().flatten() {
            push_unique(&mut out.searches, s);
        }
        for o in cfg.options.iter().flatten() {
            let opt = match o.value.as_deref() {
                Some(v) => format!("{}:{v}", o.name.as_deref().unwrap_or("")),
                None => o.name.clone().unwrap_or_default(),
            };
            if !opt.is_empty() {
                merge_option(&mut out.options, &opt);
            }
        }
    }
    out.nameservers.truncate(MAX_NAMESERVERS);
    out.searches.truncate(MAX_SEARCH_PATHS);
    out
}

/// The pod's hostname (spec.hostname or the pod name, at most 63 characters).
pub fn pod_hostname(pod: &Pod) -> String {
    let mut hostname = pod
        .spec
        .as_ref()
        .and_then(|s| s.hostname.clone())
        .filter(|h| !h.is_empty())
        .or_else(|| pod.metadata.name.clone())
        .unwrap_or_default();
    hostname.truncate(63);
    hostname.trim_end_matches(['-', '.']).to_string()
}

fn host_aliases(pod: &Pod) -> String {
    let aliases = pod.spec.as_ref().and_then(|s| s.host_aliases.as_ref());
    let Some(aliases) = aliases.filter(|a| !a.is_empty()) else {
        return String::new();
    };
    let mut out = String::from("\n# Entries added by HostAliases.\n");
    for a in aliases {
        let names = a.hostnames.clone().unwrap_or_default().join("\t");
        out.push_str(&format!("{}\t{names}\n", a.ip));
    }
    out
}

/// Upstream `managedHostsFileContent` for a pod with its own network namespace.
pub fn pod_hosts_file(pod: &Pod, pod_ips: &[String], cluster_domain: &str) -> String {
    let mut out = String::from(
        "# Kubernetes-managed hosts file.\n\
         127.0.0.1\tlocalhost\n\
         ::1\tlocalhost ip6-localhost ip6-loopback\n\
         fe00::0\tip6-localnet\n\
         fe00::0\tip6-mcastprefix\n\
         fe00::1\tip6-allnodes\n\
         fe00::2\tip6-allrouters\n",
    );
    let hostname = pod_hostname(pod);
    let ns = pod.metadata.namespace.as_deref().unwrap_or("default");
    let subdomain = pod
        .spec
        .as_ref()
        .and_then(|s| s.subdomain.clone())
        .filter(|s| !s.is_empty());
    for ip in pod_ips {
        match &subdomain {
            Some(sub) => out.push_str(&format!(
                "{ip}\t{hostname}.{sub}.{ns}.svc.{}\t{hostname}\n",
                cluster_domain.trim_end_matches('.')
            )),
            None => out.push_str(&format!("{ip}\t{hostname}\n")),
        }
    }
    out.push_str(&host_aliases(pod));
    out
}

/// Upstream's hosts file for a hostNetwork pod: the node's file plus the aliases.
pub fn host_network_hosts_file(pod: &Pod, node_hosts: &str) -> String {
    let mut out = String::from("# Kubernetes-managed hosts file (host network).\n");
    out.push_str(node_hosts);
    if !out.ends_with('\n') {
        out.push('\n');
    }
    out.push_str(&host_aliases(pod));
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use k8s_openapi::api::core::v1::{HostAlias, PodDNSConfig, PodDNSConfigOption, PodSpec};

    fn pod(policy: Option<&str>, host_network: bool) -> Pod {
        let mut p = Pod::default();
        p.metadata.name = Some("web".into());
        p.metadata.namespace = Some("shop".into());
        p.spec = Some(PodSpec {
            dns_policy: policy.map(str::to_string),
            host_network: Some(host_network),
            ..Default::default()
        });
        p
    }

    fn cluster() -> ClusterDns {
        ClusterDns {
            servers: vec!["10.96.0.10".into()],
            domain: "cluster.local".into(),
        }
    }

    fn host() -> ResolvConf {
        ResolvConf::parse(
            "# generated\nnameserver 192.168.1.1\nsearch corp.example\noptions edns0\n",
        )
    }

    #[test]
    fn parse_host_file() {
        let h = host();
        assert_eq!(h.nameservers, ["192.168.1.1"]);
        assert_eq!(h.searches, ["corp.example"]);
        assert_eq!(h.options, ["edns0"]);
    }

    #[test]
    fn cluster_first() {
        let r = pod_resolv_conf(&pod(None, false), &cluster(), &host());
        assert_eq!(
            r.render(),
            "search shop.svc.cluster.local svc.cluster.local cluster.local corp.example\n\
             nameserver 10.96.0.10\noptions ndots:5\n"
        );
    }

    #[test]
    fn default_host_network_and_fallbacks() {
        let r = pod_resolv_conf(&pod(Some("Default"), false), &cluster(), &host());
        assert_eq!(r, host());
        // hostNetwork + ClusterFirst -> Default; ClusterFirstWithHostNet -> cluster DNS.
        let r = pod_resolv_conf(&pod(None, true), &cluster(), &host());
        assert_eq!(r, host());
        let r = pod_resolv_conf(
            &pod(Some("ClusterFirstWithHostNet"), true),
            &cluster(),
            &host(),
        );
        assert_eq!(r.nameservers, ["10.96.0.10"]);
        // No clusterDNS configured: Default.
        let r = pod_resolv_conf(&pod(None, false), &ClusterDns::default(), &host());
        assert_eq!(r, host());
    }

    #[test]
    fn none_with_dns_config_and_merges() {
        let mut p = pod(Some("None"), false);
        if let Some(s) = p.spec.as_mut() {
            s.dns_config = Some(PodDNSConfig {
                nameservers: Some(vec!["1.1.1.1".into()]),
                searches: Some(vec!["a.example".into()]),
                options: Some(vec![
                    PodDNSConfigOption {
                        name: Some("ndots".into()),
                        value: Some("2".into()),
                    },
                    PodDNSConfigOption {
                        name: Some("edns0".into()),
                        value: None,
                    },
                ]),
            });
        }
        let r = pod_resolv_conf(&p, &cluster(), &host());
        assert_eq!(
            r.render(),
            "search a.example\nnameserver 1.1.1.1\noptions ndots:2 edns0\n"
        );
        if let Some(s) = p.spec.as_mut() {
            s.dns_policy = None;
        }
        let r = pod_resolv_conf(&p, &cluster(), &host());
        assert_eq!(r.options, ["ndots:2", "edns0"]);
        assert_eq!(r.nameservers, ["10.96.0.10", "1.1.1.1"]);
    }

    #[test]
    fn hosts_files() {
        let mut p = pod(None, false);
        let text = pod_hosts_file(&p, &["10.244.0.7".into()], "cluster.local");
        assert!(text.starts_with("# Kubernetes-managed hosts file.\n127.0.0.1\tlocalhost\n"));
        assert!(
            text.ends_with("fe00::2\tip6-allrouters\n10.244.0.7\tweb\n"),
            "{text}"
        );
        if let Some(s) = p.spec.as_mut() {
            s.hostname = Some("db-0".into());
            s.subdomain = Some("db".into());
            s.host_aliases = Some(vec![HostAlias {
                ip: "1.2.3.4".into(),
                hostnames: Some(vec!["foo".into(), "bar".into()]),
            }]);
        }
        let text = pod_hosts_file(&p, &["10.244.0.7".into()], "cluster.local");
        assert!(
            text.ends_with(
                "10.244.0.7\tdb-0.db.shop.svc.cluster.local\tdb-0\n\n\
                 # Entries added by HostAliases.\n1.2.3.4\tfoo\tbar\n"
            ),
            "{text}"
        );
        let text = host_network_hosts_file(&p, "127.0.0.1 localhost");
        assert!(text
            .starts_with("# Kubernetes-managed hosts file (host network).\n127.0.0.1 localhost\n"));
        assert!(text.contains("1.2.3.4\tfoo\tbar"));
    }
}
