// Command testsummary reads `go test -json` (test2json) events on standard
// input and prints what a person needs from a long privileged run: the output
// of every failed test, the reason of every skipped one, a line per package
// and a closing "N passed, N failed, N skipped" line. It exits 1 when anything
// failed or when no test ran at all, so an empty run is never green.
//
//	go test -json ./... 2>&1 | go run ./internal/cmd/testsummary -title host
//
// Lines that are not JSON (build errors printed by the go command) are
// passed through unchanged.
package main

import (
	"bufio"
	"flag"
	"fmt"
	"io"
	"os"
)

func main() {
	title := flag.String("title", "", "name of this run, printed in the header and the closing line")
	flag.Parse()
	s := newSummary()
	if err := s.read(os.Stdin, os.Stdout); err != nil {
		fmt.Fprintln(os.Stderr, "testsummary:", err)
		os.Exit(2)
	}
	if !s.print(os.Stdout, *title) {
		os.Exit(1)
	}
}

// read consumes the event stream, echoing non-JSON lines to w.
func (s *summary) read(r io.Reader, w io.Writer) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		if !s.add(sc.Bytes()) {
			fmt.Fprintln(w, sc.Text())
		}
	}
	return sc.Err()
}
