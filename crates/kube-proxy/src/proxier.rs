//! Applying rendered rulesets: a full sync replaces the table in one transaction; after
//! that, each sync applies only the difference from what was applied last; a periodic
//! resync rewrites everything (keeping ClientIP affinity state); a table deleted behind
//! our back is noticed and recreated.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::time::{Duration, Instant};

use crate::metrics::{unix_now, Metrics};
use crate::model::{Family, Model, NodeConfig, Protocol, ServicePort, ServicePortName};
use crate::netlink::{Commit, Netlink};
use crate::nft::{Nft, NftError};
use crate::render::{render_port, render_setup};
use crate::ruleset::Ruleset;

type PortKey = (ServicePortName, Protocol);

/// What is in the kernel for one family: the fixed part and one fragment per service
/// port, with the input it was rendered from (an unchanged port is not rendered again).
struct Applied {
    node: NodeConfig,
    setup: Ruleset,
    ports: HashMap<PortKey, (ServicePort, Ruleset)>,
}

impl Applied {
    fn ruleset(&self) -> Ruleset {
        let mut r = self.setup.clone();
        let mut keys: Vec<&PortKey> = self.ports.keys().collect();
        keys.sort();
        for k in keys {
            if let Some((_, frag)) = self.ports.get(k) {
                r.merge(frag);
            }
        }
        r
    }
}

/// What a sync did, per family.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum SyncKind {
    /// Table replaced (first sync, table missing, or a failed partial sync).
    Full,
    /// Periodic resync: everything rewritten in place.
    Resync,
    /// Only the difference applied.
    Partial,
    /// Nothing changed, nothing applied.
    Unchanged,
}

#[derive(Clone, Debug)]
pub struct SyncReport {
    pub kinds: Vec<(Family, SyncKind)>,
    /// Netlink bytes sent.
    pub bytes: usize,
    pub elapsed: Duration,
    /// Of `elapsed`, the time the kernel took to commit the transactions.
    pub kernel: Duration,
}

/// Keeps the kernel's `kube-proxy` tables equal to the rendering of the model.
pub struct Proxier {
    nft: Nft,
    /// Opened on first use, in the namespace `nft` names.
    netlink: Option<Netlink>,
    families: Vec<Family>,
    applied: BTreeMap<Family, Applied>,
    metrics: Option<Metrics>,
}

impl Proxier {
    pub fn new(nft: Nft, families: Vec<Family>, metrics: Option<Metrics>) -> Proxier {
        Proxier {
            nft,
            netlink: None,
            families,
            applied: BTreeMap::new(),
            metrics,
        }
    }

    pub fn nft(&self) -> &Nft {
        &self.nft
    }

    fn netlink(&mut self) -> Result<Netlink, NftError> {
        if let Some(n) = &self.netlink {
            return Ok(n.clone());
        }
        let n = Netlink::open(self.nft.netns())?;
        self.netlink = Some(n.clone());
        Ok(n)
    }

    /// The ruleset last applied for `family` (assembled from its parts).
    pub fn applied(&self, family: Family) -> Option<Ruleset> {
        self.applied.get(&family).map(Applied::ruleset)
    }

    /// Forget what was applied: the next sync replaces the tables.
    pub fn invalidate(&mut self) {
        self.applied.clear();
    }

    /// Whether every table we manage is still in the kernel. A missing table
    /// invalidates our state so the next sync recreates it.
    pub async fn check_tables(&mut self) -> Result<bool, NftError> {
        let mut all = true;
        let netlink = self.netlink()?;
        for family in self.families.clone() {
            if self.applied.contains_key(&family) && !netlink.table_present(family).await? {
                tracing::warn!(
                    family = family.nft(),
                    "kube-proxy table disappeared; will recreate it"
                );
                self.applied.remove(&family);
                all = false;
            }
        }
        Ok(all)
    }

    /// Renders the model and brings the kernel in line. `resync` asks for the
    /// periodic full rewrite instead of a diff.
    pub async fn sync(
        &mut self,
        model: &Model,
        node: &NodeConfig,
        resync: bool,
    ) -> Result<SyncReport, NftError> {
        let start = Instant::now();
        let mut kinds = Vec::new();
        let mut bytes = 0;
        let mut kernel = Duration::ZERO;
        let mut result = Ok(());
        for family in self.families.clone() {
            match self.sync_family(family, model, node, resync).await {
                Ok((kind, commit)) => {
                    kinds.push((family, kind));
                    bytes += commit.bytes;
                    kernel += commit.kernel;
                }
                Err(e) => {
                    result = Err(e);
                    break;
                }
            }
        }
        let elapsed = start.elapsed();
        if let Some(m) = &self.metrics {
            m.sync_proxy_rules_duration.observe(elapsed.as_secs_f64());
            let full = kinds
                .iter()
                .any(|(_, k)| matches!(k, SyncKind::Full | SyncKind::Resync));
            if full {
                m.sync_full_proxy_rules_duration
                    .observe(elapsed.as_secs_f64());
            } else {
                m.sync_partial_proxy_rules_duration
                    .observe(elapsed.as_secs_f64());
            }
            if result.is_ok() {
                m.sync_proxy_rules_last_timestamp.set(unix_now());
            } else {
                m.sync_failures.inc();
            }
        }
        result.map(|()| SyncReport {
            kinds,
            bytes,
            elapsed,
            kernel,
        })
    }

    async fn sync_family(
        &mut self,
        family: Family,
        model: &Model,
        node: &NodeConfig,
        resync: bool,
    ) -> Result<(SyncKind, Commit), NftError> {
        let netlink = self.netlink()?;
        let mut previous = self.applied.remove(&family);
        if previous.is_some() && !netlink.table_present(family).await? {
            tracing::warn!(
                family = family.nft(),
                "kube-proxy table disappeared; recreating it"
            );
            previous = None;
        }
        let setup = render_setup(node, family);
        let mut ports: HashMap<PortKey, (ServicePort, Ruleset)> =
            HashMap::with_capacity(model.ports.len());
        let (mut prev, resync_from) = match previous {
            Some(p) if !resync => (p, None),
            other => (
                Applied {
                    node: node.clone(),
                    setup: Ruleset::new(family),
                    ports: HashMap::new(),
                },
                Some(other),
            ),
        };
        if let Some(previous) = resync_from {
            for sp in &model.ports {
                let frag = render_port(sp, node, family);
                ports.insert((sp.name.clone(), sp.protocol), (sp.clone(), frag));
            }
            let applied = Applied {
                node: node.clone(),
                setup,
                ports,
            };
            return match previous {
                Some(prev) => self.resync(family, &prev, applied).await,
                None => self.full(family, applied).await,
            };
        }

        // Partial sync: only the service ports whose input changed are rendered and
        // compared. Ports of one Service share its `cluster-ips` element, so the
        // unchanged ports of a touched Service go on both sides of the diff: the
        // element stays while any port still holds it.
        let same_node = prev.node == *node;
        let mut old_sub = prev.setup.clone();
        let mut new_sub = setup.clone();
        let mut touched: HashSet<(&str, &str)> = HashSet::new();
        let mut changed: HashSet<PortKey> = HashSet::new();
        for sp in &model.ports {
            let key = (sp.name.clone(), sp.protocol);
            match prev.ports.remove(&key) {
                Some((old_sp, frag)) if same_node && old_sp == *sp => {
                    ports.insert(key, (old_sp, frag));
                }
                old => {
                    let frag = render_port(sp, node, family);
                    if let Some((_, old_frag)) = old {
                        old_sub.merge(&old_frag);
                    }
                    new_sub.merge(&frag);
                    touched.insert((&sp.name.namespace, &sp.name.name));
                    changed.insert(key.clone());
                    ports.insert(key, (sp.clone(), frag));
                }
            }
        }
        for ((name, _), (_, old_frag)) in &prev.ports {
            old_sub.merge(old_frag);
            touched.insert((&name.namespace, &name.name));
        }
        if !touched.is_empty() {
            for (key, (_, frag)) in &ports {
                let service = (key.0.namespace.as_str(), key.0.name.as_str());
                if touched.contains(&service) && !changed.contains(key) {
                    old_sub.merge(frag);
                    new_sub.merge(frag);
                }
            }
        }
        let ops = new_sub.diff_ops(Some(&old_sub));
        let applied = Applied {
            node: node.clone(),
            setup,
            ports,
        };
        if ops.is_empty() {
            self.applied.insert(family, applied);
            return Ok((SyncKind::Unchanged, Commit::default()));
        }
        match netlink.apply(family, &ops).await {
            Ok(n) => {
                self.applied.insert(family, applied);
                Ok((SyncKind::Partial, n))
            }
            Err(e) => {
                tracing::warn!(family = family.nft(), error = %e,
                    "partial nftables sync failed; replacing the whole table");
                self.full(family, applied).await
            }
        }
    }

    /// Periodic resync: everything rewritten in one transaction, keeping the affinity
    /// sets. Falls back to a full sync.
    async fn resync(
        &mut self,
        family: Family,
        prev: &Applied,
        applied: Applied,
    ) -> Result<(SyncKind, Commit), NftError> {
        let netlink = self.netlink()?;
        let new = applied.ruleset();
        let old = prev.ruleset();
        let result = netlink.apply(family, &new.resync_ops(&old)).await;
        match result {
            Ok(n) => {
                self.applied.insert(family, applied);
                Ok((SyncKind::Resync, n))
            }
            Err(e) => {
                tracing::warn!(family = family.nft(), error = %e,
                    "nftables resync failed; replacing the whole table");
                self.full(family, applied).await
            }
        }
    }

    /// Full sync: the table replaced in one transaction (start-up, after the table
    /// vanished, or after a failed sync).
    async fn full(
        &mut self,
        family: Family,
        applied: Applied,
    ) -> Result<(SyncKind, Commit), NftError> {
        let netlink = self.netlink()?;
        let new = applied.ruleset();
        let n = netlink.apply(family, &new.full_ops()).await?;
        self.applied.insert(family, applied);
        Ok((SyncKind::Full, n))
    }
}
