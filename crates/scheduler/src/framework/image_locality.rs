//! ImageLocality: nodes that already have the pod's images score higher, weighted by
//! image size and by how widely the image is spread (upstream's scaledImageScore).

use std::collections::HashMap;

use super::MAX_NODE_SCORE;
use crate::cache::{Cache, NodeInfo, PodInfo};

const MB: i64 = 1024 * 1024;
/// Below this total size the score is 0 (upstream minThreshold).
const MIN_THRESHOLD: i64 = 23 * MB;
/// Per container, at or above this the score is 100 (upstream maxContainerThreshold).
const MAX_CONTAINER_THRESHOLD: i64 = 1000 * MB;

/// upstream normalizedImageName: an image without tag or digest means `:latest`.
pub fn normalized_image_name(name: &str) -> String {
    let last = name.rsplit('/').next().unwrap_or(name);
    if name.contains('@') || last.contains(':') {
        name.to_string()
    } else {
        format!("{name}:latest")
    }
}

fn image_names(pod: &PodInfo) -> Vec<String> {
    let Some(spec) = pod.pod.spec.as_ref() else {
        return Vec::new();
    };
    spec.containers
        .iter()
        .chain(spec.init_containers.iter().flatten())
        .filter_map(|c| c.image.as_deref())
        .map(normalized_image_name)
        .collect()
}

fn has_image<'a>(node: &'a NodeInfo, image: &str) -> Option<&'a i64> {
    node.images.get(image).or_else(|| {
        // Nodes report fully-qualified names (docker.io/library/busybox:latest).
        node.images
            .iter()
            .find(|(n, _)| n.ends_with(&format!("/{image}")))
            .map(|(_, s)| s)
    })
}

/// How many nodes have each of the pod's images.
pub struct ImageCounts {
    images: Vec<String>,
    nodes_with: HashMap<String, usize>,
    containers: usize,
}

impl ImageCounts {
    pub fn compute(pod: &PodInfo, cache: &Cache) -> ImageCounts {
        let images = image_names(pod);
        let mut nodes_with = HashMap::new();
        for img in &images {
            let n = cache
                .nodes()
                .filter(|n| has_image(n, img).is_some())
                .count();
            nodes_with.insert(img.clone(), n);
        }
        let containers = pod
            .pod
            .spec
            .as_ref()
            .map(|s| s.containers.len())
            .unwrap_or(0);
        ImageCounts {
            images,
            nodes_with,
            containers,
        }
    }

    pub fn score(&self, _pod: &PodInfo, node: &NodeInfo, total_nodes: usize) -> i64 {
        if total_nodes == 0 {
            return 0;
        }
        let sum: i64 = self
            .images
            .iter()
            .filter_map(|img| {
                let size = *has_image(node, img)?;
                let spread =
                    self.nodes_with.get(img).copied().unwrap_or(0) as f64 / total_nodes as f64;
                Some((size as f64 * spread) as i64)
            })
            .sum();
        let max = MAX_CONTAINER_THRESHOLD * self.containers.max(1) as i64;
        let clamped = sum.clamp(MIN_THRESHOLD, max);
        MAX_NODE_SCORE * (clamped - MIN_THRESHOLD) / (max - MIN_THRESHOLD)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::cache::tests::{node, pod};
    use k8s_openapi::api::core::v1::ContainerImage;
    use std::sync::Arc;

    #[test]
    fn nodes_with_the_image_score_higher() {
        let mut c = Cache::new();
        let mut with = node("with", "4", "8Gi", "110");
        with.status.get_or_insert_default().images = Some(vec![ContainerImage {
            names: Some(vec!["docker.io/library/big:latest".into()]),
            size_bytes: Some(800 * MB),
        }]);
        c.upsert_node(with);
        c.upsert_node(node("without", "4", "8Gi", "110"));
        let mut p = pod("ns", "p", None, "100m");
        if let Some(s) = p.spec.as_mut() {
            s.containers[0].image = Some("big".into());
        }
        let p = PodInfo::new(Arc::new(p));
        let counts = ImageCounts::compute(&p, &c);
        let a = counts.score(&p, c.node("with").expect("with"), 2);
        let b = counts.score(&p, c.node("without").expect("without"), 2);
        // 800 MB * 1/2 spread = 400 MB of 1000 MB -> (400-23)/(1000-23).
        assert_eq!(a, 38);
        assert_eq!(b, 0);
        assert_eq!(normalized_image_name("busybox"), "busybox:latest");
        assert_eq!(
            normalized_image_name("reg:5000/busybox"),
            "reg:5000/busybox:latest"
        );
        assert_eq!(normalized_image_name("busybox:1.36"), "busybox:1.36");
    }
}
