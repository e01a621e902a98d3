//go:build linux

package criserver

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"time"

	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
)

// CreateContainer creates a container in a ready sandbox from an image in
// the store: its own overlay rootfs, the process by Kubernetes' rules,
// its log at the path kubelet gives. The container waits for
// StartContainer.
func (s *Server) CreateContainer(ctx context.Context, req *runtimeapi.CreateContainerRequest) (*runtimeapi.CreateContainerResponse, error) {
	sr := s.store.sandbox(req.GetPodSandboxId())
	if sr == nil {
		return nil, notFound("pod sandbox", req.GetPodSandboxId())
	}
	if sr.state() != runtimeapi.PodSandboxState_SANDBOX_READY {
		return nil, status.Errorf(codes.FailedPrecondition, "pod sandbox %s is not ready", sr.ID)
	}
	cfg := req.GetConfig()
	if cfg.GetMetadata().GetName() == "" {
		return nil, status.Error(codes.InvalidArgument, "config.metadata.name is required")
	}
	if err := checkContainerConfig(cfg); err != nil {
		return nil, err
	}
	img, err := s.images.Status(cfg.GetImage().GetImage())
	if err != nil {
		return nil, imageError("CreateContainer: config.image", err)
	}
	rec := &containerRecord{ID: newID(), SandboxID: sr.ID, Config: cfg, ImageRef: img.ID, CreatedAt: time.Now().UnixNano()}
	if dir, p := sr.Config.GetLogDirectory(), cfg.GetLogPath(); dir != "" && p != "" {
		rec.LogPath = filepath.Join(dir, p)
	}
	key := containerKey(sr.ID, cfg.GetMetadata())
	if err := s.store.reserve(key, rec.ID); err != nil {
		return nil, status.Error(codes.AlreadyExists, err.Error())
	}
	if err := s.createContainer(ctx, sr, rec, img); err != nil {
		s.store.release(key, rec.ID)
		return nil, err
	}
	s.store.addContainer(rec)
	s.containerEvent(rec.ID, sr.ID, runtimeapi.ContainerEventType_CONTAINER_CREATED_EVENT)
	return &runtimeapi.CreateContainerResponse{ContainerId: rec.ID}, nil
}

// createContainer builds the rootfs and the sandbox container, undoing
// both on failure.
func (s *Server) createContainer(ctx context.Context, sr *sandboxRecord, rec *containerRecord, img *image.Image) (err error) {
	rootfs, err := s.images.CreateRootfs(rec.ID, img.ID)
	if err != nil {
		return imageError("CreateContainer: rootfs", err)
	}
	defer func() {
		if err != nil {
			_ = s.images.RemoveRootfs(rec.ID)
		}
	}()
	spec, err := s.containerSpec(rec, rootfs)
	if err != nil {
		return err
	}
	sr.mu.Lock()
	sb := sr.sb
	sr.mu.Unlock()
	if sb == nil {
		return status.Errorf(codes.FailedPrecondition, "pod sandbox %s is not attached", sr.ID)
	}
	if err := sb.CreateContainer(ctx, spec); err != nil {
		return grpcError("CreateContainer", err)
	}
	if err := s.store.saveContainer(rec); err != nil {
		_ = sb.RemoveContainer(context.WithoutCancel(ctx), rec.ID)
		return grpcError("CreateContainer: saving its record", err)
	}
	return nil
}

// checkContainerConfig refuses, by field, what podkit cannot honour yet.
func checkContainerConfig(cfg *runtimeapi.ContainerConfig) error {
	sc := cfg.GetLinux().GetSecurityContext()
	switch {
	case len(cfg.GetDevices()) > 0:
		return unsupported("devices", cfg.GetDevices()[0].GetHostPath())
	}
	if sc.GetRunAsGroup() != nil && sc.GetRunAsUser() == nil && sc.GetRunAsUsername() == "" {
		return status.Error(codes.InvalidArgument, "linux.security_context.run_as_group needs run_as_user or run_as_username")
	}
	for i, m := range cfg.GetMounts() {
		if _, err := propagation(i, m.GetPropagation()); err != nil {
			return err
		}
		if m.GetImage() != nil { // image volumes: explicitly not implemented, as the CRI asks
			return status.Errorf(codes.Unimplemented, "mounts[%d].image: image volumes are not implemented by podkit-cri", i)
		}
	}
	return nil
}

// containerSpec turns a CRI container config into a sandbox container on
// rootfs.
func (s *Server) containerSpec(rec *containerRecord, rootfs *image.Rootfs) (sandbox.ContainerSpec, error) {
	cfg := rec.Config
	sc := cfg.GetLinux().GetSecurityContext()
	var env []string
	for _, kv := range cfg.GetEnvs() {
		env = append(env, kv.GetKey()+"="+string(kv.GetValue()))
	}
	proc, err := s.images.ContainerConfig(rootfs, image.Container{Command: cfg.GetCommand(), Args: cfg.GetArgs(),
		Env: env, WorkingDir: cfg.GetWorkingDir(), User: criUser(sc)})
	if err != nil {
		return sandbox.ContainerSpec{}, imageError("CreateContainer: the container's process", err)
	}
	gids := slices.Clone(proc.AdditionalGids)
	for _, g := range sc.GetSupplementalGroups() {
		if !slices.Contains(gids, uint32(g)) {
			gids = append(gids, uint32(g))
		}
	}
	mounts, err := criMounts(cfg.GetMounts(), rootfs)
	if err != nil {
		return sandbox.ContainerSpec{}, err
	}
	r := cfg.GetLinux().GetResources()
	prof, err := containerSeccomp(sc)
	if err != nil {
		return sandbox.ContainerSpec{}, err
	}
	spec := sandbox.ContainerSpec{
		Name: rec.ID, Attempt: int(cfg.GetMetadata().GetAttempt()),
		Args: proc.Args, Env: proc.Env, Cwd: proc.Cwd, UID: proc.UID, GID: proc.GID, AdditionalGIDs: gids,
		Rootfs: rootfs.Dir, ReadOnlyRootfs: sc.GetReadonlyRootfs(), Mounts: mounts,
		Resources: sandbox.Resources{MemoryLimit: r.GetMemoryLimitInBytes(), CPUShares: r.GetCpuShares(),
			CPUQuotaUs: r.GetCpuQuota(), CPUPeriodUs: r.GetCpuPeriod()},
		AllowNewPrivileges: !sc.GetNoNewPrivs(),
		Stdin:              cfg.GetStdin(), StdinOnce: cfg.GetStdinOnce(), TTY: cfg.GetTty(),
		LogPath: rec.LogPath, LogFormat: sandbox.LogCRI,
		Labels: cfg.GetLabels(), Annotations: cfg.GetAnnotations(),
		Seccomp: prof,
	}
	var pod *runtimeapi.PodSandboxConfig
	if sr := s.store.sandbox(rec.SandboxID); sr != nil {
		pod = sr.Config
	}
	return spec, containerSecurity(sc, pod, &spec) // security_linux.go
}

// criUser is the user a security context asks for, in image.Container's
// form; "" keeps the image's USER.
func criUser(sc *runtimeapi.LinuxContainerSecurityContext) string {
	user := sc.GetRunAsUsername()
	if user == "" && sc.GetRunAsUser() != nil {
		user = strconv.FormatInt(sc.GetRunAsUser().GetValue(), 10)
	}
	if sc.GetRunAsGroup() != nil { // with a user: checkContainerConfig refuses a group alone
		user += ":" + strconv.FormatInt(sc.GetRunAsGroup().GetValue(), 10)
	}
	return user
}

// criMounts binds host paths into the container; the mount points are made
// in the container's own upper dir, so they may be anywhere.
func criMounts(ms []*runtimeapi.Mount, rootfs *image.Rootfs) ([]sandbox.Mount, error) {
	var out []sandbox.Mount
	for i, m := range ms {
		st, err := os.Stat(m.GetHostPath())
		if err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "mounts[%d].host_path: %v", i, err)
		}
		if _, err := rootfs.MountPoint(m.GetContainerPath(), st.IsDir()); err != nil {
			return nil, status.Errorf(codes.InvalidArgument, "mounts[%d].container_path: %v", i, err)
		}
		prop, err := propagation(i, m.GetPropagation())
		if err != nil {
			return nil, err
		}
		out = append(out, sandbox.Mount{Destination: m.GetContainerPath(), Source: m.GetHostPath(), ReadOnly: m.GetReadonly(), Propagation: prop})
	}
	return out, nil
}
