//! What every ferrokube daemon shares.

pub mod client;
pub mod duration;
pub mod leader_election;
pub mod logs;
// core/v1 Events with client-go tools/record semantics (kube-controller-manager, kube-proxy).
pub mod record;
pub mod serving;
pub mod shutdown;
pub mod tls;
