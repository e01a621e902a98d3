//go:build linux

// Command pausedemo shows podkit's pause at work. Run it as root:
//
//	go run ./examples/pausedemo
//
// It starts podkit-pause as PID 1 of new network, IPC, UTS and PID
// namespaces, compares those namespaces with the host's, runs a shell inside
// the pod that leaves three orphans behind, shows the pause reaping them,
// then stops the pause with SIGTERM and prints its exit status. When the
// pause binary is not installed it builds one into a temporary directory.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"time"

	"golang.org/x/sys/unix"

	"github.com/podkit/podkit/pause"
)

func main() {
	if err := run(); err != nil {
		fmt.Fprintln(os.Stderr, "pausedemo:", err)
		os.Exit(1)
	}
}

func run() error {
	if os.Geteuid() != 0 {
		return errors.New("run me as root: creating namespaces needs CAP_SYS_ADMIN")
	}
	bin, cleanup, err := pauseBinary()
	if err != nil {
		return err
	}
	defer cleanup()

	evR, evW, err := os.Pipe()
	if err != nil {
		return err
	}
	defer evR.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	t0 := time.Now()
	p, err := pause.Start(ctx, pause.Options{
		Path:          bin,
		Cloneflags:    pause.PodNamespaces,
		DieWithParent: true,
		Events:        evW,
	})
	evW.Close()
	if err != nil {
		return err
	}
	defer p.Close()
	fmt.Printf("Started %s in %v.\n", bin, time.Since(t0).Round(time.Microsecond))
	fmt.Printf("It is pid %d on the host and PID 1 inside its own PID namespace.\n\n", p.Pid)

	fmt.Println("Namespaces (host vs pause):")
	for _, ns := range []string{"net", "ipc", "uts", "pid", "mnt"} {
		host, _ := os.Readlink("/proc/self/ns/" + ns)
		pod, _ := os.Readlink(p.NamespacePath(ns))
		verdict := "shared with the host"
		if host != pod {
			verdict = "new"
		}
		fmt.Printf("  %-4s host %-20s pause %-20s %s\n", ns, host, pod, verdict)
	}

	events := make(chan map[string]any, 16)
	go readEvents(evR, events)
	fmt.Println("\nRunning a shell inside the pod that leaves three orphans behind:")
	if err := orphansInPod(p); err != nil {
		return err
	}
	for i := 0; i < 3; i++ {
		select {
		case e := <-events:
			fmt.Printf("  the pause reaped orphan pid %v (exit code %v)\n", e["pid"], e["code"])
		case <-ctx.Done():
			return errors.New("the orphans were not reaped in time")
		}
	}

	fmt.Println("\nSending SIGTERM to the pause...")
	st, err := p.Stop(ctx)
	if err != nil {
		return err
	}
	fmt.Printf("The pause exited: %v. Its namespaces are gone with it.\n", st)
	return nil
}

// orphansInPod runs /bin/sh in the pause's namespaces (setns through the
// pidfd on a thread that is thrown away afterwards). Each "( sleep & )"
// subshell exits at once, so its sleep is re-parented to PID 1: the pause.
func orphansInPod(p *pause.Process) error {
	sh := exec.Command("/bin/sh", "-c",
		`echo "  inside the pod the shell is pid $$"; for i in 1 2 3; do (sleep 0.2 &); done`)
	sh.Stdout, sh.Stderr = os.Stdout, os.Stderr
	errc := make(chan error, 1)
	go func() {
		runtime.LockOSThread() // never unlocked: this thread dies with the goroutine
		err := unix.Setns(p.PidFD(), unix.CLONE_NEWNET|unix.CLONE_NEWIPC|unix.CLONE_NEWUTS|unix.CLONE_NEWPID)
		if err == nil {
			err = sh.Start()
		}
		errc <- err
	}()
	if err := <-errc; err != nil {
		return fmt.Errorf("start a shell in the pod: %w", err)
	}
	return sh.Wait()
}

func readEvents(r *os.File, out chan<- map[string]any) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		var e map[string]any
		if json.Unmarshal(sc.Bytes(), &e) == nil && e["event"] == "orphan" {
			out <- e
		}
	}
}

// pauseBinary finds podkit-pause or, failing that, builds it with the go
// tool (this is a demo run from a source tree).
func pauseBinary() (string, func(), error) {
	if p, err := pause.Find(); err == nil {
		return p, func() {}, nil
	} else if _, lookErr := exec.LookPath("go"); lookErr != nil {
		return "", nil, err
	}
	dir, err := os.MkdirTemp("", "pausedemo-")
	if err != nil {
		return "", nil, err
	}
	bin := filepath.Join(dir, pause.BinaryName)
	ldflags := pause.LinkFlags(runtime.GOARCH)
	fmt.Printf("podkit-pause is not installed; building it: CGO_ENABLED=0 go build -ldflags=%q ./pause/cmd/podkit-pause\n", ldflags)
	build := exec.Command("go", "build", "-trimpath", "-ldflags="+ldflags, "-o", bin, pause.ImportPath)
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	build.Stdout, build.Stderr = os.Stderr, os.Stderr
	if err := build.Run(); err != nil {
		os.RemoveAll(dir)
		return "", nil, fmt.Errorf("build podkit-pause: %w", err)
	}
	return bin, func() { os.RemoveAll(dir) }, nil
}
