//go:build linux

package runner

import (
	"context"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"

	"github.com/podkit/podkit/examples/podrun/manifest"
)

// podGroup ties the pods of one manifest file together: --until-ready
// stops them once every one is ready (or has ended), not each on its own,
// since pods of one file often need each other.
type podGroup struct {
	mu      sync.Mutex
	isReady map[*podRun]bool
	done    map[*podRun]bool
	latched bool
}

// ready records r's readiness and reports whether the run is ready: every
// pod ready or ended (once true, it stays true). A nil group is one pod.
func (g *podGroup) ready(r *podRun, ready bool) bool {
	if g == nil {
		return ready
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	g.isReady[r] = ready
	if !g.latched {
		g.latched = true
		for p := range g.isReady {
			if !g.isReady[p] && !g.done[p] {
				g.latched = false
			}
		}
	}
	return g.latched
}

func (g *podGroup) ended(r *podRun) {
	g.mu.Lock()
	g.done[r] = true
	g.mu.Unlock()
}

// severity orders exit codes for a run of several pods: its exit status is
// the most severe of its pods'.
var severity = map[int]int{ExitSucceeded: 0, ExitFailed: 1, ExitTimeout: 2, ExitInterrupted: 3, ExitUsage: 4}

func worst(codes []int) int {
	w := ExitSucceeded
	for _, c := range codes {
		if severity[c] > severity[w] {
			w = c
		}
	}
	return w
}

// runPods runs several pods side by side: every pod's images are pulled
// first, then the pods are created one after the other (all are removed
// again if one fails: exit status 2, nothing left), then they run
// together. A signal, --timeout and --until-ready apply to all; a pod that
// ends (Succeeded or Failed for good) is stopped and removed while the
// others go on. The exit status is the most severe of the pods' (2, 130,
// 124, 1, 0 in that order): 0 only if every pod succeeded (or was ready
// with --until-ready).
func runPods(ctx context.Context, o *Options, pods []*manifest.Pod, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	base := newPrinter(stdout, stderr, o.JSON, "")
	g := &podGroup{isReady: map[*podRun]bool{}, done: map[*podRun]bool{}}
	var runs []*podRun
	for _, p := range pods {
		r := &podRun{o: o, pod: p, out: base.forPod(p.Name), group: g, changed: make(chan struct{}, 1)}
		g.isReady[r] = false
		runs = append(runs, r)
	}
	undo := func(rs []*podRun) {
		for i := len(rs) - 1; i >= 0; i-- {
			rs[i].teardown()
		}
	}
	for i, r := range runs {
		r.start = base.startAge
		if code, ok := r.pullStage(ctx, sigs); !ok { // pullStage tore r down
			undo(runs[:i])
			return code
		}
	}
	for i, r := range runs {
		if err := r.setup(ctx); err != nil {
			fmt.Fprintf(stderr, "podrun: pod %s: %v\n", r.pod.Name, err)
			undo(runs[:i+1])
			undo(runs[i+1:]) // their image stores
			return ExitUsage
		}
	}
	// Every pod gets every signal (the first stops it, a second kills it).
	chans := make([]chan os.Signal, len(runs))
	for i := range chans {
		chans[i] = make(chan os.Signal, 2)
	}
	fanDone := make(chan struct{})
	defer close(fanDone)
	go func() {
		for {
			select {
			case s := <-sigs:
				for _, c := range chans {
					select {
					case c <- s:
					default:
					}
				}
			case <-fanDone:
				return
			}
		}
	}()
	codes := make([]int, len(runs))
	var wg sync.WaitGroup
	for i, r := range runs {
		wg.Add(1)
		go func() {
			defer wg.Done()
			codes[i] = r.runSetUp(ctx, chans[i])
			g.ended(r)
		}()
	}
	wg.Wait()
	code := worst(codes)
	summary := summaryRecord{Type: "summary", ExitCode: code}
	var parts []string
	for _, r := range runs {
		summary.Pods = append(summary.Pods, r.final)
		parts = append(parts, fmt.Sprintf("%s %s (%d)", r.pod.Name, r.final.Phase, r.final.ExitCode))
	}
	if o.JSON {
		base.emit(summary)
	} else {
		fmt.Fprintf(stderr, "podrun: %d pods: %s; exit status %d\n", len(runs), strings.Join(parts, ", "), code)
	}
	return code
}

// summaryRecord is the last JSON line of a run of several pods, after
// each pod's result record.
type summaryRecord struct {
	Type     string         `json:"type"` // "summary"
	ExitCode int            `json:"exitCode"`
	Pods     []resultRecord `json:"pods"`
}
