//go:build linux

package runner

import (
	"bytes"
	"io"
	"time"
)

// maxLine is where kubelet splits long lines into partial (P) entries
// (containerd's max_container_log_line_size default, 16 KiB).
const maxLine = 16 << 10

// CRI log tags: a full line, or a part of a line that goes on in the next
// entry (or never ended: the stream was closed without a newline).
const (
	tagFull    = "F"
	tagPartial = "P"
)

// Stream names of the CRI log format.
const (
	streamStdout = "stdout"
	streamStderr = "stderr"
)

// writeCRI writes one CRI log entry, "<RFC3339Nano> <stream> <F|P> <msg>\n",
// with a single Write so that entries of concurrent streams never mix.
func writeCRI(w io.Writer, t time.Time, stream, tag string, msg []byte) error {
	b := make([]byte, 0, len(time.RFC3339Nano)+len(stream)+len(msg)+8)
	b = t.UTC().AppendFormat(b, time.RFC3339Nano)
	b = append(b, ' ')
	b = append(b, stream...)
	b = append(b, ' ')
	b = append(b, tag...)
	b = append(b, ' ')
	b = append(b, msg...)
	b = append(b, '\n')
	_, err := w.Write(b)
	return err
}

// lineSplitter cuts one stream's bytes into CRI entries the way kubelet
// does: each line ending in a newline becomes an F entry; a line longer
// than maxLine becomes P entries of maxLine bytes followed by an F entry
// for the rest; what is left without a newline when the stream ends is a
// P entry. The result does not depend on how the bytes were chunked by
// the reads: a P part is only emitted once a byte beyond maxLine proves
// the line goes on, so a line of exactly maxLine bytes is one F entry.
type lineSplitter struct {
	buf []byte
}

// feed consumes p and emits every entry it completes.
func (s *lineSplitter) feed(p []byte, emit func(tag string, msg []byte)) {
	s.buf = append(s.buf, p...)
	rest := s.buf
	for {
		i := bytes.IndexByte(rest, '\n')
		if i < 0 {
			break
		}
		line := rest[:i]
		for len(line) > maxLine {
			emit(tagPartial, line[:maxLine])
			line = line[maxLine:]
		}
		emit(tagFull, line)
		rest = rest[i+1:]
	}
	for len(rest) > maxLine {
		emit(tagPartial, rest[:maxLine])
		rest = rest[maxLine:]
	}
	// Keep the unterminated tail at the start of buf (no growth over time).
	s.buf = s.buf[:copy(s.buf, rest)]
}

// flush emits the unterminated tail as a P entry: the stream (or the run
// that wrote it) ended without a newline.
func (s *lineSplitter) flush(emit func(tag string, msg []byte)) {
	if len(s.buf) > 0 {
		emit(tagPartial, s.buf)
	}
	s.buf = s.buf[:0]
}
