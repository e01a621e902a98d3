//go:build linux

package criserver_test

import (
	"archive/tar"
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"

	v1 "github.com/google/go-containerregistry/pkg/v1"
	"github.com/google/go-containerregistry/pkg/v1/empty"
	"github.com/google/go-containerregistry/pkg/v1/mutate"
	"github.com/google/go-containerregistry/pkg/v1/tarball"
	"github.com/podkit/podkit/examples/internal/testutil"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// busybox is the host's static busybox (Debian's busybox-static).
const busybox = "/bin/busybox"

// serveBusybox starts a registry on 127.0.0.1 with test/busybox:1, the
// host's static busybox as /bin/sh (Cmd sh), and returns its URL.
func serveBusybox(t *testing.T) string {
	t.Helper()
	bin, err := os.ReadFile(busybox)
	if err != nil {
		t.Fatalf("%v: install busybox-static (integration/install-deps.sh)", err)
	}
	var layer bytes.Buffer
	tw := tar.NewWriter(&layer)
	for _, d := range []string{"bin/", "etc/", "tmp/", "proc/", "dev/", "sys/"} {
		_ = tw.WriteHeader(&tar.Header{Name: d, Typeflag: tar.TypeDir, Mode: 0o755})
	}
	_ = tw.WriteHeader(&tar.Header{Name: "bin/busybox", Typeflag: tar.TypeReg, Mode: 0o755, Size: int64(len(bin))})
	_, _ = tw.Write(bin)
	for _, applet := range []string{"sh", "cat", "echo", "sleep"} {
		_ = tw.WriteHeader(&tar.Header{Name: "bin/" + applet, Typeflag: tar.TypeSymlink, Linkname: "busybox"})
	}
	if err := tw.Close(); err != nil {
		t.Fatal(err)
	}
	l, err := tarball.LayerFromOpener(func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(layer.Bytes())), nil })
	if err != nil {
		t.Fatal(err)
	}
	img, err := mutate.AppendLayers(empty.Image, l)
	if err == nil {
		img, err = mutate.Config(img, v1.Config{Cmd: []string{"sh"}, Env: []string{"PATH=/bin"}})
	}
	if err != nil {
		t.Fatal(err)
	}
	reg := testutil.StartRegistry(t)
	reg.Push(t, "test/busybox:1", img)
	return reg.URL()
}

// TestContainerEventsAndAttach: two GetContainerEvents subscribers see a
// pod sandbox and a TTY container created, started, stopped (the
// container's exit) and deleted, each event with the pod's status and its
// containers'; Attach hands out a URL for a running container only.
func TestContainerEventsAndAttach(t *testing.T) {
	h := startWithMirror(t, serveBusybox(t))
	c := ctx(t)
	const ref = "registry.example/test/busybox:1"
	if _, err := h.img.PullImage(c, &runtimeapi.PullImageRequest{Image: &runtimeapi.ImageSpec{Image: ref}}); err != nil {
		t.Fatal(err)
	}
	var subs []runtimeapi.RuntimeService_GetContainerEventsClient
	for range 2 {
		s, err := h.rt.GetContainerEvents(c, &runtimeapi.GetEventsRequest{})
		if err != nil {
			t.Fatal(err)
		}
		subs = append(subs, s)
	}
	time.Sleep(200 * time.Millisecond) // the subscriptions reach the server
	cfg := podConfig("events")
	run, err := h.rt.RunPodSandbox(c, &runtimeapi.RunPodSandboxRequest{Config: cfg})
	if err != nil {
		t.Fatal(err)
	}
	podID := run.PodSandboxId
	create, err := h.rt.CreateContainer(c, &runtimeapi.CreateContainerRequest{PodSandboxId: podID, SandboxConfig: cfg,
		Config: &runtimeapi.ContainerConfig{Metadata: &runtimeapi.ContainerMetadata{Name: "sh"},
			Image: &runtimeapi.ImageSpec{Image: ref}, Command: []string{"sh"}, Stdin: true, StdinOnce: true, Tty: true}})
	if err != nil {
		t.Fatal(err)
	}
	id := create.ContainerId
	attachReq := &runtimeapi.AttachRequest{ContainerId: id, Stdin: true, Stdout: true, Tty: true}
	if _, err := h.rt.Attach(c, attachReq); status.Code(err) != codes.FailedPrecondition {
		t.Errorf("Attach to a created container: %v, want FailedPrecondition", err)
	}
	if _, err := h.rt.StartContainer(c, &runtimeapi.StartContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if resp, err := h.rt.Attach(c, attachReq); err != nil || !strings.HasPrefix(resp.GetUrl(), "http://127.0.0.1:") {
		t.Errorf("Attach: %v, %v", resp, err)
	}
	if _, err := h.rt.StopContainer(c, &runtimeapi.StopContainerRequest{ContainerId: id, Timeout: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rt.RemoveContainer(c, &runtimeapi.RemoveContainerRequest{ContainerId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rt.StopPodSandbox(c, &runtimeapi.StopPodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.rt.RemovePodSandbox(c, &runtimeapi.RemovePodSandboxRequest{PodSandboxId: podID}); err != nil {
		t.Fatal(err)
	}
	type key struct {
		id string
		t  runtimeapi.ContainerEventType
	}
	want := []key{
		{podID, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT}, {podID, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT},
		{id, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT}, {id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT},
		{id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT}, {id, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT},
		{podID, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT}, {podID, runtimeapi.ContainerEventType_CONTAINER_DELETED_EVENT},
	}
	for i, s := range subs {
		var got []key
		for len(got) < len(want) {
			ev, err := s.Recv()
			if err != nil {
				t.Fatalf("subscriber %d after %v: %v", i, got, err)
			}
			k := key{ev.ContainerId, ev.ContainerEventType}
			got = append(got, k)
			if ev.CreatedAt == 0 {
				t.Errorf("event %v without a time", ev)
			}
			switch k {
			case key{id, runtimeapi.ContainerEventType_CONTAINER_STARTED_EVENT}:
				if ev.PodSandboxStatus.GetId() != podID || len(ev.ContainersStatuses) != 1 ||
					ev.ContainersStatuses[0].GetState() != runtimeapi.ContainerState_CONTAINER_RUNNING {
					t.Errorf("%v: pod %v, containers %v", k, ev.PodSandboxStatus, ev.ContainersStatuses)
				}
			case key{id, runtimeapi.ContainerEventType_CONTAINER_STOPPED_EVENT}: // sent as the exit is seen: maybe after the removal
				if cs := ev.ContainersStatuses; len(cs) > 1 || len(cs) == 1 && cs[0].GetState() != runtimeapi.ContainerState_CONTAINER_EXITED {
					t.Errorf("%v: containers %v", k, cs)
				}
			}
		}
		// Each event once; the exit is learnt asynchronously, so the
		// order is not checked.
		seen := map[key]int{}
		for _, k := range got {
			seen[k]++
		}
		for _, k := range want {
			if seen[k] != 1 {
				t.Errorf("subscriber %d: events %v, want each of %v once", i, got, want)
				break
			}
		}
	}
}
