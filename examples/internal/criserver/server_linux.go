//go:build linux

package criserver

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"path/filepath"
	"strings"

	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/internal/podnet"
	"github.com/podkit/podkit/sandbox"
	"google.golang.org/grpc"
	runtimeapi "k8s.io/cri-api/pkg/apis/runtime/v1"
	"k8s.io/cri-streaming/pkg/streaming"
)

// Defaults of Config.
const (
	DefaultStateDir     = "/var/lib/podkit/cri"
	DefaultRunDir       = "/run/podkit/cri"
	DefaultCgroupParent = "podkit-cri"
	DefaultSocket       = "/run/podkit/cri.sock"
	DefaultStreamAddr   = "127.0.0.1:0"
)

// ErrConfig: a Config field is invalid.
var ErrConfig = errors.New("invalid criserver configuration")

// Config configures a Server.
type Config struct {
	// StateDir keeps the server's records (default DefaultStateDir).
	StateDir string
	// RunDir is the sandboxes' run directory (default DefaultRunDir).
	RunDir string
	// CgroupParent is used for pods whose config names none.
	CgroupParent string
	// PauseBinary is podkit-pause; empty means pause.Find().
	PauseBinary string
	// Images configures the image store (its root defaults to
	// image.DefaultRoot; mirrors in Images.Registries).
	Images image.Options
	// Network is the pod network (CNI); nil means none: pods then get
	// loopback only, host network pods excepted, and the runtime reports
	// NetworkReady false, as kubelet expects of a node without a network.
	Network *podnet.Network
	// NetworkError, with a nil Network, says why there is none (reported
	// in the NetworkReady condition).
	NetworkError error
	// StreamAddr is where exec and port-forward streams are served
	// (default DefaultStreamAddr; port 0 picks a free one).
	StreamAddr string
	// Logger receives the server's log; nil means slog.Default().
	Logger *slog.Logger
}

func (c Config) withDefaults() Config {
	if c.StateDir == "" {
		c.StateDir = DefaultStateDir
	}
	if c.RunDir == "" {
		c.RunDir = DefaultRunDir
	}
	if c.CgroupParent == "" {
		c.CgroupParent = DefaultCgroupParent
	}
	if c.StreamAddr == "" {
		c.StreamAddr = DefaultStreamAddr
	}
	if c.Logger == nil {
		c.Logger = slog.Default()
	}
	return c
}

// Validate checks c without touching the host.
func (c Config) Validate() error {
	c = c.withDefaults()
	for field, dir := range map[string]string{"StateDir": c.StateDir, "RunDir": c.RunDir} {
		if !filepath.IsAbs(dir) {
			return fmt.Errorf("%w: %s %q is not an absolute path", ErrConfig, field, dir)
		}
	}
	if strings.Contains(c.CgroupParent, "..") {
		return fmt.Errorf("%w: CgroupParent %q", ErrConfig, c.CgroupParent)
	}
	return nil
}

// Server implements the CRI RuntimeService and ImageService.
type Server struct {
	runtimeapi.UnimplementedRuntimeServiceServer
	runtimeapi.UnimplementedImageServiceServer

	cfg    Config
	log    *slog.Logger
	store  *store
	images *image.Store
	// stream serves exec and port-forward streams on streamListener.
	stream         streaming.Server
	streamListener net.Listener
	events         eventHub // GetContainerEvents' subscribers (events_linux.go)
}

// New validates cfg, then rebuilds the store from the state directory,
// re-attaching every sandbox that still exists.
func New(ctx context.Context, cfg Config) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	cfg = cfg.withDefaults()
	st, err := newStore(cfg.StateDir)
	if err != nil {
		return nil, err
	}
	images, err := image.Open(cfg.Images)
	if err != nil {
		return nil, err
	}
	s := &Server{cfg: cfg, log: cfg.Logger, store: st, images: images}
	// The fast start path's base mount namespace, made now so that the
	// first container create does not pay for it.
	if err := sandbox.Preload(); err != nil {
		s.log.Warn("fast start path unavailable: containers start through libcontainer", "err", err)
	}
	if err := s.restore(ctx); err != nil {
		return nil, err
	}
	if err := s.startStreaming(cfg.StreamAddr); err != nil {
		return nil, err
	}
	return s, nil
}

// Register registers both services on g.
func (s *Server) Register(g *grpc.Server) {
	runtimeapi.RegisterRuntimeServiceServer(g, s)
	runtimeapi.RegisterImageServiceServer(g, s)
}

// restore reads the persisted records and re-attaches their sandboxes. A
// sandbox that cannot be re-attached stays listed, NOTREADY, until
// RemovePodSandbox.
func (s *Server) restore(ctx context.Context) error {
	recs, err := s.store.loadSandboxes()
	if err != nil {
		return err
	}
	for _, r := range recs {
		sb, err := sandbox.Load(s.cfg.RunDir, r.ID)
		if err != nil {
			s.log.Warn("restore: sandbox not re-attached", "id", r.ID, "err", err)
		} else {
			r.sb = sb
			s.watchExits(r.ID, sb)
		}
		s.store.addSandbox(r)
	}
	crecs, err := s.store.loadContainers()
	if err != nil {
		return err
	}
	for _, c := range crecs {
		s.store.addContainer(c)
	}
	s.log.Info("restored", "sandboxes", len(recs), "containers", len(crecs))
	return nil
}
