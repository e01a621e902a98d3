//go:build linux

package pause_test

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/pause"
)

// The bare pause (bare_linux_amd64.s, bare_linux_arm64.s) writes its event
// lines and notices itself; these tests hold it to the Go program's words,
// and check that everything but pause mode still runs the Go program.

// startWithEventsPipe starts bin's pause mode as PID 1 of new namespaces,
// with its events on a pipe (non-blocking, as os.Pipe makes it) whose read
// end it returns; the pause holds the only write end.
func startWithEventsPipe(t *testing.T, bin string) (*pause.Process, *os.File) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close(); w.Close() }) // w: if start failed
	p := start(t, pause.Options{Path: bin, Cloneflags: pause.PodNamespaces, Events: w})
	w.Close()
	return p, r
}

// TestLinkFlagsAgree: the test harness, which cannot import this package,
// builds the pause as LinkFlags says.
func TestLinkFlagsAgree(t *testing.T) {
	for _, arch := range []string{"amd64", "arm64", "riscv64"} {
		if got, want := testharness.PauseLinkFlags(arch), pause.LinkFlags(arch); got != want {
			t.Errorf("GOARCH=%s: harness links the pause with %q, package pause says %q", arch, got, want)
		}
	}
}

// TestEventLinesAlike: orphans that exit with 0 and 3, or are killed by
// SIGKILL, a real-time signal and one of the two glibc-reserved ones, give
// the same event lines from both builds, byte for byte but the pids.
func TestEventLinesAlike(t *testing.T) {
	testharness.Privileged(t)
	want := []string{
		`{"event":"orphan","pid":P,"code":0}`,
		`{"event":"orphan","pid":P,"code":137,"signal":"SIGKILL"}`,
		`{"event":"orphan","pid":P,"code":161,"signal":"SIG33"}`,
		`{"event":"orphan","pid":P,"code":168,"signal":"SIGRTMIN+6"}`,
		`{"event":"orphan","pid":P,"code":3}`,
		`{"event":"signal","signal":"SIGTERM","action":"exit"}`,
	}
	eachPause(t, func(t *testing.T, bin string) {
		want := want
		if isEmulated(bin) {
			// qemu-user keeps the host's first two real-time signals for
			// itself and numbers the rest down by two: the emulated pause
			// sees signal 40 as 38.
			want = slices.Clone(want)
			want[3] = `{"event":"orphan","pid":P,"code":166,"signal":"SIGRTMIN+4"}`
		}
		p, r := startWithEventsPipe(t, bin)
		got := lines(r)
		// Each ( ... ) outlives the shell that started it, so the pause
		// reaps it, as PID 1.
		sh := exec.Command("/bin/sh", "-c", `for how in "exit 0" "exit 3" "kill -KILL \$\$" "kill -40 \$\$" "kill -33 \$\$"; do
			(sleep 0.2; exec /bin/sh -c "$how") &
		done`)
		runInPidNS(t, p, sh)
		var seen []string
		for len(seen) < 5 {
			select {
			case l := <-got:
				seen = append(seen, l)
			case <-time.After(deadline):
				t.Fatalf("after %v only %q", deadline, seen)
			}
		}
		if err := p.Signal(syscall.SIGTERM); err != nil {
			t.Fatal(err)
		}
		for l := range got {
			seen = append(seen, l)
		}
		pid := regexp.MustCompile(`"pid":[0-9]+,`)
		for i, l := range seen {
			seen[i] = pid.ReplaceAllString(l, `"pid":P,`)
		}
		slices.Sort(seen)
		if !slices.Equal(seen, want) {
			t.Fatalf("event lines (pids as P, sorted):\n%s\nwant:\n%s", strings.Join(seen, "\n"), strings.Join(want, "\n"))
		}
	})
}

// TestSubreaperNoticeInPauseMode: a pause-mode pause that is not PID 1 says
// so on stderr, in the same words from both builds.
func TestSubreaperNoticeInPauseMode(t *testing.T) {
	testharness.Privileged(t)
	eachNativePause(t, func(t *testing.T, bin string) {
		r, w, err := os.Pipe()
		if err != nil {
			t.Fatal(err)
		}
		p := start(t, pause.Options{Path: bin, Stderr: w})
		w.Close()
		said := lines(r)
		if st, err := p.Stop(bgCtx()); err != nil || !st.Success() {
			t.Fatalf("Stop: %v, %v", st, err)
		}
		var all []string
		for l := range said {
			all = append(all, l)
		}
		want := fmt.Sprintf("podkit-pause: not PID 1 (pid %d): registered as child subreaper", p.Pid)
		if len(all) != 1 || all[0] != want {
			t.Fatalf("stderr %q, want %q", all, want)
		}
	})
}

// TestBareLeavesTheRestToGo: with arguments outside pause mode's own
// --flag=N forms, the binary runs the Go program, which parses, refuses or
// runs them as it always did. The emulated builds' bare pauses parse their
// arguments with code of their own, so they take the same cases.
func TestBareLeavesTheRestToGo(t *testing.T) {
	testharness.Privileged(t)
	bins := []string{testharness.PauseBinary(t)}
	for _, goarch := range testharness.EmulatedPauseArchs() {
		if bin, ok := testharness.PauseBinaryEmulated(t, goarch); ok {
			bins = append(bins, bin)
		}
	}
	for _, bin := range bins {
		t.Run(filepath.Base(bin), func(t *testing.T) { leavesTheRestToGo(t, bin) })
	}
}

func leavesTheRestToGo(t *testing.T, bin string) {
	for _, c := range []struct {
		args []string
		code int
		out  string // start of stdout, or of stderr when code != 0
	}{
		{[]string{"--version"}, 0, "podkit-pause "},
		{[]string{"--ready-fd=3", "--events-fd=3"}, 2, "podkit-pause: "},
		{[]string{"--events-drop"}, 2, "podkit-pause: "},
		{[]string{"--ready-fd=1048577"}, 2, "podkit-pause: "},
		{[]string{"--ready-fd=-1"}, 2, "podkit-pause: "},
		{[]string{"--ready-fd="}, 2, "podkit-pause: "},
		{[]string{"--bogus"}, 2, "podkit-pause: "},
		{[]string{"--", "/bin/sh", "-c", "exit 7"}, 7, ""},
	} {
		if isEmulated(bin) && c.args[0] == "--" {
			continue // init mode, not PID 1: qemu-user refuses the subreaper
		}
		cmd := exec.Command(bin, c.args...)
		var stdout, stderr strings.Builder
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		err := cmd.Run()
		code := 0
		if ee, ok := err.(*exec.ExitError); ok {
			code = ee.ExitCode()
		} else if err != nil {
			t.Fatalf("%v: %v", c.args, err)
		}
		out := stdout.String()
		if code != 0 {
			out = stderr.String()
		}
		if code != c.code || !strings.HasPrefix(out, c.out) {
			t.Errorf("%v: exit %d, output %q; want exit %d, output starting %q", c.args, code, out, c.code, c.out)
		}
	}
	// "--ready-fd 3" (a separate value) is valid, but not the bare pause's
	// form: the Go program runs pause mode, with its threads.
	if threads := threadsWhenReady(t, bin, "--ready-fd", "3"); threads < 2 {
		t.Fatalf("--ready-fd 3: %d threads; want the Go program (several threads)", threads)
	}
}

// TestEmulatedPauseIsBare: the pause built for another architecture, run
// under qemu-user, takes its own arguments in the bare pause and leaves
// the Go program's form to the Go runtime, which starts threads (each a
// thread of qemu's too): the eachPause runs of that build tested the bare
// pause, not the Go program.
func TestEmulatedPauseIsBare(t *testing.T) {
	testharness.Privileged(t)
	for _, goarch := range testharness.EmulatedPauseArchs() {
		bin, ok := testharness.PauseBinaryEmulated(t, goarch)
		if !ok {
			continue
		}
		bare := threadsWhenReady(t, bin, "--ready-fd=3")
		goProgram := threadsWhenReady(t, bin, "--ready-fd", "3")
		t.Logf("%s under qemu-user: %d threads as the bare pause, %d as the Go program", goarch, bare, goProgram)
		if bare >= goProgram {
			t.Errorf("%s: the bare pause has %d threads, the Go program %d: want fewer", goarch, bare, goProgram)
		}
	}
}

// threadsWhenReady starts bin with args as PID 1 of a new PID namespace,
// with a ready pipe at fd 3, and returns its thread count once it is
// ready; then it stops it with SIGTERM, which must end it with status 0.
func threadsWhenReady(t *testing.T, bin string, args ...string) int {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Cloneflags: syscall.CLONE_NEWPID}
	ready, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer ready.Close()
	cmd.ExtraFiles = []*os.File{w}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	w.Close()
	if n, err := ready.Read(make([]byte, 1)); n != 1 {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("%s %q: no ready byte: %v", bin, args, err)
	}
	threads, _ := strconv.Atoi(procStatus(t, cmd.Process.Pid, "Threads"))
	cmd.Process.Signal(syscall.SIGTERM)
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%s %q: after SIGTERM: %v; want exit status 0", bin, args, err)
	}
	return threads
}

// TestFullEventsFdWaits: without DropEvents, a pause whose events pipe is
// full (the reader comes late; the pipe is non-blocking, as os.Pipe makes
// it) waits until it can write, in ppoll, and loses no event.
func TestFullEventsFdWaits(t *testing.T) {
	testharness.Privileged(t)
	const n = 2000 // ~80 kB of event lines: more than a 64 kB pipe holds
	eachPause(t, func(t *testing.T, bin string) {
		p, r := startWithEventsPipe(t, bin)
		makeOrphans(t, p, n)
		eventually(t, "the pause blocked on its full events pipe", func() bool {
			return procStatus(t, p.Pid, "State")[0] == 'S' && zombieChildren(p.Pid) > 0
		})
		got := lines(r) // the reader starts only now
		orphans := 0
		for orphans < n {
			select {
			case l := <-got:
				if strings.HasPrefix(l, `{"event":"orphan",`) {
					orphans++
				}
			case <-time.After(deadline):
				t.Fatalf("%d of %d orphan events after %v", orphans, n, deadline)
			}
		}
		if st, err := p.Stop(bgCtx()); err != nil || !st.Success() {
			t.Fatalf("Stop: %v, %v", st, err)
		}
	})
}

// TestEventsReaderGone: when the reader of the events pipe goes away, the
// pause stops reporting (EPIPE; SIGPIPE is ignored, so it cannot kill it)
// and goes on reaping.
func TestEventsReaderGone(t *testing.T) {
	testharness.Privileged(t)
	eachPause(t, func(t *testing.T, bin string) {
		p, r := startWithEventsPipe(t, bin)
		r.Close()
		makeOrphans(t, p, 50)
		eventually(t, "zombies of the pause back to 0", func() bool { return zombieChildren(p.Pid) == 0 })
		if st, err := p.Stop(bgCtx()); err != nil || !st.Success() {
			t.Fatalf("Stop after the reader went away: %v, %v; want exit 0", st, err)
		}
	})
}
