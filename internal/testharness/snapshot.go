//go:build linux

package testharness

import (
	"bufio"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// Snapshot is the machine and process state the leak checker compares.
type Snapshot struct {
	Mounts     map[string]int    // "mountpoint fstype source root" -> how many are stacked
	CgroupDirs map[string]bool   // absolute paths of podkit* cgroup directories, every hierarchy
	Children   map[string]string // "pid/starttime" -> "comm (state)"
	FDs        map[int]string    // fd -> readlink target
	ThreadNS   map[string]string // namespace identity ("net:[4026531840]") -> a thread that holds it
	Links      map[string]string // host network links: name -> kind ("bridge", "veth", ...)
	CNILeases  map[string]bool   // host-local lease files under CNIStateDir/networks
	CNICache   map[string]bool   // libcni result cache files under CNIStateDir/results, podnet records under PodnetStateDir
	Firewall   map[string]int    // iptables/ip6tables lines and nftables tables naming CNI or podkit
}

// CgroupPrefix is the prefix of the top-level cgroup directories the leak
// checker watches in every hierarchy; podkit's default root is "podkit".
const CgroupPrefix = "podkit"

// threadNSKinds are the per-thread namespace links compared by the checker.
var threadNSKinds = []string{"net", "ipc", "uts", "mnt", "pid_for_children", "cgroup", "time_for_children", "user"}

// TakeSnapshot records the current state.
func TakeSnapshot() (*Snapshot, error) {
	s := &Snapshot{}
	var err error
	if s.Mounts, err = snapshotMounts(); err != nil {
		return nil, fmt.Errorf("mounts: %w", err)
	}
	if s.CgroupDirs, err = snapshotCgroups(); err != nil {
		return nil, fmt.Errorf("cgroups: %w", err)
	}
	if s.Children, err = snapshotChildren(os.Getpid()); err != nil {
		return nil, fmt.Errorf("children: %w", err)
	}
	if s.FDs, err = snapshotFDs(); err != nil {
		return nil, fmt.Errorf("fds: %w", err)
	}
	if s.ThreadNS, err = snapshotThreadNS(); err != nil {
		return nil, fmt.Errorf("thread namespaces: %w", err)
	}
	if s.Links, err = snapshotLinks(); err != nil {
		return nil, fmt.Errorf("network links: %w", err)
	}
	if s.CNILeases, err = snapshotCNILeases(); err != nil {
		return nil, fmt.Errorf("CNI leases: %w", err)
	}
	if s.CNICache, err = snapshotCNICache(); err != nil {
		return nil, fmt.Errorf("CNI cache: %w", err)
	}
	if s.Firewall, err = snapshotFirewall(); err != nil {
		return nil, fmt.Errorf("firewall rules: %w", err)
	}
	return s, nil
}

// mountinfoEntry is the part of a /proc/self/mountinfo line the checker uses.
type mountinfoEntry struct{ root, mountpoint, fstype, source string }

func readMountinfo() ([]mountinfoEntry, error) {
	f, err := os.Open("/proc/self/mountinfo")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var out []mountinfoEntry
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		pre, post, ok := strings.Cut(sc.Text(), " - ")
		fields, tail := strings.Fields(pre), strings.Fields(post)
		if !ok || len(fields) < 5 || len(tail) < 2 {
			continue
		}
		out = append(out, mountinfoEntry{
			root: unescapeMount(fields[3]), mountpoint: unescapeMount(fields[4]),
			fstype: tail[0], source: tail[1],
		})
	}
	return out, sc.Err()
}

// unescapeMount undoes mountinfo's octal escapes (\040 for a space, ...).
func unescapeMount(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+3 < len(s) {
			if v, err := strconv.ParseUint(s[i+1:i+4], 8, 8); err == nil {
				b.WriteByte(byte(v))
				i += 3
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func snapshotMounts() (map[string]int, error) {
	entries, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	m := make(map[string]int, len(entries))
	for _, e := range entries {
		m[fmt.Sprintf("%s type=%s source=%s root=%s", e.mountpoint, e.fstype, e.source, e.root)]++
	}
	return m, nil
}

// cgroupMountpoints lists every mounted cgroup hierarchy (v1 and v2).
func cgroupMountpoints() ([]string, error) {
	entries, err := readMountinfo()
	if err != nil {
		return nil, err
	}
	var out []string
	seen := map[string]bool{}
	for _, e := range entries {
		if (e.fstype == "cgroup" || e.fstype == "cgroup2") && !seen[e.mountpoint] {
			seen[e.mountpoint] = true
			out = append(out, e.mountpoint)
		}
	}
	return out, nil
}

func snapshotCgroups() (map[string]bool, error) {
	mounts, err := cgroupMountpoints()
	if err != nil {
		return nil, err
	}
	dirs := map[string]bool{}
	for _, mp := range mounts {
		tops, _ := filepath.Glob(filepath.Join(mp, CgroupPrefix+"*"))
		for _, top := range tops {
			_ = filepath.WalkDir(top, func(p string, d fs.DirEntry, err error) error {
				if err == nil && d.IsDir() {
					dirs[p] = true
				}
				return nil // a directory removed while walking is not an error
			})
		}
	}
	return dirs, nil
}

// snapshotChildren lists the processes whose parent is pid, zombies included.
func snapshotChildren(pid int) (map[string]string, error) {
	ents, err := os.ReadDir("/proc")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, e := range ents {
		if e.Name()[0] < '0' || e.Name()[0] > '9' {
			continue
		}
		st, err := readProcStat(e.Name())
		if err != nil || st.ppid != pid {
			continue
		}
		out[e.Name()+"/"+st.starttime] = fmt.Sprintf("pid %s %q state %s", e.Name(), st.comm, st.state)
	}
	return out, nil
}

type procStat struct {
	comm, state, starttime string
	ppid                   int
}

func readProcStat(pid string) (procStat, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return procStat{}, err
	}
	s := string(b)
	open, closing := strings.IndexByte(s, '('), strings.LastIndexByte(s, ')')
	if open < 0 || closing < open {
		return procStat{}, fmt.Errorf("malformed /proc/%s/stat", pid)
	}
	rest := strings.Fields(s[closing+1:]) // rest[0] is field 3 (state)
	if len(rest) < 20 {
		return procStat{}, fmt.Errorf("short /proc/%s/stat", pid)
	}
	ppid, err := strconv.Atoi(rest[1])
	if err != nil {
		return procStat{}, err
	}
	return procStat{comm: s[open+1 : closing], state: rest[0], ppid: ppid, starttime: rest[19]}, nil
}

func snapshotFDs() (map[int]string, error) {
	dir := "/proc/self/fd"
	ents, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	self := fmt.Sprintf("/proc/%d/fd", os.Getpid())
	out := map[int]string{}
	for _, e := range ents {
		fd, err := strconv.Atoi(e.Name())
		if err != nil {
			continue
		}
		target, err := os.Readlink(filepath.Join(dir, e.Name()))
		if err != nil || target == self {
			continue // closed meanwhile, or the fd ReadDir itself used
		}
		out[fd] = target
	}
	return out, nil
}

func snapshotThreadNS() (map[string]string, error) {
	tasks, err := os.ReadDir("/proc/self/task")
	if err != nil {
		return nil, err
	}
	out := map[string]string{}
	for _, task := range tasks {
		for _, kind := range threadNSKinds {
			id, err := os.Readlink(filepath.Join("/proc/self/task", task.Name(), "ns", kind))
			if err != nil {
				continue // the thread exited, or the kernel lacks the kind
			}
			if _, ok := out[id]; !ok {
				out[id] = "thread " + task.Name() + " (" + kind + ")"
			}
		}
	}
	return out, nil
}
