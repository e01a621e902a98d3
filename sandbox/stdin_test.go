//go:build linux

package sandbox

import (
	"bytes"
	"context"
	"errors"
	"io"
	"strings"
	"testing"
	"time"

	"github.com/podkit/podkit/internal/testharness"
)

func TestExecStdin(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "execin"))
	run(t, sb, ctr(rootfs, "main", "sleep"))
	ctx := context.Background()
	var out bytes.Buffer
	es, err := sb.Exec(ctx, "main", ExecSpec{Args: []string{"/payload", "stdin"}, Stdin: strings.NewReader("abc\ndef\n"), Stdout: &out})
	if err != nil || es.ExitCode != 0 || out.String() != "abc\ndef\neof\n" {
		t.Fatalf("exec with stdin: %v %+v %q", err, es, out.String())
	}
	// A reader that never returns does not keep Exec from returning once
	// the process has exited.
	pr, pw := io.Pipe()
	defer pw.Close()
	done := make(chan error, 1)
	go func() {
		_, err := sb.Exec(ctx, "main", ExecSpec{Args: []string{"/payload", "true"}, Stdin: pr})
		done <- err
	}()
	select {
	case err := <-done:
		if err != nil {
			t.Fatal(err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Exec hangs on an idle stdin")
	}
}

func TestExecTTY(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "exectty"))
	run(t, sb, ctr(rootfs, "main", "sleep"))
	outR, outW := io.Pipe()
	inR, inW := io.Pipe()
	defer inW.Close()
	resize := make(chan TerminalSize, 2)
	resize <- TerminalSize{Width: 80, Height: 24}
	type result struct {
		es  *ExitStatus
		err error
	}
	done := make(chan result, 1)
	go func() {
		es, err := sb.Exec(context.Background(), "main", ExecSpec{Args: []string{"/payload", "tty"}, TTY: true,
			Stdin: inR, Stdout: outW, Resize: resize})
		outW.Close()
		done <- result{es, err}
	}()
	next := lineReader(t, outR)
	first := strings.Fields(next("tty "))
	if len(first) != 4 || !strings.HasPrefix(first[1], "/dev/pts/") || first[2] != "24x80" || first[3] != "ctty=true" {
		t.Fatalf("terminal: %v", first)
	}
	resize <- TerminalSize{Width: 100, Height: 40}
	if l := next("winch "); l != "winch 40x100" {
		t.Fatalf("after resize: %q", l)
	}
	if _, err := inW.Write([]byte("hello\n")); err != nil {
		t.Fatal(err)
	}
	if l := next("got "); l != "got hello" {
		t.Fatalf("stdin through the terminal: %q", l)
	}
	r := <-done
	if r.err != nil || r.es.ExitCode != 0 {
		t.Fatalf("exec: %v %+v", r.err, r.es)
	}
}

func TestContainerStdin(t *testing.T) {
	testharness.Privileged(t)
	rootfs := testRootfs(t)
	sb := mustCreate(t, testConfig(t, "ctrin"))
	once := ctr(rootfs, "once", "stdin")
	once.Stdin, once.StdinOnce = true, true
	run(t, sb, once)
	keep := ctr(rootfs, "keep", "stdin")
	keep.Stdin = true
	run(t, sb, keep)
	run(t, sb, ctr(rootfs, "none", "stdin")) // /dev/null: EOF at once
	if es := waitExit(t, sb, "none"); es.ExitCode != 0 || logOf(t, sb, "none") != "eof\n" {
		t.Fatalf("none: %+v %q", es, logOf(t, sb, "none"))
	}
	if _, err := sb.AttachStdin("none"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("attach without stdin: %v", err)
	}
	attach := func(name, data string) {
		t.Helper()
		w, err := sb.AttachStdin(name)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := io.WriteString(w, data); err != nil {
			t.Fatal(err)
		}
		if err := w.Close(); err != nil {
			t.Fatal(err)
		}
	}
	// Without StdinOnce the stdin stays open between attaches.
	attach("keep", "x\n")
	attach("keep", "y\n")
	eventually(t, "keep echoes both", func() bool { return logOf(t, sb, "keep") == "x\ny\n" })
	time.Sleep(50 * time.Millisecond)
	if c := statusOf(sb, "keep"); c.State != ContainerRunning || logOf(t, sb, "keep") != "x\ny\n" {
		t.Fatalf("keep saw EOF: %+v %q", c, logOf(t, sb, "keep"))
	}
	// StdinOnce: the end of the first attach is the container's EOF.
	attach("once", "one\n")
	if es := waitExit(t, sb, "once"); es.ExitCode != 0 || logOf(t, sb, "once") != "one\neof\n" {
		t.Fatalf("once: %+v %q", es, logOf(t, sb, "once"))
	}
	if _, err := sb.AttachStdin("once"); !errors.Is(err, ErrInvalidState) {
		t.Fatalf("second attach with StdinOnce: %v", err)
	}
}
