//go:build linux

package kubelet

import (
	"bytes"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"

	"github.com/podkit/podkit/sandbox"
)

// Termination message limits, the kubelet's: the file's first 4096 bytes;
// with FallbackToLogsOnError the last 80 lines of the log, at most 2048
// bytes (the end is kept).
const (
	MaxTerminationMessage     = 4096
	MaxTerminationLogLines    = 80
	MaxTerminationLogMessage  = 2048
	terminationDir            = "termination"
	terminationFileMode       = 0o666 // any container user may write it, as the kubelet's
	criLogTimestampFieldCount = 3     // "<time> <stream> <P|F> "
)

// terminationFile is the host file bind-mounted at a run's
// TerminationMessagePath.
func (p *Pod) terminationFile(name string, attempt int) string {
	return filepath.Join(p.sb.Dir(), terminationDir, name+"."+strconv.Itoa(attempt))
}

// addTerminationMount creates the run's empty message file and mounts it
// at the container's TerminationMessagePath.
func (p *Pod) addTerminationMount(c Container, spec *sandbox.ContainerSpec) error {
	if c.TerminationMessagePath == "" {
		return nil
	}
	file := p.terminationFile(c.Name, spec.Attempt)
	if err := os.MkdirAll(filepath.Dir(file), 0o755); err != nil {
		return err
	}
	if err := os.WriteFile(file, nil, terminationFileMode); err != nil {
		return fmt.Errorf("termination message file: %w", err)
	}
	if err := os.Chmod(file, terminationFileMode); err != nil { // past the umask
		return err
	}
	spec.Mounts = append(append([]sandbox.Mount(nil), spec.Mounts...), sandbox.Mount{Destination: c.TerminationMessagePath, Source: file})
	return nil
}

// dropTermination removes the message file of a run a restart replaced.
func (p *Pod) dropTermination(name string, attempt int) {
	_ = os.Remove(p.terminationFile(name, attempt))
}

// terminationMessage is what the kubelet reports for a terminated run:
// the message file's content, or with FallbackToLogsOnError and a failed
// run whose file is empty, the tail of its log.
func (p *Pod) terminationMessage(c Container, st sandbox.ContainerStatus) string {
	if st.Exit == nil {
		return ""
	}
	var msg []byte
	if c.TerminationMessagePath != "" {
		msg = readHead(p.terminationFile(c.Name, st.Attempt), MaxTerminationMessage)
	}
	if len(msg) == 0 && c.TerminationMessagePolicy == TerminationMessageFallbackToLogsOnError && st.Exit.ExitCode != 0 {
		msg = p.logTail(c, st.Attempt)
	}
	return string(msg)
}

func readHead(name string, n int64) []byte {
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	b, _ := io.ReadAll(io.LimitReader(f, n))
	return b
}

// logTail returns the last lines of a run's log: PodSpec.LogFile's CRI
// file, or the sandbox's own log file when the output went there.
func (p *Pod) logTail(c Container, attempt int) []byte {
	name, cri := "", false
	switch {
	case p.spec.LogFile != nil:
		name, cri = p.spec.LogFile(c.Name, attempt), true
	case c.Stdout == nil && c.Stderr == nil:
		name, cri = c.LogPath, c.LogFormat == sandbox.LogCRI
		if name == "" {
			name = filepath.Join(p.sb.Dir(), "logs", c.Name+".log")
		}
	default:
		return nil
	}
	f, err := os.Open(name)
	if err != nil {
		return nil
	}
	defer f.Close()
	// The last 80 lines fit in 80 CRI lines of at most 16 KiB each; read
	// no more than that from the end.
	const window = MaxTerminationLogLines * (16<<10 + 64)
	if fi, err := f.Stat(); err == nil && fi.Size() > window {
		_, _ = f.Seek(fi.Size()-window, io.SeekStart)
	}
	b, _ := io.ReadAll(f)
	return tailLog(b, cri)
}

// tailLog keeps the last MaxTerminationLogLines lines of a log, at most
// MaxTerminationLogMessage bytes; cri strips the CRI format's prefixes
// and joins partial lines.
func tailLog(b []byte, cri bool) []byte {
	split := func(b []byte) [][]byte {
		lines := bytes.SplitAfter(b, []byte("\n"))
		if len(lines) > 0 && len(lines[len(lines)-1]) == 0 {
			lines = lines[:len(lines)-1]
		}
		return lines
	}
	lines := split(b)
	if cri {
		var msgs []byte
		for _, l := range lines {
			fields := bytes.SplitN(l, []byte(" "), criLogTimestampFieldCount+1)
			if len(fields) <= criLogTimestampFieldCount {
				continue
			}
			msg := fields[criLogTimestampFieldCount]
			if string(fields[2]) == "P" {
				msg = bytes.TrimSuffix(msg, []byte("\n")) // a part: the line goes on
			}
			msgs = append(msgs, msg...)
		}
		lines = split(msgs)
	}
	if len(lines) > MaxTerminationLogLines {
		lines = lines[len(lines)-MaxTerminationLogLines:]
	}
	out := bytes.Join(lines, nil)
	if len(out) > MaxTerminationLogMessage {
		out = out[len(out)-MaxTerminationLogMessage:]
	}
	return out
}
