//go:build linux

package criserver

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"google.golang.org/protobuf/encoding/protojson"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// containerRecord is what the server keeps of a container beyond the
// sandbox's own record of it (which holds its state): its CRI config and
// the image it was made from. The container's name in its sandbox is ID.
type containerRecord struct {
	ID        string
	SandboxID string
	Config    *runtimeapi.ContainerConfig
	ImageRef  string // the image's ID
	CreatedAt int64
	LogPath   string // absolute, or "" when kubelet gave none
}

type persistedContainer struct {
	ID        string          `json:"id"`
	SandboxID string          `json:"sandboxID"`
	ImageRef  string          `json:"imageRef"`
	CreatedAt int64           `json:"createdAt"`
	LogPath   string          `json:"logPath,omitempty"`
	Config    json.RawMessage `json:"config"`
}

// containerKey is the name a container reserves in its sandbox, as kubelet
// expects: one per (name, attempt).
func containerKey(sandboxID string, m *runtimeapi.ContainerMetadata) string {
	return fmt.Sprintf("%s/%s_%d", sandboxID, m.GetName(), m.GetAttempt())
}

func (st *store) containerPath(id string) string {
	return filepath.Join(st.dir, "containers", id+".json")
}

func (st *store) addContainer(r *containerRecord) {
	st.mu.Lock()
	defer st.mu.Unlock()
	st.containers[r.ID] = r
	st.names[containerKey(r.SandboxID, r.Config.GetMetadata())] = r.ID
}

// container finds a record by full id or unique prefix.
func (st *store) container(id string) *containerRecord {
	st.mu.RLock()
	defer st.mu.RUnlock()
	if r, ok := st.containers[id]; ok || id == "" {
		return r
	}
	var found *containerRecord
	for full, r := range st.containers {
		if strings.HasPrefix(full, id) {
			if found != nil {
				return nil // ambiguous
			}
			found = r
		}
	}
	return found
}

func (st *store) listContainers() []*containerRecord {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]*containerRecord, 0, len(st.containers))
	for _, r := range st.containers {
		out = append(out, r)
	}
	return out
}

func (st *store) deleteContainer(r *containerRecord) error {
	st.mu.Lock()
	delete(st.containers, r.ID)
	if key := containerKey(r.SandboxID, r.Config.GetMetadata()); st.names[key] == r.ID {
		delete(st.names, key)
	}
	st.mu.Unlock()
	err := os.Remove(st.containerPath(r.ID))
	if os.IsNotExist(err) {
		err = nil
	}
	return err
}

func (st *store) saveContainer(r *containerRecord) error {
	cfg, err := protojson.Marshal(r.Config)
	if err != nil {
		return err
	}
	b, err := json.Marshal(persistedContainer{ID: r.ID, SandboxID: r.SandboxID, ImageRef: r.ImageRef,
		CreatedAt: r.CreatedAt, LogPath: r.LogPath, Config: cfg})
	if err != nil {
		return err
	}
	return writeAtomic(st.containerPath(r.ID), b)
}

func (st *store) loadContainers() ([]*containerRecord, error) {
	files, err := filepath.Glob(filepath.Join(st.dir, "containers", "*.json"))
	if err != nil {
		return nil, err
	}
	var out []*containerRecord
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			return nil, err
		}
		var p persistedContainer
		if err := json.Unmarshal(b, &p); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		cfg := &runtimeapi.ContainerConfig{}
		if err := protojson.Unmarshal(p.Config, cfg); err != nil {
			return nil, fmt.Errorf("%s: %w", f, err)
		}
		out = append(out, &containerRecord{ID: p.ID, SandboxID: p.SandboxID, Config: cfg, ImageRef: p.ImageRef,
			CreatedAt: p.CreatedAt, LogPath: p.LogPath})
	}
	return out, nil
}
