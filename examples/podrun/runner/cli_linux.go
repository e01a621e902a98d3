//go:build linux

package runner

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/podkit/podkit/examples/podrun/manifest"
	"github.com/podkit/podkit/pause"
	"github.com/podkit/podkit/sandbox"
)

// Exit codes of podrun.
const (
	ExitSucceeded   = 0   // the pod Succeeded (or became Ready with --until-ready)
	ExitFailed      = 1   // the pod Failed
	ExitUsage       = 2   // bad flags, unreadable or invalid manifest, setup error
	ExitTimeout     = 124 // --timeout passed first; the pod was stopped
	ExitInterrupted = 130 // stopped by SIGINT/SIGTERM (or ctx cancelled)
)

// Values of --pause. A pause process is PID 1 of a pod that shares its
// PID namespace and reaps its orphans; any other pod needs no process to
// hold its namespaces, whose pins do that, and is created and torn down
// faster without one.
const (
	PauseAuto   = "auto"   // a pause only for a pod that shares its PID namespace
	PauseAlways = "always" // a pause for every pod, as containerd and the kubelet make one
)

// Options are podrun's flags.
type Options struct {
	Manifest     string
	JSON         bool
	Logs         bool
	LogDir       string
	RunDir       string
	CgroupParent string
	Timeout      time.Duration
	UntilReady   bool
	Check        bool
	Backoff      time.Duration // first restart delay (Kubernetes: 10s)
	SeccompRoot  string        // where seccompProfile.localhostProfile paths are resolved
	Pause        string        // which pods get a pause process: PauseAuto or PauseAlways
	networkOptions
	Images ImageOptions // image store and registry mirrors
}

// withPause says whether a pod gets a pause process under --pause.
func (o *Options) withPause(sharePID bool) bool { return o.Pause == PauseAlways || sharePID }

const usage = `usage: podrun [flags] MANIFEST
       podrun ps [--run-dir DIR]
       podrun rm [--run-dir DIR] [--force] NAME...|--all

Runs a Kubernetes Pod manifest (YAML or JSON: v1 Pods, with the v1
ConfigMaps and Secrets they use as further YAML documents, as podman kube
play takes them) on this machine with podkit, as root: no kubelet,
container runtime or registry. Each pod gets an IP on podkit's CNI bridge
network (see --cni-network); several pods run side by side.
An image is "host" (the host's /usr, /etc, /var, /opt read-only, private
/tmp), a root filesystem directory, or an image reference (busybox,
registry.k8s.io/pause:3.9) pulled into the image store per imagePullPolicy
(podrun images -h: pull, load, list, remove, gc). Ctrl-C stops the pod gracefully
(terminationGracePeriodSeconds); a second Ctrl-C kills it.

If podrun is killed, its guard process removes the pod within a second or
two; a run of a manifest whose earlier run left its pod behind removes it
first. ps lists the pods of the run directory, rm removes leftovers.

Exit status: 0 pod Succeeded (or Ready, with --until-ready), 1 pod Failed,
2 bad manifest or setup error, 124 --timeout, 130 interrupted; with several
pods the most severe of theirs (2, 130, 124, 1, 0 in that order).

flags:
`

func parseFlags(args []string, stderr io.Writer) (*Options, error) {
	o := &Options{}
	fs := flag.NewFlagSet("podrun", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() {
		fmt.Fprint(stderr, usage)
		fs.PrintDefaults()
	}
	fs.BoolVar(&o.JSON, "json", false, "print status, events (and logs) as JSON lines instead of a table")
	fs.BoolVar(&o.Logs, "logs", false, "also print container output, prefixed with [container]")
	fs.StringVar(&o.LogDir, "log-dir", "/var/log/podrun", "CRI log files go to DIR/<namespace>_<pod>/<container>/<restart>.log")
	fs.StringVar(&o.RunDir, "run-dir", sandbox.DefaultRunDir, "sandbox state directory")
	fs.StringVar(&o.CgroupParent, "cgroup-parent", sandbox.DefaultCgroupParent, "cgroup under which the pod cgroup is created "+
		"(one that exists before the pod is left in place, with its limits; one podrun makes goes with the last pod in it)")
	fs.DurationVar(&o.Timeout, "timeout", 0, "stop the pod after this long (0: run until it finishes or Ctrl-C)")
	fs.BoolVar(&o.UntilReady, "until-ready", false, "stop the pod gracefully once all containers are ready, and exit 0")
	fs.BoolVar(&o.Check, "check", false, "only parse and convert the manifest and print the plan; create nothing")
	fs.StringVar(&o.SeccompRoot, "seccomp-root", manifest.DefaultSeccompRoot, "directory seccompProfile.localhostProfile paths are relative to")
	fs.DurationVar(&o.Backoff, "backoff", 10*time.Second, "first restart back-off delay (doubles up to 5m, as in Kubernetes)")
	fs.StringVar(&o.Pause, "pause", PauseAuto, "which pods get a pause process: \""+PauseAuto+"\" (only those with shareProcessNamespace, "+
		"whose PID 1 it is; the others' namespaces are held by bind-mount pins, as CRI-O's drop_infra_ctr) or \""+PauseAlways+"\"")
	addNetworkFlags(fs, &o.networkOptions)
	o.Images.Register(fs)
	if err := fs.Parse(args); err != nil {
		return nil, err
	}
	if fs.NArg() != 1 {
		fs.Usage()
		return nil, errors.New("podrun: exactly one MANIFEST argument is required")
	}
	if o.Backoff <= 0 {
		return nil, errors.New("podrun: --backoff must be positive")
	}
	if o.Pause != PauseAuto && o.Pause != PauseAlways {
		return nil, fmt.Errorf("podrun: --pause %q: want %q or %q", o.Pause, PauseAuto, PauseAlways)
	}
	o.Manifest = fs.Arg(0)
	if abs, err := filepath.Abs(o.SeccompRoot); err == nil {
		o.SeccompRoot = abs // profiles are named by absolute path
	}
	return o, o.check()
}

// Main runs podrun with the given arguments (without the program name) and
// returns the exit status. Cancelling ctx is the first Ctrl-C; every value
// received on sigs is one more (a second one kills the pod at once). sigs
// may be nil.
func Main(ctx context.Context, args []string, stdout, stderr io.Writer, sigs <-chan os.Signal) int {
	if len(args) > 0 && args[0] == "images" {
		return imagesMain(ctx, args[1:], stdout, stderr)
	}
	if code, ok := subcommand(ctx, args, stdout, stderr); ok {
		return code
	}
	o, err := parseFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return ExitSucceeded
	}
	if err != nil {
		fmt.Fprintln(stderr, err)
		return ExitUsage
	}
	if !o.Check {
		defer preload()() // started now, released at return
	}
	data, err := os.ReadFile(o.Manifest)
	if err != nil {
		fmt.Fprintf(stderr, "podrun: %v\n", err)
		return ExitUsage
	}
	m, err := manifest.ParseAll(data, manifest.Options{Path: o.Manifest, SeccompRoot: o.SeccompRoot})
	if err != nil {
		fmt.Fprintf(stderr, "podrun: %v\n", err)
		return ExitUsage
	}
	for _, w := range m.Warnings {
		fmt.Fprintf(stderr, "podrun: warning: %s\n", w)
	}
	if o.Check {
		for _, pod := range m.Pods {
			printPlan(stdout, pod, o.withPause(pod.Config.SharePID))
		}
		return ExitSucceeded
	}
	if len(m.Pods) > 1 {
		return runPods(ctx, o, m.Pods, stdout, stderr, sigs)
	}
	pod := m.Pods[0]
	r := &podRun{o: o, pod: pod, out: newPrinter(stdout, stderr, o.JSON, pod.Name), changed: make(chan struct{}, 1)}
	return r.run(ctx, sigs)
}

// preload makes, on a goroutine, what the pod's creation needs first,
// while the manifest is read: the guard's stand-in (when the pause binary
// is found without building it) and the fast start path's base mount
// namespace; errors show at create. release, deferred by the caller,
// stops a guard no pod registered with.
func preload() (release func()) {
	released := make(chan func(), 1)
	go func() {
		stop := func() {}
		if bin, err := pause.Find(); err == nil {
			stop, _ = sandbox.PreloadGuard(bin)
		}
		released <- stop
		_ = sandbox.Preload()
	}()
	return func() { (<-released)() }
}

// printPlan describes the converted pod (--check).
func printPlan(w io.Writer, p *manifest.Pod, pause bool) {
	fmt.Fprintf(w, "pod %s/%s: restartPolicy %s, grace %s, hostname %s, shareProcessNamespace %v, hostNetwork %v, pause %v\n",
		p.Namespace, p.Name, p.RestartPolicy, p.Grace, p.Config.Hostname, p.Config.SharePID, p.Config.HostNetwork, pause)
	for _, v := range p.Config.Volumes {
		fmt.Fprintf(w, "  volume %s medium=%q sizeLimit=%d%s\n", v.Name, v.Medium, v.SizeLimit, fsGroupNote(v))
	}
	for _, dv := range p.DataVolumes {
		var files []string
		for _, f := range dv.Files {
			files = append(files, fmt.Sprintf("%s(%o, %d bytes)", f.Path, f.Mode, len(f.Data)))
		}
		fmt.Fprintf(w, "  %s volume %s: %s\n", dv.Kind, dv.Name, strings.Join(files, " "))
	}
	for _, list := range [][]manifest.Container{p.InitContainers, p.Containers} {
		for _, c := range list {
			kind := "container"
			switch {
			case c.Init && c.Spec.Sidecar():
				kind = "sidecar (init container, restartPolicy Always)"
			case c.Init:
				kind = "init container"
			}
			fmt.Fprintf(w, "  %s %s: image %s, uid %d%s, args %q\n", kind, c.Spec.Name, c.Image, c.Spec.UID, groupsNote(c.Spec.AdditionalGIDs), c.Spec.Args)
			for _, pt := range c.Ports {
				if pt.HostPort != 0 {
					fmt.Fprintf(w, "    hostPort %s:%d -> %d/%s\n", pt.HostIP, pt.HostPort, pt.Port, cmp.Or(pt.Protocol, "TCP"))
				}
			}
			if ref := c.ImageRef; ref != nil {
				fmt.Fprintf(w, "    store image %s, imagePullPolicy %s, command %q, args %q, user %q (the image fills in the rest)\n",
					ref.Name, ref.PullPolicy, ref.Command, ref.Args, ref.User)
			}
			for _, m := range c.Spec.Mounts {
				fmt.Fprintf(w, "    mount %s <- volume=%q source=%q ro=%v%s\n", m.Destination, m.Volume, m.Source, m.ReadOnly, subPathNote(m))
			}
			printLifecycle(w, c.Spec)
		}
	}
}
