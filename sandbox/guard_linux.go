//go:build linux

package sandbox

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"
	"syscall"
	"time"

	"github.com/opencontainers/runc/libcontainer"
	"golang.org/x/sys/unix"
)

// guardTimeout bounds the guard's teardown of a dead manager's sandboxes.
const guardTimeout = 30 * time.Second

// runGuard is the guard process (see startGuard): it keeps the set of the
// manager's DieWithManager sandbox directories from the pipe and, when the
// pipe ends without a "bye" (the manager is gone, however it died), tears
// each of them down with the package's own Destroy, then exits. It never
// returns.
func runGuard() {
	token := os.Args[2]
	dirs := map[string]bool{} // dir -> DieWithManager
	watched := map[int]guardMsg{}
	exits := procExitWatcher() // subscribed before any init is watched
	sc := bufio.NewScanner(os.NewFile(guardFD, "manager-pipe"))
	for sc.Scan() {
		var m guardMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch m.Op {
		case "add":
			dirs[m.Dir] = m.Die
		case "del":
			delete(dirs, m.Dir)
		case "watch":
			watched[m.Pid] = m
		case "bye":
			os.Exit(0)
		}
	}
	for pid, m := range watched {
		if die, ok := dirs[m.Dir]; !ok || die {
			delete(watched, pid)
		}
	}
	recording := len(watched) > 0 && exits != nil // watched is recordExits' from here on
	if recording {
		go recordExits(exits, watched)
	}
	ctx, cancel := context.WithTimeout(context.Background(), guardTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for dir, die := range dirs {
		if !die {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := destroyOrphan(ctx, dir, token, LoadOptions{}); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "podkit sandbox guard: %v\n", err)
	}
	if recording {
		select {} // recordExits exits the process after the last exit
	}
	os.Exit(0)
}

// recordExits writes the exit of each watched container init of an
// OutliveManager sandbox to <sandbox dir>/exits/<name>.json, for the next
// manager's Load, and exits the guard once every one has exited. A new
// manager that loads one of these sandboxes first kills this guard
// (discover), so nothing writes into a directory it owns.
func recordExits(w *procExits, watched map[int]guardMsg) {
	var mu sync.Mutex
	forget := func(pid int) {
		delete(watched, pid)
		if len(watched) == 0 {
			os.Exit(0)
		}
	}
	record := func(pid int, e procExit) {
		mu.Lock()
		defer mu.Unlock()
		if m, ok := watched[pid]; ok {
			_ = writeExitRecord(m.Dir, m.Name, pid, e)
			forget(pid)
		}
	}
	w.mu.Lock()
	w.notify = record
	w.mu.Unlock()
	// Inits that exited before notify was set: their events are kept.
	mu.Lock()
	pids := make([]int, 0, len(watched))
	for pid := range watched {
		pids = append(pids, pid)
	}
	mu.Unlock()
	for _, pid := range pids {
		mu.Lock()
		m, ok := watched[pid]
		mu.Unlock()
		if !ok || procMatches(pid, m.Start) {
			continue
		}
		if e, ok := w.wait(pid, 100*time.Millisecond); ok {
			record(pid, e)
			continue
		}
		mu.Lock()
		forget(pid) // gone unseen (an event lost): unknown
		mu.Unlock()
	}
}

// exitRecord is an exit the guard saw while no manager ran.
type exitRecord struct {
	Pid      int                `json:"pid"`
	Status   syscall.WaitStatus `json:"wait_status"`
	Finished time.Time          `json:"finished"`
}

func writeExitRecord(dir, name string, pid int, e procExit) error {
	if err := os.Mkdir(filepath.Join(dir, "exits"), 0o700); err != nil && !errors.Is(err, os.ErrExist) {
		return err
	}
	b, _ := json.Marshal(exitRecord{Pid: pid, Status: e.Status, Finished: e.Finished})
	return writeFileAtomic(filepath.Join(dir, "exits", name+".json"), b, 0o600)
}

// readExitRecord returns the guard's record of init pid of container
// name, if it has one.
func readExitRecord(dir, name string, pid int) (*ExitStatus, bool) {
	b, err := os.ReadFile(filepath.Join(dir, "exits", name+".json"))
	var r exitRecord
	if err != nil || json.Unmarshal(b, &r) != nil || r.Pid != pid || pid == 0 {
		return nil, false
	}
	return exitStatusOf(r.Status, r.Finished), true
}

// Remove destroys sandbox id of runDir whatever state it was left in
// (Creating, Ready, Stopping, Destroying, ...) and whoever manages it:
// it is how a user removes the leftovers of a manager that died (see
// Info.ManagerPid; a live manager's sandbox is destroyed under it). A
// sandbox that does not exist is not an error.
func Remove(ctx context.Context, runDir, id string, opts ...LoadOptions) error {
	if err := ValidateID(id); err != nil {
		return newErr("remove", id, "", "", err)
	}
	dir := filepath.Join(runDir, id)
	if err := destroyOrphan(ctx, dir, "", mergeLoadOptions(opts)); err != nil {
		return newErr("remove", id, "", dir, err)
	}
	return nil
}

// destroyOrphan tears down the sandbox in dir left by the dead manager
// named token, whatever state it was caught in (Creating, Ready,
// Stopping, Destroying, ...). With a token, a directory whose state file
// names another manager is left alone; one without a state file is a Create caught
// before its intent record (or a teardown after it removed it): only
// mounts and files can be there.
//
// The guard has no Network to detach with (it is not the embedder's
// code): an attached sandbox it cannot detach stays Destroying with its
// pins, and the next Remove or Reconcile given the Network finishes it.
func destroyOrphan(ctx context.Context, dir, token string, o LoadOptions) error {
	p, err := readState(dir)
	switch {
	case errors.Is(err, os.ErrNotExist):
		if _, serr := os.Stat(dir); serr != nil {
			return nil // never created, or gone
		}
		return removeLeftovers(dir)
	case err != nil:
		return removeLeftovers(dir)
	case token != "" && p.Manager != token:
		return nil // another manager took it over, or it was never ours
	}
	s := discover(dir, p, o)
	if s.state == StateCreating || s.state == StateDestroying {
		_ = s.setState("guard", StateDestroying)
	}
	return s.Destroy(ctx)
}

// takeOverFromGuard makes way for a new manager (or Remove) of an
// OutliveManager sandbox: the dead manager's guard, which may be writing
// exit records into the sandbox's directory, is killed and awaited, and
// this process's exit listener started before any init is re-attached,
// so that no exit falls between the two. Nothing happens while the
// sandbox's manager lives, nor in that guard itself.
func (s *Sandbox) takeOverFromGuard() {
	if s.cfg.Lifetime != OutliveManager {
		return
	}
	procExitWatcher()
	pid, start, ok := parseToken(s.guard)
	if !ok || pid == os.Getpid() || managerPid(s.manager) != 0 {
		return
	}
	ref, err := attachProc(pid, start)
	if err != nil {
		return
	}
	_ = ref.signal(unix.SIGKILL)
	ref.awaitExit()
	ref.release()
}

// exitFromGuard gives a container whose init exited while no manager ran
// the exit status the guard recorded (or this process's listener saw),
// instead of ReasonUnknown. st (libcontainer's state, may be nil) or the
// saved run name the init.
func (c *container) exitFromGuard(st *libcontainer.State, run *savedRun) {
	if c.sb.cfg.Lifetime != OutliveManager || c.exit == nil || c.exit.Reason != ReasonUnknown {
		return
	}
	pid := 0
	if st != nil {
		pid = st.InitProcessPid
	} else if run != nil {
		pid = run.Pid
	}
	if es, ok := readExitRecord(c.sb.dir, c.spec.Name, pid); ok {
		c.exit = es
	} else if e, ok := procExitWatcher().wait(pid, 0); ok && pid != 0 {
		c.exit = exitStatusOf(e.Status, e.Finished)
	}
}
