//go:build linux

package runner

import (
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/podkit/podkit/internal/testharness"
	"github.com/podkit/podkit/sandbox"
)

// TestPodrunPausePolicy (leak-checked by Privileged) runs a pod under each --pause: with "auto" only
// a pod that shares its PID namespace gets a pause (its PID 1, seen from
// inside); "always" gives every pod one. A pod without one runs the same,
// its namespaces held by their pins.
func TestPodrunPausePolicy(t *testing.T) {
	testharness.Privileged(t)
	t.Setenv("PODKIT_PAUSE", testharness.PauseBinary(t))
	for _, tc := range []struct {
		name      string
		sharePID  bool
		pause     string
		wantPause bool
	}{
		{"auto", false, PauseAuto, false},
		{"auto-shared-pid", true, PauseAuto, true},
		{"always", false, PauseAlways, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args, _ := lifecycleArgs(t)
			runDir := args[1]
			manifest := filepath.Join(t.TempDir(), "pod.yaml")
			pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: pause-%s}\nspec:\n  restartPolicy: Never\n"+
				"  shareProcessNamespace: %v\n  containers:\n  - name: c\n    image: host\n"+
				"    command: [/bin/sh, -c, 'tr \"\\0\" \" \" </proc/1/cmdline; echo; sleep 0.3']\n", tc.name, tc.sharePID)
			if err := os.WriteFile(manifest, []byte(pod), 0o644); err != nil {
				t.Fatal(err)
			}
			var pausePid = -1
			code, recs, stderr := runPodrun(t, append(args, "--logs", "--pause", tc.pause, manifest), func(r statusRec) {
				if r.Type == "event" && r.Reason == "Started" {
					infos, err := sandbox.List(runDir)
					if err != nil || len(infos) != 1 {
						t.Errorf("sandbox.List: %v, %d sandboxes", err, len(infos))
						return
					}
					pausePid = infos[0].PausePid
				}
			})
			ev := eventLines(recs)
			if code != ExitSucceeded {
				t.Fatalf("exit %d\n%s\n%s", code, strings.Join(ev, "\n"), stderr)
			}
			if got := pausePid > 0; got != tc.wantPause {
				t.Errorf("pause pid %d while the container ran, want a pause: %v", pausePid, tc.wantPause)
			}
			wantMsg := "(namespaces pinned, no pause process)"
			if tc.wantPause {
				wantMsg = "(pause pid "
			}
			if i := indexOf(ev, "Scheduled :"); i < 0 || !strings.Contains(ev[i], wantMsg) {
				t.Errorf("no Scheduled event saying %q:\n%s", wantMsg, strings.Join(ev, "\n"))
			}
			var pid1 string
			for _, r := range recs {
				if r.Type == "log" {
					pid1 = r.Log
				}
			}
			if wantPID1 := map[bool]string{true: "podkit-pause", false: "/bin/sh"}[tc.sharePID]; !strings.Contains(pid1, wantPID1) {
				t.Errorf("the container's PID 1 is %q, want %s", pid1, wantPID1)
			}
		})
	}
}

// TestPodrunPauseFlag: a bad --pause is a usage error before anything is
// created.
func TestPodrunPauseFlag(t *testing.T) {
	var stderr strings.Builder
	if code := Main(t.Context(), []string{"--pause", "never", "pod.yaml"}, os.Stdout, &stderr, nil); code != ExitUsage ||
		!strings.Contains(stderr.String(), `--pause "never"`) {
		t.Errorf("exit %d, stderr %q", code, stderr.String())
	}
}

// TestPodrunPausePlan: --check says whether the pod would get a pause.
func TestPodrunPausePlan(t *testing.T) {
	dir := t.TempDir()
	for _, tc := range []struct {
		sharePID bool
		pause    string
		want     string
	}{
		{false, PauseAuto, "pause false"},
		{true, PauseAuto, "pause true"},
		{false, PauseAlways, "pause true"},
	} {
		manifest := filepath.Join(dir, "pod.yaml")
		pod := fmt.Sprintf("apiVersion: v1\nkind: Pod\nmetadata: {name: plan}\nspec:\n  shareProcessNamespace: %v\n"+
			"  containers:\n  - {name: c, image: host, command: [/bin/true]}\n", tc.sharePID)
		if err := os.WriteFile(manifest, []byte(pod), 0o644); err != nil {
			t.Fatal(err)
		}
		var stdout, stderr strings.Builder
		code := Main(t.Context(), []string{"--check", "--pause", tc.pause, manifest}, &stdout, &stderr, nil)
		if first, _, _ := strings.Cut(stdout.String(), "\n"); code != ExitSucceeded || !strings.HasSuffix(first, tc.want) {
			t.Errorf("shareProcessNamespace %v, --pause %s: exit %d, plan %q, want it to end with %q; stderr %s",
				tc.sharePID, tc.pause, code, first, tc.want, stderr.String())
		}
	}
}
