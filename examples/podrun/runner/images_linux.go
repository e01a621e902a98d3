//go:build linux

package runner

import (
	"context"
	"errors"
	"fmt"
	"hash/fnv"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/podkit/podkit/examples/internal/imagestore"
	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/sandbox"
)

// podImages gives the pod's store-image containers their images: pulled
// (or found) before anything is created, then an overlay rootfs per run
// of each container, removed with that run.
type podImages struct {
	r      *podRun
	store  *imagestore.Store
	prefix string            // of this pod's rootfs IDs
	ids    map[string]string // container name -> image ID
	refs   map[string]*manifest.ImageRef

	mu   sync.Mutex
	live map[string]*imagestore.Rootfs // rootfs ID -> mounted rootfs
}

// pullStage pulls the pod's images before anything else is created; a
// signal on sigs (or the end of ctx) cancels the pull and podrun exits
// with ExitInterrupted. ok is false when podrun must exit with code.
func (r *podRun) pullStage(ctx context.Context, sigs <-chan os.Signal) (code int, ok bool) {
	if len(r.pod.ImageRefs()) == 0 {
		return 0, true
	}
	pctx, cancel := context.WithCancel(ctx)
	signalled := make(chan bool, 1)
	go func() {
		select {
		case <-sigs:
			cancel()
			signalled <- true
		case <-pctx.Done():
			signalled <- false
		}
	}()
	err := r.pullImages(pctx)
	cancel()
	interrupted := <-signalled || ctx.Err() != nil
	if err == nil && !interrupted {
		return 0, true
	}
	if err != nil {
		fmt.Fprintf(r.out.stderr, "podrun: %v\n", err)
	}
	r.teardown()
	if interrupted {
		return ExitInterrupted, false
	}
	return ExitUsage, false
}

// pullImages opens the store and pulls or finds every image the pod
// names, per imagePullPolicy. It creates nothing but store content; a
// failure is an *ImageError naming the container's image field.
func (r *podRun) pullImages(ctx context.Context) error {
	refs := r.pod.ImageRefs()
	if len(refs) == 0 {
		return nil
	}
	st, err := openStore(&r.o.Images)
	if err != nil {
		return err
	}
	pi := &podImages{r: r, store: st, prefix: rootfsPrefix(r.o.RunDir, r.pod.Name),
		ids: map[string]string{}, refs: map[string]*manifest.ImageRef{}, live: map[string]*imagestore.Rootfs{}}
	r.images = pi
	byName := map[string]string{} // canonical name -> image ID, each pulled once per podrun
	for _, c := range r.imageContainers() {
		ref := c.ImageRef
		id, ok := byName[ref.Name]
		if !ok {
			if id, err = pi.resolve(ctx, c.Spec.Name, ref); err != nil {
				return &ImageError{Field: ref.Field, Image: ref.Ref, Err: err}
			}
			byName[ref.Name] = id
		}
		pi.ids[c.Spec.Name], pi.refs[c.Spec.Name] = id, ref
	}
	return nil
}

// imageContainers lists the containers whose image is a store image.
func (r *podRun) imageContainers() []*manifest.Container {
	var out []*manifest.Container
	for _, list := range [][]manifest.Container{r.pod.InitContainers, r.pod.Containers} {
		for i := range list {
			if list[i].ImageRef != nil {
				out = append(out, &list[i])
			}
		}
	}
	return out
}

// resolve applies the pull policy to one image and returns its ID.
func (pi *podImages) resolve(ctx context.Context, container string, ref *manifest.ImageRef) (string, error) {
	if ref.PullPolicy != manifest.PullAlways {
		img, err := pi.store.Status(ref.Name)
		if err == nil {
			pi.r.out.event(container, "Pulled", "Container image %q already present on machine", ref.Ref)
			return img.ID, nil
		}
		if !errors.Is(err, imagestore.ErrNotFound) {
			return "", err
		}
		if ref.PullPolicy == manifest.PullNever {
			return "", fmt.Errorf("%w (podrun images pull or load it first): %w", ErrImageNeverPull, err)
		}
	}
	pi.r.out.event(container, "Pulling", "Pulling image %q", ref.Ref)
	start := time.Now()
	id, err := pi.r.pullImage(ctx, ref.Name)
	if err != nil {
		return "", err
	}
	pi.r.out.event(container, "Pulled", "Successfully pulled image %q (%s) in %s", ref.Ref, id, time.Since(start).Round(time.Millisecond))
	return id, nil
}

// rootfsPrefix names a pod's rootfs IDs: podrun-<pod>-<hash of run dir
// and pod>-, so that leftovers of a crashed run are found again, and
// pods of the same name in other run directories never clash.
func rootfsPrefix(runDir, pod string) string {
	abs, err := filepath.Abs(runDir)
	if err != nil {
		abs = runDir
	}
	h := fnv.New32a()
	h.Write([]byte(abs + "\x00" + pod))
	short := pod
	if len(short) > 32 {
		short = short[:32]
	}
	return fmt.Sprintf("podrun-%s-%08x-", short, h.Sum32())
}

func (pi *podImages) rootfsID(container string, attempt int) string {
	return pi.prefix + container + "-" + strconv.Itoa(attempt)
}

// prepare runs once the sandbox exists (so no other podrun owns this pod):
// it removes rootfs leftovers of an earlier run of the pod that crashed,
// then gives every store-image container its first rootfs and completes
// its spec from the image config.
func (pi *podImages) prepare() error {
	if err := removePodRootfs(pi.store, pi.prefix); err != nil {
		return err
	}
	for _, c := range pi.r.imageContainers() {
		if err := pi.configure(c); err != nil {
			return err
		}
	}
	return nil
}

// removePodRootfs removes every rootfs whose ID starts with prefix
// (podrun's leftovers of a pod: see rootfsPrefix).
func removePodRootfs(st *imagestore.Store, prefix string) error {
	all, err := st.ListRootfs()
	if err != nil {
		return err
	}
	for _, rf := range all {
		if strings.HasPrefix(rf.ID, prefix) {
			if err := st.RemoveRootfs(rf.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// configure creates the container's attempt-0 rootfs and fills its spec:
// command, env, working directory and user by Kubernetes' rules.
func (pi *podImages) configure(c *manifest.Container) error {
	ref, s := c.ImageRef, &c.Spec
	fail := func(err error) error { return &ImageError{Field: ref.Field, Image: ref.Ref, Err: err} }
	rf, err := pi.mount(s.Name, 0)
	if err != nil {
		return fail(err)
	}
	user := ref.User
	if strings.HasPrefix(user, ":") { // runAsGroup alone: the image's user with that group
		cf, err := pi.store.Config(rf.Image)
		if err != nil {
			return fail(err)
		}
		u, _, _ := strings.Cut(cf.Config.User, ":")
		if u == "" {
			u = "0"
		}
		user = u + user
	}
	p, err := pi.store.ContainerConfig(rf, imagestore.Container{Command: ref.Command, Args: ref.Args, Env: s.Env,
		WorkingDir: s.Cwd, User: user})
	if err != nil {
		return fail(err)
	}
	if ref.RunAsNonRoot && p.UID == 0 {
		return fail(fmt.Errorf("%w: runAsNonRoot, but the container would run as root (the image's user is %q; set runAsUser)",
			sandbox.ErrInvalidConfig, user))
	}
	s.Args, s.Env, s.Cwd, s.UID, s.GID = p.Args, p.Env, p.Cwd, p.UID, p.GID
	for _, g := range s.AdditionalGIDs { // supplementalGroups after the image's groups
		if !slices.Contains(p.AdditionalGids, g) {
			p.AdditionalGids = append(p.AdditionalGids, g)
		}
	}
	s.AdditionalGIDs = p.AdditionalGids
	if err := mountPoints(rf, &s.ContainerSpec); err != nil {
		return fail(err)
	}
	s.Rootfs = rf.Dir
	return nil
}

// mount creates and records the rootfs of one run of a container.
func (pi *podImages) mount(container string, attempt int) (*imagestore.Rootfs, error) {
	rf, err := pi.store.CreateRootfs(pi.rootfsID(container, attempt), pi.ids[container])
	if err != nil {
		return nil, err
	}
	pi.mu.Lock()
	pi.live[rf.ID] = rf
	pi.mu.Unlock()
	return rf, nil
}

// mountPoints creates, in the run's own upper dir, the working directory
// and every mount point the spec needs, so volumes mount at any path.
func mountPoints(rf *imagestore.Rootfs, s *sandbox.ContainerSpec) error {
	if s.Cwd != "" && s.Cwd != "/" {
		if _, err := rf.MountPoint(s.Cwd, true); err != nil {
			return err
		}
	}
	for _, m := range s.Mounts {
		dir := true
		if m.Source != "" {
			if st, err := os.Stat(m.Source); err == nil && !st.IsDir() {
				dir = false
			}
		}
		if _, err := rf.MountPoint(m.Destination, dir); err != nil {
			return err
		}
	}
	return nil
}

// beforeCreate is the kubelet's hook before each creation: a restart
// (attempt > 0) gets a fresh rootfs.
func (pi *podImages) beforeCreate(_ context.Context, s *sandbox.ContainerSpec) error {
	if pi.refs[s.Name] == nil {
		return nil
	}
	id := pi.rootfsID(s.Name, s.Attempt)
	pi.mu.Lock()
	rf := pi.live[id]
	pi.mu.Unlock()
	if rf == nil {
		var err error
		if rf, err = pi.mount(s.Name, s.Attempt); err != nil {
			return err
		}
		if err := mountPoints(rf, s); err != nil {
			return err
		}
	}
	s.Rootfs = rf.Dir
	return nil
}

// afterRemove is the kubelet's hook once a restart removed a run: its
// rootfs goes with it.
func (pi *podImages) afterRemove(name string, attempt int) {
	if pi.refs[name] == nil {
		return
	}
	id := pi.rootfsID(name, attempt)
	if err := pi.store.RemoveRootfs(id); err != nil {
		pi.r.out.event(name, "RootfsRemoveFailed", "%v", err)
		return
	}
	pi.mu.Lock()
	delete(pi.live, id)
	pi.mu.Unlock()
}

// close removes every rootfs still mounted (the pod is gone) and closes
// the store.
func (pi *podImages) close() {
	pi.mu.Lock()
	defer pi.mu.Unlock()
	for id := range pi.live {
		if err := pi.store.RemoveRootfs(id); err != nil {
			fmt.Fprintf(pi.r.out.stderr, "podrun: %v\n", err)
			continue
		}
		delete(pi.live, id)
	}
	pi.store.Close()
}

// imageID is the image ID of a store-image container ("" otherwise).
func (r *podRun) imageID(container string) string {
	if r.images == nil {
		return ""
	}
	return r.images.ids[container]
}
