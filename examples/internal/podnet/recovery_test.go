//go:build linux

package podnet_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/nsjoin"
)

func init() {
	// attach-and-die CONFLIST NETNS ID: a manager that attaches a pod,
	// prints its IPv4 address and dies without detaching it.
	testharness.RegisterHelper("attach-and-die", func() int {
		raw, err := os.ReadFile(os.Args[1])
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		nw, err := podnet.New(podnet.Config{Bytes: raw})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		pod := podnet.PodRef{ID: os.Args[3], Name: os.Args[3], Namespace: "podnet-test"}
		res, err := nw.Attach(context.Background(), pod, os.Args[2], podnet.AttachOptions{
			PortMappings: []podnet.PortMapping{{HostPort: 20999, ContainerPort: 80}},
		})
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		fmt.Println(res.IPv4())
		os.Exit(0) // no Detach, no cleanup of any kind
		return 0
	})
}

// A manager process attaches a pod and dies; a new process (this one) with
// a new Network value detaches it from libcni's cache alone: the lease, the
// cache entry, the veth and portmap's rules are gone. Once with the pod's
// namespace still there, once after it was destroyed too.
func TestDetachAfterManagerCrash(t *testing.T) {
	for _, nsGone := range []bool{false, true} {
		t.Run(fmt.Sprintf("netnsGone=%v", nsGone), func(t *testing.T) {
			testharness.Privileged(t)
			ctx := ctxT(t)
			nw := newTestNetwork(t, 24, nil)
			p := newPods(t, "crash", 1)[0]
			raw, err := json.Marshal(nw.List)
			if err != nil {
				t.Fatal(err)
			}
			conf := filepath.Join(t.TempDir(), "net.conflist")
			if err := os.WriteFile(conf, raw, 0o600); err != nil {
				t.Fatal(err)
			}
			out, err := testharness.HelperCmd("attach-and-die", conf, p.path, p.ref.ID).Output()
			if err != nil {
				t.Fatalf("manager: %v", err)
			}
			ip := netip.MustParseAddr(strings.TrimSpace(string(out)))
			if _, err := os.Stat(leaseFile(nw.Name(), ip)); err != nil {
				t.Fatalf("lease of %s: %v", ip, err)
			}
			path := p.path
			if nsGone {
				dir, err := nsjoin.OpenPinDir(filepath.Dir(filepath.Dir(p.path)))
				if err != nil {
					t.Fatal(err)
				}
				p.ns.Close()
				if err := dir.Unpin(p.ref.ID); err != nil {
					t.Fatal(err)
				}
				path = ""
			}
			// A new Network value, as a restarted manager makes it; the
			// pod's ports are known only to the cache.
			again, err := podnet.New(podnet.Config{Bytes: raw})
			if err != nil {
				t.Fatal(err)
			}
			if ok, err := again.Attached(p.ref); !ok || err != nil {
				t.Fatalf("Attached after the crash = %v, %v; want the cached attachment", ok, err)
			}
			if err := again.Detach(ctx, p.ref, path); err != nil {
				t.Fatal(err)
			}
			if _, err := os.Stat(leaseFile(nw.Name(), ip)); !errors.Is(err, os.ErrNotExist) {
				t.Fatalf("lease of %s after Detach: %v", ip, err)
			}
			// A second Detach is a no-op.
			if err := again.Detach(ctx, p.ref, path); err != nil {
				t.Fatalf("second Detach: %v", err)
			}
		})
	}
}
