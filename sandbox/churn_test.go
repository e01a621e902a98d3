//go:build linux

package sandbox

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// churnFault is what a churn cycle does to its sandbox before Destroy.
type churnFault int

const (
	faultNone          churnFault = iota // plain Destroy
	faultKillPause                       // SIGKILL the pause, then Destroy
	faultKillInit                        // SIGKILL the container init
	faultKillBoth                        // both, back to back
	faultStopNoGrace                     // Stop(grace 0), then Destroy
	faultKillDuringRun                   // SIGKILL the pause while a container is being created and started
	faultCount
)

var faultNames = [...]string{"none", "kill-pause", "kill-init", "kill-both", "stop-no-grace", "kill-during-run"}

// TestChurn: thousands of create/destroy cycles (PODKIT_CHURN_CYCLES,
// default 1000) in the three sandbox modes (pinned-only, pause, pause
// with a shared PID namespace), a quarter with a container, each with a
// fault picked at random: processes SIGKILLed before, during or without a
// Stop. Every Destroy must succeed and leave no run directory; the leak
// check at the end (testharness) proves no mount, pin, cgroup, process or
// fd survived any of them. The seed is logged (PODKIT_CHURN_SEED replays;
// PODKIT_CHURN_TRACE prints each cycle to stderr as it starts).
func TestChurn(t *testing.T) {
	testharness.Privileged(t)
	cycles := envInt(t, "PODKIT_CHURN_CYCLES", 1000)
	seed := uint64(time.Now().UnixNano())
	if s := os.Getenv("PODKIT_CHURN_SEED"); s != "" {
		seed = uint64(envInt(t, "PODKIT_CHURN_SEED", 0))
	}
	t.Logf("%d cycles, seed %d", cycles, seed)
	rng := rand.New(rand.NewPCG(seed, 0))
	rootfs := testRootfs(t)
	base := testConfig(t, "churn")
	done := map[string]int{}
	start := time.Now()
	for i := range cycles {
		cfg := base
		cfg.ID = "churn-" + strconv.Itoa(i)
		mode := rng.IntN(3)
		cfg.NoPause, cfg.SharePID = mode == 0, mode == 2
		fault := churnFault(rng.IntN(int(faultCount)))
		withCtr := rng.IntN(4) == 0 || fault == faultKillInit || fault == faultKillBoth || fault == faultKillDuringRun
		if os.Getenv("PODKIT_CHURN_TRACE") != "" { // names the cycle a hang is in
			fmt.Fprintf(os.Stderr, "cycle %d mode %d fault %s ctr %v\n", i, mode, faultNames[fault], withCtr)
		}
		if err := churnCycle(cfg, rootfs, withCtr, fault, rng); err != nil {
			t.Fatalf("cycle %d (seed %d, mode %d, fault %s, container %v): %v", i, seed, mode, faultNames[fault], withCtr, err)
		}
		done[fmt.Sprintf("mode%d/%s", mode, faultNames[fault])]++
	}
	t.Logf("%d cycles in %v: %v", cycles, time.Since(start).Round(time.Millisecond), done)
}

// churnCycle creates one sandbox, optionally runs a container, applies the
// fault, destroys the sandbox and checks its directory is gone.
func churnCycle(cfg Config, rootfs string, withCtr bool, fault churnFault, rng *rand.Rand) error {
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	sb, err := Create(ctx, cfg)
	if err != nil {
		return fmt.Errorf("create: %w", err)
	}
	// Signals go through pidfds: a pid that was reaped meanwhile is never
	// some other process.
	pause := pidfdOf(sb.PausePid())
	defer closeFd(pause)
	killPause := func() { sigkill(pause) }
	if withCtr {
		var fired chan struct{}
		var timer *time.Timer
		if fault == faultKillDuringRun {
			fired = make(chan struct{})
			delay := time.Duration(rng.IntN(20_000)) * time.Microsecond
			timer = time.AfterFunc(delay, func() { killPause(); close(fired) })
		}
		spec := ctr(rootfs, "app", "sleep")
		err := sb.CreateContainer(ctx, spec)
		if err == nil {
			err = sb.StartContainer(ctx, "app")
		}
		if timer != nil && !timer.Stop() {
			<-fired // the pidfd stays open until the kill is done
		}
		if err != nil && fault != faultKillDuringRun {
			_ = sb.Destroy(ctx)
			return fmt.Errorf("container: %w", err)
		}
	}
	initFd := runningInit(sb)
	defer closeFd(initFd)
	switch fault {
	case faultKillPause:
		killPause()
	case faultKillInit:
		sigkill(initFd)
	case faultKillBoth:
		sigkill(initFd)
		killPause()
	case faultStopNoGrace:
		if err := sb.Stop(ctx, 0); err != nil {
			return fmt.Errorf("stop: %w", err)
		}
	}
	if err := sb.Destroy(ctx); err != nil {
		return fmt.Errorf("destroy: %w", err)
	}
	if _, err := os.Stat(sb.Dir()); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("run directory %s left behind (%v)", sb.Dir(), err)
	}
	if _, err := os.Stat(filepath.Join(cfg.RunDir, cfg.ID)); !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("run directory left behind")
	}
	return nil
}

// pidfdOf opens a pidfd for pid (-1 when there is no such process).
func pidfdOf(pid int) int {
	if pid <= 0 {
		return -1
	}
	fd, err := unix.PidfdOpen(pid, 0)
	if err != nil {
		return -1
	}
	return fd
}

// runningInit returns a pidfd for the running container's init, or -1:
// the pid is checked to still be the running init after the pidfd was
// opened (the reaper marks it Terminated before a reuse is possible).
func runningInit(sb *Sandbox) int {
	st := statusOf(sb, "app")
	if st.State != ContainerRunning {
		return -1
	}
	fd := pidfdOf(st.Pid)
	if now := statusOf(sb, "app"); now.State != ContainerRunning || now.Pid != st.Pid {
		closeFd(fd)
		return -1
	}
	return fd
}

func sigkill(pidfd int) {
	if pidfd >= 0 {
		_ = unix.PidfdSendSignal(pidfd, unix.SIGKILL, nil, 0)
	}
}

func closeFd(fd int) {
	if fd >= 0 {
		_ = unix.Close(fd)
	}
}

func envInt(t *testing.T, name string, def int) int {
	t.Helper()
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		t.Fatalf("%s=%q: want a non-negative integer", name, s)
	}
	return n
}
