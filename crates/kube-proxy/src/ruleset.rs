//! A rendered nftables table (chains with their rules, sets and maps with their
//! elements) and its serialisation as `nft -f` input: the whole table for a full sync,
//! or only what changed between two rulesets for an incremental one. Each output is one
//! `nft -f` file, i.e. one atomic netlink transaction.
//!
//! Text rather than the nftables crate's JSON: it is what upstream (knftables) feeds to
//! `nft -f`, it is what an operator reads in the golden files and in `nft list`, and it
//! is several times smaller and faster for `nft` to parse at 10,000 Services.

use std::collections::BTreeMap;
use std::fmt::Write as _;

use crate::model::Family;

/// The table's name, in both families.
pub const TABLE: &str = "kube-proxy";

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

/// A chain: base chains carry their hook spec ("type nat hook output priority -100").
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Chain {
    pub hook: Option<String>,
    pub comment: Option<String>,
    pub rules: Vec<String>,
}

/// A set or map.
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Set {
    pub is_map: bool,
    /// "type ipv4_addr . inet_proto . inet_service : verdict", flags, timeout, comment.
    pub spec: String,
    /// Elements maintained by the packet path (ClientIP affinity): never flushed or
    /// diffed, only declared.
    pub dynamic: bool,
    /// key -> element (value and comment).
    pub elements: BTreeMap<String, Element>,
}

#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct Element {
    /// Map value ("goto service-..."); None in a set.
    pub value: Option<String>,
    pub comment: Option<String>,
}

/// The whole `kube-proxy` table of one family.
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Ruleset {
    pub family: Family,
    pub chains: BTreeMap<String, Chain>,
    pub sets: BTreeMap<String, Set>,
}

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

    pub fn rule(&mut self, chain: &str, rule: impl Into<String>) {
        self.chain(chain).rules.push(rule.into());
    }

    /// Adds a map element (or set element when `value` is None).
    pub fn element(
        &mut self,
        set: &str,
        key: String,
        value: Option<String>,
        comment: Option<String>,
    ) {
        self.sets
            .entry(set.to_string())
            .or_default()
            .elements
            .insert(key, Element { value, comment });
    }

    /// Adds `other`'s chains, sets and elements (a service port fragment).
    pub fn merge(&mut self, other: &Ruleset) {
        for (name, chain) in &other.chains {
            let c = self.chains.entry(name.clone()).or_default();
            if c.hook.is_none() {
                c.hook.clone_from(&chain.hook);
            }
            if c.comment.is_none() {
                c.comment.clone_from(&chain.comment);
            }
            c.rules.extend(chain.rules.iter().cloned());
        }
        for (name, set) in &other.sets {
            match self.sets.get_mut(name) {
                Some(s) => s
                    .elements
                    .extend(set.elements.iter().map(|(k, e)| (k.clone(), e.clone()))),
                None => {
                    self.sets.insert(name.clone(), set.clone());
                }
            }
        }
    }

    fn prefix(&self) -> String {
        format!("{} {}", self.family.nft(), TABLE)
    }

    /// `nft -f` input replacing the table wholesale: the add+delete pair removes whatever
    /// is there (or nothing) and the rest recreates it, all in one transaction.
    pub fn full_text(&self) -> String {
        let p = self.prefix();
        let mut out = String::with_capacity(self.estimated_len());
        let _ = writeln!(
            out,
            "add table {p} {{ comment \"rules for kube-proxy\" ; }}"
        );
        let _ = writeln!(out, "delete table {p}");
        out.push_str(&self.body_text(None));
        out
    }

    /// First half of a fast full sync: the table recreated with every chain and set
    /// declared but no rule and no element. The kernel resolves a jump to a chain
    /// created in the same transaction by scanning the whole transaction, which makes one
    /// big transaction quadratic (minutes at 10,000 Services); declaring the chains first
    /// turns the references in [`Ruleset::fill_text`] into hash lookups.
    pub fn declare_text(&self, replace: bool) -> String {
        let p = self.prefix();
        let mut out = String::with_capacity((self.chains.len() + self.sets.len()) * 100 + 128);
        let _ = writeln!(
            out,
            "add table {p} {{ comment \"rules for kube-proxy\" ; }}"
        );
        if replace {
            let _ = writeln!(out, "delete table {p}");
            let _ = writeln!(
                out,
                "add table {p} {{ comment \"rules for kube-proxy\" ; }}"
            );
        }
        for (name, chain) in &self.chains {
            chain_decl(&mut out, &p, name, chain);
        }
        for (name, set) in &self.sets {
            let kind = if set.is_map { "map" } else { "set" };
            let _ = writeln!(out, "add {kind} {p} {name} {{ {} ; }}", set.spec);
        }
        out
    }

    /// Second half of a fast full sync, after [`Ruleset::declare_text`]: every rule and
    /// element. With `previous` (a periodic resync) it first empties what `previous`
    /// put there and deletes what is gone, so the switch is one atomic transaction.
    pub fn fill_text(&self, previous: Option<&Ruleset>) -> String {
        let p = self.prefix();
        let mut out = String::with_capacity(self.estimated_len());
        if let Some(previous) = previous {
            let _ = writeln!(out, "flush table {p}");
            for (name, set) in &previous.sets {
                if !set.dynamic && self.sets.contains_key(name) {
                    let kind = if set.is_map { "map" } else { "set" };
                    let _ = writeln!(out, "flush {kind} {p} {name}");
                }
            }
            for (name, set) in &previous.sets {
                if !self.sets.contains_key(name) {
                    let kind = if set.is_map { "map" } else { "set" };
                    let _ = writeln!(out, "delete {kind} {p} {name}");
                }
            }
            for name in previous.chains.keys() {
                if !self.chains.contains_key(name) {
                    let _ = writeln!(out, "delete chain {p} {name}");
                }
            }
        }
        for (name, chain) in &self.chains {
            for rule in &chain.rules {
                let _ = writeln!(out, "add rule {p} {name} {rule}");
            }
        }
        for (name, set) in &self.sets {
            if set.dynamic || set.elements.is_empty() {
                continue;
            }
            let _ = write!(out, "add element {p} {name} {{ ");
            join(
                &mut out,
                set.elements.iter().map(|(k, e)| element_text(k, e)),
            );
            out.push_str(" }\n");
        }
        out
    }

    /// The table, its chains, sets, rules and elements (no delete): the golden-file form.
    pub fn body_text(&self, previous: Option<&Ruleset>) -> String {
        let empty = Ruleset::new(self.family);
        let mut out = String::with_capacity(self.estimated_len());
        if previous.is_none() {
            let _ = writeln!(
                out,
                "add table {} {{ comment \"rules for kube-proxy\" ; }}",
                self.prefix()
            );
        }
        out.push_str(&self.diff_text(previous.unwrap_or(&empty)));
        out
    }

    /// `nft -f` input turning `previous` (what the kernel has) into `self`. Empty when
    /// nothing changed. Order matters inside the transaction: chains and sets exist
    /// before anything references them, and references are gone before what they point
    /// to is deleted.
    pub fn diff_text(&self, previous: &Ruleset) -> String {
        let p = self.prefix();
        let mut out = String::new();
        // 1. new chains (a chain whose hook changed is deleted and added again).
        for (name, chain) in &self.chains {
            match previous.chains.get(name) {
                Some(old) if old.hook == chain.hook => {}
                Some(_) => {
                    let _ = writeln!(out, "flush chain {p} {name}");
                    let _ = writeln!(out, "delete chain {p} {name}");
                    chain_decl(&mut out, &p, name, chain);
                }
                None => chain_decl(&mut out, &p, name, chain),
            }
        }
        // 2. elements that went away or changed value.
        for (name, set) in &previous.sets {
            let Some(new) = self.sets.get(name) else {
                continue;
            };
            if set.dynamic || new.spec != set.spec {
                continue;
            }
            let gone: Vec<&String> = set
                .elements
                .iter()
                .filter(|(k, e)| new.elements.get(*k) != Some(e))
                .map(|(k, _)| k)
                .collect();
            if !gone.is_empty() {
                let _ = write!(out, "delete element {p} {name} {{ ");
                join(&mut out, gone.iter().map(|k| k.as_str()));
                out.push_str(" }\n");
            }
        }
        // 3. chains whose rules changed, and chains about to be deleted, are emptied.
        let mut rewrite: Vec<&String> = Vec::new();
        for (name, chain) in &self.chains {
            match previous.chains.get(name) {
                Some(old) if old.hook == chain.hook => {
                    if old.rules != chain.rules {
                        if !old.rules.is_empty() {
                            let _ = writeln!(out, "flush chain {p} {name}");
                        }
                        rewrite.push(name);
                    }
                }
                _ => rewrite.push(name),
            }
        }
        for (name, old) in &previous.chains {
            if !self.chains.contains_key(name) && !old.rules.is_empty() {
                let _ = writeln!(out, "flush chain {p} {name}");
            }
        }
        // 4. sets that went away or changed type; then new ones.
        for (name, set) in &previous.sets {
            if self.sets.get(name).is_none_or(|s| s.spec != set.spec) {
                let kind = if set.is_map { "map" } else { "set" };
                let _ = writeln!(out, "delete {kind} {p} {name}");
            }
        }
        for (name, set) in &self.sets {
            if previous.sets.get(name).is_none_or(|s| s.spec != set.spec) {
                let kind = if set.is_map { "map" } else { "set" };
                let _ = writeln!(out, "add {kind} {p} {name} {{ {} ; }}", set.spec);
            }
        }
        // 5. rules of new and changed chains.
        for name in rewrite {
            if let Some(chain) = self.chains.get(name) {
                for rule in &chain.rules {
                    let _ = writeln!(out, "add rule {p} {name} {rule}");
                }
            }
        }
        // 6. new and changed elements.
        for (name, set) in &self.sets {
            if set.dynamic {
                continue;
            }
            let old = previous
                .sets
                .get(name)
                .filter(|s| s.spec == set.spec && !s.dynamic);
            let mut added = set
                .elements
                .iter()
                .filter(|(k, e)| old.is_none_or(|o| o.elements.get(*k) != Some(*e)))
                .peekable();
            if added.peek().is_none() {
                continue;
            }
            let _ = write!(out, "add element {p} {name} {{ ");
            join(&mut out, added.map(|(k, e)| element_text(k, e)));
            out.push_str(" }\n");
        }
        // 7. chains that went away (already empty and unreferenced).
        for name in previous.chains.keys() {
            if !self.chains.contains_key(name) {
                let _ = writeln!(out, "delete chain {p} {name}");
            }
        }
        out
    }

    /// Number of rules and set elements (for logs and the benchmark).
    pub fn size(&self) -> (usize, usize) {
        let rules = self.chains.values().map(|c| c.rules.len()).sum();
        let elements = self.sets.values().map(|s| s.elements.len()).sum();
        (rules, elements)
    }

    fn estimated_len(&self) -> usize {
        let (rules, elements) = self.size();
        (rules + self.chains.len()) * 110 + elements * 90 + 256
    }
}

fn chain_decl(out: &mut String, p: &str, name: &str, chain: &Chain) {
    let mut spec = String::new();
    if let Some(hook) = &chain.hook {
        let _ = write!(spec, "{hook} ; ");
    }
    if let Some(c) = &chain.comment {
        let _ = write!(spec, "comment \"{c}\" ; ");
    }
    if spec.is_empty() {
        let _ = writeln!(out, "add chain {p} {name}");
    } else {
        let _ = writeln!(out, "add chain {p} {name} {{ {spec}}}");
    }
}

fn element_text(key: &str, e: &Element) -> String {
    let mut s = key.to_string();
    if let Some(c) = &e.comment {
        let _ = write!(s, " comment \"{c}\"");
    }
    if let Some(v) = &e.value {
        let _ = write!(s, " : {v}");
    }
    s
}

fn join<S: AsRef<str>>(out: &mut String, items: impl Iterator<Item = S>) {
    let mut first = true;
    for item in items {
        if !first {
            out.push_str(", ");
        }
        first = false;
        out.push_str(item.as_ref());
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sample(extra_endpoint: bool) -> Ruleset {
        let mut r = Ruleset::new(Family::V4);
        r.chain("nat-output").hook = Some("type nat hook output priority -100".into());
        r.rule("nat-output", "jump services");
        r.chain("services");
        r.sets.insert(
            "service-ips".into(),
            Set {
                is_map: true,
                spec: "type ipv4_addr . inet_proto . inet_service : verdict".into(),
                ..Set::default()
            },
        );
        r.rule(
            "services",
            "ip daddr . meta l4proto . th dport vmap @service-ips",
        );
        r.element(
            "service-ips",
            "10.0.0.1 . tcp . 80".into(),
            Some("goto service-a".into()),
            None,
        );
        r.rule("service-a", "goto endpoint-1");
        r.rule("endpoint-1", "meta l4proto tcp dnat to 10.1.0.1:80");
        if extra_endpoint {
            r.chain("service-a").rules = vec![
                "numgen random mod 2 vmap { 0 : goto endpoint-1, 1 : goto endpoint-2 }".into(),
            ];
            r.rule("endpoint-2", "meta l4proto tcp dnat to 10.1.0.2:80");
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
             add rule ip kube-proxy service-a numgen random mod 2 vmap { 0 : goto endpoint-1, 1 : goto endpoint-2 }\n"
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
            "10.0.0.1 . tcp . 80".into(),
            Some("goto reject-chain".into()),
            Some("ns/a".into()),
        );
        let diff = new.diff_text(&old);
        assert_eq!(
            diff,
            "delete element ip kube-proxy service-ips { 10.0.0.1 . tcp . 80 }\n\
             add element ip kube-proxy service-ips { 10.0.0.1 . tcp . 80 comment \"ns/a\" : goto reject-chain }\n"
        );
    }

    #[test]
    fn full_text_replaces_the_table_in_one_file() {
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
}
