//go:build linux

package cgroup_test

import (
	"context"
	"fmt"
	"log"
	"os/exec"
	"syscall"
	"time"

	"github.com/podkit/podkit/cgroup"
)

// A pod with a pause leaf and one container limited to 256Mi of memory,
// 250m requested / 500m limited CPU and 100 tasks, as kubelet would set it.
func ExampleSystem_NewPod() {
	sys, err := cgroup.Host()
	if err != nil {
		log.Fatal(err)
	}
	pod, err := sys.NewPod(cgroup.PodConfig{ID: "web-7f9c"})
	if err != nil {
		log.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	defer pod.Destroy(ctx)

	app, err := pod.AddContainer("app", &cgroup.Resources{
		Memory: &cgroup.Memory{Limit: 256 << 20, Request: 128 << 20},
		CPU:    &cgroup.CPU{RequestMilli: 250, LimitMilli: 500},
		Pids:   &cgroup.Pids{Max: 100},
	})
	if err != nil {
		log.Fatal(err)
	}
	// What a runtime such as libcontainer needs: the path in every
	// hierarchy, or the per-controller directories.
	fmt.Println(app.Path(), app.Paths())
}

// Start a process directly inside a container cgroup: on v2 with
// CLONE_INTO_CGROUP, on v1 by moving it right after start.
func ExampleOpenDir() {
	sys, _ := cgroup.Host()
	pod, err := sys.NewPod(cgroup.PodConfig{ID: "batch-1"})
	if err != nil {
		log.Fatal(err)
	}
	app, _ := pod.AddContainer("job", nil)
	cmd := exec.Command("/bin/true")
	if dir, err := cgroup.OpenDir(app); err == nil {
		defer dir.Close()
		cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: int(dir.Fd())}
		if err := cmd.Run(); err != nil {
			log.Print(err)
		}
	} else {
		if err := cmd.Start(); err != nil {
			log.Fatal(err)
		}
		if err := app.AddProcess(cmd.Process.Pid); err != nil {
			log.Print(err)
		}
		_ = cmd.Wait()
	}
	if err := pod.Destroy(context.Background()); err != nil {
		log.Print(err)
	}
}

// Report which container was OOM-killed.
func ExampleOOMWatcher() {
	sys, _ := cgroup.Host()
	pod, _ := sys.NewPod(cgroup.PodConfig{ID: "db-0"})
	db, _ := pod.AddContainer("db", &cgroup.Resources{Memory: &cgroup.Memory{Limit: 1 << 30}})

	w, err := cgroup.NewOOMWatcher()
	if err != nil {
		log.Fatal(err)
	}
	defer w.Close()
	if err := w.Add(db); err != nil {
		log.Fatal(err)
	}
	for ev := range w.Events() {
		fmt.Printf("OOMKilled: %s (%d kills, %d total)\n", ev.Path, ev.Kills, ev.Total)
	}
}

// Kill everything in a pod, including processes that ignore SIGTERM and
// keep forking, then remove it from every hierarchy.
func ExamplePod_Destroy() {
	sys, _ := cgroup.Host()
	pod, _ := sys.NewPod(cgroup.PodConfig{ID: "web-7f9c"})
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if err := pod.Destroy(ctx); err != nil {
		log.Fatal(err)
	}
}

// Stats in Kubernetes-friendly units.
func ExampleCgroup_stats() {
	sys, _ := cgroup.Host()
	c, err := sys.Open("/podkit/web-7f9c/app")
	if err != nil {
		log.Fatal(err)
	}
	st, err := c.Stats()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(st.Memory.Usage, st.Memory.Peak, st.CPU.Usage, st.CPU.Throttled, st.Pids.Current, st.OOMKills)
}

// Did the OOM killer end the process that just exited? Read the counter
// once before it runs and once after it is reaped: one file each time.
func ExampleCgroup_oomKills() {
	sys, _ := cgroup.Host()
	c, err := sys.Open("/podkit/web-7f9c/app")
	if err != nil {
		log.Fatal(err)
	}
	before, _ := c.OOMKills()
	// ... start the process in c, wait for it ...
	after, err := c.OOMKills()
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println("OOMKilled:", after > before)
}
