//go:build linux

package pause

import (
	"runtime"
	"sync"
)

// The parent-death signal (PR_SET_PDEATHSIG) fires when the thread that
// forked the child exits, not the process. Go may end an OS thread when a
// goroutine that locked it returns, so die-with-parent forks all happen on
// one dedicated goroutine that locks its thread and never returns.
var (
	spawnerOnce sync.Once
	spawnerCh   chan func()
)

func onSpawnerThread(fn func()) {
	spawnerOnce.Do(func() {
		spawnerCh = make(chan func())
		go func() {
			runtime.LockOSThread() // never unlocked: the thread lives forever
			for f := range spawnerCh {
				f()
			}
		}()
	})
	done := make(chan struct{})
	spawnerCh <- func() { fn(); close(done) }
	<-done
}

// onThrowawayThread runs fn on a fresh goroutine locked to its OS thread
// and never unlocked, so the runtime ends the thread when fn returns:
// per-thread state fn changed (a cgroup joined with tasks) dies with it.
func onThrowawayThread(fn func()) {
	done := make(chan struct{})
	go func() {
		runtime.LockOSThread()
		fn()
		close(done)
	}()
	<-done
}
