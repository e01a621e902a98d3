//go:build linux

package podnet

import (
	"context"
	"errors"
	"fmt"
	"os"
	"time"

	"github.com/containernetworking/cni/libcni"
	"golang.org/x/sys/unix"
)

// Detach disconnects the pod from the network (CNI DEL). netnsPath may be
// "" or a path that no longer exists when the namespace is already gone.
// It uses the conflist and arguments libcni cached at Attach, so it works
// from a new process after a crash; without a cache entry it runs DEL with
// the current conflist. A failing DEL is retried (Config.DelAttempts); the
// error, an *Error, wraps ErrDetach and the last failure.
func (n *Network) Detach(ctx context.Context, pod PodRef, netnsPath string) error {
	if err := pod.validate(); err != nil {
		return err
	}
	if netnsPath != "" && netnsPath[0] != '/' {
		return invalid("netnsPath", netnsPath, "must be an absolute path or empty")
	}
	list, rt, err := n.cachedAttachment(pod, netnsPath)
	fail := func(attempts int, err error) error {
		return &Error{Op: "detach", Network: n.list.Name, ID: pod.ID, NetNS: netnsPath, Attempts: attempts, Err: err}
	}
	if err != nil {
		return fail(0, fmt.Errorf("%w: %w", ErrDetach, err))
	}
	nsGone := netnsPath == ""
	if !nsGone {
		if _, err := os.Stat(netnsPath); errors.Is(err, os.ErrNotExist) {
			nsGone, rt.NetNS = true, ""
		}
	}
	err = n.del(ctx, list, rt, pod.ID, netnsPath, nsGone)
	if err == nil {
		// The last pod takes with it what the network's first one made.
		if err := n.releaseHost(ctx); err != nil {
			return fail(1, fmt.Errorf("%w: %w", ErrDetach, err))
		}
	}
	return err
}

// del runs the DEL, retried (Config.DelAttempts), under the network's
// shared lock.
func (n *Network) del(ctx context.Context, list *libcni.NetworkConfigList, rt *libcni.RuntimeConf, id, netnsPath string, nsGone bool) error {
	fail := func(attempts int, err error) error {
		return &Error{Op: "detach", Network: n.list.Name, ID: id, NetNS: netnsPath, Attempts: attempts, Err: err}
	}
	unlock, err := hostLock(unix.LOCK_SH)
	if err != nil {
		return fail(0, fmt.Errorf("%w: %w", ErrDetach, err))
	}
	defer unlock()
	var errs []error
	backoff := n.cfg.DelBackoff
	for attempt := 1; attempt <= n.cfg.DelAttempts; attempt++ {
		err := n.cni.DelNetworkList(ctx, list, rt)
		if err == nil && nsGone {
			err = sweepMasquerade(ctx, list, id)
		}
		if err == nil {
			return nil
		}
		errs = append(errs, fmt.Errorf("attempt %d: %w", attempt, err))
		if attempt == n.cfg.DelAttempts {
			break
		}
		select {
		case <-ctx.Done():
			errs = append(errs, ctx.Err())
			return fail(attempt, errors.Join(append([]error{ErrDetach}, errs...)...))
		case <-time.After(backoff):
		}
		backoff *= 2
	}
	return fail(len(errs), errors.Join(append([]error{ErrDetach}, errs...)...))
}

// cachedAttachment is the conflist and runtime arguments of the pod's
// cached ADD, or the current conflist and the pod's arguments without
// port mappings when nothing is cached.
func (n *Network) cachedAttachment(pod PodRef, netnsPath string) (*libcni.NetworkConfigList, *libcni.RuntimeConf, error) {
	rt := n.runtimeConf(pod, netnsPath, nil)
	raw, cachedRT, err := n.cni.GetNetworkListCachedConfig(n.list, rt)
	if err != nil {
		return nil, nil, fmt.Errorf("read cached attachment: %w", err)
	}
	if raw == nil || cachedRT == nil {
		return n.list, rt, nil
	}
	list, err := libcni.NetworkConfFromBytes(raw)
	if err != nil || list.Name != n.list.Name {
		// A cache entry we cannot use must not block the DEL.
		return n.list, rt, nil
	}
	cachedRT.NetNS = netnsPath
	return list, cachedRT, nil
}

// Attached reports whether libcni holds a cached attachment of pod.
func (n *Network) Attached(pod PodRef) (bool, error) {
	if err := pod.validate(); err != nil {
		return false, err
	}
	res, err := n.cni.GetNetworkListCachedResult(n.list, n.runtimeConf(pod, "", nil))
	return res != nil, err
}
