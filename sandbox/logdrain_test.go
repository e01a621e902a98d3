//go:build linux

package sandbox

import (
	"bufio"
	"bytes"
	"math/rand/v2"
	"os"
	"regexp"
	"testing"
	"time"
)

// TestCRILinesAsReadLine: criLines splits any output, however it is cut
// into chunks, into the entries a bufio.Reader of MaxLogLine bytes read by
// ReadLine gives (what the copier did before, and containerd's CRI does):
// lines of every length around MaxLogLine, "\r\n" endings, a "\r" at a
// piece's end, and output ending without a newline.
func TestCRILinesAsReadLine(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	for round := range 300 {
		in := randomOutput(rng)
		want := readLineEntries(in)
		var got []string
		lines := &criLines{stream: "stdout"}
		write := func(b []byte) { got = append(got, splitEntries(t, b)...) }
		for rest := in; len(rest) > 0; {
			n := min(len(rest), 1+rng.IntN(3*MaxLogLine))
			if rng.IntN(3) == 0 {
				n = min(len(rest), 1+rng.IntN(8))
			}
			lines.feed(rest[:n], write)
			rest = rest[n:]
		}
		lines.end(write)
		if len(got) != len(want) {
			t.Fatalf("round %d: %d entries, want %d", round, len(got), len(want))
		}
		for i := range want {
			if got[i] != want[i] {
				t.Fatalf("round %d, entry %d: %.60q (len %d), want %.60q (len %d)", round, i, got[i], len(got[i]), want[i], len(want[i]))
			}
		}
	}
}

// randomOutput is output with lines of lengths near 0 and near MaxLogLine
// and its multiples, some ending in "\r\n", some with a "\r" placed where
// a piece ends.
func randomOutput(rng *rand.Rand) []byte {
	var b bytes.Buffer
	for range 1 + rng.IntN(12) {
		var n int
		switch rng.IntN(4) {
		case 0:
			n = rng.IntN(40)
		case 1:
			n = (1+rng.IntN(2))*MaxLogLine + rng.IntN(5) - 2
		default:
			n = rng.IntN(3 * MaxLogLine)
		}
		line := bytes.Repeat([]byte{'x'}, max(n, 0))
		if n > MaxLogLine && rng.IntN(3) == 0 {
			line[MaxLogLine-1] = '\r'
		}
		b.Write(line)
		switch rng.IntN(5) {
		case 0:
			b.WriteString("\r\n")
		default:
			b.WriteByte('\n')
		}
	}
	if rng.IntN(3) == 0 {
		b.WriteString("tail without newline")
		if rng.IntN(2) == 0 {
			b.WriteByte('\r')
		}
	}
	return b.Bytes()
}

// readLineEntries is the reference: "<tag> <text>" of each ReadLine.
func readLineEntries(in []byte) []string {
	br := bufio.NewReaderSize(bytes.NewReader(in), MaxLogLine)
	var out []string
	for {
		line, partial, err := br.ReadLine()
		if err != nil {
			return out
		}
		tag := "F "
		if partial {
			tag = "P "
		}
		out = append(out, tag+string(line))
	}
}

var entryRE = regexp.MustCompile(`^\S+ stdout ([FP]) `)

// splitEntries turns written CRI entries back into "<tag> <text>".
func splitEntries(t *testing.T, b []byte) []string {
	var out []string
	for _, e := range bytes.SplitAfter(b, []byte{'\n'}) {
		if len(e) == 0 {
			continue
		}
		m := entryRE.FindSubmatchIndex(e)
		if m == nil || e[len(e)-1] != '\n' {
			t.Fatalf("malformed entry %.80q", e)
		}
		out = append(out, string(e[m[2]:m[3]])+" "+string(e[m[1]:len(e)-1]))
	}
	return out
}

// TestDrainSeesEOFAfterShortRead: output and the writer's close that come
// with one readiness edge (here: before drain starts, so its first wait
// would find no new edge) end in fn and EOF, not in a wait for an edge
// that came already. A copier that waited there kept an exit's last line
// out of the log for the 5 s of logDrainTimeout.
func TestDrainSeesEOFAfterShortRead(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	if _, err := w.WriteString("tail"); err != nil {
		t.Fatal(err)
	}
	w.Close()
	time.Sleep(50 * time.Millisecond) // the runtime's poller takes the edge meanwhile
	got := make(chan string, 1)
	go func() {
		var b []byte
		drain(r, func(p []byte) { b = append(b, p...) })
		got <- string(b)
	}()
	select {
	case s := <-got:
		if s != "tail" {
			t.Fatalf("drained %q, want \"tail\"", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("drain still waits 10 s after the writer closed")
	}
}
