//! Running a command in a container (`kubectl exec`): containerd's tasks.Exec with the
//! container's own process spec (user, env, cwd, capabilities), stdio through FIFOs the
//! shim opens, an optional terminal.
//!
//! FIFO protocol with the runc shim (containerd 1.6 `pkg/process/io.go` copyPipes): the
//! shim opens stdin for reading (non-blocking) and stdout/stderr for writing, and closes
//! its ends when the process's output is fully copied. So stdin is opened read-write here
//! before the exec (the shim never sees EOF early; dropping it is EOF), and stdout/stderr
//! are opened read-only in blocking threads that finish once the shim opens its end.

use std::path::{Path, PathBuf};
use std::time::Duration;

use containerd_client::services::v1 as api;
use serde_json::Value;
use tokio::net::unix::pipe;

use super::containerd::Containerd;
use super::{Result, RuntimeError};

/// The type URL of an OCI process spec.
pub const PROCESS_TYPE_URL: &str = "types.containerd.io/opencontainers/runtime-spec/1/Process";

/// How long the shim gets to open the output FIFOs after the process started.
const FIFO_OPEN_TIMEOUT: Duration = Duration::from_secs(30);

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
    obj.insert("terminal".into(), Value::Bool(tty));
    if tty {
        let env = obj.entry("env").or_insert_with(|| Value::Array(Vec::new()));
        if let Some(list) = env.as_array_mut() {
            let has_term = list
                .iter()
                .any(|e| e.as_str().is_some_and(|s| s.starts_with("TERM=")));
            if !has_term {
                list.push(Value::from("TERM=xterm"));
            }
        }
    }
    Ok(process)
}

fn mkfifo(path: &Path) -> Result<()> {
    use std::os::unix::ffi::OsStrExt;
    let c =
        std::ffi::CString::new(path.as_os_str().as_bytes()).map_err(|e| RuntimeError::Invalid {
            what: "fifo path".into(),
            msg: e.to_string(),
        })?;
    // SAFETY: c is a valid NUL-terminated path.
    if unsafe { libc::mkfifo(c.as_ptr(), 0o600) } != 0 {
        return Err(RuntimeError::io(
            format!("mkfifo {}", path.display()),
            std::io::Error::last_os_error(),
        ));
    }
    Ok(())
}

/// Opens a FIFO for reading in a blocking thread (returns once a writer opened it).
fn open_reader(path: PathBuf) -> tokio::task::JoinHandle<std::io::Result<std::fs::File>> {
    tokio::task::spawn_blocking(move || std::fs::OpenOptions::new().read(true).open(path))
}

/// Unblocks a pending [`open_reader`] when the shim will never open the FIFO.
fn unblock_reader(path: &Path) {
    use std::os::unix::fs::OpenOptionsExt;
    let _ = std::fs::OpenOptions::new()
        .write(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path);
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
        let want_stderr = req.stderr && !req.tty;
        let path_of = |name: &str, wanted: bool| wanted.then(|| fifo_dir.join(name));
        let stdin_path = path_of("stdin", req.stdin);
        let stdout_path = path_of("stdout", req.stdout);
        let stderr_path = path_of("stderr", want_stderr);
        for p in [&stdin_path, &stdout_path, &stderr_path]
            .into_iter()
            .flatten()
        {
            mkfifo(p)?;
        }
        let stdin = match &stdin_path {
            Some(p) => Some(
                pipe::OpenOptions::new()
                    .read_write(true)
                    .open_sender(p)
                    .map_err(|e| RuntimeError::io(format!("opening {}", p.display()), e))?,
            ),
            None => None,
        };
        let stdout_open = stdout_path.clone().map(open_reader);
        let stderr_open = stderr_path.clone().map(open_reader);
        let unblock = || {
            for p in [&stdout_path, &stderr_path].into_iter().flatten() {
                unblock_reader(p);
            }
        };

        let process_bytes = serde_json::to_vec(&process).map_err(|e| RuntimeError::Invalid {
            what: "process spec".into(),
            msg: e.to_string(),
        })?;
        let show = |p: &Option<PathBuf>| {
            p.as_ref()
                .map(|p| p.display().to_string())
                .unwrap_or_default()
        };
        let exec = api::ExecProcessRequest {
            container_id: req.container_id.clone(),
            stdin: show(&stdin_path),
            stdout: show(&stdout_path),
            stderr: show(&stderr_path),
            terminal: req.tty,
            spec: Some(prost_types::Any {
                type_url: PROCESS_TYPE_URL.into(),
                value: process_bytes,
            }),
            exec_id: exec_id.to_string(),
        };
        let op = format!("tasks exec {} {exec_id}", req.container_id);
        if let Err(s) = self.tasks().exec(self.req(exec, None)?).await {
            unblock();
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
            unblock();
            let _ = self.delete_exec(&req.container_id, exec_id).await;
            return Err(RuntimeError::rpc(
                format!("tasks start {} {exec_id}", req.container_id),
                s,
            ));
        }
        let receiver = |open: Option<tokio::task::JoinHandle<std::io::Result<std::fs::File>>>| async move {
            let Some(open) = open else { return Ok(None) };
            let file = tokio::time::timeout(FIFO_OPEN_TIMEOUT, open)
                .await
                .map_err(|_| {
                    RuntimeError::io("opening an exec FIFO", std::io::ErrorKind::TimedOut.into())
                })?
                .map_err(|e| RuntimeError::io("opening an exec FIFO", std::io::Error::other(e)))?
                .map_err(|e| RuntimeError::io("opening an exec FIFO", e))?;
            pipe::Receiver::from_file(file)
                .map(Some)
                .map_err(|e| RuntimeError::io("opening an exec FIFO", e))
        };
        let stdout = receiver(stdout_open).await;
        let stderr = receiver(stderr_open).await;
        let (stdout, stderr) = match (stdout, stderr) {
            (Ok(o), Ok(e)) => (o, e),
            (Err(e), _) | (_, Err(e)) => {
                unblock();
                let _ = self.delete_exec(&req.container_id, exec_id).await;
                return Err(e);
            }
        };
        Ok(ExecProcess {
            container_id: req.container_id.clone(),
            exec_id: exec_id.to_string(),
            stdin,
            stdout,
            stderr,
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
