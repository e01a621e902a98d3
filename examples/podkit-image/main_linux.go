//go:build linux

package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/podkit/podkit/examples/internal/image"
	"github.com/podkit/podkit/examples/internal/imagestore"
)

// The exit statuses.
const (
	exitDone   = 0
	exitFailed = 1
	exitUsage  = 2 // bad usage, bad reference, no such image
)

const usage = `usage: podkit-image [store flags] COMMAND [flags] [ARGS]

Manages podkit's image store (podrun's and podkit-cri's):

  pull [--json] REF...  pull images (busybox, registry.k8s.io/pause:3.9,
                        repo@sha256:...) through the configured mirrors
  load [--tag REF] PATH load an OCI image layout directory, an OCI archive
                        or a docker save tarball
  list [--json]         list images (ls)
  rm REF...             remove names: a tag removes that tag (and the image
                        with its last one), an ID or digest the image
  gc                    delete blobs and unpacked layers no image or
                        container uses

Pull progress is shown when stderr is a terminal. Exit status: 0 done,
1 failed (registry, store), 2 bad usage, bad reference or no such image.

store flags (also accepted after COMMAND):
`

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	os.Exit(code)
}

// verbs are the commands with their least and most arguments (-1: any).
var verbs = map[string][2]int{"pull": {1, -1}, "load": {1, 1}, "list": {0, 0}, "ls": {0, 0}, "rm": {1, -1}, "remove": {1, -1}, "gc": {0, 0}}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o imagestore.StoreFlags
	fs := flag.NewFlagSet("podkit-image", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, usage); fs.PrintDefaults() }
	o.Register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitDone
		}
		return exitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return exitUsage
	}
	verb := fs.Arg(0)
	vfs := flag.NewFlagSet("podkit-image "+verb, flag.ContinueOnError)
	vfs.SetOutput(stderr)
	o.Register(vfs)
	tag := vfs.String("tag", "", "load: also name the archive's image REF")
	asJSON := vfs.Bool("json", false, "list: one JSON record per image; pull: one JSON result per reference")
	if err := vfs.Parse(fs.Args()[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return exitDone
		}
		return exitUsage
	}
	n, known := verbs[verb]
	if !known || vfs.NArg() < n[0] || n[1] >= 0 && vfs.NArg() > n[1] {
		fmt.Fprintf(stderr, "podkit-image: bad command line %q\n", strings.Join(args, " "))
		fs.Usage()
		return exitUsage
	}
	st, err := image.Open(o.Options())
	if err != nil {
		return fail(stderr, err)
	}
	defer st.Close()
	switch verb {
	case "pull":
		return pull(ctx, st, vfs.Args(), *asJSON, stdout, stderr)
	case "load":
		imgs, err := st.Load(ctx, vfs.Arg(0), *tag)
		if err != nil {
			return fail(stderr, err)
		}
		for _, img := range imgs {
			fmt.Fprintf(stdout, "%s %s\n", img.ID, strings.Join(img.RepoTags, " "))
		}
	case "list", "ls":
		imgs, err := st.List()
		if err != nil {
			return fail(stderr, err)
		}
		printImages(stdout, imgs, *asJSON)
	case "rm", "remove":
		for _, ref := range vfs.Args() {
			if err := st.Remove(ref); err != nil {
				return fail(stderr, err)
			}
			fmt.Fprintf(stdout, "removed %s\n", ref)
		}
	case "gc":
		res, err := st.GC()
		if err != nil {
			return fail(stderr, err)
		}
		fmt.Fprintf(stdout, "removed %d blobs, %d unpacked layers, %d leftovers\n", res.Blobs, res.Layers, res.Temp)
	}
	return exitDone
}

// pull pulls refs in order; the first failure ends it.
func pull(ctx context.Context, st *image.Store, refs []string, asJSON bool, stdout, stderr io.Writer) int {
	enc := json.NewEncoder(stdout)
	for _, ref := range refs {
		pctx := ctx
		if isTerminal(stderr) {
			fmt.Fprintf(stderr, "pulling %s\n", ref)
			pctx = image.WithProgress(ctx, progressPrinter(stderr))
		}
		img, err := st.Pull(pctx, ref)
		switch {
		case err != nil && asJSON:
			_ = enc.Encode(imagestore.PullResult{Ref: ref, Error: err.Error(), Kind: imagestore.ErrorKind(err)})
			return exitCode(err)
		case err != nil:
			return fail(stderr, err)
		case asJSON:
			_ = enc.Encode(imagestore.PullResult{Ref: ref, ID: img.ID})
		default:
			fmt.Fprintf(stdout, "%s %s\n", img.ID, ref)
		}
	}
	return exitDone
}

// fail prints err and returns its exit status.
func fail(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "podkit-image: %v\n", err)
	return exitCode(err)
}

// exitCode is exitUsage for bad input, exitFailed for anything else.
func exitCode(err error) int {
	for _, bad := range []error{image.ErrBadReference, image.ErrNotFound, image.ErrBadConfig, image.ErrUnsupported} {
		if errors.Is(err, bad) {
			return exitUsage
		}
	}
	return exitFailed
}
