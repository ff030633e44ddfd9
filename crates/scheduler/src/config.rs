//! KubeSchedulerConfiguration (kubescheduler.config.k8s.io/v1): profiles with their
//! schedulerName, plugins enabled / disabled per extension point with weights, and
//! pluginConfig. Parsed strictly: an unknown field, plugin or value is an error that
//! names it.

use std::path::Path;
use std::time::Duration;

use serde::Deserialize;

use crate::framework::Plugin;

pub const API_VERSION: &str = "kubescheduler.config.k8s.io/v1";
pub const KIND: &str = "KubeSchedulerConfiguration";
pub const DEFAULT_SCHEDULER_NAME: &str = "default-scheduler";

#[derive(Debug, thiserror::Error)]
pub enum ConfigError {
    #[error("reading scheduler config file {path}: {source}")]
    Read {
        path: String,
        source: std::io::Error,
    },
    #[error("decoding scheduler config file {path}: {message}")]
    Decode { path: String, message: String },
    #[error("invalid scheduler config: {0}")]
    Invalid(String),
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct KubeSchedulerConfiguration {
    pub api_version: Option<String>,
    pub kind: Option<String>,
    pub parallelism: Option<i32>,
    pub leader_election: Option<LeaderElectionConfiguration>,
    pub client_connection: Option<ClientConnection>,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub pod_initial_backoff_seconds: Option<i64>,
    pub pod_max_backoff_seconds: Option<i64>,
    #[serde(default)]
    pub profiles: Vec<ProfileSpec>,
    pub extenders: Option<Vec<serde_json::Value>>,
    pub delay_cache_until_active: Option<bool>,
    pub enable_profiling: Option<bool>,
    pub enable_contention_profiling: Option<bool>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct LeaderElectionConfiguration {
    pub leader_elect: Option<bool>,
    pub lease_duration: Option<String>,
    pub renew_deadline: Option<String>,
    pub retry_period: Option<String>,
    pub resource_lock: Option<String>,
    pub resource_name: Option<String>,
    pub resource_namespace: Option<String>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ClientConnection {
    pub kubeconfig: Option<String>,
    pub accept_content_types: Option<String>,
    pub content_type: Option<String>,
    pub qps: Option<f64>,
    pub burst: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct ProfileSpec {
    pub scheduler_name: Option<String>,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub plugins: Option<Plugins>,
    #[serde(default)]
    pub plugin_config: Vec<PluginConfig>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
pub struct Plugins {
    pub pre_enqueue: Option<PluginSet>,
    pub queue_sort: Option<PluginSet>,
    pub pre_filter: Option<PluginSet>,
    pub filter: Option<PluginSet>,
    pub post_filter: Option<PluginSet>,
    pub pre_score: Option<PluginSet>,
    pub score: Option<PluginSet>,
    pub reserve: Option<PluginSet>,
    pub permit: Option<PluginSet>,
    pub pre_bind: Option<PluginSet>,
    pub bind: Option<PluginSet>,
    pub post_bind: Option<PluginSet>,
    pub multi_point: Option<PluginSet>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginSet {
    #[serde(default)]
    pub enabled: Vec<PluginRef>,
    #[serde(default)]
    pub disabled: Vec<PluginRef>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginRef {
    pub name: String,
    pub weight: Option<i32>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PluginConfig {
    pub name: String,
    pub args: Option<serde_json::Value>,
}

// Decoded so that unknown fields are rejected; not every field changes behaviour.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct NodeResourcesFitArgs {
    api_version: Option<String>,
    kind: Option<String>,
    ignored_resources: Option<Vec<String>>,
    ignored_resource_groups: Option<Vec<String>>,
    scoring_strategy: Option<ScoringStrategySpec>,
}

// Decoded so that unknown fields are rejected; not every field changes behaviour.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct ScoringStrategySpec {
    #[serde(rename = "type")]
    type_: Option<String>,
    resources: Option<Vec<ResourceSpec>>,
    requested_to_capacity_ratio: Option<serde_json::Value>,
}

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct ResourceSpec {
    name: String,
    weight: Option<i64>,
}

// Decoded so that unknown fields are rejected; not every field changes behaviour.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct InterPodAffinityArgs {
    api_version: Option<String>,
    kind: Option<String>,
    hard_pod_affinity_weight: Option<i32>,
    ignore_preferred_terms_of_existing_pods: Option<bool>,
}

// Decoded so that unknown fields are rejected; not every field changes behaviour.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct PodTopologySpreadArgs {
    api_version: Option<String>,
    kind: Option<String>,
    default_constraints: Option<Vec<serde_json::Value>>,
    defaulting_type: Option<String>,
}

// Decoded so that unknown fields are rejected; not every field changes behaviour.
#[allow(dead_code)]
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields, rename_all = "camelCase")]
struct DefaultPreemptionArgs {
    api_version: Option<String>,
    kind: Option<String>,
    min_candidate_nodes_percentage: Option<i32>,
    min_candidate_nodes_absolute: Option<i32>,
}

/// How NodeResourcesFit scores.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum ScoringStrategyType {
    LeastAllocated,
    MostAllocated,
}

#[derive(Clone, Debug, PartialEq, Eq)]
pub struct ScoringStrategy {
    pub type_: ScoringStrategyType,
    /// (resource name, weight).
    pub resources: Vec<(String, i64)>,
}

impl Default for ScoringStrategy {
    fn default() -> Self {
        ScoringStrategy {
            type_: ScoringStrategyType::LeastAllocated,
            resources: vec![("cpu".to_string(), 1), ("memory".to_string(), 1)],
        }
    }
}

/// One resolved profile: which plugins run, in which order, with which weights.
#[derive(Clone, Debug)]
pub struct Profile {
    pub scheduler_name: String,
    pub filters: Vec<Plugin>,
    pub scores: Vec<(Plugin, i64)>,
    /// DefaultPreemption enabled at PostFilter.
    pub preemption: bool,
    pub fit_strategy: ScoringStrategy,
    pub hard_pod_affinity_weight: i64,
    pub percentage_of_nodes_to_score: Option<i32>,
}

/// The whole configuration after defaulting and validation.
#[derive(Clone, Debug)]
pub struct SchedulerConfig {
    pub profiles: Vec<Profile>,
    pub percentage_of_nodes_to_score: Option<i32>,
    pub pod_initial_backoff: Duration,
    pub pod_max_backoff: Duration,
    pub leader_elect: Option<bool>,
    pub lease_duration: Option<Duration>,
    pub renew_deadline: Option<Duration>,
    pub retry_period: Option<Duration>,
    pub resource_name: Option<String>,
    pub resource_namespace: Option<String>,
    pub kubeconfig: Option<String>,
}

impl Default for SchedulerConfig {
    fn default() -> Self {
        // Validating the empty configuration cannot fail.
        resolve(KubeSchedulerConfiguration::default()).unwrap_or_else(|_| SchedulerConfig {
            profiles: vec![default_profile(DEFAULT_SCHEDULER_NAME)],
            percentage_of_nodes_to_score: None,
            pod_initial_backoff: crate::queue::INITIAL_BACKOFF,
            pod_max_backoff: crate::queue::MAX_BACKOFF,
            leader_elect: None,
            lease_duration: None,
            renew_deadline: None,
            retry_period: None,
            resource_name: None,
            resource_namespace: None,
            kubeconfig: None,
        })
    }
}

/// Upstream's default filter plugins, in order (those this scheduler has).
pub const DEFAULT_FILTERS: &[Plugin] = &[
    Plugin::NodeUnschedulable,
    Plugin::NodeName,
    Plugin::TaintToleration,
    Plugin::NodeAffinity,
    Plugin::NodePorts,
    Plugin::NodeResourcesFit,
    Plugin::PodTopologySpread,
    Plugin::InterPodAffinity,
];

/// Upstream's default score plugins and weights.
pub const DEFAULT_SCORES: &[(Plugin, i64)] = &[
    (Plugin::TaintToleration, 3),
    (Plugin::NodeAffinity, 2),
    (Plugin::NodeResourcesFit, 1),
    (Plugin::PodTopologySpread, 2),
    (Plugin::InterPodAffinity, 2),
    (Plugin::NodeResourcesBalancedAllocation, 1),
    (Plugin::ImageLocality, 1),
];

/// Upstream plugins this scheduler accepts in a configuration but has nothing to do
/// for (no volumes, no DRA, no scheduling gates on hollow clusters); named so that
/// configurations written for upstream keep loading. Unknown names are errors.
const ACCEPTED_WITHOUT_EFFECT: &[&str] = &[
    "PrioritySort",
    "DefaultBinder",
    "SchedulingGates",
    "VolumeRestrictions",
    "EBSLimits",
    "GCEPDLimits",
    "NodeVolumeLimits",
    "AzureDiskLimits",
    "VolumeBinding",
    "VolumeZone",
    "DynamicResources",
    "NodeDeclaredFeatures",
];

fn default_profile(name: &str) -> Profile {
    Profile {
        scheduler_name: name.to_string(),
        filters: DEFAULT_FILTERS.to_vec(),
        scores: DEFAULT_SCORES.to_vec(),
        preemption: true,
        fit_strategy: ScoringStrategy::default(),
        hard_pod_affinity_weight: 1,
        percentage_of_nodes_to_score: None,
    }
}

/// Reads and validates a configuration file.
pub fn load_file(path: &Path) -> Result<SchedulerConfig, ConfigError> {
    let text = std::fs::read_to_string(path).map_err(|source| ConfigError::Read {
        path: path.display().to_string(),
        source,
    })?;
    parse(&text).map_err(|e| match e {
        ConfigError::Decode { message, .. } => ConfigError::Decode {
            path: path.display().to_string(),
            message,
        },
        other => other,
    })
}

/// Parses and validates configuration text (YAML or JSON).
pub fn parse(text: &str) -> Result<SchedulerConfig, ConfigError> {
    let raw: KubeSchedulerConfiguration =
        serde_saphyr::from_str(text).map_err(|e| ConfigError::Decode {
            path: "<text>".to_string(),
            message: e.to_string(),
        })?;
    resolve(raw)
}

fn invalid(msg: impl Into<String>) -> ConfigError {
    ConfigError::Invalid(msg.into())
}

fn parse_duration(field: &str, v: &Option<String>) -> Result<Option<Duration>, ConfigError> {
    v.as_deref()
        .map(|s| {
            component_base::duration::parse(s)
                .map_err(|e| invalid(format!("{field}: Invalid value: {s:?}: {e}")))
        })
        .transpose()
}

fn validate_percentage(field: &str, v: Option<i32>) -> Result<(), ConfigError> {
    match v {
        Some(p) if !(0..=100).contains(&p) => Err(invalid(format!(
            "{field}: Invalid value: {p}: not in valid range [0-100]"
        ))),
        _ => Ok(()),
    }
}

/// Defaults and validates a decoded configuration.
pub fn resolve(raw: KubeSchedulerConfiguration) -> Result<SchedulerConfig, ConfigError> {
    match raw.api_version.as_deref() {
        None | Some(API_VERSION) => {}
        Some(other) => {
            return Err(invalid(format!(
                "apiVersion: Unsupported value: {other:?}: supported values: {API_VERSION:?}"
            )))
        }
    }
    match raw.kind.as_deref() {
        None | Some(KIND) => {}
        Some(other) => {
            return Err(invalid(format!(
                "kind: Unsupported value: {other:?}: supported values: {KIND:?}"
            )))
        }
    }
    validate_percentage("percentageOfNodesToScore", raw.percentage_of_nodes_to_score)?;
    let initial = raw.pod_initial_backoff_seconds.unwrap_or(1);
    let max = raw.pod_max_backoff_seconds.unwrap_or(10);
    if initial <= 0 {
        return Err(invalid(format!(
            "podInitialBackoffSeconds: Invalid value: {initial}: must be greater than 0"
        )));
    }
    if max < initial {
        return Err(invalid(format!(
            "podMaxBackoffSeconds: Invalid value: {max}: must be greater than or equal to PodInitialBackoffSeconds"
        )));
    }
    let mut profiles = Vec::new();
    let specs = if raw.profiles.is_empty() {
        vec![ProfileSpec::default()]
    } else {
        raw.profiles
    };
    for (i, spec) in specs.into_iter().enumerate() {
        let p = resolve_profile(i, spec)?;
        if profiles
            .iter()
            .any(|q: &Profile| q.scheduler_name == p.scheduler_name)
        {
            return Err(invalid(format!(
                "profiles[{i}].schedulerName: Duplicate value: {:?}",
                p.scheduler_name
            )));
        }
        profiles.push(p);
    }
    let le = raw.leader_election.unwrap_or_default();
    if let Some(lock) = le.resource_lock.as_deref() {
        if lock != "leases" {
            return Err(invalid(format!(
                "leaderElection.resourceLock: Unsupported value: {lock:?}: supported values: \"leases\""
            )));
        }
    }
    Ok(SchedulerConfig {
        profiles,
        percentage_of_nodes_to_score: raw.percentage_of_nodes_to_score,
        pod_initial_backoff: Duration::from_secs(initial.unsigned_abs()),
        pod_max_backoff: Duration::from_secs(max.unsigned_abs()),
        leader_elect: le.leader_elect,
        lease_duration: parse_duration("leaderElection.leaseDuration", &le.lease_duration)?,
        renew_deadline: parse_duration("leaderElection.renewDeadline", &le.renew_deadline)?,
        retry_period: parse_duration("leaderElection.retryPeriod", &le.retry_period)?,
        resource_name: le.resource_name,
        resource_namespace: le.resource_namespace,
        kubeconfig: raw
            .client_connection
            .and_then(|c| c.kubeconfig)
            .filter(|k| !k.is_empty()),
    })
}

fn known(field: &str, name: &str) -> Result<Option<Plugin>, ConfigError> {
    if name == "*" {
        return Ok(None);
    }
    if let Some(p) = Plugin::from_name(name) {
        return Ok(Some(p));
    }
    if name == "DefaultPreemption" || ACCEPTED_WITHOUT_EFFECT.contains(&name) {
        return Ok(None);
    }
    Err(invalid(format!(
        "{field}: Invalid value: {name:?}: plugin {name:?} does not exist"
    )))
}

fn resolve_profile(i: usize, spec: ProfileSpec) -> Result<Profile, ConfigError> {
    let name = spec
        .scheduler_name
        .clone()
        .unwrap_or_else(|| DEFAULT_SCHEDULER_NAME.to_string());
    if name.is_empty() {
        return Err(invalid(format!(
            "profiles[{i}].schedulerName: Required value"
        )));
    }
    validate_percentage(
        &format!("profiles[{i}].percentageOfNodesToScore"),
        spec.percentage_of_nodes_to_score,
    )?;
    let mut profile = default_profile(&name);
    profile.percentage_of_nodes_to_score = spec.percentage_of_nodes_to_score;
    let plugins = spec.plugins.unwrap_or_default();

    // multiPoint first, then the specific extension points, as upstream.
    let points: [(&str, &Option<PluginSet>); 3] = [
        ("multiPoint", &plugins.multi_point),
        ("filter", &plugins.filter),
        ("score", &plugins.score),
    ];
    for (point, set) in points {
        let Some(set) = set else { continue };
        let base = format!("profiles[{i}].plugins.{point}");
        for (j, d) in set.disabled.iter().enumerate() {
            let field = format!("{base}.disabled[{j}].name");
            let plugin = known(&field, &d.name)?;
            let all = d.name == "*";
            if point != "score" {
                profile.filters.retain(|p| !(all || Some(*p) == plugin));
            }
            if point != "filter" {
                profile.scores.retain(|(p, _)| !(all || Some(*p) == plugin));
            }
            if point == "multiPoint" && (all || d.name == "DefaultPreemption") {
                profile.preemption = false;
            }
        }
        for (j, e) in set.enabled.iter().enumerate() {
            let field = format!("{base}.enabled[{j}]");
            if e.name == "*" {
                return Err(invalid(format!(
                    "{field}.name: Invalid value: \"*\": only disabled may use \"*\""
                )));
            }
            if let Some(w) = e.weight {
                if !(0..=100).contains(&w) {
                    return Err(invalid(format!(
                        "{field}.weight: Invalid value: {w}: must be in the range [0, 100]"
                    )));
                }
            }
            if point == "multiPoint" && e.name == "DefaultPreemption" {
                profile.preemption = true;
            }
            let Some(plugin) = known(&format!("{field}.name"), &e.name)? else {
                continue;
            };
            if point != "score" && plugin.is_filter() && !profile.filters.contains(&plugin) {
                profile.filters.push(plugin);
            }
            if point != "filter" && plugin.is_score() {
                let default_weight = DEFAULT_SCORES
                    .iter()
                    .find(|(p, _)| *p == plugin)
                    .map(|(_, w)| *w)
                    .unwrap_or(1);
                let weight = e
                    .weight
                    .filter(|w| *w > 0)
                    .map(i64::from)
                    .unwrap_or(default_weight);
                match profile.scores.iter_mut().find(|(p, _)| *p == plugin) {
                    Some(entry) => entry.1 = weight,
                    None => profile.scores.push((plugin, weight)),
                }
            } else if point == "score" && !plugin.is_score() {
                return Err(invalid(format!(
                    "{field}.name: Invalid value: {:?}: plugin does not extend Score",
                    e.name
                )));
            }
        }
    }
    if let Some(set) = &plugins.post_filter {
        for d in &set.disabled {
            if d.name == "*" || d.name == "DefaultPreemption" {
                profile.preemption = false;
            }
        }
        for e in &set.enabled {
            if e.name == "DefaultPreemption" {
                profile.preemption = true;
            }
        }
    }

    for (j, pc) in spec.plugin_config.into_iter().enumerate() {
        let field = format!("profiles[{i}].pluginConfig[{j}]");
        let args = pc
            .args
            .unwrap_or(serde_json::Value::Object(Default::default()));
        let bad =
            |e: serde_json::Error| invalid(format!("{field}.args: decoding {} args: {e}", pc.name));
        match pc.name.as_str() {
            "NodeResourcesFit" => {
                let a: NodeResourcesFitArgs = serde_json::from_value(args).map_err(bad)?;
                if let Some(s) = a.scoring_strategy {
                    profile.fit_strategy = scoring_strategy(&field, s)?;
                }
            }
            "InterPodAffinity" => {
                let a: InterPodAffinityArgs = serde_json::from_value(args).map_err(bad)?;
                if let Some(w) = a.hard_pod_affinity_weight {
                    if !(0..=100).contains(&w) {
                        return Err(invalid(format!(
                            "{field}.args.hardPodAffinityWeight: Invalid value: {w}: not in valid range [0-100]"
                        )));
                    }
                    profile.hard_pod_affinity_weight = i64::from(w);
                }
            }
            "PodTopologySpread" => {
                let a: PodTopologySpreadArgs = serde_json::from_value(args).map_err(bad)?;
                if let Some(t) = a.defaulting_type.as_deref() {
                    if t != "System" && t != "List" {
                        return Err(invalid(format!(
                            "{field}.args.defaultingType: Unsupported value: {t:?}: supported values: \"System\", \"List\""
                        )));
                    }
                }
            }
            "DefaultPreemption" => {
                let _: DefaultPreemptionArgs = serde_json::from_value(args).map_err(bad)?;
            }
            other => {
                if known(&format!("{field}.name"), other)?.is_none()
                    && !ACCEPTED_WITHOUT_EFFECT.contains(&other)
                {
                    return Err(invalid(format!(
                        "{field}.name: Invalid value: {other:?}: plugin {other:?} does not exist"
                    )));
                }
            }
        }
    }
    Ok(profile)
}

fn scoring_strategy(field: &str, s: ScoringStrategySpec) -> Result<ScoringStrategy, ConfigError> {
    let type_ = match s.type_.as_deref() {
        None | Some("LeastAllocated") => ScoringStrategyType::LeastAllocated,
        Some("MostAllocated") => ScoringStrategyType::MostAllocated,
        Some(other) => {
            return Err(invalid(format!(
                "{field}.args.scoringStrategy.type: Unsupported value: {other:?}: supported values: \"LeastAllocated\", \"MostAllocated\""
            )))
        }
    };
    let mut out = ScoringStrategy {
        type_,
        ..Default::default()
    };
    if let Some(rs) = s.resources {
        out.resources = Vec::new();
        for (k, r) in rs.into_iter().enumerate() {
            let w = r.weight.unwrap_or(1);
            if !(1..=100).contains(&w) {
                return Err(invalid(format!(
                    "{field}.args.scoringStrategy.resources[{k}].weight: Invalid value: {w}: resource weight of {} not in valid range [1, 100]",
                    r.name
                )));
            }
            out.resources.push((r.name, w));
        }
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn empty_config_is_the_default_profile() {
        let c =
            parse("apiVersion: kubescheduler.config.k8s.io/v1\nkind: KubeSchedulerConfiguration\n")
                .expect("valid");
        assert_eq!(c.profiles.len(), 1);
        let p = &c.profiles[0];
        assert_eq!(p.scheduler_name, "default-scheduler");
        assert_eq!(p.filters, DEFAULT_FILTERS);
        assert_eq!(p.scores, DEFAULT_SCORES);
        assert!(p.preemption);
    }

    #[test]
    fn profiles_plugins_weights_and_args() {
        let text = r#"
apiVersion: kubescheduler.config.k8s.io/v1
kind: KubeSchedulerConfiguration
leaderElection:
  leaderElect: true
  leaseDuration: 20s
profiles:
- schedulerName: default-scheduler
- schedulerName: bin-packer
  plugins:
    score:
      disabled:
      - name: ImageLocality
      enabled:
      - name: NodeResourcesFit
        weight: 5
    filter:
      disabled:
      - name: NodePorts
    postFilter:
      disabled:
      - name: DefaultPreemption
  pluginConfig:
  - name: NodeResourcesFit
    args:
      scoringStrategy:
        type: MostAllocated
        resources:
        - name: cpu
          weight: 2
"#;
        let c = parse(text).expect("valid");
        assert_eq!(c.leader_elect, Some(true));
        assert_eq!(c.lease_duration, Some(Duration::from_secs(20)));
        let p = &c.profiles[1];
        assert_eq!(p.scheduler_name, "bin-packer");
        assert!(!p.filters.contains(&Plugin::NodePorts));
        assert!(!p.scores.iter().any(|(p, _)| *p == Plugin::ImageLocality));
        assert!(p.scores.contains(&(Plugin::NodeResourcesFit, 5)));
        assert!(!p.preemption);
        assert_eq!(p.fit_strategy.type_, ScoringStrategyType::MostAllocated);
        assert_eq!(p.fit_strategy.resources, vec![("cpu".to_string(), 2)]);
    }

    #[test]
    fn multipoint_star_disables_everything() {
        let text = r#"
profiles:
- schedulerName: only-fit
  plugins:
    multiPoint:
      disabled: [{name: "*"}]
      enabled: [{name: NodeResourcesFit}]
"#;
        let c = parse(text).expect("valid");
        let p = &c.profiles[0];
        assert_eq!(p.filters, vec![Plugin::NodeResourcesFit]);
        assert_eq!(p.scores, vec![(Plugin::NodeResourcesFit, 1)]);
        assert!(!p.preemption);
    }

    #[test]
    fn bad_configs_name_the_field() {
        let cases = [
            ("profiles:\n- schedulerName: a\n  plugins:\n    filter:\n      enabled: [{name: NoSuchPlugin}]\n", "profiles[0].plugins.filter.enabled[0].name"),
            ("profilez: []\n", "profilez"),
            ("profiles:\n- schedulerName: a\n  bogus: 1\n", "bogus"),
            ("apiVersion: kubescheduler.config.k8s.io/v1beta9\n", "apiVersion"),
            ("profiles:\n- schedulerName: a\n- schedulerName: a\n", "profiles[1].schedulerName: Duplicate"),
            ("percentageOfNodesToScore: 150\n", "percentageOfNodesToScore"),
            ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      scoringStrategy:\n        type: Random\n", "scoringStrategy.type"),
            ("profiles:\n- pluginConfig:\n  - name: NodeResourcesFit\n    args:\n      nope: 1\n", "nope"),
            ("leaderElection:\n  leaseDuration: soon\n", "leaderElection.leaseDuration"),
            ("profiles: [unclosed\n", ""),
        ];
        for (text, want) in cases {
            let err = parse(text).expect_err(text).to_string();
            assert!(err.contains(want), "{text:?}: {err}");
        }
    }
}
