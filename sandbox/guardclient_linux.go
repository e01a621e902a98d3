//go:build linux

package sandbox

import (
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"os/exec"
	"strconv"
	"syscall"

	"github.com/podkit/podkit/pause"
)

// guardAdd registers a sandbox directory with the manager's guard,
// starting the guard first if there is none (or it died). It returns the
// token to save in the sandbox's state. It is called before the directory
// exists, so no crash can leave a pod its guard does not know of.
//
// While every sandbox of the manager is DieWithManager the guard is the
// pause binary's stand-in (podkit-pause --guard-wait, found as pauseBin
// says): it only keeps the messages and, if the manager dies, hands them
// to this binary re-executed as the guard, which tears the sandboxes
// down. An OutliveManager sandbox needs the guard itself from the start
// (it records container exits live), so the stand-in is replaced then.
func guardAdd(dir string, die bool, pauseBin string) (string, error) {
	guardMu.Lock()
	defer guardMu.Unlock()
	if guard != nil && (die || !guard.standIn) {
		if err := guard.send(guardMsg{Op: "add", Dir: dir, Die: die}); err == nil {
			guard.dirs[dir] = die
			return guard.token, nil
		}
		guard.close(false) // it died: start another with every directory
		guard.dead = true
	}
	dirs := map[string]bool{dir: die}
	if guard != nil {
		maps.Copy(dirs, guard.dirs)
	}
	g, err := startGuard(standInFor(dirs, pauseBin))
	if err != nil {
		return "", fmt.Errorf("start guard: %w", err)
	}
	for d, die := range dirs {
		if err := g.send(guardMsg{Op: "add", Dir: d, Die: die}); err != nil {
			g.close(false)
			return "", fmt.Errorf("guard: %w", err)
		}
		g.dirs[d] = die
	}
	if guard != nil && !guard.dead {
		guard.close(true) // the stand-in's sandboxes are the new guard's now
	}
	guard = g
	return g.token, nil
}

// PreloadGuard starts the manager's guard now, as its first Create of a
// DieWithManager sandbox would: a manager that creates a sandbox as soon
// as it starts calls it beside its other start-up work, so that the
// create does not wait for the guard's fork and exec. pauseBinary is the
// pause binary that stands in for the guard ("" = pause.Find()); a guard
// already running is kept. release stops the guard if no sandbox has
// registered with it since (the manager went no further); otherwise the
// guard goes, as always, with the last of them.
//
// Without a pause binary it does nothing: the guard is then this binary
// re-executed, and the first create starts it.
func PreloadGuard(pauseBinary string) (release func(), err error) {
	guardMu.Lock()
	defer guardMu.Unlock()
	standIn := standInFor(nil, pauseBinary)
	if guard != nil || standIn == "" {
		return func() {}, nil
	}
	g, err := startGuard(standIn)
	if err != nil {
		return func() {}, fmt.Errorf("start guard: %w", err)
	}
	guard = g
	return func() {
		guardMu.Lock()
		defer guardMu.Unlock()
		if guard == g && len(g.dirs) == 0 {
			g.close(true)
			guard = nil
		}
	}, nil
}

// standInFor returns the pause binary to stand in for the guard of dirs,
// or "" if the guard itself must run: some sandbox outlives the manager,
// or no pause binary is found.
func standInFor(dirs map[string]bool, pauseBin string) string {
	for _, die := range dirs {
		if !die {
			return ""
		}
	}
	if pauseBin == "" {
		pauseBin, _ = pause.Find()
	}
	return pauseBin
}

// startGuard starts the manager's guard: this binary re-executed, or,
// with standIn set, that pause binary waiting in its stead with an open
// descriptor of this binary to execute if the manager dies. Either runs
// in a session of its own (a signal to the manager's process group,
// Ctrl-C, does not reach it), reading the pipe whose write end only this
// process holds (O_CLOEXEC: no pause, container or exec inherits it past
// its execve).
func startGuard(standIn string) (*guardClient, error) {
	r, w, err := os.Pipe()
	if err != nil {
		return nil, err
	}
	defer r.Close()
	devnull, err := os.Open(os.DevNull)
	if err != nil {
		w.Close()
		return nil, err
	}
	defer devnull.Close()
	argv := []string{os.Args[0], GuardArg, managerToken()}
	cmd := &exec.Cmd{Path: "/proc/self/exe", Args: argv,
		Env: append(os.Environ(), GuardEnv+"=1"), ExtraFiles: []*os.File{r},
		Stdin: devnull, Stdout: devnull, Stderr: os.Stderr,
		SysProcAttr: &syscall.SysProcAttr{Setsid: true}}
	if standIn != "" {
		exe, err := os.Open("/proc/self/exe")
		if err != nil {
			w.Close()
			return nil, err
		}
		defer exe.Close()
		cmd.Path = standIn
		cmd.Args = append([]string{standIn, "--guard-wait=4", "--"}, argv...)
		cmd.ExtraFiles = append(cmd.ExtraFiles, exe)
	}
	if err := cmd.Start(); err != nil {
		w.Close()
		return nil, err
	}
	st, _ := procStartTime(cmd.Process.Pid)
	token := strconv.Itoa(cmd.Process.Pid) + ":" + strconv.FormatUint(st, 10)
	return &guardClient{w: w, cmd: cmd, token: token, dirs: map[string]bool{}, standIn: standIn != ""}, nil
}

// guardBye is the manager's last message when it ends normally, byte for
// byte: the pause binary's bare stand-in compares the end of what it
// collected with it, and exits without reading the rest.
const guardBye = `{"op":"bye"}` + "\n"

func (g *guardClient) send(m guardMsg) error {
	b, _ := json.Marshal(m)
	_, err := g.w.Write(append(b, '\n'))
	return err
}

// close ends the pipe; with bye the guard exits without tearing anything
// down. The guard is reaped in the background.
func (g *guardClient) close(bye bool) {
	if bye {
		_, _ = g.w.Write([]byte(guardBye))
	}
	g.w.Close()
	go g.cmd.Wait() //nolint:errcheck // only reaps it
}
