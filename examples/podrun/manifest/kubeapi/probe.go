package kubeapi

// Probe is a container's liveness, readiness or startup probe.
type Probe struct {
	ProbeHandler                  `json:",inline"`
	InitialDelaySeconds           int32 `json:"initialDelaySeconds,omitempty"`
	TimeoutSeconds                int32 `json:"timeoutSeconds,omitempty"`
	PeriodSeconds                 int32 `json:"periodSeconds,omitempty"`
	SuccessThreshold              int32 `json:"successThreshold,omitempty"`
	FailureThreshold              int32 `json:"failureThreshold,omitempty"`
	TerminationGracePeriodSeconds *any  `json:"terminationGracePeriodSeconds,omitempty"`
}

// ProbeHandler is what a probe runs.
type ProbeHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	GRPC      *any             `json:"grpc,omitempty"`
}

// ExecAction runs a command in the container.
type ExecAction struct {
	Command []string `json:"command,omitempty"`
}

// URIScheme is an httpGet's scheme.
type URIScheme string

// The httpGet schemes.
const (
	URISchemeHTTP  URIScheme = "HTTP"
	URISchemeHTTPS URIScheme = "HTTPS"
)

// HTTPGetAction is an HTTP GET of the pod.
type HTTPGetAction struct {
	Path        string       `json:"path,omitempty"`
	Port        IntOrString  `json:"port"`
	Host        string       `json:"host,omitempty"`
	Scheme      URIScheme    `json:"scheme,omitempty"`
	HTTPHeaders []HTTPHeader `json:"httpHeaders,omitempty"`
	Protocol    *any         `json:"protocol,omitempty"`
}

// HTTPHeader is a header of an httpGet.
type HTTPHeader struct {
	Name  string `json:"name"`
	Value string `json:"value"`
}

// TCPSocketAction is a TCP connection to the pod.
type TCPSocketAction struct {
	Port IntOrString `json:"port"`
	Host string      `json:"host,omitempty"`
}

// Lifecycle is a container's lifecycle hooks.
type Lifecycle struct {
	PostStart  *LifecycleHandler `json:"postStart,omitempty"`
	PreStop    *LifecycleHandler `json:"preStop,omitempty"`
	StopSignal *any              `json:"stopSignal,omitempty"`
}

// LifecycleHandler is what a hook runs.
type LifecycleHandler struct {
	Exec      *ExecAction      `json:"exec,omitempty"`
	HTTPGet   *HTTPGetAction   `json:"httpGet,omitempty"`
	TCPSocket *TCPSocketAction `json:"tcpSocket,omitempty"`
	Sleep     *SleepAction     `json:"sleep,omitempty"`
}

// SleepAction is a hook that sleeps.
type SleepAction struct {
	Seconds int64 `json:"seconds"`
}
