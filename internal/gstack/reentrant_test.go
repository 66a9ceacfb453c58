package gstack

import (
	"strings"
	"sync"
	"testing"
	"time"
)

// reent takes its lock and calls a callback that takes it again, the shape
// of closing a PeerConnection from DTLSTransport.OnStateChange, which Pion
// runs with the transport's lock held.
type reent struct {
	_  [8]uint64
	mu sync.Mutex
	cb func()
}

//go:noinline
func (r *reent) start() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.cb()
}

//go:noinline
func (r *reent) stop() {
	r.mu.Lock()
	defer r.mu.Unlock()
}

func TestDiagnoseReentrantSelfDeadlock(t *testing.T) {
	r := &reent{}
	r.cb = r.stop
	go r.start() // deadlocks for good; the goroutine is abandoned
	deadline := time.Now().Add(5 * time.Second)
	for time.Now().Before(deadline) {
		for _, b := range Diagnose(All()).Blocked {
			if !strings.Contains(b.Site.Func, "(*reent).stop") {
				continue
			}
			if !strings.Contains(b.Why, "possible re-entrance: gstack.(*reent).start") {
				t.Fatalf("why %q does not note the re-entrance", b.Why)
			}
			return
		}
		time.Sleep(5 * time.Millisecond)
	}
	t.Fatal("the re-entrant goroutine never showed up blocked")
}
