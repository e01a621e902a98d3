//go:build linux

package sandbox

import (
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"net/netip"
	"os"
	"path/filepath"
	"sort"
	"strconv"
	"strings"
	"time"
)

// Info is a sandbox as List reads it from its run directory: what the
// managing process last saved, checked read-only against the processes
// it names (see List).
type Info struct {
	ID          string
	Dir         string // the sandbox's run directory
	State       State
	CreatedAt   time.Time
	Labels      map[string]string
	Annotations map[string]string
	PausePid    int // 0 without a pause, or when it is gone
	// ManagerPid is the live process managing the sandbox (its creator,
	// or the last to Load it); 0 when it is gone: the sandbox is a
	// leftover that Load adopts and Remove destroys.
	ManagerPid int
	// IPs are the pod's addresses from its Config.Network.
	IPs []netip.Prefix
	// Config is the configuration the sandbox was created with.
	Config Config
	// Containers in creation order, init containers included (Init set).
	Containers []ContainerStatus
}

// savedRun is the state of a container's current run in state.json: what
// List reports and Load restores for a container whose init is gone.
type savedRun struct {
	Phase   ContainerPhase `json:"phase"`
	Pid     int            `json:"pid,omitempty"`
	Created time.Time      `json:"created,omitzero"`
	Started time.Time      `json:"started,omitzero"`
	Exit    *ExitStatus    `json:"exit,omitempty"`
	// Path is the start path of the run; StartTime (fast path) names its
	// init with Pid for Load (libcontainer keeps its own record).
	Path      StartPath `json:"path,omitempty"`
	StartTime uint64    `json:"start_time,omitempty"`
}

// savedRun snapshots the current run (c.mu held).
func (c *container) savedRun() *savedRun {
	r := &savedRun{Phase: c.phase, Pid: c.pid, Created: c.created, Started: c.started}
	if c.exit != nil {
		e := *c.exit
		r.Exit = &e
	}
	c.savedPath(r)
	return r
}

// restoreRun takes over what was saved of the current run, before Load
// looks for a live init: a container whose init is gone keeps its saved
// times and, when its exit was recorded, its real exit status.
func (c *container) restoreRun(r *savedRun) {
	if r == nil {
		return
	}
	c.created = r.Created
	if r.Phase != ContainerWaiting {
		c.started = r.Started
	}
	if r.Phase == ContainerTerminated && r.Exit != nil {
		e := *r.Exit
		c.exit = &e
	}
}

// runStarted is the start time of a re-attached run: the saved one, which
// is exact, unless it predates the run's creation (a start that was never
// saved, the record being an earlier run's); then the creation time.
func runStarted(saved, created time.Time) time.Time {
	if saved.Before(created) {
		return created
	}
	return saved
}

// List reads every sandbox in runDir without side effects: nothing is
// re-attached, signalled, reaped or written, so it is safe next to a
// managing process (or after it crashed). Each sandbox is reported as its
// state file says, except that processes are checked read-only by PID
// plus start time: a Ready sandbox whose pause is gone is reported
// Unknown, and a container recorded as running or created whose init is
// gone is reported Terminated with ReasonUnknown (exit code -1), as Load
// would find them. Directories without a state file (a Create in its
// first microseconds, or a Destroy's leftovers) are skipped; a state file
// that cannot be parsed is reported in the joined error while the other
// sandboxes are still returned. Sandboxes are sorted by ID.
func List(runDir string) ([]Info, error) {
	ents, err := os.ReadDir(runDir)
	if errors.Is(err, os.ErrNotExist) {
		return nil, nil
	}
	if err != nil {
		return nil, newErr("list", "", "", runDir, err)
	}
	var out []Info
	var errs []error
	for _, e := range ents {
		if !e.IsDir() || ValidateID(e.Name()) != nil {
			continue
		}
		dir := filepath.Join(runDir, e.Name())
		p, err := readState(dir)
		if errors.Is(err, os.ErrNotExist) {
			continue // being created or removed right now
		}
		if err != nil {
			errs = append(errs, newErr("list", e.Name(), "", dir, err))
			continue
		}
		out = append(out, infoOf(dir, p))
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, errors.Join(errs...)
}

// infoOf builds the Info of one state file.
func infoOf(dir string, p *persisted) Info {
	in := Info{ID: p.Config.ID, Dir: dir, State: p.State, CreatedAt: time.Unix(0, p.Created), Config: p.Config,
		Labels: maps.Clone(p.Config.Labels), Annotations: maps.Clone(p.Config.Annotations),
		ManagerPid: managerPid(p.Manager), IPs: p.IPs}
	if p.Pause != nil && procMatches(p.Pause.Pid, p.Pause.StartTime) {
		in.PausePid = p.Pause.Pid
	} else if p.Pause != nil && p.State == StateReady {
		in.State = StateUnknown
	}
	for _, sc := range p.Containers {
		in.Containers = append(in.Containers, containerInfo(dir, sc))
	}
	return in
}

// containerInfo reports one saved container, checking a running or
// created one against libcontainer's record of its init.
func containerInfo(dir string, sc savedContainer) ContainerStatus {
	cs := ContainerStatus{Name: sc.Spec.Name, Attempt: sc.Spec.Attempt,
		Labels: maps.Clone(sc.Spec.Labels), Annotations: maps.Clone(sc.Spec.Annotations), Resources: sc.Spec.Resources}
	r := sc.Run
	if r == nil { // saved by a version without run records, or mid-create
		r = &savedRun{Phase: ContainerWaiting}
	}
	cs.State, cs.Pid, cs.CreatedAt, cs.StartedAt = r.Phase, r.Pid, r.Created, r.Started
	if r.Exit != nil {
		e := *r.Exit
		cs.Exit = &e
	}
	if pid, created, alive := libctInit(filepath.Join(dir, "libct", sc.Spec.Name)); alive && pid != r.Pid {
		// A run the state file does not know yet (its save was cut short).
		cs.State, cs.Pid, cs.CreatedAt, cs.StartedAt, cs.Exit = ContainerRunning, pid, created, created, nil
	} else if r.Phase != ContainerTerminated && !alive && !fastAlive(r) && !(r.Path == StartFast && r.Phase == ContainerWaiting) {
		cs.State, cs.Exit = ContainerTerminated, &ExitStatus{ExitCode: -1, Reason: ReasonUnknown}
	}
	switch cs.State {
	case ContainerWaiting:
		cs.Reason, cs.StartedAt = "ContainerCreating", time.Time{}
	case ContainerTerminated:
		cs.Pid = 0
		if cs.Exit != nil {
			cs.Reason = cs.Exit.Reason
		}
	}
	return cs
}

// libctInit reads the init libcontainer recorded in dir (its state.json)
// and tells whether that process still runs, by PID plus start time.
func libctInit(dir string) (pid int, created time.Time, alive bool) {
	b, err := os.ReadFile(filepath.Join(dir, "state.json"))
	if err != nil {
		return 0, time.Time{}, false
	}
	var st struct {
		Pid     int       `json:"init_process_pid"`
		Start   uint64    `json:"init_process_start"`
		Created time.Time `json:"created"`
	}
	if json.Unmarshal(b, &st) != nil || st.Pid <= 0 {
		return 0, time.Time{}, false
	}
	return st.Pid, st.Created, procMatches(st.Pid, st.Start)
}

// procMatches tells whether pid is still the process that started at
// startTime (clock ticks since boot), reading /proc only. A zombie counts
// as gone.
func procMatches(pid int, startTime uint64) bool {
	_, fields, err := readProcStat(pid)
	if err != nil || len(fields) < 20 || string(fields[0]) == "Z" {
		return false
	}
	st, err := strconv.ParseUint(string(fields[19]), 10, 64) // field 22
	return err == nil && st == startTime
}

// validateMeta checks label and annotation keys: non-empty, no NUL.
func validateMeta(labels, annotations map[string]string) error {
	for field, m := range map[string]map[string]string{"Labels": labels, "Annotations": annotations} {
		for k, v := range m {
			if k == "" || strings.ContainsRune(k, 0) || strings.ContainsRune(v, 0) {
				return fmt.Errorf("%w: %s: key %q", ErrInvalidConfig, field, k)
			}
		}
	}
	return nil
}
