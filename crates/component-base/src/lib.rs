//! What every ferrokube daemon shares.

pub mod client;
pub mod duration;
pub mod leader_election;
pub mod logs;
pub mod serving;
pub mod shutdown;
pub mod tls;
