//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

// syncBuffer is a bytes.Buffer safe for a writer and a reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// attachment is an AttachContainer running in the background.
type attachment struct {
	out, err syncBuffer
	res      chan error
	cancel   context.CancelFunc
}

func attachBG(sb *Sandbox, name string, stdin io.Reader) *attachment {
	ctx, cancel := context.WithCancel(context.Background())
	a := &attachment{res: make(chan error, 1), cancel: cancel}
	go func() {
		a.res <- sb.AttachContainer(ctx, name, AttachOptions{Stdin: stdin, Stdout: &a.out, Stderr: &a.err})
	}()
	return a
}

// waitTaps waits until n attaches are registered with the container.
func waitTaps(t *testing.T, sb *Sandbox, name string, n int) {
	t.Helper()
	c, err := sb.container("test", name)
	if err != nil {
		t.Fatal(err)
	}
	l := c.sink()
	eventually(t, "attaches registered", func() bool {
		l.tapMu.Lock()
		defer l.tapMu.Unlock()
		return len(l.taps) == n
	})
}

func result(t *testing.T, a *attachment) error {
	t.Helper()
	select {
	case err := <-a.res:
		return err
	case <-time.After(60 * time.Second):
		t.Fatal("attach did not return")
		return nil
	}
}

func TestAttachContainer(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "attach"))
	spec := ctr(rootfs, "main", "echo2")
	spec.Stdin, spec.LogFormat = true, LogCRI
	run(t, sb, spec)
	write := func(s string) {
		t.Helper()
		w, err := sb.AttachStdin("main")
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, s); err != nil {
			t.Fatal(err)
		}
		w.Close()
	}
	write("before\n")
	eventually(t, "the first line in the log", func() bool { return strings.Contains(logOf(t, sb, "main"), "stderr F err before") })

	inR, inW := io.Pipe()
	a := attachBG(sb, "main", inR)
	b := attachBG(sb, "main", nil)
	waitTaps(t, sb, "main", 2)
	if _, err := io.WriteString(inW, "x\n"); err != nil {
		t.Fatal(err)
	}
	for _, at := range []*attachment{a, b} {
		eventually(t, "both streams apart", func() bool { return at.out.String() == "x\n" && at.err.String() == "err x\n" })
	}
	b.cancel()
	if err := result(t, b); !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled attach: %v", err)
	}
	// Without StdinOnce the end of a's stdin leaves it attached.
	inW.Close()
	write("y\n")
	eventually(t, "output after the stdin ended", func() bool { return a.out.String() == "x\ny\n" })
	if b.out.String() != "x\n" {
		t.Fatalf("a detached attach got %q", b.out.String())
	}
	if err := sb.StopContainer(context.Background(), "main", 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := result(t, a); err != nil {
		t.Fatalf("attach at the container's exit: %v", err)
	}
	err := sb.AttachContainer(context.Background(), "main", AttachOptions{Stdout: io.Discard})
	var e *Error
	if !errors.Is(err, ErrInvalidState) || !errors.As(err, &e) || e.Container != "main" {
		t.Fatalf("attach to an exited container: %v", err)
	}
	if err := sb.ResizeContainerTTY("main", TerminalSize{Width: 1, Height: 1}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("resize without a terminal: %v", err)
	}
}

// A writer that blocks holds up neither the container nor its log.
func TestAttachSlow(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "attachslow"))
	if err := sb.CreateContainer(context.Background(), ctr(rootfs, "spew", "spew", "4")); err != nil {
		t.Fatal(err)
	}
	pr, pw := io.Pipe() // never read
	defer pr.Close()
	ctx, cancel := context.WithCancel(context.Background())
	res := make(chan error, 1)
	go func() { res <- sb.AttachContainer(ctx, "spew", AttachOptions{Stdout: pw}) }()
	waitTaps(t, sb, "spew", 1)
	if err := sb.StartContainer(context.Background(), "spew"); err != nil {
		t.Fatal(err)
	}
	if es := waitExit(t, sb, "spew"); es.ExitCode != 0 {
		t.Fatalf("spew: %+v", es)
	}
	st, err := os.Stat(sb.Dir() + "/logs/spew.log")
	if err != nil || st.Size() != 4<<20 {
		t.Fatalf("log: %v %v", st, err)
	}
	c, _ := sb.container("test", "spew")
	l := c.sink()
	l.tapMu.Lock()
	for tp := range l.taps { // what the blocked writer could not take was dropped
		if d := tp.dropped(); d < 3<<20 {
			t.Errorf("dropped %d bytes of 4 MiB for a writer that never returns, with a 1 MiB queue", d)
		}
	}
	l.tapMu.Unlock()
	cancel() // the attach waits for its writer, within ctx
	if err := <-res; !errors.Is(err, context.Canceled) {
		t.Fatalf("attach: %v", err)
	}
}

func TestContainerTTY(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "ctrtty"))
	spec := ctr(rootfs, "term", "tty")
	spec.TTY, spec.Stdin, spec.LogFormat = true, true, LogCRI
	ctx := context.Background()
	if err := sb.CreateContainer(ctx, spec); err != nil {
		t.Fatal(err)
	}
	bad := spec
	bad.Name, bad.Stdout, bad.Stderr = "bad", os.Stdout, os.Stderr
	if err := sb.CreateContainer(ctx, bad); !errors.Is(err, ErrInvalidConfig) {
		t.Fatalf("TTY with Stdout: %v", err)
	}
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	defer inW.Close()
	resize := make(chan TerminalSize, 1)
	res := make(chan error, 1)
	go func() {
		res <- sb.AttachContainer(ctx, "term", AttachOptions{Stdin: inR, Stdout: outW, Stderr: io.Discard, Resize: resize})
		outW.Close()
	}()
	next := lineReader(t, outR)
	waitTaps(t, sb, "term", 1)
	if err := sb.StartContainer(ctx, "term"); err != nil {
		t.Fatal(err)
	}
	// isatty on stdin, a terminal of the container's devpts, its
	// controlling one; 0x0 until someone sets a size.
	first := strings.Fields(next("tty "))
	if len(first) != 4 || !strings.HasPrefix(first[1], "/dev/pts/") || first[2] != "0x0" || first[3] != "ctty=true" {
		t.Fatalf("terminal: %v", first)
	}
	resize <- TerminalSize{Width: 100, Height: 40}
	if l := next("winch "); l != "winch 40x100" { // what stty size reads (TIOCGWINSZ)
		t.Fatalf("after resize: %q", l)
	}
	if err := sb.ResizeContainerTTY("term", TerminalSize{Width: 90, Height: 30}); err != nil {
		t.Fatal(err)
	}
	if _, err := inW.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if l := next("got "); l != "got hello" {
		t.Fatalf("stdin through the terminal: %q", l)
	}
	if err := <-res; err != nil {
		t.Fatalf("attach: %v", err)
	}
	if es := waitExit(t, sb, "term"); es.ExitCode != 0 {
		t.Fatalf("exit: %+v", es)
	}
	if _, err := sb.AttachStdin("term"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("stdin of an exited TTY container: %v", err)
	}
	log := logOf(t, sb, "term")
	if !strings.Contains(log, " stdout F tty /dev/pts/") || !strings.Contains(log, " stdout F got hello\n") || strings.Contains(log, "stderr") {
		t.Fatalf("log: %q", log)
	}
}

// The "attachmanager" helper creates sandbox "attachrec" in RunDir os.Args[1]
// with the pause os.Args[2], a ticking container and a TTY one from rootfs
// os.Args[3], says "running" and waits to be killed.
func init() {
	testharness.RegisterHelper("attachmanager", func() int {
		runDir, pauseBin, rootfs := os.Args[1], os.Args[2], os.Args[3]
		ctx := context.Background()
		tick := ctr(rootfs, "ticker", "tick", "20")
		tick.LogFormat = LogCRI
		term := ctr(rootfs, "term", "tty")
		term.TTY = true
		cfg := Config{ID: "attachrec", RunDir: runDir, PauseBinary: pauseBin, CgroupParent: "podkit-sandbox-test"}
		if managerSetup(ctx, cfg, tick, term) == nil {
			return 1
		}
		return managerIdle()
	})
}

// After a manager restart, the output of a container without a terminal
// can be attached again; a TTY container's terminal died with the manager.
func TestAttachAfterLoad(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	cmd, runDir := runningManager(t, "attachmanager", rootfs)
	_ = cmd.Process.Kill()
	_ = cmd.Wait()
	sb, err := Load(runDir, "attachrec")
	if err != nil {
		t.Fatal(err)
	}
	defer reapOrphans(t)
	a := attachBG(sb, "ticker", nil)
	eventually(t, "ticks through the new manager", func() bool { return strings.Count(a.out.String(), "tick ") >= 3 })
	a.cancel()
	if err := result(t, a); !errors.Is(err, context.Canceled) {
		t.Fatalf("attach: %v", err)
	}
	if err := sb.AttachContainer(context.Background(), "term", AttachOptions{Stdout: io.Discard}); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("attach to a TTY container after Load: %v", err)
	}
	if err := sb.Destroy(context.Background()); err != nil {
		t.Fatal(err)
	}
}
