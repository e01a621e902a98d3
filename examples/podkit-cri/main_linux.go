//go:build linux

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"net"
	"os"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"

	"github.com/podkit/podkit/examples/internal/criserver"
	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/internal/podnet"
	"google.golang.org/grpc"
	"sigs.k8s.io/yaml"
)

// options are the program's settings: the config file's, then the flags'.
type options struct {
	Listen          string   `json:"listen"`
	StateDir        string   `json:"stateDir"`
	RunDir          string   `json:"runDir"`
	CgroupParent    string   `json:"cgroupParent"`
	Pause           string   `json:"pause"`
	ImageDir        string   `json:"imageDir"`
	CNIConfDir      string   `json:"cniConfDir"`
	CNINetwork      string   `json:"cniNetwork"`
	CNIPluginDirs   []string `json:"cniPluginDirs"`
	CNICacheDir     string   `json:"cniCacheDir"`
	NoNetwork       bool     `json:"noNetwork"`
	RegistryMirrors []string `json:"registryMirrors"`
	LogLevel        string   `json:"logLevel"`
}

// listFlag is a repeatable string flag.
type listFlag struct{ list *[]string }

func (l listFlag) String() string {
	if l.list == nil {
		return ""
	}
	return strings.Join(*l.list, ",")
}

func (l listFlag) Set(v string) error {
	*l.list = append(*l.list, v)
	return nil
}

type mirrorsFlag struct{ list *[]string }

func (m mirrorsFlag) String() string {
	if m.list == nil {
		return ""
	}
	return strings.Join(*m.list, ",")
}

func (m mirrorsFlag) Set(v string) error {
	if !strings.Contains(v, "=") {
		return fmt.Errorf("want REGISTRY=URL, got %q", v)
	}
	*m.list = append(*m.list, v)
	return nil
}

func parse(args []string) (options, error) {
	o := options{Listen: criserver.DefaultSocket, LogLevel: "info"}
	fs := flag.NewFlagSet("podkit-cri", flag.ContinueOnError)
	config := fs.String("config", "", "YAML config file (flags override it)")
	var fl options
	fs.StringVar(&fl.Listen, "listen", "", "unix socket to serve on (default "+criserver.DefaultSocket+")")
	fs.StringVar(&fl.StateDir, "state-dir", "", "records directory (default "+criserver.DefaultStateDir+")")
	fs.StringVar(&fl.RunDir, "run-dir", "", "sandboxes' run directory (default "+criserver.DefaultRunDir+")")
	fs.StringVar(&fl.CgroupParent, "cgroup-parent", "", "cgroup parent of pods that name none (default "+criserver.DefaultCgroupParent+")")
	fs.StringVar(&fl.Pause, "pause", "", "podkit-pause binary (default: $PODKIT_PAUSE or PATH)")
	fs.StringVar(&fl.ImageDir, "image-dir", "", "image store directory (default "+image.DefaultRoot+")")
	fs.StringVar(&fl.CNINetwork, "cni-network", "", "name of the CNI conflist in --cni-conf-dir (default: podkit's own bridge network, "+podnet.DefaultNetworkName+")")
	fs.StringVar(&fl.CNIConfDir, "cni-conf-dir", "", "CNI config directory (default "+podnet.DefaultConfDir+")")
	fs.Var(listFlag{&fl.CNIPluginDirs}, "cni-plugin-dir", "CNI plugin directory; repeatable (default "+strings.Join(podnet.DefaultPluginDirs, ", ")+")")
	fs.StringVar(&fl.CNICacheDir, "cni-cache-dir", "", "libcni's cache directory (default "+podnet.DefaultCacheDir+")")
	fs.BoolVar(&fl.NoNetwork, "no-network", false, "no pod network: pods get loopback only and NetworkReady is false")
	fs.Var(mirrorsFlag{&fl.RegistryMirrors}, "registry-mirror", "REGISTRY=URL: answer REGISTRY (or * for all) from URL; repeatable")
	fs.StringVar(&fl.LogLevel, "log-level", "", "debug, info, warn or error")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if *config != "" {
		b, err := os.ReadFile(*config)
		if err != nil {
			return o, err
		}
		if err := yaml.UnmarshalStrict(b, &o); err != nil {
			return o, fmt.Errorf("%s: %w", *config, err)
		}
	}
	for _, p := range []struct{ dst, src *string }{{&o.Listen, &fl.Listen}, {&o.StateDir, &fl.StateDir},
		{&o.RunDir, &fl.RunDir}, {&o.CgroupParent, &fl.CgroupParent}, {&o.Pause, &fl.Pause}, {&o.ImageDir, &fl.ImageDir}, {&o.LogLevel, &fl.LogLevel},
		{&o.CNIConfDir, &fl.CNIConfDir}, {&o.CNINetwork, &fl.CNINetwork}, {&o.CNICacheDir, &fl.CNICacheDir}} {
		if *p.src != "" {
			*p.dst = *p.src
		}
	}
	o.RegistryMirrors = append(o.RegistryMirrors, fl.RegistryMirrors...)
	o.CNIPluginDirs = append(o.CNIPluginDirs, fl.CNIPluginDirs...)
	o.NoNetwork = o.NoNetwork || fl.NoNetwork
	return o, nil
}

func main() {
	o, err := parse(os.Args[1:])
	if errors.Is(err, flag.ErrHelp) {
		os.Exit(0)
	}
	if err != nil {
		fmt.Fprintln(os.Stderr, "podkit-cri:", err)
		os.Exit(2)
	}
	if err := run(o); err != nil {
		fmt.Fprintln(os.Stderr, "podkit-cri:", err)
		os.Exit(1)
	}
}

func run(o options) error {
	var level slog.Level
	if err := level.UnmarshalText([]byte(o.LogLevel)); err != nil {
		return fmt.Errorf("log-level: %w", err)
	}
	log := slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: level}))
	ctx, stop := signal.NotifyContext(context.Background(), syscall.SIGTERM, syscall.SIGINT)
	defer stop()
	network, netErr := podNetwork(o)
	if netErr != nil {
		log.Error("no pod network: NetworkReady stays false", "err", netErr)
	}
	srv, err := criserver.New(ctx, criserver.Config{StateDir: o.StateDir, RunDir: o.RunDir,
		CgroupParent: o.CgroupParent, PauseBinary: o.Pause, Logger: log,
		Images:  image.Options{Root: o.ImageDir, Registries: registries(o.RegistryMirrors)},
		Network: network, NetworkError: netErr})
	if err != nil {
		return err
	}
	ln, err := listen(o.Listen)
	if err != nil {
		return err
	}
	g := grpc.NewServer()
	srv.Register(g)
	go func() {
		<-ctx.Done()
		log.Info("stopping: pods keep running")
		g.GracefulStop()
	}()
	log.Info("serving", "socket", o.Listen)
	return g.Serve(ln)
}

// podNetwork is the CNI network the options name: a conflist by name, or
// podkit's default bridge network; nil with --no-network.
func podNetwork(o options) (*podnet.Network, error) {
	if o.NoNetwork {
		return nil, nil
	}
	cfg := podnet.Config{Name: o.CNINetwork, ConfDir: o.CNIConfDir, PluginDirs: o.CNIPluginDirs, CacheDir: o.CNICacheDir}
	if cfg.Name == "" {
		cfg.List = podnet.Default()
	}
	return podnet.New(cfg)
}

// registries turns REGISTRY=URL settings into the image store's registry
// entries, one per registry, mirrors in the order given.
func registries(mirrors []string) []image.Registry {
	var out []image.Registry
	index := map[string]int{}
	for _, m := range mirrors {
		reg, url, _ := strings.Cut(m, "=")
		i, ok := index[reg]
		if !ok {
			i, index[reg] = len(out), len(out)
			out = append(out, image.Registry{Prefix: reg})
		}
		out[i].Mirrors = append(out[i].Mirrors, url)
	}
	return out
}

// listen makes the socket's directory and replaces a stale socket.
func listen(path string) (net.Listener, error) {
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		return nil, err
	}
	if err := os.Remove(path); err != nil && !os.IsNotExist(err) {
		return nil, err
	}
	return net.Listen("unix", path)
}
