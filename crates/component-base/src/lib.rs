//! What every ferrokube daemon shares.

pub mod logs;
pub mod shutdown;
pub mod tls;
