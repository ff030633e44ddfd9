//! Request bodies in `application/vnd.kubernetes.protobuf`, decoded to the JSON the same
//! object would have been sent as.
//!
//! kubectl's generators (`kubectl create deployment|configmap|secret|...`, `run`, `expose`,
//! `create token`, `auth can-i`) and other client-go programs send built-in objects as
//! Kubernetes protobuf. The server only needs to read them (responses stay JSON: client-go
//! also lists application/json in Accept), so instead of typed protobuf messages this is a
//! table-driven translator: [`schema`] holds every message's fields (number, Go JSON name,
//! type, omitempty / pointer flags) and [`decode`] turns the bytes into a
//! `serde_json::Value` that the JSON request path then handles unchanged.
//!
//! The envelope (upstream `runtime/serializer/protobuf`): the 4 bytes `k8s\0`, then a
//! `runtime.Unknown` {1 typeMeta {1 apiVersion, 2 kind}, 2 raw, 3 contentEncoding,
//! 4 contentType}, where `raw` is the object's own protobuf encoding.
//!
//! The body is attacker-controlled: every length is checked against the remaining input,
//! nesting is bounded by [`decode::MAX_DEPTH`], and no input panics.

mod decode;
pub mod schema;
mod wire;

#[cfg(test)]
mod tests;

/// The media type this module decodes.
pub const CONTENT_TYPE: &str = "application/vnd.kubernetes.protobuf";

/// Decodes a whole protobuf request body into the object's JSON (with `apiVersion` and
/// `kind` from the envelope), as upstream's JSON encoding of the same Go object would read.
pub fn decode(body: &[u8]) -> Result<serde_json::Value, ProtobufError> {
    decode::envelope(body, 0)
}

/// Why a protobuf body could not be decoded. The Display text is meant for the client.
#[derive(Debug, thiserror::Error)]
pub enum ProtobufError {
    #[error("empty protobuf request body")]
    Empty,
    #[error("request body is not a Kubernetes protobuf message: it must start with the bytes \"k8s\\x00\"")]
    NotProtobuf,
    #[error("protobuf envelope (runtime.Unknown) has no kind in its typeMeta")]
    MissingKind,
    #[error("protobuf envelope (runtime.Unknown) has no apiVersion in its typeMeta")]
    MissingVersion,
    #[error(
        "protobuf contentEncoding {0:?} is not supported; send the object without contentEncoding"
    )]
    UnsupportedEncoding(String),
    #[error(
        "this server cannot decode kind {kind:?} of apiVersion {api_version:?} from protobuf; \
         send it as application/json"
    )]
    UnsupportedKind { api_version: String, kind: String },
    /// `path` is the JSON path of the field being read, e.g. `Deployment.spec.replicas`.
    #[error("invalid protobuf request body{}: {reason}", at(path))]
    Invalid { path: String, reason: String },
}

fn at(path: &str) -> String {
    if path.is_empty() {
        String::new()
    } else {
        format!(" at {path}")
    }
}

impl ProtobufError {
    /// The HTTP status the server should answer with: 415 when the kind simply has no
    /// protobuf schema here (the client can retry as JSON), 400 for a malformed body.
    pub fn status_code(&self) -> u16 {
        match self {
            ProtobufError::UnsupportedKind { .. } | ProtobufError::UnsupportedEncoding(_) => 415,
            _ => 400,
        }
    }

    /// Prefixes the path of an [`ProtobufError::Invalid`] with a field name, while unwinding.
    fn within_field(self, name: &str) -> Self {
        self.within(name)
    }

    fn within_index(self, i: usize) -> Self {
        self.within(&format!("[{i}]"))
    }

    fn within_key(self, key: &str) -> Self {
        self.within(&format!("[{key}]"))
    }

    fn within(self, seg: &str) -> Self {
        match self {
            // An inlined struct ("" name) adds no segment.
            ProtobufError::Invalid { path, reason } if !seg.is_empty() => {
                let path = if path.is_empty() || path.starts_with('[') {
                    format!("{seg}{path}")
                } else {
                    format!("{seg}.{path}")
                };
                ProtobufError::Invalid { path, reason }
            }
            other => other,
        }
    }
}
