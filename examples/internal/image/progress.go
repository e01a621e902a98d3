//go:build linux

package image

import (
	"context"
	"io"
	"time"
)

// Progress is one report on a layer a pull or load is storing.
type Progress struct {
	Layer    string // compressed digest
	Size     int64  // bytes to store
	Done     int64  // bytes stored so far
	Cached   bool   // the store had it already: nothing fetched
	Complete bool   // stored (or cached): the last report of this layer
}

type progressKey struct{}

// WithProgress returns a context whose pulls and loads report every layer
// to fn: when it starts (Done 0), as bytes arrive (at most every 100 ms),
// and when it is stored or found cached (Complete). fn runs on the pulling
// goroutine and should be quick.
func WithProgress(ctx context.Context, fn func(Progress)) context.Context {
	return context.WithValue(ctx, progressKey{}, fn)
}

func progressOf(ctx context.Context) func(Progress) {
	if fn, ok := ctx.Value(progressKey{}).(func(Progress)); ok && fn != nil {
		return fn
	}
	return func(Progress) {}
}

// progressReader reports the bytes read through it.
type progressReader struct {
	r      io.Reader
	p      Progress
	report func(Progress)
	last   time.Time
}

func (pr *progressReader) Read(b []byte) (int, error) {
	n, err := pr.r.Read(b)
	pr.p.Done += int64(n)
	if now := time.Now(); now.Sub(pr.last) >= 100*time.Millisecond {
		pr.last = now
		pr.report(pr.p)
	}
	return n, err
}
