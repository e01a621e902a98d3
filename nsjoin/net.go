//go:build linux

package nsjoin

import (
	"os"
	"strings"

	"github.com/vishvananda/netlink"
	"golang.org/x/sys/unix"
)

// NetlinkHandle returns a netlink (NETLINK_ROUTE) handle whose socket lives
// in the network namespace h. The socket is created inside Do, and a
// netlink socket stays bound to the namespace it was created in, so every
// later call on the handle works there without any thread switching
// namespaces. (netlink.NewHandleAt does the setns itself and unlocks the
// thread even when moving it back failed, the hazard this package avoids.)
// Close the returned handle with Close().
func NetlinkHandle(h *Handle) (*netlink.Handle, error) {
	if h == nil || h.Kind() != Net {
		return nil, &Error{Op: "netlink", Err: ErrWrongKind}
	}
	s := &Set{}
	s.Add(h)
	var nh *netlink.Handle
	err := Do(s, func() error {
		var err error
		nh, err = netlink.NewHandle(unix.NETLINK_ROUTE)
		return err
	})
	if err != nil {
		return nil, &Error{Op: "netlink", Kind: Net, ID: h.String(), Err: err}
	}
	return nh, nil
}

// LoopbackUp brings the "lo" interface of the network namespace h up.
func LoopbackUp(h *Handle) error {
	nh, err := NetlinkHandle(h)
	if err != nil {
		return err
	}
	defer nh.Close()
	lo, err := nh.LinkByName("lo")
	if err != nil {
		return &Error{Op: "loopback up", Kind: Net, ID: h.String(), Err: err}
	}
	if err := nh.LinkSetUp(lo); err != nil {
		return &Error{Op: "loopback up", Kind: Net, ID: h.String(), Err: err}
	}
	return nil
}

const maxSysctlKey = 256

// sysctlPath validates a net.* sysctl key and maps it to /proc/sys. Keys use
// dots ("net.ipv4.ip_forward") or slashes ("net/ipv4/conf/eth0.100/rp_filter",
// needed when an interface name holds a dot). Every component must be
// non-empty, not "." or "..", and made of [A-Za-z0-9_.:@+-].
func sysctlPath(key string) (string, error) {
	bad := &Error{Op: "sysctl", Path: printable(key), Err: ErrInvalidName}
	if len(key) > maxSysctlKey {
		return "", bad
	}
	var parts []string
	if strings.Contains(key, "/") {
		parts = strings.Split(key, "/")
	} else {
		parts = strings.Split(key, ".")
	}
	if len(parts) < 2 || parts[0] != "net" {
		return "", bad
	}
	for _, p := range parts {
		if p == "" || p == "." || p == ".." {
			return "", bad
		}
		for _, c := range []byte(p) {
			ok := c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' ||
				strings.IndexByte("_.:@+-", c) >= 0
			if !ok {
				return "", bad
			}
		}
	}
	return "/proc/sys/" + strings.Join(parts, "/"), nil
}

// SetSysctl writes a net.* sysctl inside the network namespace h. The
// /proc/sys/net files resolve to the network namespace of the thread that
// opens them, so the write happens inside Do.
func SetSysctl(h *Handle, key, value string) error {
	path, err := sysctlPath(key)
	if err != nil {
		return err
	}
	if h == nil || h.Kind() != Net {
		return &Error{Op: "sysctl", Path: path, Err: ErrWrongKind}
	}
	s := &Set{}
	s.Add(h)
	err = Do(s, func() error {
		f, err := os.OpenFile(path, os.O_WRONLY|os.O_TRUNC, 0)
		if err != nil {
			return err
		}
		_, werr := f.WriteString(value)
		cerr := f.Close()
		if werr != nil {
			return werr
		}
		return cerr
	})
	if err != nil {
		return &Error{Op: "sysctl", Kind: Net, ID: h.String(), Path: path, Err: err}
	}
	return nil
}

// Sysctl reads a net.* sysctl inside the network namespace h (trailing
// newline removed).
func Sysctl(h *Handle, key string) (string, error) {
	path, err := sysctlPath(key)
	if err != nil {
		return "", err
	}
	if h == nil || h.Kind() != Net {
		return "", &Error{Op: "sysctl", Path: path, Err: ErrWrongKind}
	}
	s := &Set{}
	s.Add(h)
	var out string
	err = Do(s, func() error {
		b, err := os.ReadFile(path)
		out = strings.TrimSuffix(string(b), "\n")
		return err
	})
	if err != nil {
		return "", &Error{Op: "sysctl", Kind: Net, ID: h.String(), Path: path, Err: err}
	}
	return out, nil
}
