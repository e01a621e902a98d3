//go:build linux

package runner

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// TestPodrunImagePullProgress: on a terminal, podrun images pull shows a
// line per layer.
func TestPodrunImagePullProgress(t *testing.T) {
	e := newImageEnv(t)
	push(t, e.reg, "library/busybox:1.36", busyboxImage(t))
	master, slave := openPty(t)
	read := make(chan string, 1)
	go func() {
		b, _ := io.ReadAll(master) // EIO once the slave is closed
		read <- string(b)
	}()
	var stdout strings.Builder
	code := Main(context.Background(), append([]string{"images"}, append(e.storeArgs(), "pull", "busybox:1.36")...), &stdout, slave, nil)
	slave.Close()
	out := <-read
	master.Close()
	if code != 0 {
		t.Fatalf("exit %d: %q", code, out)
	}
	if !strings.Contains(out, "pulling busybox:1.36") || strings.Count(out, ": pulled ") != 2 {
		t.Fatalf("progress on the terminal: %q, want a line per layer", out)
	}
	if code, _, errOut := images(t, "--image-dir", e.store, "rm", "busybox:1.36"); code != 0 {
		t.Fatal(errOut)
	}
	if code, _, errOut := images(t, "--image-dir", e.store, "gc"); code != 0 {
		t.Fatal(errOut)
	}
}

// openPty opens a pseudo-terminal pair.
func openPty(t *testing.T) (master, slave *os.File) {
	t.Helper()
	m, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		t.Fatal(err)
	}
	if err := unix.IoctlSetPointerInt(int(m.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		m.Close()
		t.Fatal(err)
	}
	n, err := unix.IoctlGetInt(int(m.Fd()), unix.TIOCGPTN)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	s, err := os.OpenFile(fmt.Sprintf("/dev/pts/%d", n), os.O_RDWR|unix.O_NOCTTY|unix.O_CLOEXEC, 0)
	if err != nil {
		m.Close()
		t.Fatal(err)
	}
	return m, s
}

// TestPodrunImagePullInterrupted: Ctrl-C during a pull (a registry that
// stalls on the layers) ends it at once with ExitInterrupted, and leaves
// no sandbox and no image.
func TestPodrunImagePullInterrupted(t *testing.T) {
	e := newImageEnv(t)
	release := make(chan struct{})
	defer close(release)
	stalled := startTestRegistry(t, func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			if strings.Contains(r.URL.Path, "/blobs/") && r.Method == http.MethodGet {
				select {
				case <-release:
				case <-r.Context().Done():
				}
				return
			}
			next.ServeHTTP(w, r)
		})
	})
	e.reg = stalled
	push(t, e.reg, "library/busybox:1.36", busyboxImage(t))
	sigs := make(chan os.Signal, 2)
	start := time.Now()
	code, _, stderr := runPodrunSigs(t, e.args(writeManifest(t, twoContainers)), sigs, func(r statusRec) {
		if r.Type == "event" && r.Reason == "Pulling" {
			sigs <- os.Interrupt
		}
	})
	if code != ExitInterrupted {
		t.Fatalf("exit %d, want %d; stderr:\n%s", code, ExitInterrupted, stderr)
	}
	if d := time.Since(start); d > 20*time.Second {
		t.Errorf("the interrupted pull took %s", d)
	}
	if ents, _ := os.ReadDir(filepath.Join(e.runDir, "imgpod")); len(ents) > 0 {
		t.Errorf("sandbox left in the run dir")
	}
	st := storeEntries(t, e.store)
	if len(st["images"])+len(st["rootfs"]) > 0 {
		t.Errorf("store after an interrupted pull: %v", st)
	}
}
