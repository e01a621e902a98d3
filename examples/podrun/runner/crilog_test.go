//go:build linux

package runner

import (
	"bytes"
	"fmt"
	"regexp"
	"strings"
	"testing"
	"time"
)

var criRe = regexp.MustCompile(`^(\S+) (stdout|stderr) (F|P) (.*)\n$`)

// TestWriteCRI checks the entry format: the timestamp parses back as
// RFC3339Nano to the same instant (in UTC), then stream, tag and message.
func TestWriteCRI(t *testing.T) {
	at := time.Date(2026, 11, 22, 3, 31, 33, 625261269, time.FixedZone("X", 3600))
	for _, tc := range []struct{ stream, tag, msg string }{
		{streamStdout, tagFull, "hello world"},
		{streamStderr, tagPartial, "half a line"},
		{streamStderr, tagFull, ""},
	} {
		var b bytes.Buffer
		if err := writeCRI(&b, at, tc.stream, tc.tag, []byte(tc.msg)); err != nil {
			t.Fatal(err)
		}
		m := criRe.FindStringSubmatch(b.String())
		if m == nil {
			t.Fatalf("not a CRI entry: %q", b.String())
		}
		ts, err := time.Parse(time.RFC3339Nano, m[1])
		if err != nil || !ts.Equal(at) || !strings.HasSuffix(m[1], "Z") {
			t.Errorf("timestamp %q: %v, %v (want %v in UTC)", m[1], ts, err, at)
		}
		if m[2] != tc.stream || m[3] != tc.tag || m[4] != tc.msg {
			t.Errorf("got %q %q %q, want %+v", m[2], m[3], m[4], tc)
		}
	}
}

type entry struct{ tag, msg string }

func (e entry) String() string { return fmt.Sprintf("%s %.20q(%d)", e.tag, e.msg, len(e.msg)) }

// split feeds input in chunks of size n (all at once for n <= 0) and
// returns the entries, the flushed tail included.
func split(input string, n int) []entry {
	var s lineSplitter
	var got []entry
	emit := func(tag string, msg []byte) { got = append(got, entry{tag, string(msg)}) }
	if n <= 0 {
		n = len(input) + 1
	}
	for p := input; len(p) > 0; {
		k := min(n, len(p))
		s.feed([]byte(p[:k]), emit)
		p = p[k:]
	}
	s.flush(emit)
	return got
}

// TestLineSplitter covers F lines, empty lines, long lines split in P parts
// of maxLine bytes, a tail without newline (P), and that the entries are
// the same however the reads chunked the stream.
func TestLineSplitter(t *testing.T) {
	x := func(n int) string { return strings.Repeat("x", n) }
	for _, tc := range []struct {
		name  string
		input string
		want  []entry
	}{
		{"lines", "one\ntwo\n", []entry{{"F", "one"}, {"F", "two"}}},
		{"empty line", "\n\n", []entry{{"F", ""}, {"F", ""}}},
		{"tail", "one\ntail", []entry{{"F", "one"}, {"P", "tail"}}},
		{"exactly maxLine", x(maxLine) + "\n", []entry{{"F", x(maxLine)}}},
		{"maxLine+1", x(maxLine+1) + "\n", []entry{{"P", x(maxLine)}, {"F", "x"}}},
		{"two and a bit", x(2*maxLine+5) + "\nnext\n", []entry{{"P", x(maxLine)}, {"P", x(maxLine)}, {"F", x(5)}, {"F", "next"}}},
		{"long tail", x(maxLine + 3), []entry{{"P", x(maxLine)}, {"P", x(3)}}},
		{"nothing", "", nil},
	} {
		for _, chunk := range []int{0, 1, 7, 4096, maxLine, maxLine + 1} {
			got := split(tc.input, chunk)
			if fmt.Sprint(got) != fmt.Sprint(tc.want) {
				t.Errorf("%s, chunks of %d: got %v, want %v", tc.name, chunk, got, tc.want)
			}
		}
	}
}

// TestLineSplitterBounded: the splitter keeps no more than one line's tail.
func TestLineSplitterBounded(t *testing.T) {
	var s lineSplitter
	chunk := []byte(strings.Repeat("y", 1000) + "\n")
	for range 10000 {
		s.feed(chunk, func(string, []byte) {})
	}
	if cap(s.buf) > 4*len(chunk) {
		t.Fatalf("buffer grew to %d bytes", cap(s.buf))
	}
}
