//go:build linux

package criserver

import (
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"

	"github.com/podkit/podkit/sandbox"
	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// sandboxRecord is what the server knows of one pod sandbox beyond the
// sandbox package: its CRI config and CRI state.
type sandboxRecord struct {
	ID        string
	Config    *runtimeapi.PodSandboxConfig
	CreatedAt int64 // ns since the epoch
	Handler   string

	// IPs are the pod's addresses on the pod network, IPv4 first.
	IPs []string

	mu       sync.Mutex
	stopped  bool             // StopPodSandbox done: NOTREADY from then on
	attached bool             // attached to the pod network, not yet detached
	sb       *sandbox.Sandbox // nil when it could not be re-attached at restore
}

// persistedSandbox is a sandboxRecord on disk.
type persistedSandbox struct {
	ID        string          `json:"id"`
	CreatedAt int64           `json:"createdAt"`
	Handler   string          `json:"handler,omitempty"`
	Stopped   bool            `json:"stopped,omitempty"`
	Attached  bool            `json:"attached,omitempty"`
	IPs       []string        `json:"ips,omitempty"`
	Config    json.RawMessage `json:"config"`
}

// store holds the records, each persisted under dir.
type store struct {
	dir string

	mu         sync.RWMutex
	sandboxes  map[string]*sandboxRecord
	containers map[string]*containerRecord
	names      map[string]string // sandbox and container name keys -> id (reserved names)
}

func newStore(dir string) (*store, error) {
	for _, sub := range []string{"sandboxes", "containers"} {
		if err := os.MkdirAll(filepath.Join(dir, sub), 0o700); err != nil {
			return nil, err
		}
	}
	return &store{dir: dir, sandboxes: map[string]*sandboxRecord{}, containers: map[string]*containerRecord{},
		names: map[string]string{}}, nil
}

// newID returns a random 64-hex-digit id, as CRI runtimes use.
func newID() string {
	var b [32]byte
	if _, err := rand.Read(b[:]); err != nil {
		panic(err)
	}
	return hex.EncodeToString(b[:])
}

// sandboxKey is the name a pod sandbox reserves: one sandbox per
// (name, namespace, uid, attempt), as kubelet expects.
func sandboxKey(m *runtimeapi.PodSandboxMetadata) string {
	return fmt.Sprintf("%s_%s_%s_%d", m.GetName(), m.GetNamespace(), m.GetUid(), m.GetAttempt())
}

// reserve takes key for id, or fails naming the id that holds it.
func (st *store) reserve(key, id string) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if other, ok := st.names[key]; ok {
		return fmt.Errorf("name %q is reserved by %s", key, other)
	}
	st.names[key] = id
	return nil
}

func (st *store) release(key, id string) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.names[key] == id {
		delete(st.names, key)
	}
}

func (st *store) addSandbox(r *sandboxRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.sandboxes[r.ID] = r
	st.names[sandboxKey(r.Config.GetMetadata())] = r.ID
}

// sandbox finds a record by full id or unique prefix.
func (st *store) sandbox(id string) *sandboxRecord {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if r, ok := st.sandboxes[id]; ok || id == "" {
		return r
	}
	var found *sandboxRecord
	for full, r := range st.sandboxes {
		if strings.HasPrefix(full, id) {
			if found != nil {
				return nil // ambiguous
			}
			found = r
		}
	}
	return found
}

func (st *store) listSandboxes() []*sandboxRecord {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]*sandboxRecord, 0, len(st.sandboxes))
	for _, r := range st.sandboxes {
		out = append(out, r)
	}
	return out
}

func (st *store) deleteSandbox(r *sandboxRecord) error {
	st.mu.Lock()
	delete(st.sandboxes, r.ID)
	if key := sandboxKey(r.Config.GetMetadata()); st.names[key] == r.ID {
		delete(st.names, key)
	}
	st.mu.Unlock()
	err := os.Remove(st.sandboxPath(r.ID))
	if os.IsNotExist(err) {
		err = nil
	}
	return err
}

func (st *store) sandboxPath(id string) string {
	return filepath.Join(st.dir, "sandboxes", id+".json")
}

// saveSandbox writes r's file atomically; the caller holds r.mu or owns r.
func (st *store) saveSandbox(r *sandboxRecord) error {
	cfg, err := protojson.Marshal(r.Config)
	if err != nil {
		return err
	}
	b, err := json.Marshal(persistedSandbox{ID: r.ID, CreatedAt: r.CreatedAt, Handler: r.Handler,
		Stopped: r.stopped, Attached: r.attached, IPs: r.IPs, Config: cfg})
	if err != nil {
		return err
	}
	return writeAtomic(st.sandboxPath(r.ID), b)
}

// loadSandboxes reads every persisted sandbox record.
func (st *store) loadSandboxes() ([]*sandboxRecord, error) {
	files, err := filepath.Glob(filepath.Join(st.dir, "sandboxes", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*sandboxRecord
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var p persistedSandbox
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		cfg := &runtimeapi.PodSandboxConfig{}
		if err := protojson.Unmarshal(p.Config, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &sandboxRecord{ID: p.ID, Config: cfg, CreatedAt: p.CreatedAt, Handler: p.Handler,
			IPs: p.IPs, stopped: p.Stopped, attached: p.Attached})
	}
	return out, nil
}

func writeAtomic(path string, b []byte) error {
	tmp := path + ".tmp"
	if err := os.WriteFile(tmp, b, 0o600); err != nil {
		return err
	}
	return os.Rename(tmp, path)
}
