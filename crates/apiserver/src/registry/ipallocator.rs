//! ClusterIP and NodePort allocation for Services, from --service-cluster-ip-range and
//! --service-node-port-range. Used addresses and ports are read from the Services
//! watch cache; a lock serialises allocations within this apiserver.

use std::collections::HashSet;
use std::net::{IpAddr, Ipv4Addr, Ipv6Addr};

use api_types::validation::FieldError;
use rand::Rng;
use serde_json::Value;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Cidr {
    pub addr: IpAddr,
    pub prefix: u8,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, String> {
        let (a, p) = s
            .split_once('/')
            .ok_or_else(|| format!("{s:?} is not a CIDR"))?;
        let addr: IpAddr = a.parse().map_err(|e| format!("{s:?}: {e}"))?;
        let prefix: u8 = p.parse().map_err(|e| format!("{s:?}: {e}"))?;
        let max = if addr.is_ipv4() { 32 } else { 128 };
        if prefix > max {
            return Err(format!("{s:?}: prefix longer than {max}"));
        }
        Ok(Cidr { addr, prefix })
    }

    fn bits(&self) -> u32 {
        if self.addr.is_ipv4() {
            32
        } else {
            128
        }
    }

    fn base(&self) -> u128 {
        let host_bits = self.bits() - u32::from(self.prefix);
        let v = to_u128(self.addr);
        if host_bits >= 128 {
            0
        } else {
            (v >> host_bits) << host_bits
        }
    }

    /// Number of addresses in the range (capped for huge IPv6 ranges).
    fn size(&self) -> u128 {
        let host_bits = self.bits() - u32::from(self.prefix);
        if host_bits >= 64 {
            1 << 64
        } else {
            1u128 << host_bits
        }
    }

    pub fn contains(&self, ip: IpAddr) -> bool {
        ip.is_ipv4() == self.addr.is_ipv4() && {
            let v = to_u128(ip);
            v >= self.base() && v < self.base() + self.size()
        }
    }

    /// The n-th address of the range (the tenth is kube-dns' by convention).
    pub fn nth(&self, n: u128) -> Option<IpAddr> {
        (n < self.size()).then(|| from_u128(self.base() + n, self.addr.is_ipv4()))
    }
}

fn to_u128(ip: IpAddr) -> u128 {
    match ip {
        IpAddr::V4(v4) => u128::from(u32::from(v4)),
        IpAddr::V6(v6) => u128::from(v6),
    }
}

fn from_u128(v: u128, v4: bool) -> IpAddr {
    if v4 {
        IpAddr::V4(Ipv4Addr::from(v as u32))
    } else {
        IpAddr::V6(Ipv6Addr::from(v))
    }
}

fn bad(e: FieldError) -> Result<(), Box<FieldError>> {
    Err(Box::new(e))
}

pub struct ServiceAllocator {
    pub range: Cidr,
    pub node_ports: (u16, u16),
    lock: tokio::sync::Mutex<()>,
}

/// What the existing Services use.
#[derive(Debug, Default)]
pub struct InUse {
    pub ips: HashSet<IpAddr>,
    pub node_ports: HashSet<(u16, String)>,
}

impl InUse {
    pub fn add_service(&mut self, data: &Value) {
        let spec = &data["spec"];
        for ip in spec["clusterIPs"]
            .as_array()
            .into_iter()
            .flatten()
            .chain(std::iter::once(&spec["clusterIP"]))
        {
            if let Some(ip) = ip.as_str().and_then(|s| s.parse().ok()) {
                self.ips.insert(ip);
            }
        }
        for p in spec["ports"].as_array().into_iter().flatten() {
            if let Some(np) = p["nodePort"].as_u64().and_then(|n| u16::try_from(n).ok()) {
                let proto = p["protocol"].as_str().unwrap_or("TCP").to_string();
                self.node_ports.insert((np, proto));
            }
        }
    }
}

impl ServiceAllocator {
    pub fn new(range: &str, node_ports: &str) -> Result<ServiceAllocator, String> {
        let range = Cidr::parse(range)?;
        let (lo, hi) = node_ports
            .split_once('-')
            .ok_or_else(|| format!("{node_ports:?} is not a port range"))?;
        let lo: u16 = lo
            .trim()
            .parse()
            .map_err(|e| format!("{node_ports:?}: {e}"))?;
        let hi: u16 = hi
            .trim()
            .parse()
            .map_err(|e| format!("{node_ports:?}: {e}"))?;
        if lo > hi {
            return Err(format!("{node_ports:?}: empty range"));
        }
        Ok(ServiceAllocator {
            range,
            node_ports: (lo, hi),
            lock: tokio::sync::Mutex::new(()),
        })
    }

    /// Serialises allocations (held across the read of used values and the write).
    pub async fn lock(&self) -> tokio::sync::MutexGuard<'_, ()> {
        self.lock.lock().await
    }

    /// The address of the `kubernetes` Service: the first of the range.
    pub fn first(&self) -> Option<IpAddr> {
        self.range.nth(1)
    }

    /// Fills spec.clusterIP(s) and node ports of a new Service's `data`, or reports
    /// the field that cannot be honoured.
    pub fn allocate(&self, data: &mut Value, used: &InUse) -> Result<(), Box<FieldError>> {
        let spec = match data.get_mut("spec") {
            Some(s) if s.is_object() => s,
            _ => return Ok(()),
        };
        let ty = spec["type"].as_str().unwrap_or("ClusterIP").to_string();
        if ty != "ExternalName" {
            let requested = spec["clusterIP"].as_str().unwrap_or("").to_string();
            let ip = match requested.as_str() {
                "None" => None,
                "" => Some(self.free_ip(used).ok_or_else(|| {
                    Box::new(FieldError::invalid(
                        "spec.clusterIPs",
                        Value::Null,
                        "failed to allocate IP: range is full",
                    ))
                })?),
                s => {
                    let ip: IpAddr = s.parse().map_err(|_| {
                        Box::new(FieldError::invalid(
                            "spec.clusterIPs",
                            serde_json::json!([s]),
                            "must be a valid IP address",
                        ))
                    })?;
                    if !self.range.contains(ip) {
                        return bad(FieldError::invalid(
                            "spec.clusterIPs",
                            serde_json::json!([s]),
                            format!(
                                "failed to allocate IP {s}: the provided IP ({s}) is not in the valid range. The range of valid IPs is {}/{}",
                                self.range.addr, self.range.prefix
                            ),
                        ));
                    }
                    if used.ips.contains(&ip) {
                        return bad(FieldError::invalid(
                            "spec.clusterIPs",
                            serde_json::json!([s]),
                            format!("failed to allocate IP {s}: provided IP is already allocated"),
                        ));
                    }
                    Some(ip)
                }
            };
            match ip {
                Some(ip) => {
                    spec["clusterIP"] = Value::String(ip.to_string());
                    spec["clusterIPs"] = serde_json::json!([ip.to_string()]);
                }
                None => {
                    spec["clusterIP"] = Value::String("None".into());
                    spec["clusterIPs"] = serde_json::json!(["None"]);
                }
            }
        }
        if matches!(ty.as_str(), "NodePort" | "LoadBalancer") {
            let mut taken: HashSet<(u16, String)> = used.node_ports.clone();
            if let Some(ports) = spec.get_mut("ports").and_then(Value::as_array_mut) {
                for (i, p) in ports.iter_mut().enumerate() {
                    let proto = p["protocol"].as_str().unwrap_or("TCP").to_string();
                    match p["nodePort"].as_u64() {
                        Some(n) => {
                            let n = u16::try_from(n).unwrap_or(0);
                            if n < self.node_ports.0 || n > self.node_ports.1 {
                                return bad(FieldError::invalid(
                                    format!("spec.ports[{i}].nodePort"),
                                    n,
                                    format!(
                                        "provided port is not in the valid range. The range of valid ports is {}-{}",
                                        self.node_ports.0, self.node_ports.1
                                    ),
                                ));
                            }
                            if !taken.insert((n, proto)) {
                                return bad(FieldError::invalid(
                                    format!("spec.ports[{i}].nodePort"),
                                    n,
                                    "provided port is already allocated",
                                ));
                            }
                        }
                        None => {
                            let n = self.free_port(&taken, &proto).ok_or_else(|| {
                                Box::new(FieldError::invalid(
                                    format!("spec.ports[{i}].nodePort"),
                                    Value::Null,
                                    "range is full",
                                ))
                            })?;
                            taken.insert((n, proto));
                            p["nodePort"] = Value::from(n);
                        }
                    }
                }
            }
        }
        Ok(())
    }

    fn free_ip(&self, used: &InUse) -> Option<IpAddr> {
        // Skip the network address and the first address (the kubernetes Service's).
        let size = self.range.size().min(1 << 20);
        if size < 4 {
            return None;
        }
        let mut rng = rand::rng();
        let start = rng.random_range(2..size - 1);
        (start..size - 1)
            .chain(2..start)
            .filter_map(|n| self.range.nth(n))
            .find(|ip| !used.ips.contains(ip))
    }

    fn free_port(&self, taken: &HashSet<(u16, String)>, proto: &str) -> Option<u16> {
        let (lo, hi) = self.node_ports;
        let start = rand::rng().random_range(lo..=hi);
        (start..=hi)
            .chain(lo..start)
            .find(|p| !taken.contains(&(*p, proto.to_string())))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn cidr_math() {
        let c = Cidr::parse("10.96.0.0/12").unwrap();
        assert!(c.contains("10.111.255.255".parse().unwrap()));
        assert!(!c.contains("10.112.0.0".parse().unwrap()));
        assert_eq!(c.nth(10), Some("10.96.0.10".parse().unwrap()));
        assert!(Cidr::parse("10.0.0.0/33").is_err());
    }

    #[test]
    fn allocates_free_ip_and_node_ports() {
        let a = ServiceAllocator::new("10.96.0.0/29", "30000-30001").unwrap();
        let mut used = InUse::default();
        for _ in 0..5 {
            let mut svc =
                serde_json::json!({"spec": {"type": "NodePort", "ports": [{"port": 80}]}});
            match a.allocate(&mut svc, &used) {
                Ok(()) => used.add_service(&svc),
                Err(e) => {
                    assert!(
                        e.to_string().contains("nodePort") || e.to_string().contains("clusterIPs"),
                        "{e}"
                    );
                    break;
                }
            }
        }
        assert_eq!(used.node_ports.len(), 2);
        let mut taken = serde_json::json!({"spec": {"clusterIP": used.ips.iter().next().unwrap().to_string(), "ports": []}});
        assert!(a.allocate(&mut taken, &used).is_err());
        let mut headless = serde_json::json!({"spec": {"clusterIP": "None"}});
        assert!(a.allocate(&mut headless, &used).is_ok());
        assert_eq!(headless["spec"]["clusterIPs"], serde_json::json!(["None"]));
    }
}
