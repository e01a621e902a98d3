package main

import (
	"encoding/json"
	"fmt"
	"io"
	"sort"
	"strings"
)

// event is one test2json record.
type event struct {
	Action  string
	Package string
	Test    string
	Elapsed float64
	Output  string
}

type testKey struct{ pkg, test string }

type pkgResult struct {
	action  string // pass, fail, skip ("" while running)
	elapsed float64
	passed  int
	failed  int
	skipped int
}

type summary struct {
	output   map[testKey]*strings.Builder // per test; test "" is the package's own output
	pkgs     map[string]*pkgResult
	failures []testKey
	skips    []string
	passed   int
	failed   int
	skipped  int
}

func newSummary() *summary {
	return &summary{output: map[testKey]*strings.Builder{}, pkgs: map[string]*pkgResult{}}
}

// add records one line; it reports false when the line is not an event.
func (s *summary) add(line []byte) bool {
	var e event
	if len(line) == 0 || line[0] != '{' || json.Unmarshal(line, &e) != nil || e.Action == "" {
		return false
	}
	p := s.pkgs[e.Package]
	if p == nil {
		p = &pkgResult{}
		s.pkgs[e.Package] = p
	}
	k := testKey{e.Package, e.Test}
	switch e.Action {
	case "output", "build-output":
		b := s.output[k]
		if b == nil {
			b = &strings.Builder{}
			s.output[k] = b
		}
		b.WriteString(e.Output)
	case "pass", "fail", "skip":
		if e.Test == "" {
			p.action, p.elapsed = e.Action, e.Elapsed
			if e.Action == "fail" && p.failed == 0 {
				s.failures = append(s.failures, k) // build failure or a crash outside any test
			}
			return true
		}
		s.count(p, k, e.Action)
	case "build-fail":
		p.action = "fail"
	}
	return true
}

func (s *summary) count(p *pkgResult, k testKey, action string) {
	switch action {
	case "pass":
		s.passed++
		p.passed++
	case "fail":
		s.failed++
		p.failed++
		s.failures = append(s.failures, k)
	case "skip":
		s.skipped++
		p.skipped++
		s.skips = append(s.skips, fmt.Sprintf("%s %s: %s", k.pkg, k.test, skipReason(s.output[k])))
	}
}

// skipReason is the last line a skipped test logged (its t.Skip message).
func skipReason(b *strings.Builder) string {
	if b == nil {
		return "(no reason given)"
	}
	var last string
	for _, l := range strings.Split(b.String(), "\n") {
		l = strings.TrimSpace(l)
		if l != "" && !strings.HasPrefix(l, "=== ") && !strings.HasPrefix(l, "--- ") {
			last = l
		}
	}
	return last
}

// print writes the report and says whether the run is green.
func (s *summary) print(w io.Writer, title string) bool {
	for _, k := range s.failures {
		name := k.test
		if name == "" {
			name = "(package)"
		}
		fmt.Fprintf(w, "\n=== FAILED %s %s\n", k.pkg, name)
		if b := s.output[k]; b != nil {
			io.WriteString(w, b.String())
		}
	}
	if len(s.skips) > 0 {
		fmt.Fprintf(w, "\nskipped:\n")
		for _, sk := range s.skips {
			fmt.Fprintf(w, "  %s\n", sk)
		}
	}
	green := s.printPackages(w)
	if s.passed+s.failed == 0 {
		fmt.Fprintln(w, "testsummary: NO TEST RAN")
		green = false
	}
	prefix := ""
	if title != "" {
		prefix = strings.ReplaceAll(title, " ", "-") + ": "
	}
	fmt.Fprintf(w, "%s%d passed, %d failed, %d skipped\n", prefix, s.passed, s.failed, s.skipped)
	return green && s.failed == 0
}

func (s *summary) printPackages(w io.Writer) bool {
	names := make([]string, 0, len(s.pkgs))
	for n := range s.pkgs {
		names = append(names, n)
	}
	sort.Strings(names)
	fmt.Fprintln(w)
	green := true
	for _, n := range names {
		p := s.pkgs[n]
		// "" means the package never reported an end: its binary was
		// killed or the run was cut short, which is a failure too.
		status := map[string]string{"pass": "ok  ", "fail": "FAIL", "skip": "----", "": "CUT "}[p.action]
		if p.action == "fail" || p.action == "" {
			green = false
		}
		fmt.Fprintf(w, "%s %-55s %6.2fs  %d passed, %d failed, %d skipped\n", status, n, p.elapsed, p.passed, p.failed, p.skipped)
	}
	return green
}
