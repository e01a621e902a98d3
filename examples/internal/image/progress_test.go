//go:build linux

package image

import (
	"context"
	"testing"

	v1 "github.com/google/go-containerregistry/pkg/v1"
)

// WithProgress: a pull reports each layer's start and completion with its
// size; a second pull of an image sharing the layer reports it cached.
func TestPullProgress(t *testing.T) {
	reg := startRegistry(t)
	layer := busyboxLayer(t)
	reg.Push(t, "one:1", buildImage(t, v1.Config{Cmd: []string{"a"}}, layer))
	reg.Push(t, "two:1", buildImage(t, v1.Config{Cmd: []string{"b"}}, layer))
	s := openStore(t, reg)
	size, err := layer.Size()
	must(t, err)
	for _, tc := range []struct {
		ref    string
		cached bool
	}{{"example.com/one:1", false}, {"example.com/two:1", true}} {
		var got []Progress
		ctx := WithProgress(context.Background(), func(p Progress) { got = append(got, p) })
		if _, err := s.Pull(ctx, tc.ref); err != nil {
			t.Fatal(err)
		}
		if len(got) == 0 {
			t.Fatalf("%s: no progress", tc.ref)
		}
		last := got[len(got)-1]
		if !last.Complete || last.Cached != tc.cached || last.Size != size || last.Done != size {
			t.Fatalf("%s: last report %+v, want complete, cached %v, %d bytes", tc.ref, last, tc.cached, size)
		}
		if !tc.cached && (len(got) < 2 || got[0].Done != 0 || got[0].Complete) {
			t.Fatalf("%s: no start report: %+v", tc.ref, got)
		}
	}
}
