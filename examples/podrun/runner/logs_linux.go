//go:build linux

package runner

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"time"
)

// maxLine is where kubelet splits long lines into partial (P) entries.
const maxLine = 16 << 10

// logManager follows the sandbox's per-container output files and writes
// them as CRI log files: "<RFC3339Nano> <stream> <F|P> <message>" lines in
// DIR/<container>/<restart>.log, one file per run of the container.
// The sandbox sends stdout and stderr of a container to one file, so every
// line is tagged "stdout".
type logManager struct {
	dir   string
	out   *printer
	print bool

	mu      sync.Mutex
	tailers map[string]*tailer
	quit    chan struct{}
	done    chan struct{}
	stopped bool
}

type tailer struct {
	name    string
	src     string // the sandbox's output file
	in      *os.File
	out     *os.File
	run     int
	partial []byte
}

func newLogManager(dir string, out *printer, print bool) *logManager {
	return &logManager{dir: dir, out: out, print: print, tailers: map[string]*tailer{}}
}

// start follows the output of the named containers of the sandbox in sbDir.
func (m *logManager) start(sbDir string, names []string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, n := range names {
		m.tailers[n] = &tailer{name: n, src: filepath.Join(sbDir, "logs", n+".log")}
	}
	m.quit, m.done = make(chan struct{}), make(chan struct{})
	go m.loop()
}

func (m *logManager) loop() {
	defer close(m.done)
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for {
		select {
		case <-m.quit:
			return
		case <-t.C:
			m.mu.Lock()
			for _, t := range m.tailers {
				m.poll(t, false)
			}
			m.mu.Unlock()
		}
	}
}

// rotate drains what a container's finished run wrote and starts the next
// run's file.
func (m *logManager) rotate(name string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	t := m.tailers[name]
	if t == nil || m.stopped {
		return
	}
	m.poll(t, true)
	if t.out != nil {
		_ = t.out.Close()
		t.out = nil
		t.run++
	}
}

// stop drains everything and closes all files. Safe to call twice.
func (m *logManager) stop() {
	m.mu.Lock()
	if m.stopped || m.quit == nil {
		m.stopped = true
		m.mu.Unlock()
		return
	}
	m.stopped = true
	close(m.quit)
	m.mu.Unlock()
	<-m.done
	m.mu.Lock()
	defer m.mu.Unlock()
	for _, t := range m.tailers {
		m.poll(t, true)
		if t.in != nil {
			_ = t.in.Close()
		}
		if t.out != nil {
			_ = t.out.Close()
		}
	}
}

// poll reads new output; final flushes an unterminated last line.
func (m *logManager) poll(t *tailer, final bool) {
	if t.in == nil {
		f, err := os.Open(t.src)
		if err != nil {
			return // not created yet
		}
		t.in = f
	}
	buf := make([]byte, 64<<10)
	now := time.Now()
	for {
		n, err := t.in.Read(buf)
		t.partial = append(t.partial, buf[:n]...)
		if n == 0 || err != nil {
			break
		}
	}
	for {
		i := bytes.IndexByte(t.partial, '\n')
		if i < 0 {
			break
		}
		m.write(t, now, t.partial[:i], "F")
		t.partial = t.partial[i+1:]
	}
	for len(t.partial) >= maxLine {
		m.write(t, now, t.partial[:maxLine], "P")
		t.partial = t.partial[maxLine:]
	}
	if final && len(t.partial) > 0 {
		m.write(t, now, t.partial, "F")
		t.partial = nil
	}
	t.partial = bytes.Clone(t.partial)
}

func (m *logManager) write(t *tailer, now time.Time, line []byte, tag string) {
	if len(line) > maxLine {
		m.write(t, now, line[:maxLine], "P")
		m.write(t, now, line[maxLine:], tag)
		return
	}
	if t.out == nil {
		dir := filepath.Join(m.dir, t.name)
		if err := os.MkdirAll(dir, 0o755); err == nil {
			t.out, _ = os.OpenFile(filepath.Join(dir, strconv.Itoa(t.run)+".log"), os.O_CREATE|os.O_WRONLY|os.O_TRUNC, 0o640)
		}
	}
	if t.out != nil {
		_, _ = fmt.Fprintf(t.out, "%s stdout %s %s\n", now.UTC().Format(time.RFC3339Nano), tag, line)
	}
	if m.print {
		m.out.log(now, t.name, "stdout", string(line))
	}
}
