//! The tasks of containers with `stdin: true` or `tty: true` ([`TaskIo::Attachable`]):
//! fresh FIFOs per start, a terminal when asked (the spec's `process.terminal` and the
//! task's), the kubelet's relay ([`ContainerIo`]) registered before the process starts,
//! and re-opening the FIFOs after a kubelet restart.
//!
//! [`TaskIo::Attachable`]: super::TaskIo::Attachable

use std::sync::Arc;

use containerd_client::services::v1 as api;
use containerd_client::types::Mount;
use serde_json::Value;

use super::container_io::{remove_fifo_dir, ContainerIo, StdioConfig};
use super::containerd::{Containerd, SPEC_TYPE_URL};
use super::stdio::FifoSet;
use super::{Result, RuntimeError};

impl Containerd {
    /// The kubelet's side of a stdin/tty container's stdio (see [`TaskIo::Attachable`](super::TaskIo::Attachable));
    /// None for containers whose output goes to the log driver.
    pub fn container_io(&self, id: &str) -> Option<Arc<ContainerIo>> {
        self.ios.get(id)
    }

    /// [`TaskIo::Attachable`](super::TaskIo::Attachable): fresh FIFOs, the spec's terminal flag, the task created
    /// with the FIFOs, the relay started, then the process.
    pub(crate) async fn start_attachable_task(
        &self,
        id: &str,
        rootfs: Vec<Mount>,
        cfg: &StdioConfig,
    ) -> Result<u32> {
        // The previous run's relay and FIFOs go first.
        self.ios.remove(id);
        remove_fifo_dir(&cfg.dir);
        std::fs::create_dir_all(&cfg.dir)
            .map_err(|e| RuntimeError::io(format!("creating {}", cfg.dir.display()), e))?;
        let result = self.create_attachable_task(id, rootfs, cfg).await;
        if result.is_err() {
            self.ios.remove(id);
            remove_fifo_dir(&cfg.dir);
        }
        result
    }

    async fn create_attachable_task(
        &self,
        id: &str,
        rootfs: Vec<Mount>,
        cfg: &StdioConfig,
    ) -> Result<u32> {
        let fifos = cfg.fifos();
        fifos.create()?;
        if cfg.tty {
            self.set_spec_terminal(id).await?;
        }
        let pending = fifos.open()?;
        let create = api::CreateTaskRequest {
            container_id: id.to_string(),
            rootfs,
            stdin: FifoSet::uri(&fifos.stdin),
            stdout: FifoSet::uri(&fifos.stdout),
            stderr: FifoSet::uri(&fifos.stderr),
            terminal: cfg.tty,
            ..Default::default()
        };
        if let Err(s) = self.tasks().create(self.req(create, None)?).await {
            pending.abandon().await;
            return Err(RuntimeError::rpc(format!("tasks create {id}"), s));
        }
        let open = match pending.opened().await {
            Ok(open) => open,
            Err(e) => {
                self.delete_created_task(id).await;
                return Err(e);
            }
        };
        self.ios.insert(ContainerIo::start(id, cfg.clone(), open));
        self.start_created_task(id).await
    }

    /// Sets `process.terminal` (and TERM) in the container's stored spec: runc only
    /// allocates the pty the shim asks for when the spec says so (containerd's
    /// `oci.WithTTY`, which the CRI plugin applies to tty containers).
    async fn set_spec_terminal(&self, id: &str) -> Result<()> {
        let mut spec = self.container_spec(id).await?;
        let process = spec
            .get_mut("process")
            .and_then(Value::as_object_mut)
            .ok_or_else(|| RuntimeError::Invalid {
                what: "container spec".into(),
                msg: format!("{id} has no process"),
            })?;
        super::exec::set_terminal(process, true);
        let value = serde_json::to_vec(&spec).map_err(|e| RuntimeError::Invalid {
            what: "spec".into(),
            msg: e.to_string(),
        })?;
        let update = api::UpdateContainerRequest {
            container: Some(api::Container {
                id: id.to_string(),
                spec: Some(prost_types::Any {
                    type_url: SPEC_TYPE_URL.into(),
                    value,
                }),
                ..Default::default()
            }),
            update_mask: Some(prost_types::FieldMask {
                paths: vec!["spec".into()],
            }),
        };
        self.containers()
            .update(self.req(update, None)?)
            .await
            .map_err(|s| RuntimeError::rpc(format!("containers update {id}"), s))?;
        Ok(())
    }

    /// After a kubelet restart: opens the FIFOs of a running stdin/tty container again
    /// (the shim kept its ends) and resumes copying its output into `cfg.log_path`.
    pub fn reattach_io(&self, id: &str, cfg: &StdioConfig) -> Result<Arc<ContainerIo>> {
        let open = cfg.fifos().reopen()?;
        let io = ContainerIo::start(id, cfg.clone(), open);
        self.ios.insert(io.clone());
        Ok(io)
    }

    /// Stops relaying the stdio of every stdin/tty container, leaving their FIFOs to
    /// the next kubelet ([`Containerd::reattach_io`]); for a kubelet shutting down.
    pub fn detach_all_io(&self) {
        self.ios.detach_all();
    }

    /// Closes the container's stdin for good: our FIFO end, then the shim's (CloseIO).
    /// False when it was not open.
    pub async fn close_container_stdin(&self, id: &str) -> Result<bool> {
        let Some(io) = self.ios.get(id) else {
            return Ok(false);
        };
        if !io.close_stdin().await {
            return Ok(false);
        }
        self.close_exec_stdin(id, "").await?;
        Ok(true)
    }
}
