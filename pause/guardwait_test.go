//go:build linux

package pause_test

import (
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func init() {
	// guard-record is the manager's binary run as its guard: it copies
	// the messages handed to it on fd 3 to $PODKIT_GUARD_OUT.
	testharness.RegisterHelper("guard-record", func() int {
		b, err := io.ReadAll(os.NewFile(3, "guard-log"))
		if err == nil {
			err = os.WriteFile(os.Getenv("PODKIT_GUARD_OUT"), b, 0o644)
		}
		if err != nil {
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
		return 0
	})
}

// TestGuardWait: the pause binary standing in for a sandbox manager's
// guard (podkit-pause --guard-wait=4 -- ARGV, as sandbox starts it) exits
// on the manager's "bye"; when the pipe ends without one it runs the
// manager's binary with the messages of the sandboxes still registered
// on fd 3, and runs nothing if none is. Enough messages to fill the bare
// stand-in's buffer make it hand over to the Go program while the manager
// lives, which goes on from where the bare one stopped.
func TestGuardWait(t *testing.T) {
	for _, tc := range guardWaitCases {
		t.Run(tc.name, func(t *testing.T) {
			eachNativePause(t, func(t *testing.T, bin string) {
				cmd, out := startGuardWait(t, bin, tc, os.Stderr)
				if err := cmd.Wait(); err != nil {
					t.Fatalf("stand-in: %v", err)
				}
				got, err := os.ReadFile(out)
				switch {
				case tc.want == "" && err == nil:
					t.Fatalf("the manager's binary ran with %q, want it not run", got)
				case tc.want == "" && os.IsNotExist(err):
				case err != nil:
					t.Fatalf("the manager's binary did not run: %v", err)
				case string(got) != tc.want:
					t.Fatalf("the manager's binary got %q, want %q", got, tc.want)
				}
			})
		})
	}
}

// TestGuardWaitEmulated runs the cases on the bare stand-ins of other
// architectures under qemu-user, which cannot execute their hand-over
// (an arm64 binary, with no binfmt_misc here): its system call trace
// ($QEMU_STRACE) shows that a "bye" ends the stand-in with nothing
// executed, and that every other case executes itself with
// --guard-wait=4,5 after writing all it read to fd 5.
func TestGuardWaitEmulated(t *testing.T) {
	for _, goarch := range testharness.EmulatedPauseArchs() {
		bin, ok := testharness.PauseBinaryEmulated(t, goarch)
		if !ok {
			continue
		}
		for _, tc := range guardWaitCases {
			t.Run(goarch+"/"+tc.name, func(t *testing.T) {
				var trace strings.Builder
				cmd, _ := startGuardWait(t, bin, tc, &trace, "QEMU_STRACE=1")
				err := cmd.Wait()
				handOver := tc.want != "" || tc.churn > 0 || !strings.HasSuffix(tc.tail, guardBye)
				if !handOver {
					if err != nil || strings.Contains(trace.String(), "execve(") {
						t.Fatalf("after a bye: %v, trace:\n%s", err, trace.String())
					}
					return
				}
				held := min(len(tc.messages()), 256<<10)
				wrote := regexp.MustCompile(`write\(5,0x[0-9a-f]+,` + strconv.Itoa(held) + `\) = ` + strconv.Itoa(held))
				execed := `","--guard-wait=4,5","--","` + testharness.HelperBinary() + `","guard","1:2",NULL})`
				if !wrote.MatchString(trace.String()) || !strings.Contains(trace.String(), `execve("/proc/self/exe",{"`) ||
					!strings.Contains(trace.String(), execed) {
					t.Fatalf("want %d bytes written to fd 5, then an execve of /proc/self/exe with ...%s; trace:\n%s", held, execed, trace.String())
				}
			})
		}
	}
}

const guardBye = `{"op":"bye"}` + "\n"

func guardAdd(d string) string { return `{"op":"add","dir":"` + d + `","die":true}` + "\n" }
func guardDel(d string) string { return `{"op":"del","dir":"` + d + `"}` + "\n" }

type guardWaitCase struct {
	name  string
	churn int // add+del pairs sent first: 2,000 fill the bare stand-in's 256 KiB
	tail  string
	want  string // on the manager's fd 3; "" = the manager's binary does not run
}

var guardWaitCases = []guardWaitCase{
	{"bye", 0, guardAdd("/p/a") + guardAdd("/p/b") + guardBye, ""},
	{"bye-only", 0, guardBye, ""},
	{"died", 0, guardAdd("/p/a") + guardAdd("/p/b") + guardDel("/p/a"), guardAdd("/p/b")},
	{"died-after-all-left", 0, guardAdd("/p/a") + guardDel("/p/a"), ""},
	{"died-mid-line", 0, guardAdd("/p/a") + `{"op":"bye"`, guardAdd("/p/a")},
	{"not-bye-line", 0, guardAdd("/p/a") + "x" + guardBye, guardAdd("/p/a")},
	{"full-then-bye", 2000, guardAdd("/p/z") + guardBye, ""},
	{"full-then-died", 2000, guardAdd("/p/z"), guardAdd("/p/z")},
}

// churnMessages are the case's add+del pairs.
func (tc guardWaitCase) churnMessages() string {
	var msgs strings.Builder
	for i := range tc.churn {
		d := fmt.Sprintf("/run/podkit/sandboxes/churn-%06d-%s", i, strings.Repeat("x", 40))
		msgs.WriteString(guardAdd(d) + guardDel(d))
	}
	return msgs.String()
}

func (tc guardWaitCase) messages() string { return tc.churnMessages() + tc.tail }

// startGuardWait starts bin as a guard's stand-in whose manager's binary
// is this test binary's guard-record helper, sends the case's messages
// and closes the pipe as the manager's exit would. It returns the started
// command and the file the helper writes if it runs.
// Under qemu-user (stderr is its trace) the stand-in may be gone before
// the last messages, after its failed hand-over: their write may fail.
func startGuardWait(t *testing.T, bin string, tc guardWaitCase, stderr io.Writer, env ...string) (*exec.Cmd, string) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	exe, err := os.Open(testharness.HelperBinary())
	if err != nil {
		t.Fatal(err)
	}
	defer exe.Close()
	out := filepath.Join(t.TempDir(), "guard-log")
	cmd := exec.Command(bin, "--guard-wait=4", "--", testharness.HelperBinary(), "guard", "1:2")
	cmd.Env = append(append(os.Environ(), testharness.HelperEnv("guard-record"), "PODKIT_GUARD_OUT="+out), env...)
	cmd.ExtraFiles = []*os.File{r, exe}
	cmd.Stderr = stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { _ = cmd.Process.Kill() })
	if _, err := w.WriteString(tc.churnMessages()); err != nil && !isEmulated(bin) {
		t.Fatal(err)
	}
	if tc.churn == 0 && isBare(bin) {
		// Collecting the messages takes no Go runtime: one thread in read(3).
		pid := cmd.Process.Pid
		testharness.Eventually(t, "the stand-in to read fd 3", deadline, time.Millisecond, func() bool {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/syscall", pid))
			return strings.HasPrefix(string(b), "0 0x3 ")
		})
		if n := procStatus(t, pid, "Threads"); n != "1" {
			t.Fatalf("the bare stand-in has %s threads, want 1", n)
		}
	}
	if tc.churn > 0 && isBare(bin) {
		// The bare stand-in's buffer is full: the Go program reads on.
		testharness.Eventually(t, "the hand-over to the Go program", deadline, time.Millisecond, func() bool {
			b, _ := os.ReadFile(fmt.Sprintf("/proc/%d/cmdline", cmd.Process.Pid))
			return strings.Contains(string(b), "--guard-wait=4,5\x00")
		})
	}
	if _, err := w.WriteString(tc.tail); err != nil && !isEmulated(bin) {
		t.Fatal(err)
	}
	w.Close()
	return cmd, out
}
