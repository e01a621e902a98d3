//go:build linux

package image

import (
	"context"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/podkit/podkit/internal/testharness"
)

// A process killed mid-pull (SIGKILL while a layer streams in) leaves no
// image, only temp files that GC removes; the next pull completes.
func TestCrashMidPull(t *testing.T) {
	testharness.Privileged(t)
	reg := startRegistry(t)
	layer := busyboxLayer(t)
	reg.Push(t, "library/busybox:crash", buildImage(t, v1.Config{Cmd: []string{"sh"}}, layer))
	ld, err := layer.Digest()
	must(t, err)
	stall := make(chan struct{})
	reg.Wrap = func(w http.ResponseWriter, r *http.Request, next http.Handler) bool {
		if r.Method != http.MethodGet || !strings.HasSuffix(r.URL.Path, "/blobs/"+ld.String()) {
			return false
		}
		select {
		case <-stall:
			return false // stalling is over: serve normally
		default:
		}
		size, err := layer.Size()
		if err != nil {
			return false
		}
		rc, err := layer.Compressed()
		if err != nil {
			return false
		}
		defer rc.Close()
		w.Header().Set("Content-Length", strconv.FormatInt(size, 10))
		w.WriteHeader(http.StatusOK)
		buf := make([]byte, size/2)
		n, _ := io.ReadFull(rc, buf)
		w.Write(buf[:n])
		w.(http.Flusher).Flush()
		<-r.Context().Done() // hang until the client goes away
		return true
	}
	s := openStore(t, reg)
	cmd := testharness.HelperCmd("pull", s.Root(), reg.URL(), "busybox:crash")
	must(t, cmd.Start())
	partial := waitForPartialBlob(t, filepath.Join(s.Root(), "tmp"))
	must(t, cmd.Process.Kill())
	cmd.Wait()
	t.Logf("killed the puller with %s half written", partial)

	if list, err := s.List(); err != nil || len(list) != 0 {
		t.Fatalf("List after a crash mid-pull: %+v %v", list, err)
	}
	res, err := s.GC()
	must(t, err)
	if res.Temp == 0 {
		t.Fatalf("GC found no temp files after the crash: %+v", res)
	}
	requireEmptyStore(t, s)
	close(stall)
	_, err = s.Pull(context.Background(), "busybox:crash")
	must(t, err)
}

// waitForPartialBlob waits until a temp blob with some content appears.
func waitForPartialBlob(t *testing.T, tmp string) string {
	t.Helper()
	deadline := time.Now().Add(20 * time.Second)
	for time.Now().Before(deadline) {
		ents, _ := os.ReadDir(tmp)
		for _, e := range ents {
			if fi, err := e.Info(); err == nil && strings.HasPrefix(e.Name(), "blob-") && fi.Size() > 0 {
				return e.Name()
			}
		}
		time.Sleep(10 * time.Millisecond)
	}
	t.Fatal("the puller never started writing the layer")
	return ""
}
