//go:build linux

package cli

import (
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"reflect"
	"syscall"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
)

func TestMain(m *testing.M) { testharness.Main(m) }

func TestParse(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want Config
	}{
		{nil, Config{ReadyFD: -1, EventsFD: -1}},
		{[]string{"--version"}, Config{Version: true, ReadyFD: -1, EventsFD: -1}},
		{[]string{"-h"}, Config{Help: true, ReadyFD: -1, EventsFD: -1}},
		{[]string{"--ready-fd=3"}, Config{ReadyFD: 3, EventsFD: -1}},
		{[]string{"--ready-fd", "3", "-events-fd=4"}, Config{ReadyFD: 3, EventsFD: 4}},
		{[]string{"--events-fd=4", "--events-drop"}, Config{ReadyFD: -1, EventsFD: 4, EventsDrop: true}},
		{[]string{"--", "sh", "-c", "exit 1"}, Config{ReadyFD: -1, EventsFD: -1, Command: []string{"sh", "-c", "exit 1"}}},
		{[]string{"--orphans=wait", "--", "x", "--ready-fd=9"},
			Config{ReadyFD: -1, EventsFD: -1, Orphans: OrphansWait, Command: []string{"x", "--ready-fd=9"}}},
		{[]string{"--orphans", "exit", "--", "x"}, Config{ReadyFD: -1, EventsFD: -1, Command: []string{"x"}}},
		{[]string{"--guard-wait=4", "--", "/proc/self/exe", "guard", "1:2"},
			Config{ReadyFD: -1, EventsFD: -1, GuardWait: 4, Command: []string{"/proc/self/exe", "guard", "1:2"}}},
		{[]string{"--guard-wait=4,5", "--", "m"}, Config{ReadyFD: -1, EventsFD: -1, GuardWait: 4, GuardRead: 5, Command: []string{"m"}}},
	} {
		got, err := Parse(tc.args)
		if err != nil || !reflect.DeepEqual(got, tc.want) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", tc.args, got, err, tc.want)
		}
	}
}

func TestParseErrors(t *testing.T) {
	for _, args := range [][]string{
		{"sh"}, {"--bogus"}, {"--ready-fd"}, {"--ready-fd=x"}, {"--ready-fd=-1"}, {"--ready-fd=99999999"},
		{"--version=1"}, {"--orphans=sometimes", "--", "x"}, {"--orphans=wait"}, {"--"}, {"--", ""},
		{"--ready-fd=3", "--events-fd=3"}, {"--events-drop"}, {"--events-fd=4", "--events-drop=1"},
		{"--guard-wait=4"}, {"--guard-wait=4", "--ready-fd=3", "--", "x"}, {"--guard-wait=x", "--", "x"}, {"--guard-wait=2", "--", "x"},
		{"--guard-wait=4,3", "--", "x"}, {"--guard-wait=4,4", "--", "x"}, {"--guard-wait=4,", "--", "x"}, {"--guard-wait=,5", "--", "x"},
	} {
		_, err := Parse(args)
		var ue *UsageError
		if !errors.Is(err, ErrUsage) || !errors.As(err, &ue) || ue.Op != "parse" {
			t.Errorf("Parse(%q) = %v; want a *UsageError wrapping ErrUsage", args, err)
		}
	}
}

func TestArgsRoundTrip(t *testing.T) {
	for _, c := range []Config{
		{ReadyFD: -1, EventsFD: -1},
		{ReadyFD: 3, EventsFD: -1},
		{ReadyFD: 3, EventsFD: 4, Command: []string{"/bin/sh", "--", "-c"}},
		{ReadyFD: -1, EventsFD: 7, Orphans: OrphansWait, Command: []string{"x"}},
		{ReadyFD: 3, EventsFD: 4, EventsDrop: true},
		{ReadyFD: -1, EventsFD: -1, GuardWait: 9, Command: []string{"m", "g", "t"}},
		{ReadyFD: -1, EventsFD: -1, GuardWait: 4, GuardRead: 5, Command: []string{"m"}},
	} {
		got, err := Parse(c.Args())
		if err != nil || !reflect.DeepEqual(got, c) {
			t.Errorf("Parse(%q) = %+v, %v; want %+v", c.Args(), got, err, c)
		}
	}
}

func TestStatusCode(t *testing.T) {
	for _, tc := range []struct {
		ws   syscall.WaitStatus
		want int
	}{
		{0, 0},
		{42 << 8, 42},
		{255 << 8, 255},
		{syscall.WaitStatus(syscall.SIGKILL), 137},
		{syscall.WaitStatus(syscall.SIGSEGV) | 0x80, 139}, // core dumped
		{syscall.WaitStatus(syscall.SIGSTOP<<8 | 0x7f), -1},
	} {
		if got := StatusCode(tc.ws); got != tc.want {
			t.Errorf("StatusCode(%#x) = %d, want %d", uint32(tc.ws), got, tc.want)
		}
	}
}

func TestExecErrorCode(t *testing.T) {
	for err, want := range map[error]int{
		syscall.ENOENT:  127,
		syscall.ENOTDIR: 127,
		&PathError{Op: "lookpath", Path: "x", Err: ErrNotFound}: 127,
		syscall.EACCES:  126,
		syscall.ENOEXEC: 126,
		syscall.EISDIR:  126,
		syscall.E2BIG:   126,
	} {
		if got := ExecErrorCode(err); got != want {
			t.Errorf("ExecErrorCode(%v) = %d, want %d", err, got, want)
		}
	}
}

func TestDecide(t *testing.T) {
	for _, tc := range []struct {
		sig  syscall.Signal
		init bool
		want Action
	}{
		{syscall.SIGCHLD, false, Reap}, {syscall.SIGCHLD, true, Reap},
		{syscall.SIGTERM, false, Exit}, {syscall.SIGINT, false, Exit},
		{syscall.SIGHUP, false, Ignore}, {syscall.SIGUSR1, false, Ignore}, {syscall.SIGPIPE, false, Ignore},
		{syscall.SIGTERM, true, Forward}, {syscall.SIGINT, true, Forward}, {syscall.SIGHUP, true, Forward},
		{syscall.SIGSEGV, true, Forward}, {syscall.Signal(40), true, Forward},
		{syscall.SIGURG, true, Ignore}, {syscall.SIGURG, false, Ignore},
	} {
		if got := Decide(tc.sig, tc.init); got != tc.want {
			t.Errorf("Decide(%v, init=%v) = %v, want %v", tc.sig, tc.init, got, tc.want)
		}
	}
}

func TestSignalName(t *testing.T) {
	for sig, want := range map[syscall.Signal]string{
		1: "SIGHUP", 15: "SIGTERM", 31: "SIGSYS", 32: "SIG32", 34: "SIGRTMIN+0", 64: "SIGRTMIN+30", 65: "SIG65",
	} {
		if got := SignalName(sig); got != want {
			t.Errorf("SignalName(%d) = %q, want %q", sig, got, want)
		}
	}
}

func TestAppendJSON(t *testing.T) {
	for _, tc := range []struct {
		e    Event
		want string
	}{
		{Event{Kind: EventOrphan, Pid: 42}, `{"event":"orphan","pid":42,"code":0}`},
		{Event{Kind: EventExit, Pid: 2, Status: syscall.WaitStatus(syscall.SIGKILL)},
			`{"event":"exit","pid":2,"code":137,"signal":"SIGKILL"}`},
		{Event{Kind: EventExit, Pid: 7, Status: 3 << 8}, `{"event":"exit","pid":7,"code":3}`},
		{Event{Kind: EventSignal, Signal: syscall.SIGUSR1, Action: Forward},
			`{"event":"signal","signal":"SIGUSR1","action":"forwarded"}`},
	} {
		got := string(AppendJSON([]byte("x"), tc.e))
		if got != "x"+tc.want+"\n" {
			t.Errorf("AppendJSON(%+v) = %q, want %q", tc.e, got, tc.want)
		}
		var v map[string]any
		if err := json.Unmarshal([]byte(got[1:]), &v); err != nil {
			t.Errorf("not valid JSON: %q: %v", got, err)
		}
	}
}

func TestLookPath(t *testing.T) {
	dir := t.TempDir()
	mk := func(name string, mode os.FileMode) string {
		p := filepath.Join(dir, name)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(p, nil, mode); err != nil {
			t.Fatal(err)
		}
		return p
	}
	exe := mk("b/tool", 0o755)
	plain := mk("a/tool", 0o644)
	mk("a/only-plain", 0o644)
	os.Mkdir(filepath.Join(dir, "a", "subdir"), 0o755)
	path := filepath.Join(dir, "a") + ":" + filepath.Join(dir, "b")
	for _, tc := range []struct {
		file, want string
		err        error
	}{
		{"tool", exe, nil}, // executable wins over an earlier plain file
		{"only-plain", filepath.Join(dir, "a", "only-plain"), nil}, // -> EACCES -> 126
		{"subdir", "", ErrNotFound},
		{"missing", "", ErrNotFound},
		{"", "", ErrNotFound},
		{"./rel/x", "./rel/x", nil},
		{plain, plain, nil},
	} {
		got, err := LookPath(tc.file, path)
		if got != tc.want || !errors.Is(err, tc.err) || (tc.err == nil) != (err == nil) {
			t.Errorf("LookPath(%q) = %q, %v; want %q, %v", tc.file, got, err, tc.want, tc.err)
		}
	}
	if got, err := LookPath("sh", ""); err != nil || got == "" {
		t.Errorf("LookPath(sh) with the default PATH = %q, %v", got, err)
	}
}

func TestOrphanPolicy(t *testing.T) {
	for s, want := range map[string]OrphanPolicy{"exit": OrphansExit, "wait": OrphansWait} {
		if got, ok := ParseOrphanPolicy(s); !ok || got != want || got.String() != s {
			t.Errorf("ParseOrphanPolicy(%q) = %v, %v", s, got, ok)
		}
	}
	if _, ok := ParseOrphanPolicy("never"); ok {
		t.Error(`ParseOrphanPolicy("never") accepted`)
	}
}
