//go:build linux

package podnet_test

import (
	"errors"
	"net/netip"
	"os"
	"path/filepath"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
)

// withFlaky is a test network whose conflist ends with the flaky plugin,
// configured by conf, found in its own plugin directory.
func withFlaky(t *testing.T, bits int, conf map[string]any, dels int) (*testNetwork, string) {
	t.Helper()
	tn := newTestNetwork(t, bits, func(o *podnet.BridgeOptions) { o.NoPortMap = true })
	dir := flakyPluginDir(t)
	plugin := map[string]any{"type": "flaky"}
	for k, v := range conf {
		plugin[k] = v
	}
	tn.List.Plugins = append(tn.List.Plugins, plugin)
	nw, err := podnet.New(podnet.Config{List: tn.List, PluginDirs: []string{dir, "/usr/lib/cni"}, DelAttempts: dels, DelBackoff: 10e6})
	if err != nil {
		t.Fatal(err)
	}
	tn.Network = nw
	return tn, dir
}

func wantAttachError(t *testing.T, err error, also error) {
	t.Helper()
	wantAttachErrorRollback(t, err, also, false)
}

func wantAttachErrorRollback(t *testing.T, err error, also error, rollbackMayFail bool) {
	t.Helper()
	var pe *podnet.Error
	if !errors.Is(err, podnet.ErrAttach) || !errors.As(err, &pe) || pe.Op != "attach" {
		t.Fatalf("Attach: %v; want an *Error wrapping ErrAttach", err)
	}
	if also != nil && !errors.Is(err, also) {
		t.Fatalf("Attach: %v; want it to wrap %v too", err, also)
	}
	if errors.Is(err, podnet.ErrRollback) && !rollbackMayFail {
		t.Fatalf("Attach: %v: the rollback failed", err)
	}
	t.Log(err)
}

// A plugin failing ADD after bridge and host-local did their part: Attach
// rolls everything back (the leak check sees veths, leases, rules, cache).
func TestAttachRollsBackFailedAdd(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn, _ := withFlaky(t, 24, map[string]any{"failAdd": true}, 0)
	p := newPods(t, "addfail", 1)[0]
	_, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
	wantAttachError(t, err, nil)
	leases, _ := filepath.Glob(filepath.Join(podnet.DefaultCacheDir, "networks", tn.Name(), "10.*"))
	if len(leases) != 0 {
		t.Fatalf("leases left after a failed Attach: %v", leases)
	}
}

// A plugin that disappears between New and Attach: ADD fails at it, and the
// rollback still undoes the plugins that ran.
func TestAttachWithPluginGone(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn, dir := withFlaky(t, 24, nil, 0)
	if err := os.Remove(filepath.Join(dir, "flaky")); err != nil {
		t.Fatal(err)
	}
	p := newPods(t, "plugingone", 1)[0]
	_, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
	wantAttachError(t, err, nil)
}

// A conflist that parses but that the bridge plugin rejects. It rejects it
// in the rollback DEL too (ErrRollback), but nothing is left behind.
func TestAttachBrokenPluginConfig(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn := newTestNetwork(t, 24, nil)
	tn.List.Plugins[0]["ipam"].(map[string]any)["ranges"] = []any{[]any{map[string]any{"subnet": "not-a-subnet"}}}
	nw, err := podnet.New(podnet.Config{List: tn.List})
	if err != nil {
		t.Fatal(err)
	}
	p := newPods(t, "broken", 1)[0]
	_, err = nw.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
	wantAttachErrorRollback(t, err, nil, true)
}

// A /30 has one address for pods: the second Attach fails with
// ErrAddressesExhausted and leaves nothing; the first pod is untouched.
func TestAttachExhaustedRange(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn := newTestNetwork(t, 30, nil)
	pods := newPods(t, "tiny", 2)
	r, err := tn.Attach(ctx, pods[0].ref, pods[0].path, podnet.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	_, err = tn.Attach(ctx, pods[1].ref, pods[1].path, podnet.AttachOptions{})
	wantAttachError(t, err, podnet.ErrAddressesExhausted)
	if _, err := os.Stat(leaseFile(tn.Name(), r.IPv4())); err != nil {
		t.Fatalf("the first pod lost its lease: %v", err)
	}
	if err := tn.Detach(ctx, pods[0].ref, pods[0].path); err != nil {
		t.Fatal(err)
	}
}

// A second Attach of an attached pod is refused before any plugin runs, so
// its rollback cannot tear down the first attachment.
func TestAttachTwice(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	tn := newTestNetwork(t, 24, nil)
	p := newPods(t, "twice", 1)[0]
	r, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{}); !errors.Is(err, podnet.ErrAttached) {
		t.Fatalf("second Attach: %v; want ErrAttached", err)
	}
	if _, err := os.Stat(leaseFile(tn.Name(), r.IPv4())); err != nil {
		t.Fatalf("lease gone after the refused Attach: %v", err)
	}
	if err := tn.Detach(ctx, p.ref, p.path); err != nil {
		t.Fatal(err)
	}
}

// A failing DEL is retried; when every attempt fails Detach says so
// (ErrDetach, the attempts) and keeps the cached attachment, so that a later
// Detach finishes the job.
func TestDetachRetriesAndReports(t *testing.T) {
	testharness.Privileged(t)
	ctx := ctxT(t)
	counter := filepath.Join(t.TempDir(), "fail-dels")
	tn, _ := withFlaky(t, 24, map[string]any{"failDelFile": counter}, 3)
	p := newPods(t, "delfail", 1)[0]
	r, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{})
	if err != nil {
		t.Fatal(err)
	}
	os.WriteFile(counter, []byte("2"), 0o600) // fails twice, then works
	if err := tn.Detach(ctx, p.ref, p.path); err != nil {
		t.Fatalf("Detach with two failing attempts of three: %v", err)
	}
	if _, err := tn.Attach(ctx, p.ref, p.path, podnet.AttachOptions{}); err != nil {
		t.Fatal(err)
	}
	os.WriteFile(counter, []byte("5"), 0o600)
	err = tn.Detach(ctx, p.ref, p.path)
	var pe *podnet.Error
	if !errors.Is(err, podnet.ErrDetach) || !errors.As(err, &pe) || pe.Attempts != 3 {
		t.Fatalf("Detach with every attempt failing: %v; want ErrDetach after 3 attempts", err)
	}
	t.Log(err)
	if ok, _ := tn.Attached(p.ref); !ok {
		t.Fatal("the cached attachment was dropped although DEL failed")
	}
	os.WriteFile(counter, []byte("0"), 0o600)
	if err := tn.Detach(ctx, p.ref, p.path); err != nil {
		t.Fatalf("Detach once DEL works again: %v", err)
	}
	if _, err := os.Stat(leaseFile(tn.Name(), netip.MustParseAddr(r.IPv4().String()))); err == nil {
		t.Fatal("lease still there")
	}
}
