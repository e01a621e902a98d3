//go:build linux

package sandbox

import (
	"bytes"
	"os"
	"sync"
	"time"

	"golang.org/x/sys/unix"
)

// drainBufSize is the most a copier reads from its FIFO at once.
const drainBufSize = 128 << 10

// drainBufs lends copiers their read buffer only while output is waiting:
// an idle container's copier holds none (it held 128 KiB, LogCRI 16 KiB
// per stream, which with 1,000 pods was most of the manager's heap).
var drainBufs = sync.Pool{New: func() any { b := make([]byte, drainBufSize); return &b }}

// drain calls fn with each chunk read from r until EOF (every writer gone)
// or until r is closed. It waits for output in the runtime's poller with
// no buffer, then reads what is there into a pooled one.
func drain(r *os.File, fn func([]byte)) {
	rc, err := r.SyscallConn()
	if err != nil {
		return
	}
	for {
		eof := false
		err := rc.Read(func(fd uintptr) bool {
			bp := drainBufs.Get().(*[]byte)
			defer drainBufs.Put(bp)
			for {
				n, err := unix.Read(int(fd), *bp)
				switch {
				case err == unix.EINTR:
					continue
				case err == unix.EAGAIN:
					return false // wait, without the buffer
				case err != nil || n == 0:
					eof = true
					return true
				}
				// Read on until EAGAIN or EOF, even after a short read:
				// the poller is edge-triggered, and the edge of a writer's
				// last bytes may be the edge of its close too, so a wait
				// now could be a wait for an edge that has come.
				fn((*bp)[:n])
			}
		})
		if eof || err != nil {
			return
		}
	}
}

// criLines turns chunks of one stream into CRI log entries the way a
// bufio.Reader of MaxLogLine bytes read by ReadLine splits them (as
// containerd's CRI does): each line without its "\n" or "\r\n" is an F
// entry; MaxLogLine bytes without a newline are a P entry (a "\r" at its
// end held back for the next); what is left at EOF is an F entry as it
// is. The lines completed by one chunk share a timestamp and one write.
type criLines struct {
	stream string
	carry  []byte // the start of a line whose newline has not come yet
	batch  []byte
	stamp  []byte
}

// feed adds a chunk and writes the entries it completes.
func (c *criLines) feed(chunk []byte, write func([]byte)) {
	c.batch, c.stamp = c.batch[:0], time.Now().UTC().AppendFormat(c.stamp[:0], time.RFC3339Nano)
	for len(chunk) > 0 {
		i := bytes.IndexByte(chunk, '\n')
		if i < 0 || len(c.carry)+i >= MaxLogLine {
			chunk = c.fill(chunk)
			continue
		}
		line := chunk[:i]
		if len(c.carry) > 0 {
			line = append(c.carry, line...)
			c.carry = c.carry[:0]
		}
		c.entry(bytes.TrimSuffix(line, []byte{'\r'}), "F")
		chunk = chunk[i+1:]
	}
	c.flush(write)
}

// flush writes the batch, if any, and lets go of buffers a burst grew: an
// idle copier keeps at most a line's start.
func (c *criLines) flush(write func([]byte)) {
	if len(c.batch) > 0 {
		write(c.batch)
	}
	if cap(c.batch) > 4<<10 {
		c.batch = nil
	}
	if len(c.carry) == 0 && cap(c.carry) > 4<<10 {
		c.carry = nil
	}
}

// fill moves bytes of a line without a newline (in reach) into the
// carry, writing a P entry each time it reaches MaxLogLine; it returns
// the rest of chunk.
func (c *criLines) fill(chunk []byte) []byte {
	n := min(len(chunk), MaxLogLine-len(c.carry))
	c.carry = append(c.carry, chunk[:n]...)
	if len(c.carry) == MaxLogLine {
		piece := c.carry
		if piece[len(piece)-1] == '\r' { // may be half of "\r\n"
			piece = piece[:len(piece)-1]
		}
		c.entry(piece, "P")
		c.carry = append(c.carry[:0], c.carry[len(piece):]...)
	}
	return chunk[n:]
}

// end writes what is left at EOF, if anything, as an F entry.
func (c *criLines) end(write func([]byte)) {
	c.batch = c.batch[:0]
	if len(c.carry) > 0 {
		c.stamp = time.Now().UTC().AppendFormat(c.stamp[:0], time.RFC3339Nano)
		c.entry(c.carry, "F")
		c.carry = c.carry[:0]
	}
	c.flush(write)
}

func (c *criLines) entry(line []byte, tag string) {
	c.batch = append(append(append(append(append(c.batch, c.stamp...), ' '), c.stream...), ' '), tag...)
	c.batch = append(append(append(c.batch, ' '), line...), '\n')
}
