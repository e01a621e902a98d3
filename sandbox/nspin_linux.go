//go:build linux

package sandbox

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"

	"github.com/podkit/podkit/nsjoin"
	"golang.org/x/sys/unix"
)

// The shared namespaces are pinned with podkit's nsjoin package in a pin
// directory of the sandbox's own, <sandbox dir>/ns (a small tmpfs, so a pin
// costs ~0.1 ms instead of ~2 ms of file churn on the run directory's disk):
// <sandbox dir>/ns/pod/<kind>. libcontainer joins them by path.
const pinName = "pod"

// nsKinds maps the namespace names used in pins and state to nsjoin kinds.
var nsKinds = map[string]nsjoin.Kind{
	"net": nsjoin.Net, "ipc": nsjoin.IPC, "uts": nsjoin.UTS, "pid": nsjoin.PID,
}

func pinDirPath(sbDir string) string { return filepath.Join(sbDir, "ns") }

// pinSet pins every namespace of set and returns the pins by kind name.
func pinSet(sbDir string, set *nsjoin.Set) (map[string]string, error) {
	pd, err := nsjoin.OpenPinDir(pinDirPath(sbDir))
	if err != nil {
		return nil, err
	}
	if err := pd.PinSet(pinName, set); err != nil {
		return nil, err
	}
	return pinPaths(pd, set.Kinds()), nil
}

// pinOne pins h with the sandbox's other pins and returns its path.
func pinOne(sbDir string, h *nsjoin.Handle) (string, error) {
	pd, err := nsjoin.OpenPinDir(pinDirPath(sbDir))
	if err != nil {
		return "", err
	}
	return pd.Pin(pinName, h)
}

func pinPaths(pd *nsjoin.PinDir, kinds []nsjoin.Kind) map[string]string {
	pins := map[string]string{}
	for _, k := range kinds {
		pins[k.String()] = pd.PinPath(pinName, k)
	}
	return pins
}

// unpinAll removes every pin of the sandbox and its pin directory's tmpfs.
// Idempotent: a directory that is gone or was never a pin directory is
// fine.
func unpinAll(sbDir string) error {
	dir := pinDirPath(sbDir)
	if _, err := os.Stat(dir); errors.Is(err, os.ErrNotExist) {
		return nil
	}
	pd, err := nsjoin.OpenPinDir(dir)
	if err != nil {
		return err
	}
	if err := pd.Unpin(pinName); err != nil {
		return err
	}
	return pd.Teardown()
}

// setupInside runs on a throwaway thread inside the sandbox's net (if
// ownNet; else the host's stays untouched), ipc (if set has one: not with
// HostIPC) and uts namespaces (nsjoin.Do): loopback up, hostname, sysctls.
func setupInside(set *nsjoin.Set, hostname string, sysctls map[string]string, ownNet bool) error {
	handles := []*nsjoin.Handle{set.Get(nsjoin.UTS)}
	if h := set.Get(nsjoin.IPC); h != nil {
		handles = append(handles, h)
	}
	if ownNet {
		handles = append(handles, set.Get(nsjoin.Net))
	}
	joined, err := nsjoin.NewSet(handles...)
	if err != nil {
		return err
	}
	return nsjoin.Do(joined, func() error {
		if ownNet {
			if err := loopbackUp(); err != nil {
				return err
			}
		}
		if err := unix.Sethostname([]byte(hostname)); err != nil {
			return os.NewSyscallError("sethostname", err)
		}
		return writeSysctls(sysctls)
	})
}

// loopbackUp sets IFF_UP on "lo" in the calling thread's network namespace
// (one ioctl; nsjoin.LoopbackUp does the same through netlink at the cost
// of a netlink socket and a second thread round trip).
func loopbackUp() error {
	fd, err := unix.Socket(unix.AF_INET, unix.SOCK_DGRAM|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return os.NewSyscallError("socket", err)
	}
	defer unix.Close(fd)
	ifr, err := unix.NewIfreq("lo")
	if err != nil {
		return err
	}
	if err := unix.IoctlIfreq(fd, unix.SIOCGIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCGIFFLAGS lo", err)
	}
	ifr.SetUint16(ifr.Uint16() | unix.IFF_UP)
	if err := unix.IoctlIfreq(fd, unix.SIOCSIFFLAGS, ifr); err != nil {
		return os.NewSyscallError("SIOCSIFFLAGS lo", err)
	}
	return nil
}

// writeSysctls writes namespaced sysctls through /proc/sys, which resolves
// net.* and IPC kernel.* entries against the calling thread's namespaces.
func writeSysctls(sysctls map[string]string) error {
	for k, v := range sysctls {
		p := "/proc/sys/" + strings.ReplaceAll(k, ".", "/")
		if err := os.WriteFile(p, []byte(v), 0); err != nil {
			return fmt.Errorf("sysctl %s=%s: %w", k, v, err)
		}
	}
	return nil
}

// nsIdentities returns the namespace identity (inode) of every handle.
func nsIdentities(set *nsjoin.Set) map[string]uint64 {
	ids := map[string]uint64{}
	for _, k := range set.Kinds() {
		ids[k.String()] = set.Get(k).ID().Ino
	}
	return ids
}

// pinIdentity returns the namespace identity (inode) pinned at path, 0 if
// it cannot be opened as a namespace of kind.
func pinIdentity(kind, path string) uint64 {
	h, err := nsjoin.Open(path, nsKinds[kind])
	if err != nil {
		return 0
	}
	defer h.Close()
	return h.ID().Ino
}
