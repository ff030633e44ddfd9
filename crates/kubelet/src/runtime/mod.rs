//! The container runtime: containerd through its native gRPC API (filled in by the runtime change).
