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
	"time"
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
	dirs := map[string]bool{}
	sc := bufio.NewScanner(os.NewFile(guardFD, "manager-pipe"))
	for sc.Scan() {
		var m guardMsg
		if json.Unmarshal(sc.Bytes(), &m) != nil {
			continue
		}
		switch m.Op {
		case "add":
			dirs[m.Dir] = true
		case "del":
			delete(dirs, m.Dir)
		case "bye":
			os.Exit(0)
		}
	}
	ctx, cancel := context.WithTimeout(context.Background(), guardTimeout)
	defer cancel()
	var wg sync.WaitGroup
	var mu sync.Mutex
	var errs []error
	for dir := range dirs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := destroyOrphan(ctx, dir, token); err != nil {
				mu.Lock()
				errs = append(errs, err)
				mu.Unlock()
			}
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		fmt.Fprintf(os.Stderr, "podkit sandbox guard: %v\n", err)
		os.Exit(1)
	}
	os.Exit(0)
}

// Remove destroys sandbox id of runDir whatever state it was left in
// (Creating, Ready, Stopping, Destroying, ...) and whoever manages it:
// it is how a user removes the leftovers of a manager that died (see
// Info.ManagerPid; a live manager's sandbox is destroyed under it). A
// sandbox that does not exist is not an error.
func Remove(ctx context.Context, runDir, id string) error {
	if err := ValidateID(id); err != nil {
		return newErr("remove", id, "", "", err)
	}
	dir := filepath.Join(runDir, id)
	if err := destroyOrphan(ctx, dir, ""); err != nil {
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
func destroyOrphan(ctx context.Context, dir, token string) error {
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
	s := discover(dir, p)
	if s.state == StateCreating || s.state == StateDestroying {
		_ = s.setState("guard", StateDestroying)
	}
	return s.Destroy(ctx)
}
