//! coredns-addon: the cluster DNS. Answers `<svc>.<ns>.svc.<domain>` and friends from
//! Services and EndpointSlices (the Kubernetes DNS-Based Service Discovery specification, as
//! CoreDNS's `kubernetes` plugin implements it) and forwards every other name to the
//! upstream resolvers, with a small cache.
//!
//! - [`records`]: the pure index, (Services, EndpointSlices, config) -> answers;
//! - [`server`]: the DNS server (UDP + TCP, EDNS0, truncation): a hickory-server
//!   `RequestHandler`, served by hickory-server over TCP and by our receive loops over UDP;
//! - [`forward`] and [`cache`]: the upstream client and its TTL-respecting cache;
//! - [`metrics`]: CoreDNS's metric names;
//! - [`daemon`]: watchers feeding the index, /health, /ready, /metrics; [`options`]: flags.

pub mod cache;
pub mod daemon;
pub mod forward;
pub mod metrics;
pub mod options;
pub mod records;
pub mod server;
