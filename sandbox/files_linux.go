//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"

	"golang.org/x/sys/unix"
)

func itoa(i int) string { return strconv.Itoa(i) }

// writeFileAtomic writes data to a temp file in the same directory and
// renames it over name, so readers see the old or the new content, never a
// torn one. There is no fsync: the state must survive a crash of the
// managing process (the page cache does), not of the machine (the run dir
// is normally a tmpfs, and after a reboot nothing it describes exists).
func writeFileAtomic(name string, data []byte, perm os.FileMode) error {
	tmp := filepath.Join(filepath.Dir(name), "."+filepath.Base(name)+".tmp"+tmpSuffix())
	// Raw system calls: an os.File costs a netpoller registration attempt
	// and a finalizer, which made this ~60 µs per file, and the sandbox
	// writes five files per create and one per container change.
	fd, err := unix.Open(tmp, unix.O_WRONLY|unix.O_CREAT|unix.O_EXCL|unix.O_CLOEXEC, uint32(perm))
	if err != nil {
		return &os.PathError{Op: "open", Path: tmp, Err: err}
	}
	err = writeAll(fd, data)
	if err == nil {
		err = os.NewSyscallError("fchmod", unix.Fchmod(fd, uint32(perm))) // whatever the umask
	}
	if cerr := unix.Close(fd); err == nil && cerr != nil {
		err = os.NewSyscallError("close", cerr)
	}
	if err == nil {
		err = os.Rename(tmp, name)
	}
	if err != nil {
		unix.Unlink(tmp)
	}
	return err
}

// tmpSeq numbers writeFileAtomic's temporary files within this process.
var tmpSeq atomic.Uint64

// tmpSuffix is unique among the processes and goroutines that may write
// the same file at once: ".<pid>.<n>".
func tmpSuffix() string {
	return "." + strconv.Itoa(os.Getpid()) + "." + strconv.FormatUint(tmpSeq.Add(1), 10)
}

// writeAll writes data to fd, retrying short writes and EINTR.
func writeAll(fd int, data []byte) error {
	for len(data) > 0 {
		n, err := unix.Write(fd, data)
		if err == unix.EINTR {
			continue
		}
		if err != nil {
			return os.NewSyscallError("write", err)
		}
		data = data[n:]
	}
	return nil
}

// writeEtc generates the pod's /etc/hosts, /etc/hostname and
// /etc/resolv.conf, kubelet style.
func (s *Sandbox) writeEtc() error {
	c := s.cfg
	var hosts strings.Builder
	hosts.WriteString("# Kubernetes-managed hosts file (podkit).\n")
	hosts.WriteString("127.0.0.1\tlocalhost\n::1\tlocalhost ip6-localhost ip6-loopback\n")
	hosts.WriteString("fe00::0\tip6-localnet\nfe00::0\tip6-mcastprefix\nfe00::1\tip6-allnodes\nfe00::2\tip6-allrouters\n")
	if len(s.ips) == 0 {
		hosts.WriteString("127.0.1.1\t" + c.Hostname + "\n")
	}
	for _, ip := range s.ips { // as kubelet writes the pod's IPs
		hosts.WriteString(ip.Addr().String() + "\t" + c.Hostname + "\n")
	}
	for _, a := range c.HostAliases {
		hosts.WriteString(a.IP + "\t" + strings.Join(a.Hostnames, " ") + "\n")
	}
	var rc strings.Builder
	for _, ns := range c.DNS.Servers {
		rc.WriteString("nameserver " + ns + "\n")
	}
	if len(c.DNS.Searches) > 0 {
		rc.WriteString("search " + strings.Join(c.DNS.Searches, " ") + "\n")
	}
	if len(c.DNS.Options) > 0 {
		rc.WriteString("options " + strings.Join(c.DNS.Options, " ") + "\n")
	}
	etc := filepath.Join(s.dir, "etc")
	for name, data := range map[string]string{"hosts": hosts.String(), "hostname": c.Hostname + "\n", "resolv.conf": rc.String()} {
		if err := writeFileAtomic(filepath.Join(etc, name), []byte(data), 0o644); err != nil {
			return err
		}
	}
	return nil
}

// makeVolumes creates the pod volumes: directories, with a tmpfs mounted
// on the Memory ones.
func (s *Sandbox) makeVolumes() error {
	if err := s.makeShm(); err != nil {
		return err
	}
	for _, v := range s.cfg.Volumes {
		p := filepath.Join(s.dir, "volumes", v.Name)
		if err := os.Mkdir(p, 0o777); err != nil {
			return err
		}
		if err := os.Chmod(p, 0o777); err != nil {
			return err
		}
		if v.Medium == MediumMemory {
			data := "mode=1777"
			if v.SizeLimit > 0 {
				data += ",size=" + strconv.FormatInt(v.SizeLimit, 10)
			}
			if err := unix.Mount("tmpfs", p, "tmpfs", unix.MS_NOSUID|unix.MS_NODEV, data); err != nil {
				return &os.PathError{Op: "mount tmpfs", Path: p, Err: err}
			}
		}
		if err := v.applyFSGroup(p); err != nil { // fsgroup_linux.go
			return err
		}
	}
	return nil
}

// unmountVolumes detaches every mount under dir/volumes (idempotent).
func unmountVolumes(dir string) error {
	errs := []error{unmountPodMounts(dir)} // the pod's shm and staging mounts (podmounts_linux.go)
	ents, err := os.ReadDir(filepath.Join(dir, "volumes"))
	if errors.Is(err, os.ErrNotExist) {
		return errors.Join(errs...)
	}
	if err != nil {
		return errors.Join(append(errs, err)...)
	}
	for _, e := range ents {
		p := filepath.Join(dir, "volumes", e.Name())
		for {
			err := unix.Unmount(p, unix.MNT_DETACH)
			if err == nil {
				continue // stacked mounts
			}
			if !errors.Is(err, unix.EINVAL) && !errors.Is(err, unix.ENOENT) {
				errs = append(errs, &os.PathError{Op: "umount", Path: p, Err: err})
			}
			break
		}
	}
	return errors.Join(errs...)
}

// persisted is the on-disk state of a sandbox (state.json).
type persisted struct {
	Config     Config            `json:"config"`
	State      State             `json:"state"`
	Pause      *procRef          `json:"pause,omitempty"`
	Pins       map[string]string `json:"pins,omitempty"`
	Containers []savedContainer  `json:"containers,omitempty"`
	Created    int64             `json:"created_unix_nano"`
	// Manager names the manager whose guard destroys a DieWithManager
	// sandbox when that manager dies (managerToken).
	Manager string `json:"manager,omitempty"`
	Guard   string `json:"guard,omitempty"`
	// Network: Config.Network's Attach ran and no Detach succeeded since.
	Network   bool           `json:"network,omitempty"`
	IPs       []netip.Prefix `json:"ips,omitempty"`
	NetDetach []string       `json:"net_detach,omitempty"` // DetachCommander's command
}

type savedContainer struct {
	Spec ContainerSpec `json:"spec"`
	// Run is the state of the container's current run (see savedRun).
	Run *savedRun `json:"run,omitempty"`
}

func (s *Sandbox) statePath() string { return filepath.Join(s.dir, "state.json") }

// save writes state.json atomically (write + fsync + rename); the caller
// holds s.mu. Once teardown removes the run directory it does nothing.
func (s *Sandbox) save() error {
	if s.dirRemoved {
		return nil
	}
	p := persisted{Config: s.cfg, State: s.state, Pause: s.pause, Pins: s.pins, Created: s.created.UnixNano(),
		Manager: s.manager, Guard: s.guard, Network: s.netAttached, IPs: s.ips, NetDetach: s.netDetach}
	for _, n := range s.order {
		c := s.containers[n]
		c.mu.Lock()
		p.Containers = append(p.Containers, savedContainer{Spec: c.spec, Run: c.savedRun()})
		c.mu.Unlock()
	}
	b, err := json.Marshal(p) // compact: a quarter of MarshalIndent's time, paid at every change
	if err != nil {
		return err
	}
	return writeFileAtomic(s.statePath(), b, 0o600)
}

var warmOnce sync.Once

// warmStateEncoder builds, once and on a goroutine, the encoders that
// encoding/json makes by reflection at the first save of a process (a
// third of a millisecond on the create of a fresh manager): marshalling a
// zero value builds them for every type the state file can hold.
func warmStateEncoder() {
	warmOnce.Do(func() {
		go func() { _, _ = json.Marshal(persisted{Containers: []savedContainer{{Run: &savedRun{}}}}) }()
	})
}

func readState(dir string) (*persisted, error) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return nil, err
	}
	var p persisted
	if err := json.Unmarshal(b, &p); err != nil {
		return nil, fmt.Errorf("state.json: %w", err)
	}
	return &p, nil
}

// etcFiles are the pod files every container bind-mounts into /etc.
var etcFiles = []string{"hosts", "hostname", "resolv.conf"}

// ensureEtcMountpoints creates the empty files /etc/{hosts,hostname,
// resolv.conf} in rootfs where they are missing, confined to rootfs
// (openat2 RESOLVE_IN_ROOT). libcontainer would create them itself, but
// with O_EXCL: two containers of a shared rootfs created at the same
// moment then fail with EEXIST. Failures (a read-only rootfs, say) are
// left for libcontainer to report.
func ensureEtcMountpoints(rootfs string) {
	root, err := unix.Open(rootfs, unix.O_PATH|unix.O_DIRECTORY|unix.O_CLOEXEC, 0)
	if err != nil {
		return
	}
	defer unix.Close(root)
	for _, f := range etcFiles {
		how := &unix.OpenHow{Flags: unix.O_CREAT | unix.O_WRONLY | unix.O_CLOEXEC | unix.O_NOFOLLOW, Mode: 0o644,
			Resolve: unix.RESOLVE_IN_ROOT | unix.RESOLVE_NO_MAGICLINKS}
		if fd, err := unix.Openat2(root, "etc/"+f, how); err == nil {
			unix.Close(fd)
		}
	}
}
