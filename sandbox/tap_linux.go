//go:build linux

package sandbox

import (
	"context"
	"io"
	"sync"
)

// Output taps: the copiers of a container's log sink (logs_linux.go) hand
// every chunk they read from the container's pipes (or its terminal) to
// the taps of the attaches in progress, besides writing it to the log
// file. A tap never blocks a copier: each stream of an attach has a queue
// of at most attachBuffer bytes drained by a goroutine of its own into the
// attacher's writer; what does not fit while the attacher is slow is
// dropped (counted), so neither the container nor its log waits for an
// attacher.

// attachBuffer is how many bytes of output one stream of an attach may
// hold back while its writer is slow; more is dropped.
const attachBuffer = 1 << 20

// tap is one attach's view of a container's output.
type tap struct {
	out, err *tapQueue  // nil for a stream not wanted
	failed   chan error // the first write error of a queue (buffered)
}

// queue returns the queue of a copier's stream: LogRaw's single pipe ("")
// and a terminal carry both streams, which go to stdout.
func (t *tap) queue(stream string) *tapQueue {
	if stream == "stderr" {
		return t.err
	}
	return t.out
}

// tapQueue is a bounded queue of output for one writer.
type tapQueue struct {
	w       io.Writer
	failed  chan<- error
	mu      sync.Mutex
	bufs    [][]byte
	size    int
	dropped int64
	closing bool          // drain what is queued, then stop
	wake    chan struct{} // cap 1
	done    chan struct{} // closed when the writer goroutine ends
}

func newTapQueue(w io.Writer, failed chan<- error) *tapQueue {
	q := &tapQueue{w: w, failed: failed, wake: make(chan struct{}, 1), done: make(chan struct{})}
	go q.run()
	return q
}

// push queues b (never modified, shared by every queue), or drops it
// when the queue is full or closing.
func (q *tapQueue) push(b []byte) {
	q.mu.Lock()
	if q.closing || q.size+len(b) > attachBuffer {
		q.dropped += int64(len(b))
		q.mu.Unlock()
		return
	}
	q.bufs = append(q.bufs, b)
	q.size += len(b)
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// run writes the queued output, one chunk at a time (a chunk counts
// against attachBuffer until it is written), until the queue is closed
// and empty, or the writer fails (then the rest is dropped).
func (q *tapQueue) run() {
	defer close(q.done)
	for {
		q.mu.Lock()
		if len(q.bufs) == 0 {
			closing := q.closing
			q.mu.Unlock()
			if closing {
				return
			}
			<-q.wake
			continue
		}
		b := q.bufs[0]
		q.bufs[0] = nil
		q.bufs = q.bufs[1:]
		q.mu.Unlock()
		_, err := q.w.Write(b)
		q.mu.Lock()
		q.size -= len(b)
		if err != nil {
			q.closing = true
		}
		q.mu.Unlock()
		if err != nil {
			select {
			case q.failed <- err:
			default:
			}
			return
		}
	}
}

// close stops taking output; run ends once what is queued is written.
func (q *tapQueue) close() {
	q.mu.Lock()
	q.closing = true
	q.mu.Unlock()
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// newTap makes the queues of the wanted streams.
func newTap(stdout, stderr io.Writer) *tap {
	t := &tap{failed: make(chan error, 2)}
	if stdout != nil {
		t.out = newTapQueue(stdout, t.failed)
	}
	if stderr != nil {
		t.err = newTapQueue(stderr, t.failed)
	}
	return t
}

// close stops both queues and waits, within ctx, until what they hold is
// written (a writer that blocks is left behind, its goroutine ending with
// its Write).
func (t *tap) close(ctx context.Context) {
	for _, q := range []*tapQueue{t.out, t.err} {
		if q != nil {
			q.close()
		}
	}
	for _, q := range []*tapQueue{t.out, t.err} {
		if q == nil {
			continue
		}
		select {
		case <-q.done:
		case <-ctx.Done():
			return
		}
	}
}

// dropped is how many bytes the attacher lost by being slow.
func (t *tap) dropped() int64 {
	var n int64
	for _, q := range []*tapQueue{t.out, t.err} {
		if q != nil {
			q.mu.Lock()
			n += q.dropped
			q.mu.Unlock()
		}
	}
	return n
}

// addTap and removeTap register an attach with the sink's copiers.
func (l *logSink) addTap(t *tap) {
	l.tapMu.Lock()
	defer l.tapMu.Unlock()
	if l.taps == nil {
		l.taps = map[*tap]struct{}{}
	}
	l.taps[t] = struct{}{}
}

func (l *logSink) removeTap(t *tap) {
	l.tapMu.Lock()
	defer l.tapMu.Unlock()
	delete(l.taps, t)
}

// tee hands a chunk of a stream to every tap: one copy for all.
func (l *logSink) tee(stream string, b []byte) {
	l.tapMu.Lock()
	defer l.tapMu.Unlock()
	if len(l.taps) == 0 {
		return
	}
	b = append([]byte(nil), b...)
	for t := range l.taps {
		if q := t.queue(stream); q != nil {
			q.push(b)
		}
	}
}
