//! A set of equally sized subnets carved from a cluster CIDR (upstream
//! pkg/controller/nodeipam/ipam/cidrset): allocate the next free one, mark existing
//! ones used, release.

use std::collections::BTreeSet;
use std::net::IpAddr;

#[derive(Debug, thiserror::Error, PartialEq)]
pub enum CidrError {
    #[error("invalid CIDR {0:?}")]
    Invalid(String),
    #[error("node CIDR mask size /{node} must be at least the cluster CIDR's /{cluster} and at most /{max}, with at most 2^32 subnets")]
    BadMask { cluster: u8, node: u8, max: u8 },
    #[error("CIDR allocation failed; there are no remaining CIDRs left to allocate in the accepted range")]
    Full,
    #[error("CIDR {cidr} is not in the cluster CIDR {cluster} or has the wrong mask size")]
    OutOfRange { cidr: String, cluster: String },
}

/// A parsed CIDR: the network address as an integer, the prefix length, the width.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Cidr {
    pub addr: u128,
    pub prefix: u8,
    pub v6: bool,
}

impl Cidr {
    pub fn parse(s: &str) -> Result<Cidr, CidrError> {
        let bad = || CidrError::Invalid(s.to_string());
        let (ip, prefix) = s.trim().split_once('/').ok_or_else(bad)?;
        let ip: IpAddr = ip.parse().map_err(|_| bad())?;
        let prefix: u8 = prefix.parse().map_err(|_| bad())?;
        let (addr, bits, v6) = match ip {
            IpAddr::V4(a) => (u128::from(u32::from(a)), 32u8, false),
            IpAddr::V6(a) => (u128::from(a), 128u8, true),
        };
        if prefix > bits {
            return Err(bad());
        }
        let host_bits = u32::from(bits - prefix);
        let mask = if host_bits >= 128 {
            0
        } else {
            !((1u128 << host_bits) - 1)
        };
        Ok(Cidr {
            addr: addr & mask,
            prefix,
            v6,
        })
    }

    pub fn bits(&self) -> u8 {
        if self.v6 {
            128
        } else {
            32
        }
    }

    pub fn render(&self) -> String {
        let ip = if self.v6 {
            IpAddr::V6(std::net::Ipv6Addr::from(self.addr))
        } else {
            IpAddr::V4(std::net::Ipv4Addr::from(
                u32::try_from(self.addr).unwrap_or(0),
            ))
        };
        format!("{ip}/{}", self.prefix)
    }
}

#[derive(Debug)]
pub struct CidrSet {
    cluster: Cidr,
    node_prefix: u8,
    max: u64,
    used: BTreeSet<u64>,
    next: u64,
}

impl CidrSet {
    pub fn new(cluster: &str, node_prefix: u8) -> Result<CidrSet, CidrError> {
        let cluster = Cidr::parse(cluster)?;
        let bad = CidrError::BadMask {
            cluster: cluster.prefix,
            node: node_prefix,
            max: cluster.bits(),
        };
        if node_prefix < cluster.prefix
            || node_prefix > cluster.bits()
            || node_prefix - cluster.prefix > 32
        {
            return Err(bad);
        }
        let max = 1u64 << (node_prefix - cluster.prefix);
        Ok(CidrSet {
            cluster,
            node_prefix,
            max,
            used: BTreeSet::new(),
            next: 0,
        })
    }

    pub fn is_v6(&self) -> bool {
        self.cluster.v6
    }

    fn step(&self) -> u128 {
        let host_bits = u32::from(self.cluster.bits() - self.node_prefix);
        if host_bits >= 128 {
            0
        } else {
            1u128 << host_bits
        }
    }

    fn subnet(&self, index: u64) -> Cidr {
        Cidr {
            addr: self.cluster.addr + u128::from(index) * self.step(),
            prefix: self.node_prefix,
            v6: self.cluster.v6,
        }
    }

    fn index_of(&self, cidr: &str) -> Result<u64, CidrError> {
        let out = || CidrError::OutOfRange {
            cidr: cidr.to_string(),
            cluster: self.cluster.render(),
        };
        let c = Cidr::parse(cidr)?;
        if c.v6 != self.cluster.v6 || c.prefix != self.node_prefix || c.addr < self.cluster.addr {
            return Err(out());
        }
        let step = self.step().max(1);
        let index = (c.addr - self.cluster.addr) / step;
        u64::try_from(index)
            .ok()
            .filter(|i| *i < self.max)
            .ok_or_else(out)
    }

    /// The next free subnet, round-robin from the last allocation as upstream.
    pub fn allocate(&mut self) -> Result<String, CidrError> {
        for i in 0..self.max {
            let candidate = (self.next + i) % self.max;
            if !self.used.contains(&candidate) {
                self.used.insert(candidate);
                self.next = (candidate + 1) % self.max;
                return Ok(self.subnet(candidate).render());
            }
        }
        Err(CidrError::Full)
    }

    /// Marks an existing node's subnet as used.
    pub fn occupy(&mut self, cidr: &str) -> Result<(), CidrError> {
        let i = self.index_of(cidr)?;
        self.used.insert(i);
        Ok(())
    }

    pub fn release(&mut self, cidr: &str) -> Result<(), CidrError> {
        let i = self.index_of(cidr)?;
        self.used.remove(&i);
        Ok(())
    }

    pub fn contains(&self, cidr: &str) -> bool {
        self.index_of(cidr).is_ok_and(|i| self.used.contains(&i))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn allocates_distinct_subnets_until_full() {
        let mut s = CidrSet::new("10.244.0.0/22", 24).unwrap();
        let got: Vec<String> = (0..4).map(|_| s.allocate().unwrap()).collect();
        assert_eq!(
            got,
            [
                "10.244.0.0/24",
                "10.244.1.0/24",
                "10.244.2.0/24",
                "10.244.3.0/24"
            ]
        );
        assert_eq!(s.allocate(), Err(CidrError::Full));
        s.release("10.244.2.0/24").unwrap();
        assert_eq!(s.allocate().unwrap(), "10.244.2.0/24");
    }

    #[test]
    fn occupied_subnets_are_skipped_and_outsiders_rejected() {
        let mut s = CidrSet::new("10.244.0.0/16", 24).unwrap();
        s.occupy("10.244.0.0/24").unwrap();
        s.occupy("10.244.1.0/24").unwrap();
        assert_eq!(s.allocate().unwrap(), "10.244.2.0/24");
        assert!(s.contains("10.244.1.0/24"));
        assert!(matches!(
            s.occupy("10.245.0.0/24"),
            Err(CidrError::OutOfRange { .. })
        ));
        assert!(matches!(
            s.occupy("10.244.0.0/25"),
            Err(CidrError::OutOfRange { .. })
        ));
    }

    #[test]
    fn ipv6_and_bad_masks() {
        let mut s = CidrSet::new("fd00:10::/56", 64).unwrap();
        assert!(s.is_v6());
        assert_eq!(s.allocate().unwrap(), "fd00:10::/64");
        assert_eq!(s.allocate().unwrap(), "fd00:10:0:1::/64");
        assert!(matches!(
            CidrSet::new("10.0.0.0/24", 16),
            Err(CidrError::BadMask { .. })
        ));
        assert!(matches!(
            CidrSet::new("nope", 24),
            Err(CidrError::Invalid(_))
        ));
        assert_eq!(Cidr::parse("10.1.2.3/8").unwrap().render(), "10.0.0.0/8");
    }
}
