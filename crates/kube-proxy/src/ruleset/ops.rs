//! The commands of one nftables transaction (add a chain, flush a set, add elements...),
//! borrowed from the rulesets they come from. The proxier sends them over netlink
//! ([`crate::netlink`]); [`text`] writes the same commands as `nft -f` input, which is
//! what the golden files hold and what `nft -f` would apply identically.

use std::fmt::Write as _;

use super::rule::Rule;
use super::set::{Element, Key, SetSpec};
use super::{Chain, TABLE, TABLE_COMMENT};
use crate::model::Family;

#[derive(Clone, Debug, PartialEq, Eq)]
pub enum Op<'a> {
    AddTable,
    DeleteTable,
    FlushTable,
    AddChain {
        name: &'a str,
        chain: &'a Chain,
    },
    FlushChain(&'a str),
    DeleteChain(&'a str),
    AddSet {
        name: &'a str,
        spec: &'a SetSpec,
    },
    FlushSet {
        name: &'a str,
        spec: &'a SetSpec,
    },
    DeleteSet {
        name: &'a str,
        spec: &'a SetSpec,
    },
    AddRule {
        chain: &'a str,
        rule: &'a Rule,
    },
    AddElements {
        set: &'a str,
        elements: Vec<&'a Element>,
    },
    DeleteElements {
        set: &'a str,
        keys: Vec<&'a Key>,
    },
}

/// `nft -f` input for `ops` in a table of `family`, one command per line.
pub fn text(family: Family, ops: &[Op<'_>]) -> String {
    let p = format!("{} {TABLE}", family.nft());
    let mut out = String::with_capacity(ops.len() * 100);
    for op in ops {
        let _ = match op {
            Op::AddTable => writeln!(out, "add table {p} {{ comment \"{TABLE_COMMENT}\" ; }}"),
            Op::DeleteTable => writeln!(out, "delete table {p}"),
            Op::FlushTable => writeln!(out, "flush table {p}"),
            Op::AddChain { name, chain } => {
                let mut spec = String::new();
                if let Some(base) = &chain.base {
                    let _ = write!(spec, "{base} ; ");
                }
                if let Some(c) = &chain.comment {
                    let _ = write!(spec, "comment \"{c}\" ; ");
                }
                if spec.is_empty() {
                    writeln!(out, "add chain {p} {name}")
                } else {
                    writeln!(out, "add chain {p} {name} {{ {spec}}}")
                }
            }
            Op::FlushChain(name) => writeln!(out, "flush chain {p} {name}"),
            Op::DeleteChain(name) => writeln!(out, "delete chain {p} {name}"),
            Op::AddSet { name, spec } => {
                writeln!(out, "add {} {p} {name} {{ {spec} ; }}", spec.kind())
            }
            Op::FlushSet { name, spec } => writeln!(out, "flush {} {p} {name}", spec.kind()),
            Op::DeleteSet { name, spec } => writeln!(out, "delete {} {p} {name}", spec.kind()),
            Op::AddRule { chain, rule } => {
                writeln!(out, "add rule {p} {chain} {}", rule.text(family))
            }
            Op::AddElements { set, elements } => {
                let _ = write!(out, "add element {p} {set} {{ ");
                for (i, e) in elements.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{e}");
                }
                writeln!(out, " }}")
            }
            Op::DeleteElements { set, keys } => {
                let _ = write!(out, "delete element {p} {set} {{ ");
                for (i, k) in keys.iter().enumerate() {
                    if i > 0 {
                        out.push_str(", ");
                    }
                    let _ = write!(out, "{k}");
                }
                writeln!(out, " }}")
            }
        };
    }
    out
}
