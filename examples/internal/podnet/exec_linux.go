//go:build linux

package podnet

import (
	"context"
	"encoding/json"
	"os"
	"strings"
	"sync"

	"github.com/containernetworking/cni/pkg/invoke"
	"github.com/containernetworking/cni/pkg/version"
)

// rollbackState follows one Attach: the output of the last plugin whose ADD
// succeeded. A failed ADD leaves libcni with no result to cache, so the DEL
// that rolls it back would give the plugins no prevResult, and plugins that
// learn the pod's addresses from it (firewall) would leave their rules.
// The rollback DEL gets this partial result as its prevResult instead.
type rollbackState struct {
	mu   sync.Mutex
	last []byte
}

type rollbackKey struct{}

// execer runs plugins as libcni's default does, recording ADD results and
// supplying them to DEL for contexts that carry a *rollbackState.
type execer struct{ invoke.DefaultExec }

func newExecer() *execer {
	return &execer{invoke.DefaultExec{RawExec: &invoke.RawExec{Stderr: os.Stderr}, PluginDecoder: version.PluginDecoder{}}}
}

func (e *execer) ExecPlugin(ctx context.Context, path string, stdin []byte, env []string) ([]byte, error) {
	st, _ := ctx.Value(rollbackKey{}).(*rollbackState)
	if st == nil {
		return e.DefaultExec.ExecPlugin(ctx, path, stdin, env)
	}
	cmd := envValue(env, "CNI_COMMAND")
	st.mu.Lock()
	defer st.mu.Unlock()
	if cmd == "DEL" && st.last != nil {
		stdin = withPrevResult(stdin, st.last)
	}
	out, err := e.DefaultExec.ExecPlugin(ctx, path, stdin, env)
	if cmd == "ADD" && err == nil {
		st.last = out
	}
	return out, err
}

func envValue(env []string, key string) string {
	for i := len(env) - 1; i >= 0; i-- {
		if v, ok := strings.CutPrefix(env[i], key+"="); ok {
			return v
		}
	}
	return ""
}

// withPrevResult sets the config's prevResult unless it has one already.
func withPrevResult(conf, prev []byte) []byte {
	var m map[string]json.RawMessage
	if json.Unmarshal(conf, &m) != nil || m["prevResult"] != nil || !json.Valid(prev) {
		return conf
	}
	m["prevResult"] = prev
	out, err := json.Marshal(m)
	if err != nil {
		return conf
	}
	return out
}
