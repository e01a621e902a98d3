//go:build linux

package runner

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"github.com/podkit/podkit/examples/internal/image"
)

const imagesUsage = `usage: podrun images [store flags] COMMAND [flags] [ARGS]

Manages the image store podrun runs store images from (and podkit-cri
shares):

  pull REF...           pull images (busybox, registry.k8s.io/pause:3.9,
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

// imagesMain runs `podrun images ...` and returns the exit status.
func imagesMain(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	var o ImageOptions
	fs := flag.NewFlagSet("podrun images", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.Usage = func() { fmt.Fprint(stderr, imagesUsage); fs.PrintDefaults() }
	o.register(fs)
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitSucceeded
		}
		return ExitUsage
	}
	if fs.NArg() == 0 {
		fs.Usage()
		return ExitUsage
	}
	verb := fs.Arg(0)
	vfs := flag.NewFlagSet("podrun images "+verb, flag.ContinueOnError)
	vfs.SetOutput(stderr)
	o.register(vfs)
	tag := vfs.String("tag", "", "load: also name the archive's image REF")
	asJSON := vfs.Bool("json", false, "list: one JSON record per image")
	if err := vfs.Parse(fs.Args()[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitSucceeded
		}
		return ExitUsage
	}
	want := map[string][2]int{"pull": {1, -1}, "load": {1, 1}, "list": {0, 0}, "ls": {0, 0}, "rm": {1, -1}, "remove": {1, -1}, "gc": {0, 0}}
	n, known := want[verb]
	if !known || vfs.NArg() < n[0] || n[1] >= 0 && vfs.NArg() > n[1] {
		fmt.Fprintf(stderr, "podrun images: bad command line %q\n", strings.Join(args, " "))
		fs.Usage()
		return ExitUsage
	}
	st, err := o.open()
	if err != nil {
		return imageExit(stderr, err)
	}
	defer st.Close()
	switch verb {
	case "pull":
		for _, ref := range vfs.Args() {
			pctx := ctx
			if isTerminal(stderr) {
				fmt.Fprintf(stderr, "pulling %s\n", ref)
				pctx = image.WithProgress(ctx, progressPrinter(stderr))
			}
			img, err := st.Pull(pctx, ref)
			if err != nil {
				return imageExit(stderr, err)
			}
			fmt.Fprintf(stdout, "%s %s\n", img.ID, ref)
		}
	case "load":
		imgs, err := st.Load(ctx, vfs.Arg(0), *tag)
		if err != nil {
			return imageExit(stderr, err)
		}
		for _, img := range imgs {
			fmt.Fprintf(stdout, "%s %s\n", img.ID, strings.Join(img.RepoTags, " "))
		}
	case "list", "ls":
		imgs, err := st.List()
		if err != nil {
			return imageExit(stderr, err)
		}
		printImages(stdout, imgs, *asJSON)
	case "rm", "remove":
		for _, ref := range vfs.Args() {
			if err := st.Remove(ref); err != nil {
				return imageExit(stderr, err)
			}
			fmt.Fprintf(stdout, "removed %s\n", ref)
		}
	case "gc":
		res, err := st.GC()
		if err != nil {
			return imageExit(stderr, err)
		}
		fmt.Fprintf(stdout, "removed %d blobs, %d unpacked layers, %d leftovers\n", res.Blobs, res.Layers, res.Temp)
	}
	return ExitSucceeded
}

// imageExit prints err and maps it to podrun's exit status: bad input is
// ExitUsage, anything else ExitFailed.
func imageExit(stderr io.Writer, err error) int {
	fmt.Fprintf(stderr, "podrun: %v\n", err)
	for _, bad := range []error{image.ErrBadReference, image.ErrNotFound, image.ErrBadConfig, image.ErrUnsupported} {
		if errors.Is(err, bad) {
			return ExitUsage
		}
	}
	return ExitFailed
}

func printImages(w io.Writer, imgs []image.Image, asJSON bool) {
	if asJSON {
		enc := json.NewEncoder(w)
		for _, img := range imgs {
			_ = enc.Encode(img)
		}
		return
	}
	tw := tabwriter.NewWriter(w, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "IMAGE ID\tSIZE\tLAYERS\tNAMES")
	for _, img := range imgs {
		names := append(append([]string(nil), img.RepoTags...), img.RepoDigests...)
		if len(names) == 0 {
			names = []string{"<none>"}
		}
		fmt.Fprintf(tw, "%s\t%s\t%d\t%s\n", strings.TrimPrefix(img.ID, "sha256:")[:12], size(img.Size), len(img.Layers), strings.Join(names, " "))
	}
	_ = tw.Flush()
}
