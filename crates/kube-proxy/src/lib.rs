//! kube-proxy in nftables mode: Services and EndpointSlices are reduced to a
//! [`model::Model`], rendered by the pure [`render::render`] into a [`ruleset::Ruleset`]
//! (the `kube-proxy` table, as upstream's nftables proxier writes it, in typed rules), and
//! applied by [`proxier::Proxier`] as nf_tables netlink batches ([`netlink`]): the whole
//! table once, then only the differences, with a periodic full resync. After each sync, [`conntrack`] deletes stale UDP conntrack entries and
//! [`service_health`] serves the healthCheckNodePorts. [`daemon::run`] is the binary's
//! main loop.

pub mod config;
pub mod conntrack;
pub mod daemon;
pub mod health;
pub mod metrics;
pub mod model;
pub mod netlink;
pub mod nft;
pub mod proxier;
pub mod render;
pub mod ruleset;
pub mod service_health;
