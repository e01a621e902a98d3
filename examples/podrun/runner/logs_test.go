//go:build linux

package runner

import (
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestCRILogs feeds a fake sandbox output file through the log manager:
// complete lines become F entries, long lines P parts, an unterminated last
// line is flushed at rotation, and each run gets its own file.
func TestCRILogs(t *testing.T) {
	sb, dir := t.TempDir(), t.TempDir()
	if err := os.Mkdir(filepath.Join(sb, "logs"), 0o755); err != nil {
		t.Fatal(err)
	}
	src := filepath.Join(sb, "logs", "c.log")
	long := strings.Repeat("x", maxLine+10)
	if err := os.WriteFile(src, []byte("one\n"+long+"\ntail-no-newline"), 0o644); err != nil {
		t.Fatal(err)
	}
	m := newLogManager(dir, newPrinter(io.Discard, io.Discard, false, "p"), false)
	m.start(sb, []string{"c"})
	m.rotate("c") // run 0 ended
	f, _ := os.OpenFile(src, os.O_APPEND|os.O_WRONLY, 0)
	_, _ = f.WriteString("second run\n")
	_ = f.Close()
	m.stop()
	want := map[string][]string{
		"0.log": {"stdout F one", "stdout P " + long[:maxLine], "stdout F " + long[maxLine:], "stdout F tail-no-newline"},
		"1.log": {"stdout F second run"},
	}
	for file, lines := range want {
		data, err := os.ReadFile(filepath.Join(dir, "c", file))
		if err != nil {
			t.Fatal(err)
		}
		got := strings.Split(strings.TrimSuffix(string(data), "\n"), "\n")
		if len(got) != len(lines) {
			t.Fatalf("%s: %d lines, want %d", file, len(got), len(lines))
		}
		for i, l := range got {
			if _, rest, _ := strings.Cut(l, " "); rest != lines[i] {
				t.Errorf("%s line %d: %.60q, want %.60q", file, i, rest, lines[i])
			}
		}
	}
}
