//! Running a command in a container (`kubectl exec`): containerd's tasks.Exec with the
//! container's own process spec (user, env, cwd, capabilities), stdio through FIFOs the
//! shim opens, an optional terminal.
//!
//! The FIFOs follow the runc shim's protocol: see [`super::stdio`].

use std::path::{Path, PathBuf};

use containerd_client::services::v1 as api;
use serde_json::{Map, Value};
use tokio::net::unix::pipe;

use super::containerd::Containerd;
use super::stdio::FifoSet;
use super::{Result, RuntimeError};

/// The type URL of an OCI process spec.
pub const PROCESS_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Process";

#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ExecRequest {
    pub container_id: String,
    pub command: Vec<String>,
    pub tty: bool,
    pub stdin: bool,
    pub stdout: bool,
    /// Ignored with a tty (the terminal merges stderr into stdout).
    pub stderr: bool,
}

/// A started exec process; its stdio ends are for the caller to pump.
#[derive(Debug)]
pub struct ExecProcess {
    pub container_id: String,
    pub exec_id: String,
    pub stdin: Option<pipe::Sender>,
    pub stdout: Option<pipe::Receiver>,
    pub stderr: Option<pipe::Receiver>,
    fifo_dir: PathBuf,
}

impl ExecProcess {
    /// Removes the FIFO directory (call once done with the process).
    pub fn cleanup(&self) {
        let _ = std::fs::remove_dir_all(&self.fifo_dir);
    }
}

/// The exec's process spec: the container's, with the command, the terminal flag, and
/// (for a tty) TERM when the image does not set it.
pub fn exec_process_spec(container_spec: &Value, command: &[String], tty: bool) -> Result<Value> {
    let mut process =
        container_spec
            .get("process")
            .cloned()
            .ok_or_else(|| RuntimeError::Invalid {
                what: "container spec".into(),
                msg: "it has no process".into(),
            })?;
    let obj = process
        .as_object_mut()
        .ok_or_else(|| RuntimeError::Invalid {
            what: "container spec".into(),
            msg: "process is not an object".into(),
        })?;
    obj.insert("args".into(), Value::from(command.to_vec()));
    set_terminal(obj, tty);
    Ok(process)
}

/// Sets a process spec's terminal flag; with a terminal, TERM=xterm is added unless the
/// env sets TERM (containerd's `oci.WithTTY`, which the CRI plugin uses for tty
/// containers).
pub fn set_terminal(process: &mut Map<String, Value>, tty: bool) {
    process.insert("terminal".into(), Value::Bool(tty));
    if tty {
        let env = process
            .entry("env")
            .or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = env.as_array_mut() {
            let has_term = list
                .iter()
                .any(|e| e.as_str().is_some_and(|s| s.starts_with("TERM=")));
            if !has_term {
                list.push(Value::from("TERM=xterm"));
            }
        }
    }
}

impl Containerd {
    /// The container's stored OCI spec (JSON).
    pub async fn container_spec(&self, id: &str) -> Result<Value> {
        let container = self
            .containers()
            .get(self.req(api::GetContainerRequest { id: id.to_string() }, None)?)
            .await
            .map_err(|s| RuntimeError::rpc(format!("containers get {id}"), s))?
            .into_inner()
            .container
            .ok_or_else(|| RuntimeError::Invalid {
                what: "containers get".into(),
                msg: format!("no container {id}"),
            })?;
        let spec = container.spec.ok_or_else(|| RuntimeError::Invalid {
            what: "container".into(),
            msg: format!("{id} has no spec"),
        })?;
        serde_json::from_slice(&spec.value).map_err(|e| RuntimeError::Invalid {
            what: "container spec".into(),
            msg: e.to_string(),
        })
    }

    /// Starts `req.command` in the running container; FIFOs go under `fifo_root`.
    pub async fn exec(&self, req: &ExecRequest, fifo_root: &Path) -> Result<ExecProcess> {
        let spec = self.container_spec(&req.container_id).await?;
        let process = exec_process_spec(&spec, &req.command, req.tty)?;
        let exec_id = format!("exec-{}", uuid::Uuid::new_v4().simple());
        let fifo_dir = fifo_root.join(&exec_id);
        std::fs::create_dir_all(&fifo_dir)
            .map_err(|e| RuntimeError::io(format!("creating {}", fifo_dir.display()), e))?;
        let result = self.exec_in(req, process, &exec_id, &fifo_dir).await;
        if result.is_err() {
            let _ = std::fs::remove_dir_all(&fifo_dir);
        }
        result
    }

    async fn exec_in(
        &self,
        req: &ExecRequest,
        process: Value,
        exec_id: &str,
        fifo_dir: &Path,
    ) -> Result<ExecProcess> {
        let fifos = FifoSet::in_dir(fifo_dir, req.stdin, req.stdout, req.stderr && !req.tty);
        fifos.create()?;
        let pending = fifos.open()?;
        let process_bytes = serde_json::to_vec(&process).map_err(|e| RuntimeError::Invalid {
            what: "process spec".into(),
            msg: e.to_string(),
        })?;
        let exec = api::ExecProcessRequest {
            container_id: req.container_id.clone(),
            stdin: FifoSet::uri(&fifos.stdin),
            stdout: FifoSet::uri(&fifos.stdout),
            stderr: FifoSet::uri(&fifos.stderr),
            terminal: req.tty,
            spec: Some(prost_types::Any {
                type_url: PROCESS_TYPE_URL.into(),
                value: process_bytes,
            }),
            exec_id: exec_id.to_string(),
        };
        let op = format!("tasks exec {} {exec_id}", req.container_id);
        if let Err(s) = self.tasks().exec(self.req(exec, None)?).await {
            pending.abandon().await;
            return Err(RuntimeError::rpc(op, s));
        }
        let started = self
            .tasks()
            .start(self.req(
                api::StartRequest {
                    container_id: req.container_id.clone(),
                    exec_id: exec_id.to_string(),
                },
                None,
            )?)
            .await;
        if let Err(s) = started {
            pending.abandon().await;
            let _ = self.delete_exec(&req.container_id, exec_id).await;
            return Err(RuntimeError::rpc(
                format!("tasks start {} {exec_id}", req.container_id),
                s,
            ));
        }
        let open = match pending.opened().await {
            Ok(open) => open,
            Err(e) => {
                let _ = self.delete_exec(&req.container_id, exec_id).await;
                return Err(e);
            }
        };
        Ok(ExecProcess {
            container_id: req.container_id.clone(),
            exec_id: exec_id.to_string(),
            stdin: open.stdin,
            stdout: open.stdout,
            stderr: open.stderr,
            fifo_dir: fifo_dir.to_path_buf(),
        })
    }

    /// Waits for an exec process to exit; its exit code (128+N for signal N).
    pub async fn wait_exec(&self, container_id: &str, exec_id: &str) -> Result<u32> {
        let resp = self
            .tasks()
            .wait(self.req(
                api::WaitRequest {
                    container_id: container_id.to_string(),
                    exec_id: exec_id.to_string(),
                },
                None,
            )?)
            .await
            .map_err(|s| RuntimeError::rpc(format!("tasks wait {container_id} {exec_id}"), s))?;
        Ok(resp.into_inner().exit_status)
    }

    /// Tells the shim the process's stdin is done (after our FIFO end is dropped).
    pub async fn close_exec_stdin(&self, container_id: &str, exec_id: &str) -> Result<()> {
        self.tasks()
            .close_io(self.req(
                api::CloseIoRequest {
                    container_id: container_id.to_string(),
                    exec_id: exec_id.to_string(),
                    stdin: true,
                },
                None,
            )?)
            .await
            .map_err(|s| RuntimeError::rpc(format!("tasks closeio {container_id} {exec_id}"), s))?;
        Ok(())
    }

    /// Resizes the terminal of an exec process (or of the task with an empty exec id).
    pub async fn resize_pty(
        &self,
        container_id: &str,
        exec_id: &str,
        width: u32,
        height: u32,
    ) -> Result<()> {
        self.tasks()
            .resize_pty(self.req(
                api::ResizePtyRequest {
                    container_id: container_id.to_string(),
                    exec_id: exec_id.to_string(),
                    width,
                    height,
                },
                None,
            )?)
            .await
            .map_err(|s| {
                RuntimeError::rpc(format!("tasks resizepty {container_id} {exec_id}"), s)
            })?;
        Ok(())
    }

    /// Kills (if still running) and deletes an exec process.
    pub async fn delete_exec(&self, container_id: &str, exec_id: &str) -> Result<()> {
        let _ = self
            .tasks()
            .kill(self.req(
                api::KillRequest {
                    container_id: container_id.to_string(),
                    exec_id: exec_id.to_string(),
                    signal: 9,
                    all: false,
                },
                None,
            )?)
            .await;
        let del = self
            .tasks()
            .delete_process(self.req(
                api::DeleteProcessRequest {
                    container_id: container_id.to_string(),
                    exec_id: exec_id.to_string(),
                },
                None,
            )?)
            .await;
        match del {
            Ok(_) => Ok(()),
            Err(s) if s.code() == containerd_client::tonic::Code::NotFound => Ok(()),
            Err(s) => Err(RuntimeError::rpc(
                format!("tasks deleteprocess {container_id} {exec_id}"),
                s,
            )),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn process_spec_from_container() {
        let spec = serde_json::json!({
            "process": {"args": ["sleep", "1000"], "env": ["PATH=/bin"], "cwd": "/work", "user": {"uid": 1000, "gid": 1000}}
        });
        let p = exec_process_spec(&spec, &["echo".into(), "hi".into()], false).unwrap();
        assert_eq!(p["args"], serde_json::json!(["echo", "hi"]));
        assert_eq!(p["terminal"], false);
        assert_eq!(p["cwd"], "/work");
        assert_eq!(p["user"]["uid"], 1000);
        assert_eq!(p["env"], serde_json::json!(["PATH=/bin"]));
        let p = exec_process_spec(&spec, &["sh".into()], true).unwrap();
        assert_eq!(p["terminal"], true);
        assert_eq!(p["env"], serde_json::json!(["PATH=/bin", "TERM=xterm"]));
        assert!(exec_process_spec(&serde_json::json!({}), &[], false).is_err());
    }
}
