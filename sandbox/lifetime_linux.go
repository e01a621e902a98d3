//go:build linux

package sandbox

import (
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
)

// Lifetime says what becomes of a sandbox when its managing process dies
// without destroying it (kill -9, a crash).
type Lifetime string

const (
	// Unguarded (the zero value) keeps the pod running and starts no
	// process besides the pod's: a container that exits while no manager
	// runs is reported by the next Load with ReasonUnknown.
	Unguarded Lifetime = ""
	// OutliveManager keeps the pod running for a later Load or Reconcile
	// (a daemon's mode); the manager's guard process records the real
	// exit status and time of a container that exits while no manager
	// runs, and Load reports them.
	OutliveManager Lifetime = "OutliveManager"
	// DieWithManager has the manager's guard process tear the pod down
	// completely (processes, cgroups, mounts, files) as soon as the
	// manager is gone (a command's mode: podrun).
	DieWithManager Lifetime = "DieWithManager"
)

func (l Lifetime) valid() bool { return l == Unguarded || l == OutliveManager || l == DieWithManager }

// GuardArg is the argv[1] with which a manager re-executes its own binary
// (/proc/self/exe) as its guard process; GuardEnv is set in the guard's
// environment as a second marker, so that a program whose own argv[1]
// happens to be GuardArg is never hijacked.
const (
	GuardArg = "podkit-sandbox-guard"
	GuardEnv = "_PODKIT_SANDBOX_GUARD"
)

// guardFD is the guard's end of the manager's pipe (its first ExtraFile).
const guardFD = 3

// guardMsg is one line on the manager's pipe to its guard. Each is
// written by one write(2) of less than PIPE_BUF bytes, so a manager
// killed mid-write never leaves a torn line.
type guardMsg struct {
	Op  string `json:"op"` // "add", "del", "watch", "bye"
	Dir string `json:"dir,omitempty"`
	Die bool   `json:"die,omitempty"` // add: DieWithManager
	// watch: a container init of an OutliveManager sandbox.
	Name  string `json:"name,omitempty"`
	Pid   int    `json:"pid,omitempty"`
	Start uint64 `json:"start,omitempty"`
}

// guardClient is the manager's side: one guard per manager process, for
// every DieWithManager sandbox it owns, in any run directory.
type guardClient struct {
	w     *os.File
	cmd   *exec.Cmd
	token string          // the guard's pid and start time
	dirs  map[string]bool // sandbox dir -> DieWithManager
	// standIn: the pause binary waits in the guard's stead (guardAdd).
	standIn bool
	dead    bool // a send failed: closed, its directories not yet moved
}

var (
	guardMu    sync.Mutex
	guard      *guardClient // nil while the manager owns no guarded sandbox (or PreloadGuard's)
	tokenOnce  sync.Once
	tokenValue string
)

// managerToken names this manager process (pid and start time) in the
// state file of each DieWithManager sandbox it owns: its guard tears down
// only sandboxes that still carry it (not one another manager took over
// with Load, nor another manager's sandbox that made our Create fail with
// ErrExist).
func managerToken() string {
	tokenOnce.Do(func() {
		st, _ := procStartTime(os.Getpid())
		tokenValue = strconv.Itoa(os.Getpid()) + ":" + strconv.FormatUint(st, 10)
	})
	return tokenValue
}

// guardWatch tells the guard about a container init of an OutliveManager
// sandbox, whose exit it records if this manager is gone by then.
func guardWatch(dir, name string, pid int) {
	start, err := procStartTime(pid)
	if err != nil {
		return
	}
	guardMu.Lock()
	defer guardMu.Unlock()
	if guard == nil {
		return
	}
	if die, ok := guard.dirs[dir]; ok && !die {
		_ = guard.send(guardMsg{Op: "watch", Dir: dir, Name: name, Pid: pid, Start: start})
	}
}

// guardRemove unregisters a destroyed (or never created) sandbox; the
// guard of a manager that owns no DieWithManager sandbox any more is told
// to exit, so no process lingers.
func guardRemove(dir string) {
	guardMu.Lock()
	defer guardMu.Unlock()
	if guard == nil {
		return
	}
	if _, ok := guard.dirs[dir]; !ok {
		return
	}
	delete(guard.dirs, dir)
	_ = guard.send(guardMsg{Op: "del", Dir: dir})
	if len(guard.dirs) == 0 {
		guard.close(true)
		guard = nil
	}
}

// isGuard reports whether the current process is a manager's guard.
func isGuard() bool {
	return len(os.Args) > 2 && os.Args[1] == GuardArg && os.Getenv(GuardEnv) != ""
}

// guardCreate registers a DieWithManager sandbox with this manager's
// guard before Create makes anything.
func (s *Sandbox) guardCreate() error {
	s.manager = managerToken()
	if s.cfg.Lifetime == Unguarded {
		return nil
	}
	tok, err := guardAdd(s.dir, s.cfg.Lifetime == DieWithManager, s.cfg.PauseBinary)
	if err != nil {
		return newErr("create: guard", s.cfg.ID, "", s.dir, err)
	}
	s.guard = tok
	return nil
}

// adopt makes a re-attached sandbox this manager's (Info.ManagerPid); a
// DieWithManager one is registered with its guard, which will destroy it
// if this manager dies in turn.
func (s *Sandbox) adopt() error {
	if s.manager == managerToken() {
		return nil
	}
	if s.cfg.Lifetime != Unguarded {
		tok, err := guardAdd(s.dir, s.cfg.Lifetime == DieWithManager, s.cfg.PauseBinary)
		if err != nil {
			return err
		}
		s.guard = tok
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.manager = managerToken()
	return s.save()
}

// managerPid returns the PID of the live manager a token names, or 0 when
// that process is gone (or the token is empty: an older state file).
func managerPid(token string) int {
	pid, start, ok := parseToken(token)
	if !ok || !procMatches(pid, start) {
		return 0
	}
	return pid
}

// parseToken splits a "pid:start time" token.
func parseToken(token string) (int, uint64, bool) {
	p, st, ok := strings.Cut(token, ":")
	pid, err1 := strconv.Atoi(p)
	start, err2 := strconv.ParseUint(st, 10, 64)
	return pid, start, ok && err1 == nil && err2 == nil && pid > 0
}
