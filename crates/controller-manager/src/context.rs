//! What every controller gets: the API client, the options, metrics and the stop signal.

use std::hash::Hash;
use std::sync::Arc;

use crate::informers::InformerFactory;
use crate::options::ControllerManagerOptions;
use crate::record::EventRecorder;
use crate::workqueue::{WorkQueue, WorkqueueMetrics};

pub struct ControllerContext {
    pub client: kube::Client,
    pub options: Arc<ControllerManagerOptions>,
    pub registry: prometheus::Registry,
    pub workqueue_metrics: WorkqueueMetrics,
    stop: tokio::sync::watch::Receiver<bool>,
    informers: InformerFactory,
}

impl ControllerContext {
    pub fn new(
        client: kube::Client,
        options: Arc<ControllerManagerOptions>,
        registry: prometheus::Registry,
        workqueue_metrics: WorkqueueMetrics,
        stop: tokio::sync::watch::Receiver<bool>,
    ) -> Self {
        let informers = InformerFactory::new(client.clone(), stop.clone());
        ControllerContext {
            client,
            options,
            registry,
            workqueue_metrics,
            stop,
            informers,
        }
    }

    /// A work queue named as upstream names it (the `name` label of workqueue_*).
    pub fn queue<K: Clone + Eq + Hash + Send + Sync + 'static>(&self, name: &str) -> WorkQueue<K> {
        WorkQueue::new(name, &self.workqueue_metrics)
    }

    /// Shared informers (one watch per kind for every controller).
    pub fn informers(&self) -> &InformerFactory {
        &self.informers
    }

    /// Resolves when the controller manager stops (or loses leadership).
    pub async fn stopped(&self) {
        let mut rx = self.stop.clone();
        let _ = rx.wait_for(|s| *s).await;
    }

    pub fn is_stopped(&self) -> bool {
        *self.stop.borrow()
    }

    /// A core/v1 event recorder reporting as `component` (e.g. "node-controller"), the
    /// source upstream's controllers use; see [`crate::record`].
    pub fn recorder(&self, component: &str) -> Arc<EventRecorder> {
        EventRecorder::new(self.client.clone(), component)
    }
}
