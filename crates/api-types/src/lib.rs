//! The shared vocabulary of ferrokube: what every daemon needs to talk about Kubernetes
//! objects, without any I/O.

pub mod meta;
pub mod names;
pub mod patch;
pub mod resources;
pub mod selectors;
pub mod status;
pub mod table;
pub mod validation;
pub mod watch;

pub use k8s_openapi;
pub use kube_core::DynamicObject;
pub use status::ApiError;

/// The Kubernetes minor version whose API is served (the k8s-openapi feature in use).
pub const KUBERNETES_MAJOR: &str = "1";
pub const KUBERNETES_MINOR: &str = "33";
pub const KUBERNETES_GIT_VERSION: &str = "v1.33.0";
