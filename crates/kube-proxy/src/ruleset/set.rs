//! Typed sets, maps and their elements: the key shapes kube-proxy uses (an address;
//! address . protocol . port; protocol . port), verdict values, timeouts and comments.

use std::fmt;
use std::net::IpAddr;

use super::rule::Verdict;
use crate::model::{Family, Protocol};

/// What a set's elements are made of.
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub enum KeyType {
    /// `ipv4_addr` / `ipv6_addr`
    Addr(Family),
    /// `ipv4_addr . inet_proto . inet_service`
    AddrProtoPort(Family),
    /// `inet_proto . inet_service`
    ProtoPort,
}

impl fmt::Display for KeyType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            KeyType::Addr(family) => f.write_str(family.addr_type()),
            KeyType::AddrProtoPort(family) => {
                write!(f, "{} . inet_proto . inet_service", family.addr_type())
            }
            KeyType::ProtoPort => f.write_str("inet_proto . inet_service"),
        }
    }
}

/// A set's or map's declaration.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct SetSpec {
    pub key: KeyType,
    /// A verdict map (`: verdict`) rather than a set.
    pub verdict_map: bool,
    /// `flags dynamic,timeout ; timeout Ns`: elements added by the packet path
    /// (ClientIP affinity), never flushed or diffed by the proxier.
    pub timeout_seconds: Option<u32>,
    pub comment: Option<String>,
}

impl SetSpec {
    pub fn set(key: KeyType, comment: &str) -> SetSpec {
        SetSpec {
            key,
            verdict_map: false,
            timeout_seconds: None,
            comment: Some(comment.to_string()),
        }
    }

    pub fn verdict_map(key: KeyType, comment: &str) -> SetSpec {
        SetSpec {
            verdict_map: true,
            ..SetSpec::set(key, comment)
        }
    }

    /// "map" or "set", as `nft` commands name it.
    pub fn kind(&self) -> &'static str {
        if self.verdict_map {
            "map"
        } else {
            "set"
        }
    }

    pub fn dynamic(&self) -> bool {
        self.timeout_seconds.is_some()
    }
}

impl fmt::Display for SetSpec {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "type {}", self.key)?;
        if self.verdict_map {
            f.write_str(" : verdict")?;
        }
        if let Some(t) = self.timeout_seconds {
            write!(f, " ; flags dynamic,timeout ; timeout {t}s")?;
        }
        if let Some(c) = &self.comment {
            write!(f, " ; comment \"{c}\"")?;
        }
        Ok(())
    }
}

/// One element's key.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub enum Key {
    Addr(IpAddr),
    AddrProtoPort(IpAddr, Protocol, u16),
    ProtoPort(Protocol, u16),
}

impl fmt::Display for Key {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Key::Addr(a) => write!(f, "{a}"),
            Key::AddrProtoPort(a, p, port) => write!(f, "{a} . {} . {port}", p.nft()),
            Key::ProtoPort(p, port) => write!(f, "{} . {port}", p.nft()),
        }
    }
}

/// An element: its key, the verdict in a map, and a comment.
#[derive(Clone, Debug, PartialEq, Eq, Hash)]
pub struct Element {
    pub key: Key,
    pub value: Option<Verdict>,
    pub comment: Option<String>,
}

impl fmt::Display for Element {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}", self.key)?;
        if let Some(c) = &self.comment {
            write!(f, " comment \"{c}\"")?;
        }
        if let Some(v) = &self.value {
            write!(f, " : {v}")?;
        }
        Ok(())
    }
}
