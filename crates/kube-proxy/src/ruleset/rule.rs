//! Typed nftables rules: the few match and statement shapes kube-proxy writes. Each
//! renders to the `nft` syntax (its `Display`, what the golden files and `nft list`
//! show) and is encoded to netlink expressions by [`crate::netlink`], so both forms
//! come from one value.

use std::fmt;
use std::net::IpAddr;

use crate::model::{Cidr, Family, Protocol};

/// Where a rule or a map element sends the packet.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Verdict {
    Jump(String),
    Goto(String),
    Return,
    Drop,
}

impl fmt::Display for Verdict {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Verdict::Jump(c) => write!(f, "jump {c}"),
            Verdict::Goto(c) => write!(f, "goto {c}"),
            Verdict::Return => f.write_str("return"),
            Verdict::Drop => f.write_str("drop"),
        }
    }
}

/// Source or destination address of the IP header.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Field {
    Saddr,
    Daddr,
}

impl Field {
    pub fn nft(self) -> &'static str {
        match self {
            Field::Saddr => "saddr",
            Field::Daddr => "daddr",
        }
    }
}

/// One address or a prefix.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum AddrMatch {
    Addr(IpAddr),
    Cidr(Cidr),
}

impl AddrMatch {
    /// As a prefix (an address is a full-length one).
    pub fn cidr(self) -> Cidr {
        match self {
            AddrMatch::Addr(addr) => Cidr {
                addr,
                prefix: if addr.is_ipv4() { 32 } else { 128 },
            },
            AddrMatch::Cidr(c) => c,
        }
    }
}

impl fmt::Display for AddrMatch {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            AddrMatch::Addr(a) => write!(f, "{a}"),
            AddrMatch::Cidr(c) => write!(f, "{c}"),
        }
    }
}

/// A match or a statement; a rule is a sequence of them.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Expr {
    /// `ct state new`
    CtStateNew,
    /// `ip daddr 10.96.0.1`, `ip saddr != 10.244.0.0/16`
    Addr {
        field: Field,
        negated: bool,
        value: AddrMatch,
    },
    /// `ip daddr @cluster-ips`
    AddrInSet {
        field: Field,
        set: String,
    },
    /// `ip saddr != { 192.168.0.0/24, 203.0.113.7 }` (an anonymous interval set)
    AddrNotInAnonymousSet {
        field: Field,
        values: Vec<AddrMatch>,
    },
    /// `tcp dport 80`
    Dport {
        protocol: Protocol,
        port: u16,
    },
    /// `meta l4proto tcp`
    L4Proto(Protocol),
    /// `fib saddr type local`, `fib daddr type local`
    FibLocal(Field),
    /// `numgen random mod N == 0`
    NumgenIsZero(u32),
    /// `mark and M == 0`
    MarkClear(u32),
    /// `ip daddr . meta l4proto . th dport vmap @map` (with_daddr) or
    /// `meta l4proto . th dport vmap @map`
    Vmap {
        with_daddr: bool,
        map: String,
    },
    /// `mark set mark or M`
    MarkSetOr(u32),
    /// `mark set mark xor M`
    MarkSetXor(u32),
    /// `masquerade fully-random`
    MasqueradeFullyRandom,
    /// `dnat to 10.0.0.1:80` / `dnat to [fd00::1]:80`
    Dnat {
        addr: IpAddr,
        port: u16,
    },
    /// `update @set { ip saddr }`
    UpdateSaddr(String),
    /// `reject` (ICMP port unreachable)
    Reject,
    Verdict(Verdict),
}

impl Expr {
    pub fn jump(chain: &str) -> Expr {
        Expr::Verdict(Verdict::Jump(chain.to_string()))
    }

    pub fn goto(chain: &str) -> Expr {
        Expr::Verdict(Verdict::Goto(chain.to_string()))
    }

    fn write(&self, f: &mut fmt::Formatter<'_>, family: Family) -> fmt::Result {
        let ip = family.nft();
        match self {
            Expr::CtStateNew => f.write_str("ct state new"),
            Expr::Addr {
                field,
                negated,
                value,
            } => {
                let op = if *negated { "!= " } else { "" };
                write!(f, "{ip} {} {op}{value}", field.nft())
            }
            Expr::AddrInSet { field, set } => write!(f, "{ip} {} @{set}", field.nft()),
            Expr::AddrNotInAnonymousSet { field, values } => {
                write!(f, "{ip} {} != {{ ", field.nft())?;
                for (i, v) in values.iter().enumerate() {
                    if i > 0 {
                        f.write_str(", ")?;
                    }
                    write!(f, "{v}")?;
                }
                f.write_str(" }")
            }
            Expr::Dport { protocol, port } => write!(f, "{} dport {port}", protocol.nft()),
            Expr::L4Proto(p) => write!(f, "meta l4proto {}", p.nft()),
            Expr::FibLocal(field) => write!(f, "fib {} type local", field.nft()),
            Expr::NumgenIsZero(n) => write!(f, "numgen random mod {n} == 0"),
            Expr::MarkClear(m) => write!(f, "mark and {m:#08x} == 0"),
            Expr::Vmap {
                with_daddr: true,
                map,
            } => write!(f, "{ip} daddr . meta l4proto . th dport vmap @{map}"),
            Expr::Vmap {
                with_daddr: false,
                map,
            } => write!(f, "meta l4proto . th dport vmap @{map}"),
            Expr::MarkSetOr(m) => write!(f, "mark set mark or {m:#08x}"),
            Expr::MarkSetXor(m) => write!(f, "mark set mark xor {m:#08x}"),
            Expr::MasqueradeFullyRandom => f.write_str("masquerade fully-random"),
            Expr::Dnat {
                addr: IpAddr::V4(a),
                port,
            } => write!(f, "dnat to {a}:{port}"),
            Expr::Dnat {
                addr: IpAddr::V6(a),
                port,
            } => write!(f, "dnat to [{a}]:{port}"),
            Expr::UpdateSaddr(set) => write!(f, "update @{set} {{ {ip} saddr }}"),
            Expr::Reject => f.write_str("reject"),
            Expr::Verdict(v) => write!(f, "{v}"),
        }
    }
}

/// A rule: expressions evaluated in order, and an optional comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Rule {
    pub exprs: Vec<Expr>,
    pub comment: Option<String>,
}

impl Rule {
    pub fn new(exprs: Vec<Expr>) -> Rule {
        Rule {
            exprs,
            comment: None,
        }
    }

    pub fn with_comment(mut self, comment: &str) -> Rule {
        self.comment = Some(comment.to_string());
        self
    }

    /// Whether the rule looks up or updates the named set or map.
    pub fn uses_set(&self, name: &str) -> bool {
        self.exprs.iter().any(|e| match e {
            Expr::AddrInSet { set, .. } => set == name,
            Expr::Vmap { map, .. } => map == name,
            Expr::UpdateSaddr(set) => set == name,
            _ => false,
        })
    }

    /// The `nft` syntax of the rule in a table of `family`.
    pub fn text(&self, family: Family) -> RuleText<'_> {
        RuleText { rule: self, family }
    }
}

/// [`Rule`] displayed for one family (`ip` or `ip6` matches).
pub struct RuleText<'a> {
    rule: &'a Rule,
    family: Family,
}

impl fmt::Display for RuleText<'_> {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        for (i, e) in self.rule.exprs.iter().enumerate() {
            if i > 0 {
                f.write_str(" ")?;
            }
            e.write(f, self.family)?;
        }
        if let Some(c) = &self.rule.comment {
            write!(f, " comment \"{c}\"")?;
        }
        Ok(())
    }
}

/// The hook of a base chain.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum Hook {
    Prerouting,
    Input,
    Forward,
    Output,
    Postrouting,
}

impl Hook {
    pub fn nft(self) -> &'static str {
        match self {
            Hook::Prerouting => "prerouting",
            Hook::Input => "input",
            Hook::Forward => "forward",
            Hook::Output => "output",
            Hook::Postrouting => "postrouting",
        }
    }

    /// NF_INET_* hook number.
    pub fn number(self) -> u32 {
        match self {
            Hook::Prerouting => 0,
            Hook::Input => 1,
            Hook::Forward => 2,
            Hook::Output => 3,
            Hook::Postrouting => 4,
        }
    }
}

/// `type filter hook prerouting priority -110`
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct BaseChain {
    pub nat: bool,
    pub hook: Hook,
    pub priority: i32,
}

impl BaseChain {
    pub fn kind(&self) -> &'static str {
        if self.nat {
            "nat"
        } else {
            "filter"
        }
    }
}

impl fmt::Display for BaseChain {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(
            f,
            "type {} hook {} priority {}",
            self.kind(),
            self.hook.nft(),
            self.priority
        )
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn rules_print_as_nft_syntax() {
        let r = Rule::new(vec![
            Expr::Addr {
                field: Field::Daddr,
                negated: false,
                value: AddrMatch::Addr("10.96.0.1".parse().unwrap()),
            },
            Expr::Dport {
                protocol: Protocol::Tcp,
                port: 80,
            },
            Expr::Addr {
                field: Field::Saddr,
                negated: true,
                value: AddrMatch::Cidr(Cidr::parse("10.244.0.0/16").unwrap()),
            },
            Expr::jump("mark-for-masquerade"),
        ]);
        assert_eq!(
            r.text(Family::V4).to_string(),
            "ip daddr 10.96.0.1 tcp dport 80 ip saddr != 10.244.0.0/16 jump mark-for-masquerade"
        );
        let r = Rule::new(vec![Expr::FibLocal(Field::Saddr), Expr::goto("x")])
            .with_comment("short-circuit");
        assert_eq!(
            r.text(Family::V6).to_string(),
            "fib saddr type local goto x comment \"short-circuit\""
        );
        assert_eq!(
            Rule::new(vec![Expr::MarkSetOr(0x4000)])
                .text(Family::V4)
                .to_string(),
            "mark set mark or 0x004000"
        );
    }
}
