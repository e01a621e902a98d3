//go:build linux

package sandbox

import (
	"bufio"
	"bytes"
	"context"
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
	lines := make(chan string, 16)
	go func() {
		sc := bufio.NewScanner(outR)
		for sc.Scan() {
			lines <- strings.TrimRight(sc.Text(), "\r")
		}
		close(lines)
	}()
	next := func(prefix string) string {
		t.Helper()
		for {
			select {
			case l, ok := <-lines:
				if !ok {
					t.Fatalf("output ended before %q", prefix)
				}
				if strings.HasPrefix(l, prefix) {
					return l
				}
			case <-time.After(30 * time.Second):
				t.Fatalf("no %q line", prefix)
			}
		}
	}
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
