package kubeapi

// TypeMeta is an object's apiVersion and kind.
type TypeMeta struct {
	Kind       string `json:"kind,omitempty"`
	APIVersion string `json:"apiVersion,omitempty"`
}

// ObjectMeta is an object's metadata. The API server's own fields are
// untyped: podrun ignores them.
type ObjectMeta struct {
	Name                       string            `json:"name,omitempty"`
	GenerateName               any               `json:"generateName,omitempty"`
	Namespace                  string            `json:"namespace,omitempty"`
	SelfLink                   any               `json:"selfLink,omitempty"`
	UID                        any               `json:"uid,omitempty"`
	ResourceVersion            any               `json:"resourceVersion,omitempty"`
	Generation                 any               `json:"generation,omitempty"`
	CreationTimestamp          any               `json:"creationTimestamp,omitempty"`
	DeletionTimestamp          *any              `json:"deletionTimestamp,omitempty"`
	DeletionGracePeriodSeconds *any              `json:"deletionGracePeriodSeconds,omitempty"`
	Labels                     map[string]string `json:"labels,omitempty"`
	Annotations                map[string]string `json:"annotations,omitempty"`
	OwnerReferences            any               `json:"ownerReferences,omitempty"`
	Finalizers                 any               `json:"finalizers,omitempty"`
	ManagedFields              any               `json:"managedFields,omitempty"`
}

// GetName is the object's name.
func (m *ObjectMeta) GetName() string { return m.Name }

// GetNamespace is the object's namespace.
func (m *ObjectMeta) GetNamespace() string { return m.Namespace }

// Pod is a v1 Pod.
type Pod struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Spec       PodSpec `json:"spec,omitempty"`
	Status     any     `json:"status,omitempty"`
}

// RestartPolicy is spec.restartPolicy.
type RestartPolicy string

// The pod restart policies.
const (
	RestartPolicyAlways    RestartPolicy = "Always"
	RestartPolicyOnFailure RestartPolicy = "OnFailure"
	RestartPolicyNever     RestartPolicy = "Never"
)

// PodSpec is a Pod's spec.
type PodSpec struct {
	Volumes                       []Volume            `json:"volumes,omitempty"`
	InitContainers                []Container         `json:"initContainers,omitempty"`
	Containers                    []Container         `json:"containers"`
	EphemeralContainers           any                 `json:"ephemeralContainers,omitempty"`
	RestartPolicy                 RestartPolicy       `json:"restartPolicy,omitempty"`
	TerminationGracePeriodSeconds *int64              `json:"terminationGracePeriodSeconds,omitempty"`
	ActiveDeadlineSeconds         *any                `json:"activeDeadlineSeconds,omitempty"`
	DNSPolicy                     any                 `json:"dnsPolicy,omitempty"`
	NodeSelector                  any                 `json:"nodeSelector,omitempty"`
	ServiceAccountName            string              `json:"serviceAccountName,omitempty"`
	DeprecatedServiceAccount      string              `json:"serviceAccount,omitempty"`
	AutomountServiceAccountToken  *any                `json:"automountServiceAccountToken,omitempty"`
	NodeName                      any                 `json:"nodeName,omitempty"`
	HostNetwork                   bool                `json:"hostNetwork,omitempty"`
	HostPID                       bool                `json:"hostPID,omitempty"`
	HostIPC                       bool                `json:"hostIPC,omitempty"`
	ShareProcessNamespace         *bool               `json:"shareProcessNamespace,omitempty"`
	SecurityContext               *PodSecurityContext `json:"securityContext,omitempty"`
	ImagePullSecrets              any                 `json:"imagePullSecrets,omitempty"`
	Hostname                      string              `json:"hostname,omitempty"`
	Subdomain                     any                 `json:"subdomain,omitempty"`
	Affinity                      *any                `json:"affinity,omitempty"`
	SchedulerName                 any                 `json:"schedulerName,omitempty"`
	Tolerations                   any                 `json:"tolerations,omitempty"`
	HostAliases                   any                 `json:"hostAliases,omitempty"`
	PriorityClassName             any                 `json:"priorityClassName,omitempty"`
	Priority                      *any                `json:"priority,omitempty"`
	DNSConfig                     *any                `json:"dnsConfig,omitempty"`
	ReadinessGates                any                 `json:"readinessGates,omitempty"`
	RuntimeClassName              *any                `json:"runtimeClassName,omitempty"`
	EnableServiceLinks            *any                `json:"enableServiceLinks,omitempty"`
	PreemptionPolicy              *any                `json:"preemptionPolicy,omitempty"`
	Overhead                      any                 `json:"overhead,omitempty"`
	TopologySpreadConstraints     any                 `json:"topologySpreadConstraints,omitempty"`
	SetHostnameAsFQDN             *any                `json:"setHostnameAsFQDN,omitempty"`
	OS                            *any                `json:"os,omitempty"`
	HostUsers                     *any                `json:"hostUsers,omitempty"`
	SchedulingGates               any                 `json:"schedulingGates,omitempty"`
	ResourceClaims                any                 `json:"resourceClaims,omitempty"`
	Resources                     *any                `json:"resources,omitempty"`
	HostnameOverride              *any                `json:"hostnameOverride,omitempty"`
	SchedulingGroup               *any                `json:"schedulingGroup,omitempty"`
	EvictionResponders            any                 `json:"evictionResponders,omitempty"`
}

// PodFSGroupChangePolicy is securityContext.fsGroupChangePolicy.
type PodFSGroupChangePolicy string

// The fsGroup change policies.
const (
	FSGroupChangeOnRootMismatch PodFSGroupChangePolicy = "OnRootMismatch"
	FSGroupChangeAlways         PodFSGroupChangePolicy = "Always"
)

// PodSecurityContext is spec.securityContext.
type PodSecurityContext struct {
	SELinuxOptions           *any                    `json:"seLinuxOptions,omitempty"`
	WindowsOptions           *any                    `json:"windowsOptions,omitempty"`
	RunAsUser                *int64                  `json:"runAsUser,omitempty"`
	RunAsGroup               *int64                  `json:"runAsGroup,omitempty"`
	RunAsNonRoot             *bool                   `json:"runAsNonRoot,omitempty"`
	SupplementalGroups       []int64                 `json:"supplementalGroups,omitempty"`
	SupplementalGroupsPolicy *any                    `json:"supplementalGroupsPolicy,omitempty"`
	FSGroup                  *int64                  `json:"fsGroup,omitempty"`
	Sysctls                  any                     `json:"sysctls,omitempty"`
	FSGroupChangePolicy      *PodFSGroupChangePolicy `json:"fsGroupChangePolicy,omitempty"`
	SeccompProfile           *SeccompProfile         `json:"seccompProfile,omitempty"`
	AppArmorProfile          *any                    `json:"appArmorProfile,omitempty"`
	SELinuxChangePolicy      *any                    `json:"seLinuxChangePolicy,omitempty"`
}

// SeccompProfileType is seccompProfile.type.
type SeccompProfileType string

// The seccomp profile types.
const (
	SeccompProfileTypeUnconfined     SeccompProfileType = "Unconfined"
	SeccompProfileTypeRuntimeDefault SeccompProfileType = "RuntimeDefault"
	SeccompProfileTypeLocalhost      SeccompProfileType = "Localhost"
)

// SeccompProfile is a pod's or container's seccompProfile.
type SeccompProfile struct {
	Type             SeccompProfileType `json:"type"`
	LocalhostProfile *string            `json:"localhostProfile,omitempty"`
}

// LocalObjectReference names an object in the pod's namespace.
type LocalObjectReference struct {
	Name string `json:"name,omitempty"`
}

// ConfigMap is a v1 ConfigMap.
type ConfigMap struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
	Data       map[string]string `json:"data,omitempty"`
	BinaryData map[string][]byte `json:"binaryData,omitempty"`
}

// SecretType is a Secret's type.
type SecretType string

// Secret is a v1 Secret.
type Secret struct {
	TypeMeta   `json:",inline"`
	ObjectMeta `json:"metadata,omitempty"`
	Immutable  *bool             `json:"immutable,omitempty"`
	Data       map[string][]byte `json:"data,omitempty"`
	StringData map[string]string `json:"stringData,omitempty"`
	Type       SecretType        `json:"type,omitempty"`
}
