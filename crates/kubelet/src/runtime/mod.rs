//! The container runtime: containerd through its native gRPC API.
//!
//! * [`spec`]: the OCI runtime spec for runc, built as a pure function.
//! * [`oci_layout`]: reading OCI image-layout tarballs and computing layer chain IDs.
//! * [`containerd`]: the client (images, containers, tasks, snapshots) used by the kubelet.
//!
//! Only services containerd 1.6 serves are used (version, containers, tasks, images,
//! content, snapshots, leases, diff), each exercised against a real daemon in
//! `tests/containerd.rs`.

pub mod containerd;
// kubelet-attach: the stdio of stdin/tty containers (FIFOs relayed by the kubelet).
pub mod container_io;
// kubelet-streaming: exec in a running container.
pub mod exec;
pub mod oci_layout;
// Registry pulls (oci-client) into containerd, owned by the image-pull work.
pub mod pull;
pub mod spec;
// FIFO stdio shared by exec processes and stdin/tty containers.
pub mod stdio;
// kubelet-attach: creating and re-opening the tasks of stdin/tty containers.
pub mod task_stdio;

pub use container_io::{ContainerIo, StdioConfig};
pub use containerd::{
    ContainerSummary, Containerd, ExitStatus, ImportedImage, TaskIo, TaskState, TaskStatus,
};
pub use spec::{build_spec, MountInput, OciSpecInput};

use std::path::PathBuf;

/// Errors from the runtime; each carries what was being done so logs are actionable.
#[derive(Debug, thiserror::Error)]
pub enum RuntimeError {
    #[error("connecting to containerd at {path}: {source}")]
    Connect {
        path: PathBuf,
        #[source]
        source: containerd_client::tonic::transport::Error,
    },
    #[error("containerd {op}: {source}")]
    Rpc {
        op: String,
        #[source]
        source: Box<containerd_client::tonic::Status>,
    },
    #[error("{context}: {source}")]
    Io {
        context: String,
        #[source]
        source: std::io::Error,
    },
    #[error("invalid image {what}: {msg}")]
    Image { what: String, msg: String },
    #[error("invalid {what}: {msg}")]
    Invalid { what: String, msg: String },
    #[error("timed out after {timeout:?} waiting for task {id}")]
    Timeout {
        id: String,
        timeout: std::time::Duration,
    },
}

impl RuntimeError {
    /// True when containerd answered NotFound (missing container, task, snapshot, image).
    pub fn is_not_found(&self) -> bool {
        matches!(self, RuntimeError::Rpc { source, .. }
            if source.code() == containerd_client::tonic::Code::NotFound)
    }

    pub(crate) fn rpc(op: impl Into<String>, source: containerd_client::tonic::Status) -> Self {
        RuntimeError::Rpc {
            op: op.into(),
            source: Box::new(source),
        }
    }

    pub(crate) fn image(what: impl Into<String>, msg: impl Into<String>) -> Self {
        RuntimeError::Image {
            what: what.into(),
            msg: msg.into(),
        }
    }

    pub(crate) fn io(context: impl Into<String>, source: std::io::Error) -> Self {
        RuntimeError::Io {
            context: context.into(),
            source,
        }
    }
}

pub type Result<T, E = RuntimeError> = std::result::Result<T, E>;
