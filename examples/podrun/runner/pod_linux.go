//go:build linux

package runner

import (
	"context"
	"errors"
	"fmt"
	"net/netip"
	"os"
	"path/filepath"
	"sync"
	"time"

	"github.com/podkit/podkit/examples/internal/exkit"
	"github.com/podkit/podkit/examples/internal/hostroot"
	"github.com/podkit/podkit/examples/kubelet"
	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/sandbox"
)

// podRun is one podrun invocation's running pod.
type podRun struct {
	o   *Options
	pod *manifest.Pod
	out *printer

	sb      *sandbox.Sandbox
	kp      *kubelet.Pod // the kubelet policy running the pod in sb
	root    *hostroot.Root
	ips     []netip.Addr // status.podIPs
	images  *podImages   // store images and their rootfs (nil: none)
	logs    *logManager
	start   time.Time
	watcher sync.WaitGroup // watchEvents

	group *podGroup    // the pods of the same file (nil: one pod)
	final resultRecord // how it ended
	// changed is signalled (never blocking) by watchEvents after each
	// container start, exit or restart: supervise checks the pod then,
	// not only on its tick.
	changed chan struct{}

	mu       sync.Mutex
	stopping bool
	messages map[string]string // termination messages printed, by container/restart
}

func (r *podRun) run(ctx context.Context, sigs <-chan os.Signal) int {
	r.start = time.Now()
	if code, ok := r.pullStage(ctx, sigs); !ok {
		return code
	}
	if err := r.setup(ctx); err != nil {
		fmt.Fprintf(r.out.stderr, "podrun: %v\n", err)
		r.teardown()
		return ExitUsage
	}
	return r.runSetUp(ctx, sigs)
}

// runSetUp runs the pod setup created until it ends, stops it, tears it
// down and prints the result.
func (r *podRun) runSetUp(ctx context.Context, sigs <-chan os.Signal) int {
	runCtx, stopRun := context.WithCancel(context.Background())
	defer stopRun()
	runErr := make(chan error, 1)
	go func() { runErr <- r.kp.Run(runCtx) }()
	code, reason := r.supervise(ctx, sigs, runErr)
	stopRun()
	r.stopPod(sigs)
	r.finalStatus()
	r.teardown() // before the result, so that it is the last line
	phase := map[int]string{ExitSucceeded: "Succeeded", ExitFailed: "Failed"}[code]
	if phase == "" {
		phase = "Stopped"
	}
	r.final = resultRecord{Pod: r.pod.Name, Phase: phase, ExitCode: code, Reason: reason, LogDir: r.logs.dir}
	r.out.result(r.final)
	return code
}

// setup creates everything; on error the caller runs teardown, which
// undoes whatever part was done.
func (r *podRun) setup(ctx context.Context) error {
	cfg := r.pod.Config
	cfg.RunDir, cfg.CgroupParent, cfg.DieWithParent = r.o.RunDir, r.o.CgroupParent, true
	cfg.Lifetime = sandbox.DieWithManager // kill -9 of podrun leaves nothing behind
	cfg.NoPause = !r.o.withPause(cfg.SharePID)
	pauseBin, err := exkit.FindPause(r.out.stderr)
	if err != nil {
		return err
	}
	cfg.PauseBinary = pauseBin
	if cfg.Network, err = r.podNetwork(); err != nil {
		return err
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	if r.pod.HasHostImage() {
		if err := r.prepareHostRoot(); err != nil {
			return err
		}
	}
	logDir := filepath.Join(r.o.LogDir, r.pod.Namespace+"_"+r.pod.Name)
	if err := os.MkdirAll(logDir, 0o755); err != nil {
		return err
	}
	r.logs = newLogManager(logDir, r.out, r.o.Logs)
	if err := r.logs.open(r.allNames()); err != nil {
		return fmt.Errorf("create the output pipes: %w", err)
	}
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for i := range list {
			list[i].Spec.Stdout, list[i].Spec.Stderr = r.logs.writers(list[i].Spec.Name)
		}
	}
	netOpts := func() sandbox.LoadOptions { return leftoverNetwork(r.o.networkOptions) } // only for a leftover
	if err := clearLeftover(ctx, cfg.RunDir, cfg.ID, netOpts, r.out.stderr); err != nil {
		return err
	}
	if r.o.CgroupParent != sandbox.DefaultCgroupParent {
		// A parent made before podrun is someone else's, limits and all:
		// leave it. An error here is Create's to report.
		cfg.KeepCgroupParent, _ = sandbox.CgroupParentExists(r.o.CgroupParent)
	}
	sb, err := sandbox.Create(ctx, cfg)
	if err != nil {
		return err
	}
	r.sb = sb
	if cfg.NoPause {
		r.out.event("", "Scheduled", "sandbox %s created (namespaces pinned, no pause process)", sb.ID())
	} else {
		r.out.event("", "Scheduled", "sandbox %s created (pause pid %d)", sb.ID(), sb.PausePid())
	}
	if err := writeDataVolumes(sb.Dir(), r.pod.DataVolumes); err != nil {
		return err
	}
	r.ips = r.podIPs()
	r.pod.SetPodIPs(r.ips)
	if ip := podIPString(r.ips); ip != "" {
		r.out.event("", "PodIP", "pod IP %s", ip)
	}
	if r.root != nil {
		hm, err := r.root.Mounts(sb.Dir())
		if err != nil {
			return err
		}
		for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
			for i := range list {
				if list[i].HostImage {
					list[i].Spec.Mounts = append(append([]sandbox.Mount{}, hm...), list[i].Spec.Mounts...)
				}
			}
		}
	}
	if r.images != nil {
		if err := r.images.prepare(); err != nil {
			return err
		}
	}
	spec := r.pod.PodSpec()
	spec.Backoff = kubelet.Backoff{Initial: r.o.Backoff, Max: max(5*time.Minute, r.o.Backoff)}
	spec.LogFile = r.logFile
	if r.images != nil {
		spec.BeforeCreate, spec.AfterRemove = r.images.beforeCreate, r.images.afterRemove
	}
	r.kp = kubelet.New(sb, spec)
	events := r.kp.Events(1024)
	r.logs.start()
	r.watcher.Add(1)
	go r.watchEvents(events)
	return nil
}

// prepareHostRoot builds the skeleton root for image: host containers and
// a placeholder for each of their commands.
func (r *podRun) prepareHostRoot() error {
	dir := filepath.Join(r.o.RunDir, "podrun", r.pod.Name+".root")
	if err := os.MkdirAll(filepath.Dir(dir), 0o700); err != nil {
		return err
	}
	_ = os.RemoveAll(dir) // a leftover of a killed podrun: a plain directory tree, never mounts
	root, err := hostroot.Prepare(dir)
	if err != nil {
		return err
	}
	r.root = root
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for i := range list {
			c := &list[i]
			if !c.HostImage {
				continue
			}
			c.Spec.Rootfs = root.Dir
			if _, err := root.AddCommand(c.Spec.Args[0], c.Spec.Env, c.Spec.Cwd); err != nil {
				return fmt.Errorf("container %s: %w", c.Spec.Name, err)
			}
		}
	}
	return nil
}

func (r *podRun) allNames() []string {
	var names []string
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for _, c := range list {
			names = append(names, c.Spec.Name)
		}
	}
	return names
}

// supervise waits for the pod to finish, a signal, the timeout or
// readiness, and returns the exit code.
func (r *podRun) supervise(ctx context.Context, sigs <-chan os.Signal, runErr <-chan error) (int, string) {
	tick := time.NewTicker(250 * time.Millisecond)
	defer tick.Stop()
	var timeout <-chan time.Time
	if r.o.Timeout > 0 {
		t := time.NewTimer(r.o.Timeout)
		defer t.Stop()
		timeout = t.C
	}
	for {
		select {
		case <-ctx.Done():
			return ExitInterrupted, "interrupted"
		case <-sigs:
			return ExitInterrupted, "interrupted"
		case <-timeout:
			return ExitTimeout, fmt.Sprintf("timeout %s", r.o.Timeout)
		case err := <-runErr:
			if err != nil {
				r.out.event("", "Failed", "%v", err)
				if errors.Is(err, kubelet.ErrInitFailed) {
					r.printStatus()
					return ExitFailed, "init container failed"
				}
				return ExitFailed, err.Error()
			}
			runErr = nil
		case <-tick.C:
		case <-r.changed:
		}
		st := r.printStatus()
		if done, code, reason := r.finished(st); done {
			return code, reason
		}
	}
}

// finished reports whether the pod is over: every app container has
// terminated and its restart policy will not restart it.
func (r *podRun) finished(st kubelet.Status) (bool, int, string) {
	if st.Phase == kubelet.PodUnknown {
		return true, ExitFailed, "pause process died"
	}
	ready := st.Ready                              // the pod's Ready condition: app containers and sidecars
	if r.o.UntilReady && r.group.ready(r, ready) { // with several pods: once all are
		if done, code, reason := r.ended(st); done {
			return done, code, reason // a pod of several that has ended says how
		}
		return true, ExitSucceeded, "ready"
	}
	return r.ended(st)
}

// ended reports whether every app container has terminated and its
// restart policy will not restart it.
func (r *podRun) ended(st kubelet.Status) (bool, int, string) {
	if len(st.Containers) < len(r.pod.Containers) {
		return false, 0, ""
	}
	failed := false
	for _, c := range st.Containers {
		if c.State != sandbox.ContainerTerminated || c.Exit == nil {
			return false, 0, ""
		}
		switch r.pod.RestartPolicy {
		case kubelet.RestartAlways:
			return false, 0, ""
		case kubelet.RestartOnFailure:
			if c.Exit.ExitCode != 0 {
				return false, 0, ""
			}
		}
		failed = failed || c.Exit.ExitCode != 0
	}
	if failed {
		return true, ExitFailed, "a container failed"
	}
	return true, ExitSucceeded, "all containers completed"
}

// stopPod stops the pod with the grace period; one more signal kills it.
func (r *podRun) stopPod(sigs <-chan os.Signal) {
	r.mu.Lock()
	r.stopping = true
	r.mu.Unlock()
	r.printStatus()
	stopCtx, force := context.WithCancel(context.Background())
	defer force()
	done := make(chan struct{})
	go func() {
		select {
		case <-sigs:
			r.out.event("", "Killing", "second interrupt: killing the pod now")
			force()
		case <-done:
		}
	}()
	r.out.event("", "Stopping", "stopping the pod (grace period %s; interrupt again to kill it now)", r.pod.Grace)
	if err := r.kp.Stop(stopCtx, r.pod.Grace); err != nil { // preStop hooks, then the sandbox's Stop
		r.out.event("", "StopFailed", "%v", err)
	}
	close(done)
}

// teardown destroys whatever setup built, in reverse order.
func (r *podRun) teardown() {
	if r.sb != nil {
		if err := r.sb.Destroy(context.Background()); err != nil {
			fmt.Fprintf(r.out.stderr, "podrun: destroy: %v\n", err)
		}
	}
	r.watcher.Wait() // the event watcher ends when Destroy closes the event stream
	if r.logs != nil {
		// No container process is left to hold a copy of the write ends:
		// closing podrun's own lets the readers drain to EOF.
		r.logs.stop()
	}
	if r.images != nil {
		r.images.close() // after Destroy: no container uses a rootfs any more
	}
	if r.root != nil {
		_ = r.root.Remove()
		_ = os.Remove(filepath.Dir(r.root.Dir)) // only if no other pod uses it
	}
}
