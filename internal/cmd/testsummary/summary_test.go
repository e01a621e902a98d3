package main

import (
	"bytes"
	"strings"
	"testing"
)

func run(t *testing.T, stream string) (string, bool) {
	t.Helper()
	s := newSummary()
	var out bytes.Buffer
	if err := s.read(strings.NewReader(stream), &out); err != nil {
		t.Fatal(err)
	}
	green := s.print(&out, "lane")
	return out.String(), green
}

const (
	passA = `{"Action":"run","Package":"p","Test":"TestA"}
{"Action":"output","Package":"p","Test":"TestA","Output":"ok\n"}
{"Action":"pass","Package":"p","Test":"TestA"}
`
	skipB = `{"Action":"output","Package":"p","Test":"TestB","Output":"    x_test.go:9: PRIVILEGED TEST SKIPPED: not root\n"}
{"Action":"skip","Package":"p","Test":"TestB"}
`
	failC = `{"Action":"output","Package":"p","Test":"TestC","Output":"    x_test.go:3: LEAK fd: 9 -> /dev/null\n"}
{"Action":"fail","Package":"p","Test":"TestC"}
`
	pkgPass = `{"Action":"pass","Package":"p","Elapsed":1.5}` + "\n"
	pkgFail = `{"Action":"fail","Package":"p","Elapsed":1.5}` + "\n"
)

func TestGreenRun(t *testing.T) {
	out, green := run(t, passA+skipB+pkgPass)
	if !green {
		t.Fatalf("a passing run is not green:\n%s", out)
	}
	if !strings.HasSuffix(out, "lane: 1 passed, 0 failed, 1 skipped\n") {
		t.Fatalf("closing line wrong:\n%s", out)
	}
	if !strings.Contains(out, "TestB: x_test.go:9: PRIVILEGED TEST SKIPPED: not root") {
		t.Fatalf("skip reason not shown:\n%s", out)
	}
}

func TestFailureShowsOutput(t *testing.T) {
	out, green := run(t, passA+failC+pkgFail)
	if green || !strings.Contains(out, "=== FAILED p TestC") || !strings.Contains(out, "LEAK fd") {
		t.Fatalf("failure not reported (green=%v):\n%s", green, out)
	}
}

func TestNoTestRanIsRed(t *testing.T) {
	out, green := run(t, `{"Action":"skip","Package":"p"}`+"\n")
	if green || !strings.Contains(out, "NO TEST RAN") {
		t.Fatalf("an empty run is green:\n%s", out)
	}
}

func TestCutShortPackageIsRed(t *testing.T) {
	out, green := run(t, passA) // the package never reported its end
	if green || !strings.Contains(out, "CUT ") {
		t.Fatalf("a package that never finished is green:\n%s", out)
	}
}

func TestBuildFailureIsRed(t *testing.T) {
	stream := "# p\n./x.go:1: syntax error\n" + `{"Action":"fail","Package":"p","Elapsed":0}` + "\n" + passA
	out, green := run(t, stream)
	if green || !strings.Contains(out, "./x.go:1: syntax error") {
		t.Fatalf("build failure not red or not echoed:\n%s", out)
	}
}
