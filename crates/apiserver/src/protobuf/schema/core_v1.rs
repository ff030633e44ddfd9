//! Protobuf field table of `k8s.io.api.core.v1`.
//!
//! Derived from upstream Kubernetes' published `generated.proto` field numbers (the wire
//! protocol; release 1.33, tag v0.33.13) joined with the Go struct tags of the same types (JSON
//! names, `omitempty`, pointer-ness). Generated, not hand-edited: see `super` (schema/mod.rs)
//! for how it was derived and how to regenerate. One line per field:
//! `f(field number, JSON name ("" = inlined struct), type, flags)`.

#![allow(non_upper_case_globals)]

use super::Shape::{Plain};
use super::Ty::{Bool, Bytes, I32, I64, M, MapBytes, MapM, MapStr, Str};
use super::{f, msg, Msg, N, O, P, R};
use super::{machinery, meta_v1};


pub static AWSElasticBlockStoreVolumeSource: Msg = msg("AWSElasticBlockStoreVolumeSource", Plain, &[
    f(1, "volumeID", Str, N),
    f(2, "fsType", Str, O),
    f(3, "partition", I32, O),
    f(4, "readOnly", Bool, O),
]);
pub static Affinity: Msg = msg("Affinity", Plain, &[
    f(1, "nodeAffinity", M(&NodeAffinity), O | P),
    f(2, "podAffinity", M(&PodAffinity), O | P),
    f(3, "podAntiAffinity", M(&PodAntiAffinity), O | P),
]);
pub static AppArmorProfile: Msg = msg("AppArmorProfile", Plain, &[
    f(1, "type", Str, N),
    f(2, "localhostProfile", Str, O | P),
]);
pub static AttachedVolume: Msg = msg("AttachedVolume", Plain, &[
    f(1, "name", Str, N),
    f(2, "devicePath", Str, N),
]);
pub static AvoidPods: Msg = msg("AvoidPods", Plain, &[
    f(1, "preferAvoidPods", M(&PreferAvoidPodsEntry), R | O),
]);
pub static AzureDiskVolumeSource: Msg = msg("AzureDiskVolumeSource", Plain, &[
    f(1, "diskName", Str, N),
    f(2, "diskURI", Str, N),
    f(3, "cachingMode", Str, O | P),
    f(4, "fsType", Str, O | P),
    f(5, "readOnly", Bool, O | P),
    f(6, "kind", Str, O | P),
]);
pub static AzureFilePersistentVolumeSource: Msg = msg("AzureFilePersistentVolumeSource", Plain, &[
    f(1, "secretName", Str, N),
    f(2, "shareName", Str, N),
    f(3, "readOnly", Bool, O),
    f(4, "secretNamespace", Str, P),
]);
pub static AzureFileVolumeSource: Msg = msg("AzureFileVolumeSource", Plain, &[
    f(1, "secretName", Str, N),
    f(2, "shareName", Str, N),
    f(3, "readOnly", Bool, O),
]);
pub static Binding: Msg = msg("Binding", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "target", M(&ObjectReference), N),
]);
pub static CSIPersistentVolumeSource: Msg = msg("CSIPersistentVolumeSource", Plain, &[
    f(1, "driver", Str, N),
    f(2, "volumeHandle", Str, N),
    f(3, "readOnly", Bool, O),
    f(4, "fsType", Str, O),
    f(5, "volumeAttributes", MapStr, O),
    f(6, "controllerPublishSecretRef", M(&SecretReference), O | P),
    f(7, "nodeStageSecretRef", M(&SecretReference), O | P),
    f(8, "nodePublishSecretRef", M(&SecretReference), O | P),
    f(9, "controllerExpandSecretRef", M(&SecretReference), O | P),
    f(10, "nodeExpandSecretRef", M(&SecretReference), O | P),
]);
pub static CSIVolumeSource: Msg = msg("CSIVolumeSource", Plain, &[
    f(1, "driver", Str, N),
    f(2, "readOnly", Bool, O | P),
    f(3, "fsType", Str, O | P),
    f(4, "volumeAttributes", MapStr, O),
    f(5, "nodePublishSecretRef", M(&LocalObjectReference), O | P),
]);
pub static Capabilities: Msg = msg("Capabilities", Plain, &[
    f(1, "add", Str, R | O),
    f(2, "drop", Str, R | O),
]);
pub static CephFSPersistentVolumeSource: Msg = msg("CephFSPersistentVolumeSource", Plain, &[
    f(1, "monitors", Str, R),
    f(2, "path", Str, O),
    f(3, "user", Str, O),
    f(4, "secretFile", Str, O),
    f(5, "secretRef", M(&SecretReference), O | P),
    f(6, "readOnly", Bool, O),
]);
pub static CephFSVolumeSource: Msg = msg("CephFSVolumeSource", Plain, &[
    f(1, "monitors", Str, R),
    f(2, "path", Str, O),
    f(3, "user", Str, O),
    f(4, "secretFile", Str, O),
    f(5, "secretRef", M(&LocalObjectReference), O | P),
    f(6, "readOnly", Bool, O),
]);
pub static CinderPersistentVolumeSource: Msg = msg("CinderPersistentVolumeSource", Plain, &[
    f(1, "volumeID", Str, N),
    f(2, "fsType", Str, O),
    f(3, "readOnly", Bool, O),
    f(4, "secretRef", M(&SecretReference), O | P),
]);
pub static CinderVolumeSource: Msg = msg("CinderVolumeSource", Plain, &[
    f(1, "volumeID", Str, N),
    f(2, "fsType", Str, O),
    f(3, "readOnly", Bool, O),
    f(4, "secretRef", M(&LocalObjectReference), O | P),
]);
pub static ClientIPConfig: Msg = msg("ClientIPConfig", Plain, &[
    f(1, "timeoutSeconds", I32, O | P),
]);
pub static ClusterTrustBundleProjection: Msg = msg("ClusterTrustBundleProjection", Plain, &[
    f(1, "name", Str, O | P),
    f(2, "signerName", Str, O | P),
    f(3, "labelSelector", M(&meta_v1::LabelSelector), O | P),
    f(5, "optional", Bool, O | P),
    f(4, "path", Str, N),
]);
pub static ComponentCondition: Msg = msg("ComponentCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "message", Str, O),
    f(4, "error", Str, O),
]);
pub static ComponentStatus: Msg = msg("ComponentStatus", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "conditions", M(&ComponentCondition), R | O),
]);
pub static ComponentStatusList: Msg = msg("ComponentStatusList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ComponentStatus), R),
]);
pub static ConfigMap: Msg = msg("ConfigMap", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(4, "immutable", Bool, O | P),
    f(2, "data", MapStr, O),
    f(3, "binaryData", MapBytes, O),
]);
pub static ConfigMapEnvSource: Msg = msg("ConfigMapEnvSource", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "optional", Bool, O | P),
]);
pub static ConfigMapKeySelector: Msg = msg("ConfigMapKeySelector", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "key", Str, N),
    f(3, "optional", Bool, O | P),
]);
pub static ConfigMapList: Msg = msg("ConfigMapList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ConfigMap), R),
]);
pub static ConfigMapNodeConfigSource: Msg = msg("ConfigMapNodeConfigSource", Plain, &[
    f(1, "namespace", Str, N),
    f(2, "name", Str, N),
    f(3, "uid", Str, O),
    f(4, "resourceVersion", Str, O),
    f(5, "kubeletConfigKey", Str, N),
]);
pub static ConfigMapProjection: Msg = msg("ConfigMapProjection", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "items", M(&KeyToPath), R | O),
    f(4, "optional", Bool, O | P),
]);
pub static ConfigMapVolumeSource: Msg = msg("ConfigMapVolumeSource", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "items", M(&KeyToPath), R | O),
    f(3, "defaultMode", I32, O | P),
    f(4, "optional", Bool, O | P),
]);
pub static Container: Msg = msg("Container", Plain, &[
    f(1, "name", Str, N),
    f(2, "image", Str, O),
    f(3, "command", Str, R | O),
    f(4, "args", Str, R | O),
    f(5, "workingDir", Str, O),
    f(6, "ports", M(&ContainerPort), R | O),
    f(19, "envFrom", M(&EnvFromSource), R | O),
    f(7, "env", M(&EnvVar), R | O),
    f(8, "resources", M(&ResourceRequirements), O),
    f(23, "resizePolicy", M(&ContainerResizePolicy), R | O),
    f(24, "restartPolicy", Str, O | P),
    f(9, "volumeMounts", M(&VolumeMount), R | O),
    f(21, "volumeDevices", M(&VolumeDevice), R | O),
    f(10, "livenessProbe", M(&Probe), O | P),
    f(11, "readinessProbe", M(&Probe), O | P),
    f(22, "startupProbe", M(&Probe), O | P),
    f(12, "lifecycle", M(&Lifecycle), O | P),
    f(13, "terminationMessagePath", Str, O),
    f(20, "terminationMessagePolicy", Str, O),
    f(14, "imagePullPolicy", Str, O),
    f(15, "securityContext", M(&SecurityContext), O | P),
    f(16, "stdin", Bool, O),
    f(17, "stdinOnce", Bool, O),
    f(18, "tty", Bool, O),
]);
pub static ContainerImage: Msg = msg("ContainerImage", Plain, &[
    f(1, "names", Str, R),
    f(2, "sizeBytes", I64, O),
]);
pub static ContainerPort: Msg = msg("ContainerPort", Plain, &[
    f(1, "name", Str, O),
    f(2, "hostPort", I32, O),
    f(3, "containerPort", I32, N),
    f(4, "protocol", Str, O),
    f(5, "hostIP", Str, O),
]);
pub static ContainerResizePolicy: Msg = msg("ContainerResizePolicy", Plain, &[
    f(1, "resourceName", Str, N),
    f(2, "restartPolicy", Str, N),
]);
pub static ContainerState: Msg = msg("ContainerState", Plain, &[
    f(1, "waiting", M(&ContainerStateWaiting), O | P),
    f(2, "running", M(&ContainerStateRunning), O | P),
    f(3, "terminated", M(&ContainerStateTerminated), O | P),
]);
pub static ContainerStateRunning: Msg = msg("ContainerStateRunning", Plain, &[
    f(1, "startedAt", M(&meta_v1::Time), O),
]);
pub static ContainerStateTerminated: Msg = msg("ContainerStateTerminated", Plain, &[
    f(1, "exitCode", I32, N),
    f(2, "signal", I32, O),
    f(3, "reason", Str, O),
    f(4, "message", Str, O),
    f(5, "startedAt", M(&meta_v1::Time), O),
    f(6, "finishedAt", M(&meta_v1::Time), O),
    f(7, "containerID", Str, O),
]);
pub static ContainerStateWaiting: Msg = msg("ContainerStateWaiting", Plain, &[
    f(1, "reason", Str, O),
    f(2, "message", Str, O),
]);
pub static ContainerStatus: Msg = msg("ContainerStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "state", M(&ContainerState), O),
    f(3, "lastState", M(&ContainerState), O),
    f(4, "ready", Bool, N),
    f(5, "restartCount", I32, N),
    f(6, "image", Str, N),
    f(7, "imageID", Str, N),
    f(8, "containerID", Str, O),
    f(9, "started", Bool, O | P),
    f(10, "allocatedResources", MapM(&machinery::Quantity), O),
    f(11, "resources", M(&ResourceRequirements), O | P),
    f(12, "volumeMounts", M(&VolumeMountStatus), R | O),
    f(13, "user", M(&ContainerUser), O | P),
    f(14, "allocatedResourcesStatus", M(&ResourceStatus), R | O),
    f(15, "stopSignal", Str, O | P),
]);
pub static ContainerUser: Msg = msg("ContainerUser", Plain, &[
    f(1, "linux", M(&LinuxContainerUser), O | P),
]);
pub static DaemonEndpoint: Msg = msg("DaemonEndpoint", Plain, &[
    f(1, "Port", I32, N),
]);
pub static DownwardAPIProjection: Msg = msg("DownwardAPIProjection", Plain, &[
    f(1, "items", M(&DownwardAPIVolumeFile), R | O),
]);
pub static DownwardAPIVolumeFile: Msg = msg("DownwardAPIVolumeFile", Plain, &[
    f(1, "path", Str, N),
    f(2, "fieldRef", M(&ObjectFieldSelector), O | P),
    f(3, "resourceFieldRef", M(&ResourceFieldSelector), O | P),
    f(4, "mode", I32, O | P),
]);
pub static DownwardAPIVolumeSource: Msg = msg("DownwardAPIVolumeSource", Plain, &[
    f(1, "items", M(&DownwardAPIVolumeFile), R | O),
    f(2, "defaultMode", I32, O | P),
]);
pub static EmptyDirVolumeSource: Msg = msg("EmptyDirVolumeSource", Plain, &[
    f(1, "medium", Str, O),
    f(2, "sizeLimit", M(&machinery::Quantity), O | P),
]);
pub static EndpointAddress: Msg = msg("EndpointAddress", Plain, &[
    f(1, "ip", Str, N),
    f(3, "hostname", Str, O),
    f(4, "nodeName", Str, O | P),
    f(2, "targetRef", M(&ObjectReference), O | P),
]);
pub static EndpointPort: Msg = msg("EndpointPort", Plain, &[
    f(1, "name", Str, O),
    f(2, "port", I32, N),
    f(3, "protocol", Str, O),
    f(4, "appProtocol", Str, O | P),
]);
pub static EndpointSubset: Msg = msg("EndpointSubset", Plain, &[
    f(1, "addresses", M(&EndpointAddress), R | O),
    f(2, "notReadyAddresses", M(&EndpointAddress), R | O),
    f(3, "ports", M(&EndpointPort), R | O),
]);
pub static Endpoints: Msg = msg("Endpoints", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "subsets", M(&EndpointSubset), R | O),
]);
pub static EndpointsList: Msg = msg("EndpointsList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Endpoints), R),
]);
pub static EnvFromSource: Msg = msg("EnvFromSource", Plain, &[
    f(1, "prefix", Str, O),
    f(2, "configMapRef", M(&ConfigMapEnvSource), O | P),
    f(3, "secretRef", M(&SecretEnvSource), O | P),
]);
pub static EnvVar: Msg = msg("EnvVar", Plain, &[
    f(1, "name", Str, N),
    f(2, "value", Str, O),
    f(3, "valueFrom", M(&EnvVarSource), O | P),
]);
pub static EnvVarSource: Msg = msg("EnvVarSource", Plain, &[
    f(1, "fieldRef", M(&ObjectFieldSelector), O | P),
    f(2, "resourceFieldRef", M(&ResourceFieldSelector), O | P),
    f(3, "configMapKeyRef", M(&ConfigMapKeySelector), O | P),
    f(4, "secretKeyRef", M(&SecretKeySelector), O | P),
]);
pub static EphemeralContainer: Msg = msg("EphemeralContainer", Plain, &[
    f(1, "", M(&EphemeralContainerCommon), N),
    f(2, "targetContainerName", Str, O),
]);
pub static EphemeralContainerCommon: Msg = msg("EphemeralContainerCommon", Plain, &[
    f(1, "name", Str, N),
    f(2, "image", Str, O),
    f(3, "command", Str, R | O),
    f(4, "args", Str, R | O),
    f(5, "workingDir", Str, O),
    f(6, "ports", M(&ContainerPort), R | O),
    f(19, "envFrom", M(&EnvFromSource), R | O),
    f(7, "env", M(&EnvVar), R | O),
    f(8, "resources", M(&ResourceRequirements), O),
    f(23, "resizePolicy", M(&ContainerResizePolicy), R | O),
    f(24, "restartPolicy", Str, O | P),
    f(9, "volumeMounts", M(&VolumeMount), R | O),
    f(21, "volumeDevices", M(&VolumeDevice), R | O),
    f(10, "livenessProbe", M(&Probe), O | P),
    f(11, "readinessProbe", M(&Probe), O | P),
    f(22, "startupProbe", M(&Probe), O | P),
    f(12, "lifecycle", M(&Lifecycle), O | P),
    f(13, "terminationMessagePath", Str, O),
    f(20, "terminationMessagePolicy", Str, O),
    f(14, "imagePullPolicy", Str, O),
    f(15, "securityContext", M(&SecurityContext), O | P),
    f(16, "stdin", Bool, O),
    f(17, "stdinOnce", Bool, O),
    f(18, "tty", Bool, O),
]);
pub static EphemeralVolumeSource: Msg = msg("EphemeralVolumeSource", Plain, &[
    f(1, "volumeClaimTemplate", M(&PersistentVolumeClaimTemplate), O | P),
]);
pub static Event: Msg = msg("Event", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), N),
    f(2, "involvedObject", M(&ObjectReference), N),
    f(3, "reason", Str, O),
    f(4, "message", Str, O),
    f(5, "source", M(&EventSource), O),
    f(6, "firstTimestamp", M(&meta_v1::Time), O),
    f(7, "lastTimestamp", M(&meta_v1::Time), O),
    f(8, "count", I32, O),
    f(9, "type", Str, O),
    f(10, "eventTime", M(&meta_v1::MicroTime), O),
    f(11, "series", M(&EventSeries), O | P),
    f(12, "action", Str, O),
    f(13, "related", M(&ObjectReference), O | P),
    f(14, "reportingComponent", Str, N),
    f(15, "reportingInstance", Str, N),
]);
pub static EventList: Msg = msg("EventList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Event), R),
]);
pub static EventSeries: Msg = msg("EventSeries", Plain, &[
    f(1, "count", I32, O),
    f(2, "lastObservedTime", M(&meta_v1::MicroTime), O),
]);
pub static EventSource: Msg = msg("EventSource", Plain, &[
    f(1, "component", Str, O),
    f(2, "host", Str, O),
]);
pub static ExecAction: Msg = msg("ExecAction", Plain, &[
    f(1, "command", Str, R | O),
]);
pub static FCVolumeSource: Msg = msg("FCVolumeSource", Plain, &[
    f(1, "targetWWNs", Str, R | O),
    f(2, "lun", I32, O | P),
    f(3, "fsType", Str, O),
    f(4, "readOnly", Bool, O),
    f(5, "wwids", Str, R | O),
]);
pub static FlexPersistentVolumeSource: Msg = msg("FlexPersistentVolumeSource", Plain, &[
    f(1, "driver", Str, N),
    f(2, "fsType", Str, O),
    f(3, "secretRef", M(&SecretReference), O | P),
    f(4, "readOnly", Bool, O),
    f(5, "options", MapStr, O),
]);
pub static FlexVolumeSource: Msg = msg("FlexVolumeSource", Plain, &[
    f(1, "driver", Str, N),
    f(2, "fsType", Str, O),
    f(3, "secretRef", M(&LocalObjectReference), O | P),
    f(4, "readOnly", Bool, O),
    f(5, "options", MapStr, O),
]);
pub static FlockerVolumeSource: Msg = msg("FlockerVolumeSource", Plain, &[
    f(1, "datasetName", Str, O),
    f(2, "datasetUUID", Str, O),
]);
pub static GCEPersistentDiskVolumeSource: Msg = msg("GCEPersistentDiskVolumeSource", Plain, &[
    f(1, "pdName", Str, N),
    f(2, "fsType", Str, O),
    f(3, "partition", I32, O),
    f(4, "readOnly", Bool, O),
]);
pub static GRPCAction: Msg = msg("GRPCAction", Plain, &[
    f(1, "port", I32, N),
    f(2, "service", Str, P),
]);
pub static GitRepoVolumeSource: Msg = msg("GitRepoVolumeSource", Plain, &[
    f(1, "repository", Str, N),
    f(2, "revision", Str, O),
    f(3, "directory", Str, O),
]);
pub static GlusterfsPersistentVolumeSource: Msg = msg("GlusterfsPersistentVolumeSource", Plain, &[
    f(1, "endpoints", Str, N),
    f(2, "path", Str, N),
    f(3, "readOnly", Bool, O),
    f(4, "endpointsNamespace", Str, O | P),
]);
pub static GlusterfsVolumeSource: Msg = msg("GlusterfsVolumeSource", Plain, &[
    f(1, "endpoints", Str, N),
    f(2, "path", Str, N),
    f(3, "readOnly", Bool, O),
]);
pub static HTTPGetAction: Msg = msg("HTTPGetAction", Plain, &[
    f(1, "path", Str, O),
    f(2, "port", M(&machinery::IntOrString), N),
    f(3, "host", Str, O),
    f(4, "scheme", Str, O),
    f(5, "httpHeaders", M(&HTTPHeader), R | O),
]);
pub static HTTPHeader: Msg = msg("HTTPHeader", Plain, &[
    f(1, "name", Str, N),
    f(2, "value", Str, N),
]);
pub static HostAlias: Msg = msg("HostAlias", Plain, &[
    f(1, "ip", Str, N),
    f(2, "hostnames", Str, R | O),
]);
pub static HostIP: Msg = msg("HostIP", Plain, &[
    f(1, "ip", Str, N),
]);
pub static HostPathVolumeSource: Msg = msg("HostPathVolumeSource", Plain, &[
    f(1, "path", Str, N),
    f(2, "type", Str, O | P),
]);
pub static ISCSIPersistentVolumeSource: Msg = msg("ISCSIPersistentVolumeSource", Plain, &[
    f(1, "targetPortal", Str, N),
    f(2, "iqn", Str, N),
    f(3, "lun", I32, N),
    f(4, "iscsiInterface", Str, O),
    f(5, "fsType", Str, O),
    f(6, "readOnly", Bool, O),
    f(7, "portals", Str, R | O),
    f(8, "chapAuthDiscovery", Bool, O),
    f(11, "chapAuthSession", Bool, O),
    f(10, "secretRef", M(&SecretReference), O | P),
    f(12, "initiatorName", Str, O | P),
]);
pub static ISCSIVolumeSource: Msg = msg("ISCSIVolumeSource", Plain, &[
    f(1, "targetPortal", Str, N),
    f(2, "iqn", Str, N),
    f(3, "lun", I32, N),
    f(4, "iscsiInterface", Str, O),
    f(5, "fsType", Str, O),
    f(6, "readOnly", Bool, O),
    f(7, "portals", Str, R | O),
    f(8, "chapAuthDiscovery", Bool, O),
    f(11, "chapAuthSession", Bool, O),
    f(10, "secretRef", M(&LocalObjectReference), O | P),
    f(12, "initiatorName", Str, O | P),
]);
pub static ImageVolumeSource: Msg = msg("ImageVolumeSource", Plain, &[
    f(1, "reference", Str, O),
    f(2, "pullPolicy", Str, O),
]);
pub static KeyToPath: Msg = msg("KeyToPath", Plain, &[
    f(1, "key", Str, N),
    f(2, "path", Str, N),
    f(3, "mode", I32, O | P),
]);
pub static Lifecycle: Msg = msg("Lifecycle", Plain, &[
    f(1, "postStart", M(&LifecycleHandler), O | P),
    f(2, "preStop", M(&LifecycleHandler), O | P),
    f(3, "stopSignal", Str, O | P),
]);
pub static LifecycleHandler: Msg = msg("LifecycleHandler", Plain, &[
    f(1, "exec", M(&ExecAction), O | P),
    f(2, "httpGet", M(&HTTPGetAction), O | P),
    f(3, "tcpSocket", M(&TCPSocketAction), O | P),
    f(4, "sleep", M(&SleepAction), O | P),
]);
pub static LimitRange: Msg = msg("LimitRange", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&LimitRangeSpec), O),
]);
pub static LimitRangeItem: Msg = msg("LimitRangeItem", Plain, &[
    f(1, "type", Str, N),
    f(2, "max", MapM(&machinery::Quantity), O),
    f(3, "min", MapM(&machinery::Quantity), O),
    f(4, "default", MapM(&machinery::Quantity), O),
    f(5, "defaultRequest", MapM(&machinery::Quantity), O),
    f(6, "maxLimitRequestRatio", MapM(&machinery::Quantity), O),
]);
pub static LimitRangeList: Msg = msg("LimitRangeList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&LimitRange), R),
]);
pub static LimitRangeSpec: Msg = msg("LimitRangeSpec", Plain, &[
    f(1, "limits", M(&LimitRangeItem), R),
]);
pub static LinuxContainerUser: Msg = msg("LinuxContainerUser", Plain, &[
    f(1, "uid", I64, N),
    f(2, "gid", I64, N),
    f(3, "supplementalGroups", I64, R | O),
]);
pub static List: Msg = msg("List", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), N),
    f(2, "items", M(&machinery::RawExtension), R),
]);
pub static LoadBalancerIngress: Msg = msg("LoadBalancerIngress", Plain, &[
    f(1, "ip", Str, O),
    f(2, "hostname", Str, O),
    f(3, "ipMode", Str, O | P),
    f(4, "ports", M(&PortStatus), R | O),
]);
pub static LoadBalancerStatus: Msg = msg("LoadBalancerStatus", Plain, &[
    f(1, "ingress", M(&LoadBalancerIngress), R | O),
]);
pub static LocalObjectReference: Msg = msg("LocalObjectReference", Plain, &[
    f(1, "name", Str, O),
]);
pub static LocalVolumeSource: Msg = msg("LocalVolumeSource", Plain, &[
    f(1, "path", Str, N),
    f(2, "fsType", Str, O | P),
]);
pub static ModifyVolumeStatus: Msg = msg("ModifyVolumeStatus", Plain, &[
    f(1, "targetVolumeAttributesClassName", Str, O),
    f(2, "status", Str, N),
]);
pub static NFSVolumeSource: Msg = msg("NFSVolumeSource", Plain, &[
    f(1, "server", Str, N),
    f(2, "path", Str, N),
    f(3, "readOnly", Bool, O),
]);
pub static Namespace: Msg = msg("Namespace", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&NamespaceSpec), O),
    f(3, "status", M(&NamespaceStatus), O),
]);
pub static NamespaceCondition: Msg = msg("NamespaceCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(4, "lastTransitionTime", M(&meta_v1::Time), O),
    f(5, "reason", Str, O),
    f(6, "message", Str, O),
]);
pub static NamespaceList: Msg = msg("NamespaceList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Namespace), R),
]);
pub static NamespaceSpec: Msg = msg("NamespaceSpec", Plain, &[
    f(1, "finalizers", Str, R | O),
]);
pub static NamespaceStatus: Msg = msg("NamespaceStatus", Plain, &[
    f(1, "phase", Str, O),
    f(2, "conditions", M(&NamespaceCondition), R | O),
]);
pub static Node: Msg = msg("Node", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&NodeSpec), O),
    f(3, "status", M(&NodeStatus), O),
]);
pub static NodeAddress: Msg = msg("NodeAddress", Plain, &[
    f(1, "type", Str, N),
    f(2, "address", Str, N),
]);
pub static NodeAffinity: Msg = msg("NodeAffinity", Plain, &[
    f(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&NodeSelector), O | P),
    f(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&PreferredSchedulingTerm), R | O),
]);
pub static NodeCondition: Msg = msg("NodeCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastHeartbeatTime", M(&meta_v1::Time), O),
    f(4, "lastTransitionTime", M(&meta_v1::Time), O),
    f(5, "reason", Str, O),
    f(6, "message", Str, O),
]);
pub static NodeConfigSource: Msg = msg("NodeConfigSource", Plain, &[
    f(2, "configMap", M(&ConfigMapNodeConfigSource), O | P),
]);
pub static NodeConfigStatus: Msg = msg("NodeConfigStatus", Plain, &[
    f(1, "assigned", M(&NodeConfigSource), O | P),
    f(2, "active", M(&NodeConfigSource), O | P),
    f(3, "lastKnownGood", M(&NodeConfigSource), O | P),
    f(4, "error", Str, O),
]);
pub static NodeDaemonEndpoints: Msg = msg("NodeDaemonEndpoints", Plain, &[
    f(1, "kubeletEndpoint", M(&DaemonEndpoint), O),
]);
pub static NodeFeatures: Msg = msg("NodeFeatures", Plain, &[
    f(1, "supplementalGroupsPolicy", Bool, O | P),
]);
pub static NodeList: Msg = msg("NodeList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Node), R),
]);
pub static NodeProxyOptions: Msg = msg("NodeProxyOptions", Plain, &[
    f(1, "path", Str, O),
]);
pub static NodeRuntimeHandler: Msg = msg("NodeRuntimeHandler", Plain, &[
    f(1, "name", Str, N),
    f(2, "features", M(&NodeRuntimeHandlerFeatures), O | P),
]);
pub static NodeRuntimeHandlerFeatures: Msg = msg("NodeRuntimeHandlerFeatures", Plain, &[
    f(1, "recursiveReadOnlyMounts", Bool, O | P),
    f(2, "userNamespaces", Bool, O | P),
]);
pub static NodeSelector: Msg = msg("NodeSelector", Plain, &[
    f(1, "nodeSelectorTerms", M(&NodeSelectorTerm), R),
]);
pub static NodeSelectorRequirement: Msg = msg("NodeSelectorRequirement", Plain, &[
    f(1, "key", Str, N),
    f(2, "operator", Str, N),
    f(3, "values", Str, R | O),
]);
pub static NodeSelectorTerm: Msg = msg("NodeSelectorTerm", Plain, &[
    f(1, "matchExpressions", M(&NodeSelectorRequirement), R | O),
    f(2, "matchFields", M(&NodeSelectorRequirement), R | O),
]);
pub static NodeSpec: Msg = msg("NodeSpec", Plain, &[
    f(1, "podCIDR", Str, O),
    f(7, "podCIDRs", Str, R | O),
    f(3, "providerID", Str, O),
    f(4, "unschedulable", Bool, O),
    f(5, "taints", M(&Taint), R | O),
    f(6, "configSource", M(&NodeConfigSource), O | P),
    f(2, "externalID", Str, O),
]);
pub static NodeStatus: Msg = msg("NodeStatus", Plain, &[
    f(1, "capacity", MapM(&machinery::Quantity), O),
    f(2, "allocatable", MapM(&machinery::Quantity), O),
    f(3, "phase", Str, O),
    f(4, "conditions", M(&NodeCondition), R | O),
    f(5, "addresses", M(&NodeAddress), R | O),
    f(6, "daemonEndpoints", M(&NodeDaemonEndpoints), O),
    f(7, "nodeInfo", M(&NodeSystemInfo), O),
    f(8, "images", M(&ContainerImage), R | O),
    f(9, "volumesInUse", Str, R | O),
    f(10, "volumesAttached", M(&AttachedVolume), R | O),
    f(11, "config", M(&NodeConfigStatus), O | P),
    f(12, "runtimeHandlers", M(&NodeRuntimeHandler), R | O),
    f(13, "features", M(&NodeFeatures), O | P),
]);
pub static NodeSwapStatus: Msg = msg("NodeSwapStatus", Plain, &[
    f(1, "capacity", I64, O | P),
]);
pub static NodeSystemInfo: Msg = msg("NodeSystemInfo", Plain, &[
    f(1, "machineID", Str, N),
    f(2, "systemUUID", Str, N),
    f(3, "bootID", Str, N),
    f(4, "kernelVersion", Str, N),
    f(5, "osImage", Str, N),
    f(6, "containerRuntimeVersion", Str, N),
    f(7, "kubeletVersion", Str, N),
    f(8, "kubeProxyVersion", Str, N),
    f(9, "operatingSystem", Str, N),
    f(10, "architecture", Str, N),
    f(11, "swap", M(&NodeSwapStatus), O | P),
]);
pub static ObjectFieldSelector: Msg = msg("ObjectFieldSelector", Plain, &[
    f(1, "apiVersion", Str, O),
    f(2, "fieldPath", Str, N),
]);
pub static ObjectReference: Msg = msg("ObjectReference", Plain, &[
    f(1, "kind", Str, O),
    f(2, "namespace", Str, O),
    f(3, "name", Str, O),
    f(4, "uid", Str, O),
    f(5, "apiVersion", Str, O),
    f(6, "resourceVersion", Str, O),
    f(7, "fieldPath", Str, O),
]);
pub static PersistentVolume: Msg = msg("PersistentVolume", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PersistentVolumeSpec), O),
    f(3, "status", M(&PersistentVolumeStatus), O),
]);
pub static PersistentVolumeClaim: Msg = msg("PersistentVolumeClaim", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PersistentVolumeClaimSpec), O),
    f(3, "status", M(&PersistentVolumeClaimStatus), O),
]);
pub static PersistentVolumeClaimCondition: Msg = msg("PersistentVolumeClaimCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastProbeTime", M(&meta_v1::Time), O),
    f(4, "lastTransitionTime", M(&meta_v1::Time), O),
    f(5, "reason", Str, O),
    f(6, "message", Str, O),
]);
pub static PersistentVolumeClaimList: Msg = msg("PersistentVolumeClaimList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PersistentVolumeClaim), R),
]);
pub static PersistentVolumeClaimSpec: Msg = msg("PersistentVolumeClaimSpec", Plain, &[
    f(1, "accessModes", Str, R | O),
    f(4, "selector", M(&meta_v1::LabelSelector), O | P),
    f(2, "resources", M(&VolumeResourceRequirements), O),
    f(3, "volumeName", Str, O),
    f(5, "storageClassName", Str, O | P),
    f(6, "volumeMode", Str, O | P),
    f(7, "dataSource", M(&TypedLocalObjectReference), O | P),
    f(8, "dataSourceRef", M(&TypedObjectReference), O | P),
    f(9, "volumeAttributesClassName", Str, O | P),
]);
pub static PersistentVolumeClaimStatus: Msg = msg("PersistentVolumeClaimStatus", Plain, &[
    f(1, "phase", Str, O),
    f(2, "accessModes", Str, R | O),
    f(3, "capacity", MapM(&machinery::Quantity), O),
    f(4, "conditions", M(&PersistentVolumeClaimCondition), R | O),
    f(5, "allocatedResources", MapM(&machinery::Quantity), O),
    f(7, "allocatedResourceStatuses", MapStr, O),
    f(8, "currentVolumeAttributesClassName", Str, O | P),
    f(9, "modifyVolumeStatus", M(&ModifyVolumeStatus), O | P),
]);
pub static PersistentVolumeClaimTemplate: Msg = msg("PersistentVolumeClaimTemplate", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PersistentVolumeClaimSpec), N),
]);
pub static PersistentVolumeClaimVolumeSource: Msg = msg("PersistentVolumeClaimVolumeSource", Plain, &[
    f(1, "claimName", Str, N),
    f(2, "readOnly", Bool, O),
]);
pub static PersistentVolumeList: Msg = msg("PersistentVolumeList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PersistentVolume), R),
]);
pub static PersistentVolumeSource: Msg = msg("PersistentVolumeSource", Plain, &[
    f(1, "gcePersistentDisk", M(&GCEPersistentDiskVolumeSource), O | P),
    f(2, "awsElasticBlockStore", M(&AWSElasticBlockStoreVolumeSource), O | P),
    f(3, "hostPath", M(&HostPathVolumeSource), O | P),
    f(4, "glusterfs", M(&GlusterfsPersistentVolumeSource), O | P),
    f(5, "nfs", M(&NFSVolumeSource), O | P),
    f(6, "rbd", M(&RBDPersistentVolumeSource), O | P),
    f(7, "iscsi", M(&ISCSIPersistentVolumeSource), O | P),
    f(8, "cinder", M(&CinderPersistentVolumeSource), O | P),
    f(9, "cephfs", M(&CephFSPersistentVolumeSource), O | P),
    f(10, "fc", M(&FCVolumeSource), O | P),
    f(11, "flocker", M(&FlockerVolumeSource), O | P),
    f(12, "flexVolume", M(&FlexPersistentVolumeSource), O | P),
    f(13, "azureFile", M(&AzureFilePersistentVolumeSource), O | P),
    f(14, "vsphereVolume", M(&VsphereVirtualDiskVolumeSource), O | P),
    f(15, "quobyte", M(&QuobyteVolumeSource), O | P),
    f(16, "azureDisk", M(&AzureDiskVolumeSource), O | P),
    f(17, "photonPersistentDisk", M(&PhotonPersistentDiskVolumeSource), O | P),
    f(18, "portworxVolume", M(&PortworxVolumeSource), O | P),
    f(19, "scaleIO", M(&ScaleIOPersistentVolumeSource), O | P),
    f(20, "local", M(&LocalVolumeSource), O | P),
    f(21, "storageos", M(&StorageOSPersistentVolumeSource), O | P),
    f(22, "csi", M(&CSIPersistentVolumeSource), O | P),
]);
pub static PersistentVolumeSpec: Msg = msg("PersistentVolumeSpec", Plain, &[
    f(1, "capacity", MapM(&machinery::Quantity), O),
    f(2, "", M(&PersistentVolumeSource), N),
    f(3, "accessModes", Str, R | O),
    f(4, "claimRef", M(&ObjectReference), O | P),
    f(5, "persistentVolumeReclaimPolicy", Str, O),
    f(6, "storageClassName", Str, O),
    f(7, "mountOptions", Str, R | O),
    f(8, "volumeMode", Str, O | P),
    f(9, "nodeAffinity", M(&VolumeNodeAffinity), O | P),
    f(10, "volumeAttributesClassName", Str, O | P),
]);
pub static PersistentVolumeStatus: Msg = msg("PersistentVolumeStatus", Plain, &[
    f(1, "phase", Str, O),
    f(2, "message", Str, O),
    f(3, "reason", Str, O),
    f(4, "lastPhaseTransitionTime", M(&meta_v1::Time), O | P),
]);
pub static PhotonPersistentDiskVolumeSource: Msg = msg("PhotonPersistentDiskVolumeSource", Plain, &[
    f(1, "pdID", Str, N),
    f(2, "fsType", Str, O),
]);
pub static Pod: Msg = msg("Pod", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PodSpec), O),
    f(3, "status", M(&PodStatus), O),
]);
pub static PodAffinity: Msg = msg("PodAffinity", Plain, &[
    f(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&PodAffinityTerm), R | O),
    f(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&WeightedPodAffinityTerm), R | O),
]);
pub static PodAffinityTerm: Msg = msg("PodAffinityTerm", Plain, &[
    f(1, "labelSelector", M(&meta_v1::LabelSelector), O | P),
    f(2, "namespaces", Str, R | O),
    f(3, "topologyKey", Str, N),
    f(4, "namespaceSelector", M(&meta_v1::LabelSelector), O | P),
    f(5, "matchLabelKeys", Str, R | O),
    f(6, "mismatchLabelKeys", Str, R | O),
]);
pub static PodAntiAffinity: Msg = msg("PodAntiAffinity", Plain, &[
    f(1, "requiredDuringSchedulingIgnoredDuringExecution", M(&PodAffinityTerm), R | O),
    f(2, "preferredDuringSchedulingIgnoredDuringExecution", M(&WeightedPodAffinityTerm), R | O),
]);
pub static PodAttachOptions: Msg = msg("PodAttachOptions", Plain, &[
    f(1, "stdin", Bool, O),
    f(2, "stdout", Bool, O),
    f(3, "stderr", Bool, O),
    f(4, "tty", Bool, O),
    f(5, "container", Str, O),
]);
pub static PodCondition: Msg = msg("PodCondition", Plain, &[
    f(1, "type", Str, N),
    f(7, "observedGeneration", I64, O),
    f(2, "status", Str, N),
    f(3, "lastProbeTime", M(&meta_v1::Time), O),
    f(4, "lastTransitionTime", M(&meta_v1::Time), O),
    f(5, "reason", Str, O),
    f(6, "message", Str, O),
]);
pub static PodDNSConfig: Msg = msg("PodDNSConfig", Plain, &[
    f(1, "nameservers", Str, R | O),
    f(2, "searches", Str, R | O),
    f(3, "options", M(&PodDNSConfigOption), R | O),
]);
pub static PodDNSConfigOption: Msg = msg("PodDNSConfigOption", Plain, &[
    f(1, "name", Str, O),
    f(2, "value", Str, O | P),
]);
pub static PodExecOptions: Msg = msg("PodExecOptions", Plain, &[
    f(1, "stdin", Bool, O),
    f(2, "stdout", Bool, O),
    f(3, "stderr", Bool, O),
    f(4, "tty", Bool, O),
    f(5, "container", Str, O),
    f(6, "command", Str, R),
]);
pub static PodIP: Msg = msg("PodIP", Plain, &[
    f(1, "ip", Str, N),
]);
pub static PodList: Msg = msg("PodList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Pod), R),
]);
pub static PodLogOptions: Msg = msg("PodLogOptions", Plain, &[
    f(1, "container", Str, O),
    f(2, "follow", Bool, O),
    f(3, "previous", Bool, O),
    f(4, "sinceSeconds", I64, O | P),
    f(5, "sinceTime", M(&meta_v1::Time), O | P),
    f(6, "timestamps", Bool, O),
    f(7, "tailLines", I64, O | P),
    f(8, "limitBytes", I64, O | P),
    f(9, "insecureSkipTLSVerifyBackend", Bool, O),
    f(10, "stream", Str, O | P),
]);
pub static PodOS: Msg = msg("PodOS", Plain, &[
    f(1, "name", Str, N),
]);
pub static PodPortForwardOptions: Msg = msg("PodPortForwardOptions", Plain, &[
    f(1, "ports", I32, R | O),
]);
pub static PodProxyOptions: Msg = msg("PodProxyOptions", Plain, &[
    f(1, "path", Str, O),
]);
pub static PodReadinessGate: Msg = msg("PodReadinessGate", Plain, &[
    f(1, "conditionType", Str, N),
]);
pub static PodResourceClaim: Msg = msg("PodResourceClaim", Plain, &[
    f(1, "name", Str, N),
    f(3, "resourceClaimName", Str, O | P),
    f(4, "resourceClaimTemplateName", Str, O | P),
]);
pub static PodResourceClaimStatus: Msg = msg("PodResourceClaimStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "resourceClaimName", Str, O | P),
]);
pub static PodSchedulingGate: Msg = msg("PodSchedulingGate", Plain, &[
    f(1, "name", Str, N),
]);
pub static PodSecurityContext: Msg = msg("PodSecurityContext", Plain, &[
    f(1, "seLinuxOptions", M(&SELinuxOptions), O | P),
    f(8, "windowsOptions", M(&WindowsSecurityContextOptions), O | P),
    f(2, "runAsUser", I64, O | P),
    f(6, "runAsGroup", I64, O | P),
    f(3, "runAsNonRoot", Bool, O | P),
    f(4, "supplementalGroups", I64, R | O),
    f(12, "supplementalGroupsPolicy", Str, O | P),
    f(5, "fsGroup", I64, O | P),
    f(7, "sysctls", M(&Sysctl), R | O),
    f(9, "fsGroupChangePolicy", Str, O | P),
    f(10, "seccompProfile", M(&SeccompProfile), O | P),
    f(11, "appArmorProfile", M(&AppArmorProfile), O | P),
    f(13, "seLinuxChangePolicy", Str, O | P),
]);
pub static PodSignature: Msg = msg("PodSignature", Plain, &[
    f(1, "podController", M(&meta_v1::OwnerReference), O | P),
]);
pub static PodSpec: Msg = msg("PodSpec", Plain, &[
    f(1, "volumes", M(&Volume), R | O),
    f(20, "initContainers", M(&Container), R | O),
    f(2, "containers", M(&Container), R),
    f(34, "ephemeralContainers", M(&EphemeralContainer), R | O),
    f(3, "restartPolicy", Str, O),
    f(4, "terminationGracePeriodSeconds", I64, O | P),
    f(5, "activeDeadlineSeconds", I64, O | P),
    f(6, "dnsPolicy", Str, O),
    f(7, "nodeSelector", MapStr, O),
    f(8, "serviceAccountName", Str, O),
    f(9, "serviceAccount", Str, O),
    f(21, "automountServiceAccountToken", Bool, O | P),
    f(10, "nodeName", Str, O),
    f(11, "hostNetwork", Bool, O),
    f(12, "hostPID", Bool, O),
    f(13, "hostIPC", Bool, O),
    f(27, "shareProcessNamespace", Bool, O | P),
    f(14, "securityContext", M(&PodSecurityContext), O | P),
    f(15, "imagePullSecrets", M(&LocalObjectReference), R | O),
    f(16, "hostname", Str, O),
    f(17, "subdomain", Str, O),
    f(18, "affinity", M(&Affinity), O | P),
    f(19, "schedulerName", Str, O),
    f(22, "tolerations", M(&Toleration), R | O),
    f(23, "hostAliases", M(&HostAlias), R | O),
    f(24, "priorityClassName", Str, O),
    f(25, "priority", I32, O | P),
    f(26, "dnsConfig", M(&PodDNSConfig), O | P),
    f(28, "readinessGates", M(&PodReadinessGate), R | O),
    f(29, "runtimeClassName", Str, O | P),
    f(30, "enableServiceLinks", Bool, O | P),
    f(31, "preemptionPolicy", Str, O | P),
    f(32, "overhead", MapM(&machinery::Quantity), O),
    f(33, "topologySpreadConstraints", M(&TopologySpreadConstraint), R | O),
    f(35, "setHostnameAsFQDN", Bool, O | P),
    f(36, "os", M(&PodOS), O | P),
    f(37, "hostUsers", Bool, O | P),
    f(38, "schedulingGates", M(&PodSchedulingGate), R | O),
    f(39, "resourceClaims", M(&PodResourceClaim), R | O),
    f(40, "resources", M(&ResourceRequirements), O | P),
]);
pub static PodStatus: Msg = msg("PodStatus", Plain, &[
    f(17, "observedGeneration", I64, O),
    f(1, "phase", Str, O),
    f(2, "conditions", M(&PodCondition), R | O),
    f(3, "message", Str, O),
    f(4, "reason", Str, O),
    f(11, "nominatedNodeName", Str, O),
    f(5, "hostIP", Str, O),
    f(16, "hostIPs", M(&HostIP), R | O),
    f(6, "podIP", Str, O),
    f(12, "podIPs", M(&PodIP), R | O),
    f(7, "startTime", M(&meta_v1::Time), O | P),
    f(10, "initContainerStatuses", M(&ContainerStatus), R | O),
    f(8, "containerStatuses", M(&ContainerStatus), R | O),
    f(9, "qosClass", Str, O),
    f(13, "ephemeralContainerStatuses", M(&ContainerStatus), R | O),
    f(14, "resize", Str, O),
    f(15, "resourceClaimStatuses", M(&PodResourceClaimStatus), R | O),
]);
pub static PodStatusResult: Msg = msg("PodStatusResult", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "status", M(&PodStatus), O),
]);
pub static PodTemplate: Msg = msg("PodTemplate", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "template", M(&PodTemplateSpec), O),
]);
pub static PodTemplateList: Msg = msg("PodTemplateList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&PodTemplate), R),
]);
pub static PodTemplateSpec: Msg = msg("PodTemplateSpec", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&PodSpec), O),
]);
pub static PortStatus: Msg = msg("PortStatus", Plain, &[
    f(1, "port", I32, N),
    f(2, "protocol", Str, N),
    f(3, "error", Str, O | P),
]);
pub static PortworxVolumeSource: Msg = msg("PortworxVolumeSource", Plain, &[
    f(1, "volumeID", Str, N),
    f(2, "fsType", Str, O),
    f(3, "readOnly", Bool, O),
]);
pub static Preconditions: Msg = msg("Preconditions", Plain, &[
    f(1, "uid", Str, O | P),
]);
pub static PreferAvoidPodsEntry: Msg = msg("PreferAvoidPodsEntry", Plain, &[
    f(1, "podSignature", M(&PodSignature), N),
    f(2, "evictionTime", M(&meta_v1::Time), O),
    f(3, "reason", Str, O),
    f(4, "message", Str, O),
]);
pub static PreferredSchedulingTerm: Msg = msg("PreferredSchedulingTerm", Plain, &[
    f(1, "weight", I32, N),
    f(2, "preference", M(&NodeSelectorTerm), N),
]);
pub static Probe: Msg = msg("Probe", Plain, &[
    f(1, "", M(&ProbeHandler), N),
    f(2, "initialDelaySeconds", I32, O),
    f(3, "timeoutSeconds", I32, O),
    f(4, "periodSeconds", I32, O),
    f(5, "successThreshold", I32, O),
    f(6, "failureThreshold", I32, O),
    f(7, "terminationGracePeriodSeconds", I64, O | P),
]);
pub static ProbeHandler: Msg = msg("ProbeHandler", Plain, &[
    f(1, "exec", M(&ExecAction), O | P),
    f(2, "httpGet", M(&HTTPGetAction), O | P),
    f(3, "tcpSocket", M(&TCPSocketAction), O | P),
    f(4, "grpc", M(&GRPCAction), O | P),
]);
pub static ProjectedVolumeSource: Msg = msg("ProjectedVolumeSource", Plain, &[
    f(1, "sources", M(&VolumeProjection), R),
    f(2, "defaultMode", I32, O | P),
]);
pub static QuobyteVolumeSource: Msg = msg("QuobyteVolumeSource", Plain, &[
    f(1, "registry", Str, N),
    f(2, "volume", Str, N),
    f(3, "readOnly", Bool, O),
    f(4, "user", Str, O),
    f(5, "group", Str, O),
    f(6, "tenant", Str, O),
]);
pub static RBDPersistentVolumeSource: Msg = msg("RBDPersistentVolumeSource", Plain, &[
    f(1, "monitors", Str, R),
    f(2, "image", Str, N),
    f(3, "fsType", Str, O),
    f(4, "pool", Str, O),
    f(5, "user", Str, O),
    f(6, "keyring", Str, O),
    f(7, "secretRef", M(&SecretReference), O | P),
    f(8, "readOnly", Bool, O),
]);
pub static RBDVolumeSource: Msg = msg("RBDVolumeSource", Plain, &[
    f(1, "monitors", Str, R),
    f(2, "image", Str, N),
    f(3, "fsType", Str, O),
    f(4, "pool", Str, O),
    f(5, "user", Str, O),
    f(6, "keyring", Str, O),
    f(7, "secretRef", M(&LocalObjectReference), O | P),
    f(8, "readOnly", Bool, O),
]);
pub static RangeAllocation: Msg = msg("RangeAllocation", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "range", Str, N),
    f(3, "data", Bytes, N),
]);
pub static ReplicationController: Msg = msg("ReplicationController", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ReplicationControllerSpec), O),
    f(3, "status", M(&ReplicationControllerStatus), O),
]);
pub static ReplicationControllerCondition: Msg = msg("ReplicationControllerCondition", Plain, &[
    f(1, "type", Str, N),
    f(2, "status", Str, N),
    f(3, "lastTransitionTime", M(&meta_v1::Time), O),
    f(4, "reason", Str, O),
    f(5, "message", Str, O),
]);
pub static ReplicationControllerList: Msg = msg("ReplicationControllerList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ReplicationController), R),
]);
pub static ReplicationControllerSpec: Msg = msg("ReplicationControllerSpec", Plain, &[
    f(1, "replicas", I32, O | P),
    f(4, "minReadySeconds", I32, O),
    f(2, "selector", MapStr, O),
    f(3, "template", M(&PodTemplateSpec), O | P),
]);
pub static ReplicationControllerStatus: Msg = msg("ReplicationControllerStatus", Plain, &[
    f(1, "replicas", I32, N),
    f(2, "fullyLabeledReplicas", I32, O),
    f(4, "readyReplicas", I32, O),
    f(5, "availableReplicas", I32, O),
    f(3, "observedGeneration", I64, O),
    f(6, "conditions", M(&ReplicationControllerCondition), R | O),
]);
pub static ResourceClaim: Msg = msg("ResourceClaim", Plain, &[
    f(1, "name", Str, N),
    f(2, "request", Str, O),
]);
pub static ResourceFieldSelector: Msg = msg("ResourceFieldSelector", Plain, &[
    f(1, "containerName", Str, O),
    f(2, "resource", Str, N),
    f(3, "divisor", M(&machinery::Quantity), O),
]);
pub static ResourceHealth: Msg = msg("ResourceHealth", Plain, &[
    f(1, "resourceID", Str, N),
    f(2, "health", Str, O),
]);
pub static ResourceQuota: Msg = msg("ResourceQuota", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ResourceQuotaSpec), O),
    f(3, "status", M(&ResourceQuotaStatus), O),
]);
pub static ResourceQuotaList: Msg = msg("ResourceQuotaList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ResourceQuota), R),
]);
pub static ResourceQuotaSpec: Msg = msg("ResourceQuotaSpec", Plain, &[
    f(1, "hard", MapM(&machinery::Quantity), O),
    f(2, "scopes", Str, R | O),
    f(3, "scopeSelector", M(&ScopeSelector), O | P),
]);
pub static ResourceQuotaStatus: Msg = msg("ResourceQuotaStatus", Plain, &[
    f(1, "hard", MapM(&machinery::Quantity), O),
    f(2, "used", MapM(&machinery::Quantity), O),
]);
pub static ResourceRequirements: Msg = msg("ResourceRequirements", Plain, &[
    f(1, "limits", MapM(&machinery::Quantity), O),
    f(2, "requests", MapM(&machinery::Quantity), O),
    f(3, "claims", M(&ResourceClaim), R | O),
]);
pub static ResourceStatus: Msg = msg("ResourceStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "resources", M(&ResourceHealth), R | O),
]);
pub static SELinuxOptions: Msg = msg("SELinuxOptions", Plain, &[
    f(1, "user", Str, O),
    f(2, "role", Str, O),
    f(3, "type", Str, O),
    f(4, "level", Str, O),
]);
pub static ScaleIOPersistentVolumeSource: Msg = msg("ScaleIOPersistentVolumeSource", Plain, &[
    f(1, "gateway", Str, N),
    f(2, "system", Str, N),
    f(3, "secretRef", M(&SecretReference), P),
    f(4, "sslEnabled", Bool, O),
    f(5, "protectionDomain", Str, O),
    f(6, "storagePool", Str, O),
    f(7, "storageMode", Str, O),
    f(8, "volumeName", Str, O),
    f(9, "fsType", Str, O),
    f(10, "readOnly", Bool, O),
]);
pub static ScaleIOVolumeSource: Msg = msg("ScaleIOVolumeSource", Plain, &[
    f(1, "gateway", Str, N),
    f(2, "system", Str, N),
    f(3, "secretRef", M(&LocalObjectReference), P),
    f(4, "sslEnabled", Bool, O),
    f(5, "protectionDomain", Str, O),
    f(6, "storagePool", Str, O),
    f(7, "storageMode", Str, O),
    f(8, "volumeName", Str, O),
    f(9, "fsType", Str, O),
    f(10, "readOnly", Bool, O),
]);
pub static ScopeSelector: Msg = msg("ScopeSelector", Plain, &[
    f(1, "matchExpressions", M(&ScopedResourceSelectorRequirement), R | O),
]);
pub static ScopedResourceSelectorRequirement: Msg = msg("ScopedResourceSelectorRequirement", Plain, &[
    f(1, "scopeName", Str, N),
    f(2, "operator", Str, N),
    f(3, "values", Str, R | O),
]);
pub static SeccompProfile: Msg = msg("SeccompProfile", Plain, &[
    f(1, "type", Str, N),
    f(2, "localhostProfile", Str, O | P),
]);
pub static Secret: Msg = msg("Secret", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(5, "immutable", Bool, O | P),
    f(2, "data", MapBytes, O),
    f(4, "stringData", MapStr, O),
    f(3, "type", Str, O),
]);
pub static SecretEnvSource: Msg = msg("SecretEnvSource", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "optional", Bool, O | P),
]);
pub static SecretKeySelector: Msg = msg("SecretKeySelector", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "key", Str, N),
    f(3, "optional", Bool, O | P),
]);
pub static SecretList: Msg = msg("SecretList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Secret), R),
]);
pub static SecretProjection: Msg = msg("SecretProjection", Plain, &[
    f(1, "", M(&LocalObjectReference), N),
    f(2, "items", M(&KeyToPath), R | O),
    f(4, "optional", Bool, O | P),
]);
pub static SecretReference: Msg = msg("SecretReference", Plain, &[
    f(1, "name", Str, O),
    f(2, "namespace", Str, O),
]);
pub static SecretVolumeSource: Msg = msg("SecretVolumeSource", Plain, &[
    f(1, "secretName", Str, O),
    f(2, "items", M(&KeyToPath), R | O),
    f(3, "defaultMode", I32, O | P),
    f(4, "optional", Bool, O | P),
]);
pub static SecurityContext: Msg = msg("SecurityContext", Plain, &[
    f(1, "capabilities", M(&Capabilities), O | P),
    f(2, "privileged", Bool, O | P),
    f(3, "seLinuxOptions", M(&SELinuxOptions), O | P),
    f(10, "windowsOptions", M(&WindowsSecurityContextOptions), O | P),
    f(4, "runAsUser", I64, O | P),
    f(8, "runAsGroup", I64, O | P),
    f(5, "runAsNonRoot", Bool, O | P),
    f(6, "readOnlyRootFilesystem", Bool, O | P),
    f(7, "allowPrivilegeEscalation", Bool, O | P),
    f(9, "procMount", Str, O | P),
    f(11, "seccompProfile", M(&SeccompProfile), O | P),
    f(12, "appArmorProfile", M(&AppArmorProfile), O | P),
]);
pub static SerializedReference: Msg = msg("SerializedReference", Plain, &[
    f(1, "reference", M(&ObjectReference), O),
]);
pub static Service: Msg = msg("Service", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "spec", M(&ServiceSpec), O),
    f(3, "status", M(&ServiceStatus), O),
]);
pub static ServiceAccount: Msg = msg("ServiceAccount", Plain, &[
    f(1, "metadata", M(&meta_v1::ObjectMeta), O),
    f(2, "secrets", M(&ObjectReference), R | O),
    f(3, "imagePullSecrets", M(&LocalObjectReference), R | O),
    f(4, "automountServiceAccountToken", Bool, O | P),
]);
pub static ServiceAccountList: Msg = msg("ServiceAccountList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&ServiceAccount), R),
]);
pub static ServiceAccountTokenProjection: Msg = msg("ServiceAccountTokenProjection", Plain, &[
    f(1, "audience", Str, O),
    f(2, "expirationSeconds", I64, O | P),
    f(3, "path", Str, N),
]);
pub static ServiceList: Msg = msg("ServiceList", Plain, &[
    f(1, "metadata", M(&meta_v1::ListMeta), O),
    f(2, "items", M(&Service), R),
]);
pub static ServicePort: Msg = msg("ServicePort", Plain, &[
    f(1, "name", Str, O),
    f(2, "protocol", Str, O),
    f(6, "appProtocol", Str, O | P),
    f(3, "port", I32, N),
    f(4, "targetPort", M(&machinery::IntOrString), O),
    f(5, "nodePort", I32, O),
]);
pub static ServiceProxyOptions: Msg = msg("ServiceProxyOptions", Plain, &[
    f(1, "path", Str, O),
]);
pub static ServiceSpec: Msg = msg("ServiceSpec", Plain, &[
    f(1, "ports", M(&ServicePort), R | O),
    f(2, "selector", MapStr, O),
    f(3, "clusterIP", Str, O),
    f(18, "clusterIPs", Str, R | O),
    f(4, "type", Str, O),
    f(5, "externalIPs", Str, R | O),
    f(7, "sessionAffinity", Str, O),
    f(8, "loadBalancerIP", Str, O),
    f(9, "loadBalancerSourceRanges", Str, R | O),
    f(10, "externalName", Str, O),
    f(11, "externalTrafficPolicy", Str, O),
    f(12, "healthCheckNodePort", I32, O),
    f(13, "publishNotReadyAddresses", Bool, O),
    f(14, "sessionAffinityConfig", M(&SessionAffinityConfig), O | P),
    f(19, "ipFamilies", Str, R | O),
    f(17, "ipFamilyPolicy", Str, O | P),
    f(20, "allocateLoadBalancerNodePorts", Bool, O | P),
    f(21, "loadBalancerClass", Str, O | P),
    f(22, "internalTrafficPolicy", Str, O | P),
    f(23, "trafficDistribution", Str, O | P),
]);
pub static ServiceStatus: Msg = msg("ServiceStatus", Plain, &[
    f(1, "loadBalancer", M(&LoadBalancerStatus), O),
    f(2, "conditions", M(&meta_v1::Condition), R | O),
]);
pub static SessionAffinityConfig: Msg = msg("SessionAffinityConfig", Plain, &[
    f(1, "clientIP", M(&ClientIPConfig), O | P),
]);
pub static SleepAction: Msg = msg("SleepAction", Plain, &[
    f(1, "seconds", I64, N),
]);
pub static StorageOSPersistentVolumeSource: Msg = msg("StorageOSPersistentVolumeSource", Plain, &[
    f(1, "volumeName", Str, O),
    f(2, "volumeNamespace", Str, O),
    f(3, "fsType", Str, O),
    f(4, "readOnly", Bool, O),
    f(5, "secretRef", M(&ObjectReference), O | P),
]);
pub static StorageOSVolumeSource: Msg = msg("StorageOSVolumeSource", Plain, &[
    f(1, "volumeName", Str, O),
    f(2, "volumeNamespace", Str, O),
    f(3, "fsType", Str, O),
    f(4, "readOnly", Bool, O),
    f(5, "secretRef", M(&LocalObjectReference), O | P),
]);
pub static Sysctl: Msg = msg("Sysctl", Plain, &[
    f(1, "name", Str, N),
    f(2, "value", Str, N),
]);
pub static TCPSocketAction: Msg = msg("TCPSocketAction", Plain, &[
    f(1, "port", M(&machinery::IntOrString), N),
    f(2, "host", Str, O),
]);
pub static Taint: Msg = msg("Taint", Plain, &[
    f(1, "key", Str, N),
    f(2, "value", Str, O),
    f(3, "effect", Str, N),
    f(4, "timeAdded", M(&meta_v1::Time), O | P),
]);
pub static Toleration: Msg = msg("Toleration", Plain, &[
    f(1, "key", Str, O),
    f(2, "operator", Str, O),
    f(3, "value", Str, O),
    f(4, "effect", Str, O),
    f(5, "tolerationSeconds", I64, O | P),
]);
pub static TopologySelectorLabelRequirement: Msg = msg("TopologySelectorLabelRequirement", Plain, &[
    f(1, "key", Str, N),
    f(2, "values", Str, R),
]);
pub static TopologySelectorTerm: Msg = msg("TopologySelectorTerm", Plain, &[
    f(1, "matchLabelExpressions", M(&TopologySelectorLabelRequirement), R | O),
]);
pub static TopologySpreadConstraint: Msg = msg("TopologySpreadConstraint", Plain, &[
    f(1, "maxSkew", I32, N),
    f(2, "topologyKey", Str, N),
    f(3, "whenUnsatisfiable", Str, N),
    f(4, "labelSelector", M(&meta_v1::LabelSelector), O | P),
    f(5, "minDomains", I32, O | P),
    f(6, "nodeAffinityPolicy", Str, O | P),
    f(7, "nodeTaintsPolicy", Str, O | P),
    f(8, "matchLabelKeys", Str, R | O),
]);
pub static TypedLocalObjectReference: Msg = msg("TypedLocalObjectReference", Plain, &[
    f(1, "apiGroup", Str, P),
    f(2, "kind", Str, N),
    f(3, "name", Str, N),
]);
pub static TypedObjectReference: Msg = msg("TypedObjectReference", Plain, &[
    f(1, "apiGroup", Str, P),
    f(2, "kind", Str, N),
    f(3, "name", Str, N),
    f(4, "namespace", Str, O | P),
]);
pub static Volume: Msg = msg("Volume", Plain, &[
    f(1, "name", Str, N),
    f(2, "", M(&VolumeSource), N),
]);
pub static VolumeDevice: Msg = msg("VolumeDevice", Plain, &[
    f(1, "name", Str, N),
    f(2, "devicePath", Str, N),
]);
pub static VolumeMount: Msg = msg("VolumeMount", Plain, &[
    f(1, "name", Str, N),
    f(2, "readOnly", Bool, O),
    f(7, "recursiveReadOnly", Str, O | P),
    f(3, "mountPath", Str, N),
    f(4, "subPath", Str, O),
    f(5, "mountPropagation", Str, O | P),
    f(6, "subPathExpr", Str, O),
]);
pub static VolumeMountStatus: Msg = msg("VolumeMountStatus", Plain, &[
    f(1, "name", Str, N),
    f(2, "mountPath", Str, N),
    f(3, "readOnly", Bool, O),
    f(4, "recursiveReadOnly", Str, O | P),
]);
pub static VolumeNodeAffinity: Msg = msg("VolumeNodeAffinity", Plain, &[
    f(1, "required", M(&NodeSelector), O | P),
]);
pub static VolumeProjection: Msg = msg("VolumeProjection", Plain, &[
    f(1, "secret", M(&SecretProjection), O | P),
    f(2, "downwardAPI", M(&DownwardAPIProjection), O | P),
    f(3, "configMap", M(&ConfigMapProjection), O | P),
    f(4, "serviceAccountToken", M(&ServiceAccountTokenProjection), O | P),
    f(5, "clusterTrustBundle", M(&ClusterTrustBundleProjection), O | P),
]);
pub static VolumeResourceRequirements: Msg = msg("VolumeResourceRequirements", Plain, &[
    f(1, "limits", MapM(&machinery::Quantity), O),
    f(2, "requests", MapM(&machinery::Quantity), O),
]);
pub static VolumeSource: Msg = msg("VolumeSource", Plain, &[
    f(1, "hostPath", M(&HostPathVolumeSource), O | P),
    f(2, "emptyDir", M(&EmptyDirVolumeSource), O | P),
    f(3, "gcePersistentDisk", M(&GCEPersistentDiskVolumeSource), O | P),
    f(4, "awsElasticBlockStore", M(&AWSElasticBlockStoreVolumeSource), O | P),
    f(5, "gitRepo", M(&GitRepoVolumeSource), O | P),
    f(6, "secret", M(&SecretVolumeSource), O | P),
    f(7, "nfs", M(&NFSVolumeSource), O | P),
    f(8, "iscsi", M(&ISCSIVolumeSource), O | P),
    f(9, "glusterfs", M(&GlusterfsVolumeSource), O | P),
    f(10, "persistentVolumeClaim", M(&PersistentVolumeClaimVolumeSource), O | P),
    f(11, "rbd", M(&RBDVolumeSource), O | P),
    f(12, "flexVolume", M(&FlexVolumeSource), O | P),
    f(13, "cinder", M(&CinderVolumeSource), O | P),
    f(14, "cephfs", M(&CephFSVolumeSource), O | P),
    f(15, "flocker", M(&FlockerVolumeSource), O | P),
    f(16, "downwardAPI", M(&DownwardAPIVolumeSource), O | P),
    f(17, "fc", M(&FCVolumeSource), O | P),
    f(18, "azureFile", M(&AzureFileVolumeSource), O | P),
    f(19, "configMap", M(&ConfigMapVolumeSource), O | P),
    f(20, "vsphereVolume", M(&VsphereVirtualDiskVolumeSource), O | P),
    f(21, "quobyte", M(&QuobyteVolumeSource), O | P),
    f(22, "azureDisk", M(&AzureDiskVolumeSource), O | P),
    f(23, "photonPersistentDisk", M(&PhotonPersistentDiskVolumeSource), O | P),
    f(26, "projected", M(&ProjectedVolumeSource), O | P),
    f(24, "portworxVolume", M(&PortworxVolumeSource), O | P),
    f(25, "scaleIO", M(&ScaleIOVolumeSource), O | P),
    f(27, "storageos", M(&StorageOSVolumeSource), O | P),
    f(28, "csi", M(&CSIVolumeSource), O | P),
    f(29, "ephemeral", M(&EphemeralVolumeSource), O | P),
    f(30, "image", M(&ImageVolumeSource), O | P),
]);
pub static VsphereVirtualDiskVolumeSource: Msg = msg("VsphereVirtualDiskVolumeSource", Plain, &[
    f(1, "volumePath", Str, N),
    f(2, "fsType", Str, O),
    f(3, "storagePolicyName", Str, O),
    f(4, "storagePolicyID", Str, O),
]);
pub static WeightedPodAffinityTerm: Msg = msg("WeightedPodAffinityTerm", Plain, &[
    f(1, "weight", I32, N),
    f(2, "podAffinityTerm", M(&PodAffinityTerm), N),
]);
pub static WindowsSecurityContextOptions: Msg = msg("WindowsSecurityContextOptions", Plain, &[
    f(1, "gmsaCredentialSpecName", Str, O | P),
    f(2, "gmsaCredentialSpec", Str, O | P),
    f(3, "runAsUserName", Str, O | P),
    f(4, "hostProcess", Bool, O | P),
]);

/// Every message of this module, sorted by name (binary-searched by kind).
pub static ALL: &[&Msg] = &[
    &AWSElasticBlockStoreVolumeSource,
    &Affinity,
    &AppArmorProfile,
    &AttachedVolume,
    &AvoidPods,
    &AzureDiskVolumeSource,
    &AzureFilePersistentVolumeSource,
    &AzureFileVolumeSource,
    &Binding,
    &CSIPersistentVolumeSource,
    &CSIVolumeSource,
    &Capabilities,
    &CephFSPersistentVolumeSource,
    &CephFSVolumeSource,
    &CinderPersistentVolumeSource,
    &CinderVolumeSource,
    &ClientIPConfig,
    &ClusterTrustBundleProjection,
    &ComponentCondition,
    &ComponentStatus,
    &ComponentStatusList,
    &ConfigMap,
    &ConfigMapEnvSource,
    &ConfigMapKeySelector,
    &ConfigMapList,
    &ConfigMapNodeConfigSource,
    &ConfigMapProjection,
    &ConfigMapVolumeSource,
    &Container,
    &ContainerImage,
    &ContainerPort,
    &ContainerResizePolicy,
    &ContainerState,
    &ContainerStateRunning,
    &ContainerStateTerminated,
    &ContainerStateWaiting,
    &ContainerStatus,
    &ContainerUser,
    &DaemonEndpoint,
    &DownwardAPIProjection,
    &DownwardAPIVolumeFile,
    &DownwardAPIVolumeSource,
    &EmptyDirVolumeSource,
    &EndpointAddress,
    &EndpointPort,
    &EndpointSubset,
    &Endpoints,
    &EndpointsList,
    &EnvFromSource,
    &EnvVar,
    &EnvVarSource,
    &EphemeralContainer,
    &EphemeralContainerCommon,
    &EphemeralVolumeSource,
    &Event,
    &EventList,
    &EventSeries,
    &EventSource,
    &ExecAction,
    &FCVolumeSource,
    &FlexPersistentVolumeSource,
    &FlexVolumeSource,
    &FlockerVolumeSource,
    &GCEPersistentDiskVolumeSource,
    &GRPCAction,
    &GitRepoVolumeSource,
    &GlusterfsPersistentVolumeSource,
    &GlusterfsVolumeSource,
    &HTTPGetAction,
    &HTTPHeader,
    &HostAlias,
    &HostIP,
    &HostPathVolumeSource,
    &ISCSIPersistentVolumeSource,
    &ISCSIVolumeSource,
    &ImageVolumeSource,
    &KeyToPath,
    &Lifecycle,
    &LifecycleHandler,
    &LimitRange,
    &LimitRangeItem,
    &LimitRangeList,
    &LimitRangeSpec,
    &LinuxContainerUser,
    &List,
    &LoadBalancerIngress,
    &LoadBalancerStatus,
    &LocalObjectReference,
    &LocalVolumeSource,
    &ModifyVolumeStatus,
    &NFSVolumeSource,
    &Namespace,
    &NamespaceCondition,
    &NamespaceList,
    &NamespaceSpec,
    &NamespaceStatus,
    &Node,
    &NodeAddress,
    &NodeAffinity,
    &NodeCondition,
    &NodeConfigSource,
    &NodeConfigStatus,
    &NodeDaemonEndpoints,
    &NodeFeatures,
    &NodeList,
    &NodeProxyOptions,
    &NodeRuntimeHandler,
    &NodeRuntimeHandlerFeatures,
    &NodeSelector,
    &NodeSelectorRequirement,
    &NodeSelectorTerm,
    &NodeSpec,
    &NodeStatus,
    &NodeSwapStatus,
    &NodeSystemInfo,
    &ObjectFieldSelector,
    &ObjectReference,
    &PersistentVolume,
    &PersistentVolumeClaim,
    &PersistentVolumeClaimCondition,
    &PersistentVolumeClaimList,
    &PersistentVolumeClaimSpec,
    &PersistentVolumeClaimStatus,
    &PersistentVolumeClaimTemplate,
    &PersistentVolumeClaimVolumeSource,
    &PersistentVolumeList,
    &PersistentVolumeSource,
    &PersistentVolumeSpec,
    &PersistentVolumeStatus,
    &PhotonPersistentDiskVolumeSource,
    &Pod,
    &PodAffinity,
    &PodAffinityTerm,
    &PodAntiAffinity,
    &PodAttachOptions,
    &PodCondition,
    &PodDNSConfig,
    &PodDNSConfigOption,
    &PodExecOptions,
    &PodIP,
    &PodList,
    &PodLogOptions,
    &PodOS,
    &PodPortForwardOptions,
    &PodProxyOptions,
    &PodReadinessGate,
    &PodResourceClaim,
    &PodResourceClaimStatus,
    &PodSchedulingGate,
    &PodSecurityContext,
    &PodSignature,
    &PodSpec,
    &PodStatus,
    &PodStatusResult,
    &PodTemplate,
    &PodTemplateList,
    &PodTemplateSpec,
    &PortStatus,
    &PortworxVolumeSource,
    &Preconditions,
    &PreferAvoidPodsEntry,
    &PreferredSchedulingTerm,
    &Probe,
    &ProbeHandler,
    &ProjectedVolumeSource,
    &QuobyteVolumeSource,
    &RBDPersistentVolumeSource,
    &RBDVolumeSource,
    &RangeAllocation,
    &ReplicationController,
    &ReplicationControllerCondition,
    &ReplicationControllerList,
    &ReplicationControllerSpec,
    &ReplicationControllerStatus,
    &ResourceClaim,
    &ResourceFieldSelector,
    &ResourceHealth,
    &ResourceQuota,
    &ResourceQuotaList,
    &ResourceQuotaSpec,
    &ResourceQuotaStatus,
    &ResourceRequirements,
    &ResourceStatus,
    &SELinuxOptions,
    &ScaleIOPersistentVolumeSource,
    &ScaleIOVolumeSource,
    &ScopeSelector,
    &ScopedResourceSelectorRequirement,
    &SeccompProfile,
    &Secret,
    &SecretEnvSource,
    &SecretKeySelector,
    &SecretList,
    &SecretProjection,
    &SecretReference,
    &SecretVolumeSource,
    &SecurityContext,
    &SerializedReference,
    &Service,
    &ServiceAccount,
    &ServiceAccountList,
    &ServiceAccountTokenProjection,
    &ServiceList,
    &ServicePort,
    &ServiceProxyOptions,
    &ServiceSpec,
    &ServiceStatus,
    &SessionAffinityConfig,
    &SleepAction,
    &StorageOSPersistentVolumeSource,
    &StorageOSVolumeSource,
    &Sysctl,
    &TCPSocketAction,
    &Taint,
    &Toleration,
    &TopologySelectorLabelRequirement,
    &TopologySelectorTerm,
    &TopologySpreadConstraint,
    &TypedLocalObjectReference,
    &TypedObjectReference,
    &Volume,
    &VolumeDevice,
    &VolumeMount,
    &VolumeMountStatus,
    &VolumeNodeAffinity,
    &VolumeProjection,
    &VolumeResourceRequirements,
    &VolumeSource,
    &VsphereVirtualDiskVolumeSource,
    &WeightedPodAffinityTerm,
    &WindowsSecurityContextOptions,
];
