//go:build linux

package sandbox

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"golang.org/x/sys/unix"
)

// dirSnapshot records every file under dir with its size, mode and
// modification time (and a FIFO's too), to prove List writes nothing.
func dirSnapshot(t *testing.T, dir string) map[string]string {
	t.Helper()
	out := map[string]string{}
	err := filepath.WalkDir(dir, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		st, err := os.Lstat(p)
		if err != nil {
			return err
		}
		out[p] = st.Mode().String() + " " + st.ModTime().String() + " " + itoa(int(st.Size()))
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func infoContainer(in Info, name string) ContainerStatus {
	for _, c := range in.Containers {
		if c.Name == name {
			return c
		}
	}
	return ContainerStatus{}
}

func TestListAndMetadata(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cfg := testConfig(t, "list")
	cfg.Labels = map[string]string{"io.kubernetes.pod.name": "web", "app": "x"}
	cfg.Annotations = map[string]string{"note": "hello"}
	before := time.Now()
	sb := mustCreate(t, cfg)
	running := ctr(rootfs, "running", "sleep")
	running.Labels = map[string]string{"io.kubernetes.container.name": "running"}
	running.Annotations = map[string]string{"io.kubernetes.container.restartCount": "0"}
	run(t, sb, running)
	if err := sb.CreateContainer(context.Background(), ctr(rootfs, "created", "sleep")); err != nil {
		t.Fatal(err)
	}
	run(t, sb, ctr(rootfs, "done", "exit", "3"))
	waitExit(t, sb, "done")
	eventually(t, "exit saved", func() bool { // the reaper saves after Wait returns
		infos, _ := List(cfg.RunDir)
		d := infoContainer(infos[0], "done")
		return len(infos) == 1 && d.State == ContainerTerminated && d.Exit.ExitCode == 3
	})

	snap := dirSnapshot(t, sb.Dir())
	infos, err := List(cfg.RunDir)
	if err != nil || len(infos) != 1 {
		t.Fatalf("List: %v %d", err, len(infos))
	}
	if after := dirSnapshot(t, sb.Dir()); !maps.Equal(snap, after) {
		t.Fatalf("List changed the run directory:\n%v\n%v", snap, after)
	}
	in := infos[0]
	if in.ID != "list" || in.State != StateReady || in.PausePid != sb.PausePid() || in.Dir != sb.Dir() {
		t.Fatalf("info %+v", in)
	}
	if in.CreatedAt.Before(before.Add(-time.Second)) || in.CreatedAt.After(time.Now()) {
		t.Fatalf("created at %v", in.CreatedAt)
	}
	if !maps.Equal(in.Labels, cfg.Labels) || !maps.Equal(in.Annotations, cfg.Annotations) {
		t.Fatalf("metadata %v %v", in.Labels, in.Annotations)
	}
	if len(in.Containers) != 3 {
		t.Fatalf("containers %+v", in.Containers)
	}
	r := infoContainer(in, "running")
	if r.State != ContainerRunning || r.Pid != statusOf(sb, "running").Pid || r.StartedAt.IsZero() ||
		r.CreatedAt.IsZero() || r.StartedAt.Before(r.CreatedAt) || !maps.Equal(r.Labels, running.Labels) ||
		!maps.Equal(r.Annotations, running.Annotations) {
		t.Fatalf("running: %+v", r)
	}
	if c := infoContainer(in, "created"); c.State != ContainerWaiting || c.Reason != "ContainerCreating" || c.CreatedAt.IsZero() || !c.StartedAt.IsZero() {
		t.Fatalf("created: %+v", c)
	}
	d := infoContainer(in, "done")
	if d.State != ContainerTerminated || d.Exit == nil || d.Exit.ExitCode != 3 || d.Reason != ReasonError || d.Exit.Finished.Before(d.StartedAt) {
		t.Fatalf("done: %+v %+v", d, d.Exit)
	}
	// Status reports the same metadata.
	st := sb.Status()
	if !maps.Equal(st.Labels, cfg.Labels) || !maps.Equal(st.Annotations, cfg.Annotations) || !st.CreatedAt.Equal(in.CreatedAt) {
		t.Fatalf("status metadata %+v", st)
	}
	if c := statusOf(sb, "running"); !maps.Equal(c.Labels, running.Labels) || !maps.Equal(c.Annotations, running.Annotations) {
		t.Fatalf("status container metadata %+v", c)
	}
	// An exit recorded by this manager shows in List.
	if err := unix.Kill(r.Pid, unix.SIGKILL); err != nil {
		t.Fatal(err)
	}
	eventually(t, "kill recorded", func() bool {
		infos, _ = List(cfg.RunDir)
		c := infoContainer(infos[0], "running")
		return c.State == ContainerTerminated && c.Exit.ExitCode == 137 && c.Pid == 0 && c.Exit.Reason == ReasonError
	})
}

// TestListStaleState: List checks the processes a state file names, read
// only: a dead pause makes a Ready sandbox Unknown and a container whose
// init is gone Terminated/Unknown; a state file that cannot be parsed is
// reported while the others are still listed. Needs no privileges.
func TestListStaleState(t *testing.T) {
	runDir := t.TempDir()
	write := func(id string, b []byte) {
		if err := os.MkdirAll(filepath.Join(runDir, id), 0o700); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(runDir, id, "state.json"), b, 0o600); err != nil {
			t.Fatal(err)
		}
	}
	self, err := procStartTime(os.Getpid())
	if err != nil {
		t.Fatal(err)
	}
	p := persisted{Config: Config{ID: "stale", Labels: map[string]string{"a": "b"}}, State: StateReady,
		Pause: &procRef{Pid: os.Getpid(), StartTime: self + 1}, Created: time.Now().UnixNano(),
		Containers: []savedContainer{{Spec: ContainerSpec{Name: "c"}, Run: &savedRun{Phase: ContainerRunning, Pid: 1, Created: time.Now()}}}}
	b, _ := json.Marshal(p)
	write("stale", b)
	p.Config.ID, p.Pause.StartTime = "live", self
	p.Containers = nil
	b, _ = json.Marshal(p)
	write("live", b)
	write("broken", []byte("{"))
	if err := os.Mkdir(filepath.Join(runDir, "nostate"), 0o700); err != nil {
		t.Fatal(err)
	}
	infos, err := List(runDir)
	var se *Error
	if !errors.As(err, &se) || se.ID != "broken" {
		t.Fatalf("err %v", err)
	}
	if len(infos) != 2 || infos[0].ID != "live" || infos[1].ID != "stale" {
		t.Fatalf("infos %+v", infos)
	}
	if in := infos[0]; in.State != StateReady || in.PausePid != os.Getpid() {
		t.Fatalf("live: %+v", in)
	}
	in := infos[1]
	if in.State != StateUnknown || in.PausePid != 0 || in.Labels["a"] != "b" {
		t.Fatalf("stale: %+v", in)
	}
	if c := in.Containers[0]; c.State != ContainerTerminated || c.Reason != ReasonUnknown || c.Exit.ExitCode != -1 {
		t.Fatalf("stale container: %+v", c)
	}
	if l, err := List(filepath.Join(runDir, "missing")); l != nil || err != nil {
		t.Fatalf("missing run dir: %v %v", l, err)
	}
}

// TestListAfterManagerCrash: after the managing process is killed, List
// reports its pod as it runs, and Load restores the same times and
// metadata.
func TestListAfterManagerCrash(t *testing.T) {
	testharness.Privileged(t)
	runDir := runManager(t, "running")
	infos, err := List(runDir)
	if err != nil || len(infos) != 1 {
		t.Fatalf("List: %v %d", err, len(infos))
	}
	in := infos[0]
	if in.State != StateReady || in.PausePid == 0 || len(in.Containers) != 2 {
		t.Fatalf("info %+v", in)
	}
	for _, c := range in.Containers {
		if c.State != ContainerRunning || c.Pid == 0 || c.StartedAt.IsZero() {
			t.Fatalf("container %+v", c)
		}
	}
	sb, err := Load(runDir, "rec")
	if err != nil {
		t.Fatal(err)
	}
	defer reapOrphans(t)
	st := sb.Status()
	if !st.CreatedAt.Equal(in.CreatedAt) || st.PausePid != in.PausePid {
		t.Fatalf("status %+v vs %+v", st, in)
	}
	for _, c := range in.Containers {
		s := statusOf(sb, c.Name)
		if s.Pid != c.Pid || !s.StartedAt.Equal(c.StartedAt) {
			t.Fatalf("%s: status %+v, list %+v", c.Name, s, c)
		}
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
	if infos, err := List(runDir); err != nil || len(infos) != 0 {
		t.Fatalf("List after Destroy: %v %+v", err, infos)
	}
}
