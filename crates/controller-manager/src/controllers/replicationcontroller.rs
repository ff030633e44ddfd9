//! The ReplicationController manager: the ReplicaSet controller's code run over v1
//! ReplicationControllers (as upstream's pkg/controller/replication does).

use std::sync::Arc;

use k8s_openapi::api::core::v1::ReplicationController;

use crate::context::ControllerContext;
use crate::controllers::replicaset::run_kind;

pub async fn run(ctx: Arc<ControllerContext>) -> anyhow::Result<()> {
    let workers = ctx.options.concurrent_rc_syncs;
    run_kind::<ReplicationController>(ctx, workers).await
}
