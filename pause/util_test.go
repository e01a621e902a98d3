//go:build linux

package pause_test

import (
	"bufio"
	"context"
	"encoding/json"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

func TestMain(m *testing.M) { testharness.Main(m) }

// deadline is the generous bound for anything the tests wait for.
const deadline = 2 * time.Minute

func bgCtx() context.Context { return context.Background() }

// eachPause runs fn as a subtest for each build of the pause binary whose
// pause mode differs: podkit-pause as podkit links it (on amd64 and arm64
// the bare pause, no Go runtime), podkit-pause-go (the same sources linked
// without it, so the Go program's pause mode runs), and the bare pause of
// the other architectures, built for them and run under qemu-user. All
// must behave the same.
func eachPause(t *testing.T, fn func(t *testing.T, bin string)) {
	t.Helper()
	eachNativePause(t, fn)
	for _, goarch := range testharness.EmulatedPauseArchs() {
		if bin, ok := testharness.PauseBinaryEmulated(t, goarch); ok {
			t.Run(filepath.Base(bin), func(t *testing.T) { fn(t, bin) })
		}
	}
}

// eachNativePause is eachPause for this machine's builds only: for what
// qemu-user does not emulate (PR_SET_CHILD_SUBREAPER, which it refuses
// with EINVAL) or shows differently (its own threads, and its own system
// calls in /proc/PID/syscall).
func eachNativePause(t *testing.T, fn func(t *testing.T, bin string)) {
	t.Helper()
	builds := []struct {
		name string
		bin  func(testing.TB) string
	}{{pause.BinaryName, testharness.PauseBinary}, {testharness.PauseGoName, testharness.PauseBinaryGo}}
	for _, b := range builds {
		t.Run(b.name, func(t *testing.T) { fn(t, b.bin(t)) })
	}
}

// isEmulated reports whether bin runs another architecture's pause under
// qemu-user (testharness.PauseBinaryEmulated).
func isEmulated(bin string) bool { return strings.HasSuffix(bin, "-qemu") }

// isBare reports whether bin is linked with the bare pause.
func isBare(bin string) bool {
	return strings.Contains(pause.LinkFlags(runtime.GOARCH), pause.BareLinkFlag) && filepath.Base(bin) == pause.BinaryName
}

// start starts a pause and makes sure it is gone at cleanup.
func start(t *testing.T, o pause.Options) *pause.Process {
	t.Helper()
	if o.Path == "" {
		o.Path = testharness.PauseBinary(t)
	}
	ctx, cancel := context.WithTimeout(bgCtx(), deadline)
	defer cancel()
	p, err := pause.Start(ctx, o)
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		p.Signal(9)
		p.Wait()
		p.Close()
	})
	return p
}

type event struct {
	Event  string `json:"event"`
	Pid    int    `json:"pid"`
	Code   int    `json:"code"`
	Signal string `json:"signal"`
	Action string `json:"action"`
}

// eventPipe returns the write end for Options.Events and a channel of the
// events read from it; call done() right after Start to drop our copy of the
// write end. The channel closes when the pause (and its children) are gone.
func eventPipe(t *testing.T) (w *os.File, done func(), events <-chan event) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() }) // if Start failed
	ch := make(chan event, 1<<15)
	go func() {
		defer r.Close()
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			var e event
			if err := json.Unmarshal(sc.Bytes(), &e); err != nil {
				t.Errorf("bad event line %q: %v", sc.Text(), err)
				continue
			}
			ch <- e
		}
	}()
	return w, func() { w.Close() }, ch
}

// waitEvent returns the first event for which match is true.
func waitEvent(t *testing.T, events <-chan event, what string, match func(event) bool) event {
	t.Helper()
	timeout := time.After(deadline)
	for {
		select {
		case e, ok := <-events:
			if !ok {
				t.Fatalf("events closed while waiting for %s", what)
			}
			if match(e) {
				return e
			}
		case <-timeout:
			t.Fatalf("no %s event within %v", what, deadline)
		}
	}
}

// lines returns a channel of the lines written to r.
func lines(r *os.File) <-chan string {
	ch := make(chan string, 64)
	go func() {
		defer r.Close()
		defer close(ch)
		sc := bufio.NewScanner(r)
		for sc.Scan() {
			ch <- sc.Text()
		}
	}()
	return ch
}

// expectLines waits until every wanted line was seen (in any order).
func expectLines(t *testing.T, ch <-chan string, want ...string) {
	t.Helper()
	missing := map[string]bool{}
	for _, w := range want {
		missing[w] = true
	}
	timeout := time.After(deadline)
	for len(missing) > 0 {
		select {
		case l, ok := <-ch:
			if !ok {
				t.Fatalf("output closed, still missing %v", missing)
			}
			delete(missing, l)
		case <-timeout:
			t.Fatalf("still missing %v after %v", missing, deadline)
		}
	}
}

// statusMask parses the hexadecimal signal mask field of /proc/PID/status.
func statusMask(t *testing.T, pid int, field string) uint64 {
	t.Helper()
	m, err := strconv.ParseUint(procStatus(t, pid, field), 16, 64)
	if err != nil {
		t.Fatalf("%s of %d: %v", field, pid, err)
	}
	return m
}

// procStatus returns the value of field in /proc/PID/status.
func procStatus(t *testing.T, pid int, field string) string {
	t.Helper()
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/status")
	if err != nil {
		t.Fatal(err)
	}
	for _, l := range strings.Split(string(b), "\n") {
		if v, ok := strings.CutPrefix(l, field+":"); ok {
			return strings.TrimSpace(v)
		}
	}
	t.Fatalf("no %s in /proc/%d/status", field, pid)
	return ""
}

// zombieChildren counts zombies whose parent is ppid, from /proc.
func zombieChildren(ppid int) int {
	n := 0
	ents, _ := os.ReadDir("/proc")
	for _, e := range ents {
		if _, err := strconv.Atoi(e.Name()); err != nil {
			continue
		}
		b, err := os.ReadFile(filepath.Join("/proc", e.Name(), "stat"))
		if err != nil {
			continue
		}
		s := string(b)
		f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:]) // state ppid ...
		if len(f) > 1 && f[0] == "Z" && f[1] == strconv.Itoa(ppid) {
			n++
		}
	}
	return n
}

// eventually polls cond until it holds or the deadline passes.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	testharness.Eventually(t, what, deadline, 10*time.Millisecond, cond)
}
