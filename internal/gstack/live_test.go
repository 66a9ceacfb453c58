package gstack

import (
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"
	"unsafe"
)

// pollBound bounds, in real time, every wait for goroutines to park.
const pollBound = 10 * time.Second

// waitFor polls All() in real time until cond holds, failing the test after
// pollBound. It returns the last snapshot.
func waitFor(t *testing.T, what string, cond func([]Goroutine) bool) []Goroutine {
	t.Helper()
	deadline := time.Now().Add(pollBound)
	for {
		gs := All()
		if cond(gs) {
			return gs
		}
		if time.Now().After(deadline) {
			var raw strings.Builder
			for _, g := range gs {
				raw.WriteString(g.Raw + "\n")
			}
			t.Fatalf("timed out waiting for %s; goroutines:\n%s", what, raw.String())
		}
		time.Sleep(2 * time.Millisecond)
	}
}

func byID(gs []Goroutine, id int64) (Goroutine, bool) {
	for _, g := range gs {
		if g.ID == id {
			return g, true
		}
	}
	return Goroutine{}, false
}

// guarded has its mutex at a non-zero offset, so the lock is a field of
// the receiver the holder's frame shows.
type guarded struct {
	_       [64]byte
	mu      sync.Mutex
	n       int
	release chan struct{}
}

// holdAcrossWait locks s.mu and waits on a channel or a long timer with the
// lock held. It must not be inlined: inlined frames print no arguments.
//
//go:noinline
func (s *guarded) holdAcrossWait(locked chan<- struct{}) {
	s.mu.Lock()
	locked <- struct{}{}
	select {
	case <-s.release:
	case <-time.After(time.Hour):
	}
	s.n++ // keeps s live across the select
	s.mu.Unlock()
}

//go:noinline
func (s *guarded) bump() {
	s.mu.Lock()
	s.n++
	s.mu.Unlock()
}

// TestDiagnoseLiveMutex builds a real wedge outside any bubble: H holds a
// mutex embedded in a struct across a select, W blocks locking it.
func TestDiagnoseLiveMutex(t *testing.T) {
	s := &guarded{release: make(chan struct{})}
	var wg sync.WaitGroup
	defer wg.Wait()
	released := false
	release := func() {
		if !released {
			released = true
			close(s.release)
		}
	}
	defer release()

	ids := make(chan int64, 2)
	locked := make(chan struct{})
	wg.Add(2)
	go func() {
		defer wg.Done()
		id, _ := Current()
		ids <- id
		s.holdAcrossWait(locked)
	}()
	hID := <-ids
	<-locked
	go func() {
		defer wg.Done()
		id, _ := Current()
		ids <- id
		s.bump()
	}()
	wID := <-ids

	gs := waitFor(t, "holder in select and waiter in Mutex.Lock", func(gs []Goroutine) bool {
		h, okH := byID(gs, hID)
		w, okW := byID(gs, wID)
		return okH && okW && h.State == "select" && w.State == "sync.Mutex.Lock"
	})

	w, _ := byID(gs, wID)
	if w.Bubble != 0 || w.Durable {
		t.Errorf("waiter outside a bubble has Bubble %d Durable %v", w.Bubble, w.Durable)
	}
	lock, addr, ok := w.MutexWait()
	if !ok || lock != "sync.(*Mutex).Lock" {
		t.Fatalf("waiter MutexWait = %q, %#x, %v\n%s", lock, addr, ok, w.Raw)
	}
	if want := uint64(uintptr(unsafe.Pointer(&s.mu))); addr != want {
		t.Errorf("lock address %#x, want &s.mu = %#x\n%s", addr, want, w.Raw)
	}
	h, _ := byID(gs, hID)
	if site, ok := h.TimedWait(); !ok || !strings.HasSuffix(site.Func, ".(*guarded).holdAcrossWait") {
		t.Errorf("holder TimedWait = %+v, %v", site, ok)
	}

	d := Diagnose(gs)
	var b *Blocked
	for i := range d.Blocked {
		if d.Blocked[i].Waiter.ID == wID {
			b = &d.Blocked[i]
		}
	}
	if b == nil {
		t.Fatalf("waiter %d not in diagnosis:\n%s", wID, d.Summary)
	}
	if !strings.HasSuffix(b.Site.Func, ".(*guarded).bump") {
		t.Errorf("waiter site %q", b.Site.Func)
	}
	if b.Holder == nil || b.Holder.ID != hID {
		t.Fatalf("holder %v, want goroutine %d (%s)\n%s", b.Holder, hID, b.Why, d.Summary)
	}
	if !strings.HasPrefix(b.Why, "heuristic 1: ") || !strings.Contains(b.Why, "offset +0x40") {
		t.Errorf("why %q, want heuristic 1 at offset +0x40", b.Why)
	}
	if !strings.HasSuffix(b.HolderSite.Func, ".(*guarded).holdAcrossWait") {
		t.Errorf("holder site %q", b.HolderSite.Func)
	}
	for _, want := range []string{"goroutine " + itoa(wID) + " waits in sync.(*Mutex).Lock", "likely holder: goroutine " + itoa(hID) + ", parked in select at gstack.(*guarded).holdAcrossWait"} {
		if !strings.Contains(d.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, d.Summary)
		}
	}
	t.Logf("summary:\n%s", d.Summary)

	release()
	wg.Wait()
	if s.n != 2 {
		t.Errorf("n = %d, want 2", s.n)
	}
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

// wedgeAssoc and wedgeTransport mirror sctp.Association.Abort and
// webrtc.SCTPTransport.Stop/onClose.
type wedgeAssoc struct{ sent chan struct{} }

//go:noinline
func (a *wedgeAssoc) abort() {
	select {
	case <-a.sent:
	case <-time.After(200 * time.Millisecond):
	}
}

type wedgeTransport struct {
	lock    sync.RWMutex
	assoc   *wedgeAssoc
	onClose func()
}

//go:noinline
func (r *wedgeTransport) stop(ids chan<- [2]int64) {
	id, bubble := Current()
	ids <- [2]int64{id, int64(bubble)}
	r.lock.Lock()
	defer r.lock.Unlock()
	r.assoc.abort()
	r.assoc = nil
}

//go:noinline
func (r *wedgeTransport) close(ids chan<- [2]int64) {
	id, bubble := Current()
	ids <- [2]int64{id, int64(bubble)}
	r.lock.RLock()
	h := r.onClose
	r.lock.RUnlock()
	if h != nil {
		h()
	}
}

// TestDiagnoseSynctestWedge builds the real wedge inside a synctest bubble:
// the bubble never finishes (its fake clock is frozen), so synctest.Test
// runs in an abandoned goroutine and the test inspects it from outside.
func TestDiagnoseSynctestWedge(t *testing.T) {
	ids := make(chan [2]int64, 2) // created outside the bubble: usable from both sides
	go func() {
		synctest.Test(t, func(*testing.T) {
			r := &wedgeTransport{assoc: &wedgeAssoc{sent: make(chan struct{})}}
			go r.stop(ids)
			time.Sleep(time.Millisecond) // fake time: stop is durably blocked in select
			r.close(ids)                 // blocks in RLock: the bubble wedges
			panic("unreachable: the bubble should be wedged")
		})
	}()
	var hold, wait [2]int64
	select {
	case hold = <-ids:
	case <-time.After(pollBound):
		t.Fatal("bubble did not start")
	}
	select {
	case wait = <-ids:
	case <-time.After(pollBound):
		t.Fatal("bubble did not reach close")
	}
	if hold[1] == 0 || hold[1] != wait[1] {
		t.Fatalf("Current() bubbles %d and %d, want equal and non-zero", hold[1], wait[1])
	}
	bubble := int(hold[1])

	gs := waitFor(t, "bubble wedge", func(gs []Goroutine) bool {
		h, okH := byID(gs, hold[0])
		w, okW := byID(gs, wait[0])
		return okH && okW && h.State == "select" && w.State == "sync.RWMutex.RLock"
	})
	h, _ := byID(gs, hold[0])
	w, _ := byID(gs, wait[0])
	if h.Bubble != bubble || w.Bubble != bubble || !h.Durable || w.Durable {
		t.Errorf("holder bubble %d durable %v, waiter bubble %d durable %v; want bubble %d, true, false",
			h.Bubble, h.Durable, w.Bubble, w.Durable, bubble)
	}
	in := InBubble(gs, bubble)
	if len(in) < 3 { // synctest root, test goroutine (the waiter), stop
		t.Errorf("InBubble(%d) = %d goroutines", bubble, len(in))
	}
	for _, g := range in {
		if g.Bubble != bubble {
			t.Errorf("goroutine %d has bubble %d", g.ID, g.Bubble)
		}
	}
	// Nothing in the bubble is runnable, and only the waiter is not durable.
	for _, g := range in {
		if g.ID != w.ID && !g.Durable {
			t.Errorf("goroutine %d [%s] in the wedged bubble is not durable", g.ID, g.State)
		}
	}

	d := Diagnose(in)
	if len(d.Blocked) != 1 {
		t.Fatalf("got %d blocked, want 1:\n%s", len(d.Blocked), d.Summary)
	}
	b := d.Blocked[0]
	if b.Waiter.ID != w.ID || b.Lock != "sync.(*RWMutex).RLock" || !strings.HasSuffix(b.Site.Func, ".(*wedgeTransport).close") {
		t.Errorf("blocked = waiter %d lock %s site %s", b.Waiter.ID, b.Lock, b.Site.Func)
	}
	if b.Holder == nil || b.Holder.ID != h.ID || !strings.HasPrefix(b.Why, "heuristic 1") {
		t.Fatalf("holder %v (%s), want %d\n%s", b.Holder, b.Why, h.ID, d.Summary)
	}
	if !strings.HasSuffix(b.HolderSite.Func, ".(*wedgeAssoc).abort") {
		t.Errorf("holder site %q", b.HolderSite.Func)
	}
	if !strings.Contains(d.Summary, "called from gstack.(*wedgeTransport).stop — a lock held across a timed wait freezes synctest's fake clock") {
		t.Errorf("summary:\n%s", d.Summary)
	}
	t.Logf("summary:\n%s", d.Summary)
	// The bubble is abandoned: it can never finish.
}

func TestCurrentAndAll(t *testing.T) {
	id, bubble := Current()
	if id <= 0 || bubble != 0 {
		t.Fatalf("Current() = %d, %d", id, bubble)
	}
	gs := All()
	me, ok := byID(gs, id)
	if !ok || me.State != "running" || len(me.Frames) < 2 || !strings.HasSuffix(me.Frames[1].Func, "TestCurrentAndAll") {
		t.Errorf("self in All(): %+v", me)
	}
	if len(gs) < runtime.NumGoroutine()/2 {
		t.Errorf("All() = %d goroutines, NumGoroutine = %d", len(gs), runtime.NumGoroutine())
	}
	// Many goroutines with deep stacks force All to grow its buffer.
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for i := 0; i < 300; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			deep(20, stop)
		}()
	}
	defer func() { close(stop); wg.Wait() }()
	gs = waitFor(t, "300 parked goroutines", func(gs []Goroutine) bool {
		n := 0
		for _, g := range gs {
			if g.State == "chan receive" && g.Top().Func == "github.com/closesim/closesim/internal/gstack.deep" {
				n++
			}
		}
		return n == 300
	})
	if total := len(gs); total < 300 {
		t.Errorf("All() = %d goroutines", total)
	}
}

//go:noinline
func deep(n int, stop <-chan struct{}) {
	if n == 0 {
		<-stop
		return
	}
	deep(n-1, stop)
}
