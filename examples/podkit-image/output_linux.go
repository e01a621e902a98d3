//go:build linux

package main

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/podkit/podkit/examples/internal/image"
	"golang.org/x/sys/unix"
)

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

// isTerminal reports whether w is a terminal (pull progress goes only
// there).
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	_, err := unix.IoctlGetTermios(int(f.Fd()), unix.TCGETS)
	return err == nil
}

// progressPrinter prints a line per layer of a pull on a terminal: the
// line of the current layer is rewritten as bytes arrive.
func progressPrinter(w io.Writer) func(image.Progress) {
	return func(p image.Progress) {
		short := strings.TrimPrefix(p.Layer, "sha256:")
		if len(short) > 12 {
			short = short[:12]
		}
		switch {
		case p.Cached:
			fmt.Fprintf(w, "\r  %s: already present (%s)\n", short, size(p.Size))
		case p.Complete:
			fmt.Fprintf(w, "\r  %s: pulled %s          \n", short, size(p.Size))
		default:
			fmt.Fprintf(w, "\r  %s: %s / %s", short, size(p.Done), size(p.Size))
		}
	}
}

func size(n int64) string {
	switch {
	case n >= 1<<30:
		return fmt.Sprintf("%.1f GiB", float64(n)/(1<<30))
	case n >= 1<<20:
		return fmt.Sprintf("%.1f MiB", float64(n)/(1<<20))
	case n >= 1<<10:
		return fmt.Sprintf("%.1f KiB", float64(n)/(1<<10))
	}
	return fmt.Sprintf("%d B", n)
}
