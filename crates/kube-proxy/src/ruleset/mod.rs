//! A rendered nftables table (chains with their typed rules, sets and maps with their
//! elements) and the transactions that install it: the whole table for a full sync, or
//! only what changed between two rulesets. A transaction is a list of [`Op`]s, sent to
//! the kernel as one netlink batch ([`crate::netlink`]) and printable as the equivalent
//! `nft -f` input ([`ops::text`]), which the golden files hold.

pub mod ops;
pub mod rule;
pub mod set;

use std::collections::BTreeMap;

use crate::model::Family;
pub use ops::Op;
use rule::{BaseChain, Rule};
use set::{Element, Key, SetSpec};

/// The table's name, in both families.
pub const TABLE: &str = "kube-proxy";
/// The table's comment, as upstream sets it.
pub const TABLE_COMMENT: &str = "rules for kube-proxy";

impl Family {
    /// nftables family keyword.
    pub fn nft(self) -> &'static str {
        match self {
            Family::V4 => "ip",
            Family::V6 => "ip6",
        }
    }

    /// nftables address type.
    pub fn addr_type(self) -> &'static str {
        match self {
            Family::V4 => "ipv4_addr",
            Family::V6 => "ipv6_addr",
        }
    }
}

/// A chain: base chains carry their hook.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub base: Option<BaseChain>,
    pub comment: Option<String>,
    pub rules: Vec<Rule>,
}

/// A set or map. A service port's fragment holds elements of the shared maps in sets
/// without a spec: [`Ruleset::merge`] adds them to the declared ones.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    pub spec: Option<SetSpec>,
    /// Key text -> element (the text orders them as `nft` input lists them).
    pub elements: BTreeMap<String, Element>,
}

impl Set {
    /// Elements maintained by the packet path (ClientIP affinity): never flushed or
    /// diffed, only declared.
    pub fn dynamic(&self) -> bool {
        self.spec.as_ref().is_some_and(SetSpec::dynamic)
    }
}

/// The whole `kube-proxy` table of one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruleset {
    pub family: Family,
    pub chains: BTreeMap<String, Chain>,
    pub sets: BTreeMap<String, Set>,
}

static NO_CHAINS: BTreeMap<String, Chain> = BTreeMap::new();
static NO_SETS: BTreeMap<String, Set> = BTreeMap::new();

impl Ruleset {
    pub fn new(family: Family) -> Ruleset {
        Ruleset {
            family,
            chains: BTreeMap::new(),
            sets: BTreeMap::new(),
        }
    }

    /// The chain, created empty if missing.
    pub fn chain(&mut self, name: &str) -> &mut Chain {
        self.chains.entry(name.to_string()).or_default()
    }

    pub fn rule(&mut self, chain: &str, rule: Rule) {
        self.chain(chain).rules.push(rule);
    }

    /// Declares a set or map.
    pub fn declare_set(&mut self, name: &str, spec: SetSpec) {
        self.sets.entry(name.to_string()).or_default().spec = Some(spec);
    }

    /// Adds a set element, or a map element with its verdict.
    pub fn element(&mut self, set: &str, element: Element) {
        self.sets
            .entry(set.to_string())
            .or_default()
            .elements
            .insert(element.key.to_string(), element);
    }

    /// Adds `other`'s chains, sets and elements (a service port fragment).
    pub fn merge(&mut self, other: &Ruleset) {
        for (name, chain) in &other.chains {
            let c = self.chains.entry(name.clone()).or_default();
            if c.base.is_none() {
                c.base = chain.base;
            }
            if c.comment.is_none() {
                c.comment.clone_from(&chain.comment);
            }
            c.rules.extend(chain.rules.iter().cloned());
        }
        for (name, set) in &other.sets {
            match self.sets.get_mut(name) {
                Some(s) => {
                    if s.spec.is_none() {
                        s.spec.clone_from(&set.spec);
                    }
                    s.elements
                        .extend(set.elements.iter().map(|(k, e)| (k.clone(), e.clone())))
                }
                None => {
                    self.sets.insert(name.clone(), set.clone());
                }
            }
        }
    }

    /// Replaces whatever table is there (or none) with this one, in one transaction.
    pub fn full_ops(&self) -> Vec<Op<'_>> {
        let mut ops = vec![Op::AddTable, Op::DeleteTable];
        ops.extend(self.body_ops(None));
        ops
    }

    /// Periodic resync, in one transaction: declares what is new (no effect on traffic),
    /// then empties every chain and every set except the affinity ones, deletes what is
    /// gone, and writes every rule and element again.
    pub fn resync_ops<'a>(&'a self, previous: &'a Ruleset) -> Vec<Op<'a>> {
        let mut ops = vec![Op::AddTable];
        for (name, chain) in &self.chains {
            match previous.chains.get(name) {
                Some(old) if old.base == chain.base => {}
                Some(_) => {
                    ops.push(Op::FlushChain(name));
                    ops.push(Op::DeleteChain(name));
                    ops.push(Op::AddChain { name, chain });
                }
                None => ops.push(Op::AddChain { name, chain }),
            }
        }
        // Rules only: the affinity sets keep their elements.
        ops.push(Op::FlushTable);
        for (name, set) in &previous.sets {
            let Some(spec) = &set.spec else { continue };
            match self.sets.get(name).and_then(|s| s.spec.as_ref()) {
                Some(new) if new == spec => {
                    if !set.dynamic() {
                        ops.push(Op::FlushSet { name, spec });
                    }
                }
                _ => ops.push(Op::DeleteSet { name, spec }),
            }
        }
        for name in previous.chains.keys() {
            if !self.chains.contains_key(name) {
                ops.push(Op::DeleteChain(name));
            }
        }
        for (name, set) in &self.sets {
            let Some(spec) = &set.spec else { continue };
            if previous.sets.get(name).and_then(|s| s.spec.as_ref()) != Some(spec) {
                ops.push(Op::AddSet { name, spec });
            }
        }
        for (name, chain) in &self.chains {
            for rule in &chain.rules {
                ops.push(Op::AddRule { chain: name, rule });
            }
        }
        self.push_elements(&mut ops, |_, _| None);
        ops
    }

    /// The table, its chains, sets, rules and elements (no delete): the golden-file form
    /// (with `previous`, only what changed).
    pub fn body_ops<'a>(&'a self, previous: Option<&'a Ruleset>) -> Vec<Op<'a>> {
        let mut ops = Vec::new();
        if previous.is_none() {
            ops.push(Op::AddTable);
        }
        ops.extend(self.diff_ops(previous));
        ops
    }

    /// The transaction turning `previous` (what the kernel has; None = an empty table)
    /// into `self`. Empty when nothing changed. Order matters inside the transaction:
    /// chains and sets exist before anything references them, and references are gone
    /// before what they point to is deleted.
    pub fn diff_ops<'a>(&'a self, previous: Option<&'a Ruleset>) -> Vec<Op<'a>> {
        let prev_chains = previous.map_or(&NO_CHAINS, |p| &p.chains);
        let prev_sets = previous.map_or(&NO_SETS, |p| &p.sets);
        let mut ops = Vec::new();
        // 1. new chains (a chain whose hook changed is deleted and added again).
        for (name, chain) in &self.chains {
            match prev_chains.get(name) {
                Some(old) if old.base == chain.base => {}
                Some(_) => {
                    ops.push(Op::FlushChain(name));
                    ops.push(Op::DeleteChain(name));
                    ops.push(Op::AddChain { name, chain });
                }
                None => ops.push(Op::AddChain { name, chain }),
            }
        }
        // 2. elements that went away or changed value.
        for (name, set) in prev_sets {
            let Some(new) = self.sets.get(name) else {
                continue;
            };
            if set.dynamic() || new.spec != set.spec {
                continue;
            }
            let gone: Vec<&Key> = set
                .elements
                .iter()
                .filter(|(k, e)| new.elements.get(*k) != Some(e))
                .map(|(_, e)| &e.key)
                .collect();
            if !gone.is_empty() {
                ops.push(Op::DeleteElements {
                    set: name,
                    keys: gone,
                });
            }
        }
        // 3. chains whose rules changed, chains about to be deleted, and chains using a
        // set that is deleted or declared again (the kernel refuses to delete a set in
        // use) are emptied.
        let replaced_sets: Vec<&String> = prev_sets
            .iter()
            .filter(|(name, set)| {
                set.spec.is_some() && self.sets.get(*name).is_none_or(|s| s.spec != set.spec)
            })
            .map(|(name, _)| name)
            .collect();
        let uses_replaced = |chain: &Chain| {
            !replaced_sets.is_empty()
                && chain
                    .rules
                    .iter()
                    .any(|r| replaced_sets.iter().any(|s| r.uses_set(s)))
        };
        let mut rewrite: Vec<&String> = Vec::new();
        for (name, chain) in &self.chains {
            match prev_chains.get(name) {
                Some(old) if old.base == chain.base => {
                    if old.rules != chain.rules || uses_replaced(old) {
                        if !old.rules.is_empty() {
                            ops.push(Op::FlushChain(name));
                        }
                        rewrite.push(name);
                    }
                }
                _ => rewrite.push(name),
            }
        }
        for (name, old) in prev_chains {
            if !self.chains.contains_key(name) && !old.rules.is_empty() {
                ops.push(Op::FlushChain(name));
            }
        }
        // 4. sets that went away or changed type; then new ones.
        for (name, set) in prev_sets {
            let Some(spec) = &set.spec else { continue };
            if self.sets.get(name).is_none_or(|s| s.spec != set.spec) {
                ops.push(Op::DeleteSet { name, spec });
            }
        }
        for (name, set) in &self.sets {
            let Some(spec) = &set.spec else { continue };
            if prev_sets.get(name).is_none_or(|s| s.spec != set.spec) {
                ops.push(Op::AddSet { name, spec });
            }
        }
        // 5. rules of new and changed chains.
        for name in rewrite {
            if let Some(chain) = self.chains.get(name) {
                for rule in &chain.rules {
                    ops.push(Op::AddRule { chain: name, rule });
                }
            }
        }
        // 6. new and changed elements.
        self.push_elements(&mut ops, |name, set| {
            prev_sets.get(name).filter(|old| old.spec == set.spec)
        });
        // 7. chains that went away (already empty and unreferenced).
        for name in prev_chains.keys() {
            if !self.chains.contains_key(name) {
                ops.push(Op::DeleteChain(name));
            }
        }
        ops
    }

    /// One AddElements per declared set with its elements that `previous(name, set)`
    /// (the set as the kernel has it, if its type did not change) does not hold as they
    /// are; affinity sets are left to the packet path.
    fn push_elements<'a, 'p>(
        &'a self,
        ops: &mut Vec<Op<'a>>,
        previous: impl Fn(&str, &Set) -> Option<&'p Set>,
    ) {
        for (name, set) in &self.sets {
            if set.dynamic() || set.spec.is_none() {
                continue;
            }
            let old = previous(name, set);
            let elements: Vec<&Element> = set
                .elements
                .iter()
                .filter(|(k, e)| old.is_none_or(|o| o.elements.get(*k) != Some(*e)))
                .map(|(_, e)| e)
                .collect();
            if !elements.is_empty() {
                ops.push(Op::AddElements {
                    set: name,
                    elements,
                });
            }
        }
    }

    /// `nft -f` input replacing the table wholesale ([`Ruleset::full_ops`]).
    pub fn full_text(&self) -> String {
        ops::text(self.family, &self.full_ops())
    }

    /// The golden-file form ([`Ruleset::body_ops`]).
    pub fn body_text(&self, previous: Option<&Ruleset>) -> String {
        ops::text(self.family, &self.body_ops(previous))
    }

    /// `nft -f` input turning `previous` into `self` ([`Ruleset::diff_ops`]).
    pub fn diff_text(&self, previous: &Ruleset) -> String {
        ops::text(self.family, &self.diff_ops(Some(previous)))
    }

    /// Number of rules and set elements (for logs and the benchmark).
    pub fn size(&self) -> (usize, usize) {
        let rules = self.chains.values().map(|c| c.rules.len()).sum();
        let elements = self.sets.values().map(|s| s.elements.len()).sum();
        (rules, elements)
    }
}

#[cfg(test)]
mod tests {
    use super::rule::{BaseChain, Expr, Hook};
    use super::set::KeyType;
    use super::*;
    use crate::model::Protocol;

    fn dnat(ip: &str) -> Rule {
        Rule::new(vec![
            Expr::L4Proto(Protocol::Tcp),
            Expr::Dnat {
                addr: ip.parse().unwrap(),
                port: 80,
            },
        ])
    }

    fn sample(extra_endpoint: bool) -> Ruleset {
        let mut r = Ruleset::new(Family::V4);
        r.chain("nat-output").base = Some(BaseChain {
            nat: true,
            hook: Hook::Output,
            priority: -100,
        });
        r.rule("nat-output", Rule::new(vec![Expr::jump("services")]));
        r.declare_set(
            "service-ips",
            SetSpec {
                comment: None,
                ..SetSpec::verdict_map(KeyType::AddrProtoPort(Family::V4), "")
            },
        );
        r.rule(
            "services",
            Rule::new(vec![Expr::Vmap {
                with_daddr: true,
                map: "service-ips".into(),
            }]),
        );
        r.element(
            "service-ips",
            Element {
                key: Key::AddrProtoPort("10.0.0.1".parse().unwrap(), Protocol::Tcp, 80),
                value: Some(rule::Verdict::Goto("service-a".into())),
                comment: None,
            },
        );
        r.rule("service-a", Rule::new(vec![Expr::goto("endpoint-1")]));
        r.rule("endpoint-1", dnat("10.1.0.1"));
        if extra_endpoint {
            r.chain("service-a").rules = vec![
                Rule::new(vec![Expr::NumgenIsZero(2), Expr::goto("endpoint-1")]),
                Rule::new(vec![Expr::goto("endpoint-2")]),
            ];
            r.rule("endpoint-2", dnat("10.1.0.2"));
        }
        r
    }

    #[test]
    fn no_change_gives_an_empty_diff() {
        assert_eq!(sample(false).diff_text(&sample(false)), "");
    }

    #[test]
    fn diff_adds_a_chain_and_rewrites_the_changed_one_only() {
        let diff = sample(true).diff_text(&sample(false));
        assert_eq!(
            diff,
            "add chain ip kube-proxy endpoint-2\n\
             flush chain ip kube-proxy service-a\n\
             add rule ip kube-proxy endpoint-2 meta l4proto tcp dnat to 10.1.0.2:80\n\
             add rule ip kube-proxy service-a numgen random mod 2 == 0 goto endpoint-1\n\
             add rule ip kube-proxy service-a goto endpoint-2\n"
        );
        // And back: the chain is emptied before it is deleted.
        let back = sample(false).diff_text(&sample(true));
        assert!(
            back.contains("flush chain ip kube-proxy endpoint-2\n"),
            "{back}"
        );
        assert!(
            back.ends_with("delete chain ip kube-proxy endpoint-2\n"),
            "{back}"
        );
    }

    #[test]
    fn changed_map_values_are_deleted_then_added() {
        let old = sample(false);
        let mut new = sample(false);
        new.element(
            "service-ips",
            Element {
                key: Key::AddrProtoPort("10.0.0.1".parse().unwrap(), Protocol::Tcp, 80),
                value: Some(rule::Verdict::Goto("reject-chain".into())),
                comment: Some("ns/a".into()),
            },
        );
        let diff = new.diff_text(&old);
        assert_eq!(
            diff,
            "delete element ip kube-proxy service-ips { 10.0.0.1 . tcp . 80 }\n\
             add element ip kube-proxy service-ips { 10.0.0.1 . tcp . 80 comment \"ns/a\" : goto reject-chain }\n"
        );
    }

    #[test]
    fn full_text_replaces_the_table_in_one_transaction() {
        let text = sample(false).full_text();
        let lines: Vec<&str> = text.lines().collect();
        assert_eq!(
            lines[0],
            "add table ip kube-proxy { comment \"rules for kube-proxy\" ; }"
        );
        assert_eq!(lines[1], "delete table ip kube-proxy");
        assert!(lines.contains(
            &"add chain ip kube-proxy nat-output { type nat hook output priority -100 ; }"
        ));
        // Declarations come before the rules and elements that use them.
        let pos = |s: &str| {
            lines
                .iter()
                .position(|l| l.starts_with(s))
                .unwrap_or(usize::MAX)
        };
        assert!(pos("add map") < pos("add rule"));
        assert!(pos("add chain ip kube-proxy service-a") < pos("add element"));
    }

    #[test]
    fn resync_keeps_affinity_sets_and_drops_what_is_gone() {
        let mut old = sample(true);
        old.declare_set(
            "affinity-x",
            SetSpec {
                timeout_seconds: Some(60),
                comment: None,
                ..SetSpec::set(KeyType::Addr(Family::V4), "")
            },
        );
        let new = sample(false);
        let text = ops::text(Family::V4, &new.resync_ops(&old));
        assert!(text.contains("flush table ip kube-proxy\n"), "{text}");
        assert!(
            text.contains("flush map ip kube-proxy service-ips\n"),
            "{text}"
        );
        assert!(
            !text.contains("flush set ip kube-proxy affinity-x"),
            "{text}"
        );
        assert!(
            text.contains("delete set ip kube-proxy affinity-x\n"),
            "{text}"
        );
        assert!(
            text.contains("delete chain ip kube-proxy endpoint-2\n"),
            "{text}"
        );
        assert!(
            text.ends_with(
                "add element ip kube-proxy service-ips { 10.0.0.1 . tcp . 80 : goto service-a }\n"
            ),
            "{text}"
        );
    }

    #[test]
    fn a_set_declared_again_is_first_released_by_its_rules() {
        let with_timeout = |t| {
            let mut r = sample(false);
            r.declare_set(
                "affinity-x",
                SetSpec {
                    timeout_seconds: Some(t),
                    comment: None,
                    ..SetSpec::set(KeyType::Addr(Family::V4), "")
                },
            );
            r.rule(
                "endpoint-1",
                Rule::new(vec![Expr::UpdateSaddr("affinity-x".into())]),
            );
            r
        };
        let text = with_timeout(120).diff_text(&with_timeout(60));
        let pos = |s: &str| text.find(s).unwrap_or_else(|| panic!("{s} not in {text}"));
        assert!(
            pos("flush chain ip kube-proxy endpoint-1")
                < pos("delete set ip kube-proxy affinity-x")
        );
        assert!(pos("add set ip kube-proxy affinity-x") < pos("add rule ip kube-proxy endpoint-1"));
    }
}
