//go:build linux

package runner

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/podkit/podkit/examples/internal/imagestore"
	"github.com/podkit/podkit/sandbox"
)

// guardGrace is how long a new run waits for the guard of a podrun that
// just died to finish destroying the pod before removing it itself.
const guardGrace = 3 * time.Second

// clearLeftover makes room for the pod's sandbox: a sandbox of the same
// ID whose podrun is gone (killed, crashed) is removed, after giving the
// dead podrun's guard the time to do it; one whose podrun still runs is
// an error naming that process. net gives the network a leftover's
// removal detaches (made only then: it reads the CNI configuration).
func clearLeftover(ctx context.Context, runDir, id string, net func() sandbox.LoadOptions, stderr io.Writer) error {
	dir := filepath.Join(runDir, id)
	for deadline := time.Now().Add(guardGrace); ; time.Sleep(20 * time.Millisecond) {
		if _, err := os.Lstat(dir); errors.Is(err, os.ErrNotExist) {
			return nil
		}
		in, found := findSandbox(runDir, id)
		if found && in.ManagerPid != 0 {
			return fmt.Errorf("pod %s is run by process %d (podrun rm --force %s removes it)", id, in.ManagerPid, id)
		}
		if !found || in.Config.Lifetime != sandbox.DieWithManager || time.Now().After(deadline) {
			break
		}
	}
	fmt.Fprintf(stderr, "podrun: removing the leftovers of an earlier run of pod %s\n", id)
	if err := sandbox.Remove(ctx, runDir, id, net()); err != nil {
		return fmt.Errorf("remove the leftovers of pod %s: %w", id, err)
	}
	return nil
}

// findSandbox reads the sandbox id of runDir, if it has a state file.
func findSandbox(runDir, id string) (sandbox.Info, bool) {
	infos, _ := sandbox.List(runDir)
	for _, in := range infos {
		if in.ID == id {
			return in, true
		}
	}
	return sandbox.Info{}, false
}

// subcommand runs "podrun ps" and "podrun rm"; ok is false for any other
// first argument (a manifest).
func subcommand(ctx context.Context, args []string, stdout, stderr io.Writer) (code int, ok bool) {
	if len(args) == 0 || (args[0] != "ps" && args[0] != "rm") {
		return 0, false
	}
	fs := flag.NewFlagSet("podrun "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	runDir := fs.String("run-dir", sandbox.DefaultRunDir, "sandbox state directory")
	all := fs.Bool("all", false, "rm: every pod whose podrun is gone")
	force := fs.Bool("force", false, "rm: also pods whose podrun still runs (it sees them die)")
	imageDir := fs.String("image-dir", imagestore.DefaultRoot, "rm: the image store whose container roots of the pod go too")
	if err := fs.Parse(args[1:]); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return ExitSucceeded, true
		}
		return ExitUsage, true
	}
	if args[0] == "ps" {
		if fs.NArg() != 0 {
			fmt.Fprintln(stderr, "usage: podrun ps [--run-dir DIR]")
			return ExitUsage, true
		}
		return ps(*runDir, stdout, stderr), true
	}
	if (fs.NArg() == 0) == !*all {
		fmt.Fprintln(stderr, "usage: podrun rm [--run-dir DIR] [--force] NAME...|--all")
		return ExitUsage, true
	}
	return rm(ctx, *runDir, *imageDir, fs.Args(), *all, *force, stdout, stderr), true
}

// ps lists the pods of a run directory, live or left over.
func ps(runDir string, stdout, stderr io.Writer) int {
	infos, err := sandbox.List(runDir)
	if err != nil {
		fmt.Fprintf(stderr, "podrun: %v\n", err)
	}
	tw := tabwriter.NewWriter(stdout, 0, 8, 2, ' ', 0)
	fmt.Fprintln(tw, "NAME\tSTATE\tPODRUN\tAGE\tCONTAINERS")
	for _, in := range infos {
		manager := "gone (leftover)"
		if in.ManagerPid != 0 {
			manager = fmt.Sprintf("pid %d", in.ManagerPid)
		}
		var cs []string
		for _, c := range in.Containers {
			cs = append(cs, c.Name+"="+string(c.State))
		}
		fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", in.ID, in.State, manager,
			time.Since(in.CreatedAt).Round(time.Second), strings.Join(cs, ","))
	}
	tw.Flush()
	if err != nil {
		return ExitFailed
	}
	return ExitSucceeded
}

// rm removes the named pods (or, with all, every leftover); a pod whose
// podrun still runs only with force.
func rm(ctx context.Context, runDir, imageDir string, names []string, all, force bool, stdout, stderr io.Writer) int {
	infos, err := sandbox.List(runDir)
	if err != nil {
		fmt.Fprintf(stderr, "podrun: %v\n", err)
	}
	byID := map[string]sandbox.Info{}
	for _, in := range infos {
		byID[in.ID] = in
		if all && (in.ManagerPid == 0 || force) {
			names = append(names, in.ID)
		}
	}
	code := ExitSucceeded
	for _, n := range names {
		in, ok := byID[n]
		if _, err := os.Lstat(filepath.Join(runDir, n)); !ok && err != nil {
			fmt.Fprintf(stderr, "podrun: no pod %s in %s\n", n, runDir)
			code = ExitFailed
			continue
		}
		if ok && in.ManagerPid != 0 && !force {
			fmt.Fprintf(stderr, "podrun: pod %s is run by process %d (--force removes it anyway)\n", n, in.ManagerPid)
			code = ExitFailed
			continue
		}
		if err := sandbox.Remove(ctx, runDir, n, leftoverNetwork(networkOptions{})); err != nil {
			fmt.Fprintf(stderr, "podrun: %v\n", err)
			code = ExitFailed
			continue
		}
		if err := removeLeftoverRootfs(imageDir, runDir, n); err != nil {
			fmt.Fprintf(stderr, "podrun: pod %s: %v\n", n, err)
			code = ExitFailed
			continue
		}
		fmt.Fprintln(stdout, n)
	}
	return code
}

// removeLeftoverRootfs removes the container roots a pod's podrun left in
// the image store at imageDir (if there is a store there).
func removeLeftoverRootfs(imageDir, runDir, pod string) error {
	if _, err := os.Stat(imageDir); err != nil {
		return nil
	}
	st, err := imagestore.Open(imagestore.Options{Root: imageDir})
	if err != nil {
		return err
	}
	defer st.Close()
	return removePodRootfs(st, rootfsPrefix(runDir, pod))
}
