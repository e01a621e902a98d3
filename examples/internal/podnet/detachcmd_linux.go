//go:build linux

package podnet

import (
	"context"
	"encoding/json"
	"fmt"
	"os"
	"time"
)

// DetachArg is argv[1] of the command PodNetwork.DetachCommand gives:
// "<program> podkit-cni-detach <Config as JSON> <pod ID>".
const DetachArg = "podkit-cni-detach"

// detachTimeout bounds a detach command: it runs for a guard or a
// Reconcile, not for a caller with a deadline.
const detachTimeout = 2 * time.Minute

func init() {
	if len(os.Args) == 4 && os.Args[1] == DetachArg {
		os.Exit(runDetachCommand(os.Args[2], os.Args[3]))
	}
}

// runDetachCommand detaches pod id from the network cfg describes, with
// libcni's cache (the pod's name and ports are not needed).
func runDetachCommand(cfgJSON, id string) int {
	var cfg Config
	if err := json.Unmarshal([]byte(cfgJSON), &cfg); err != nil {
		fmt.Fprintf(os.Stderr, "%s: config: %v\n", DetachArg, err)
		return 2
	}
	n, err := New(cfg)
	if err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", DetachArg, err)
		return 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), detachTimeout)
	defer cancel()
	if err := n.Detach(ctx, PodRef{ID: id}, ""); err != nil {
		fmt.Fprintf(os.Stderr, "%s: %v\n", DetachArg, err)
		return 1
	}
	return 0
}
