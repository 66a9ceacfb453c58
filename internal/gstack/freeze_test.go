package gstack

import (
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestFrozen(t *testing.T) {
	h := func(id int64, state string, durable bool) Header {
		return Header{ID: id, State: state, Durable: durable, Bubble: 1}
	}
	tests := []struct {
		name    string
		hs      []Header
		frozen  bool
		waiters int
	}{
		{"empty bubble has ended", nil, false, 0},
		{"all durable: the clock can advance", []Header{h(1, "select", true), h(2, "sleep", true)}, false, 0},
		{"mutex waiter, holder in a timed wait", []Header{h(1, "sync.Mutex.Lock", false), h(2, "select", true)}, true, 1},
		{"two waiters", []Header{h(1, "sync.RWMutex.RLock", false), h(2, "sync.Mutex.Lock", false), h(3, "sleep", true)}, true, 2},
		{"waiter but a runnable goroutine", []Header{h(1, "sync.Mutex.Lock", false), h(2, "runnable", false)}, false, 0},
		{"waiter but a running goroutine", []Header{h(1, "sync.Mutex.Lock", false), h(2, "running", false)}, false, 0},
		{"waiter but a goroutine in a syscall", []Header{h(1, "sync.Mutex.Lock", false), h(2, "syscall", false)}, false, 0},
		{"waiter on a channel made outside the bubble", []Header{h(1, "chan receive", false), h(2, "select", true)}, true, 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			frozen, ws := Frozen(tt.hs)
			if frozen != tt.frozen || len(ws) != tt.waiters {
				t.Fatalf("Frozen = %v with %d waiters, want %v with %d", frozen, len(ws), tt.frozen, tt.waiters)
			}
		})
	}
}

// TestBubbleHeadersSeeAFreeze freezes a real bubble (a lock held across a
// fake timer) and reads it from outside with BubbleHeaders.
func TestBubbleHeadersSeeAFreeze(t *testing.T) {
	bubble := make(chan int, 1)
	go synctest.Test(t, func(t *testing.T) {
		_, b := Current()
		var mu sync.Mutex
		mu.Lock()
		go func() {
			mu.Lock() // not durable: the clock stops, and the sleep never ends
			mu.Unlock()
		}()
		bubble <- b
		time.Sleep(time.Second)
		mu.Unlock()
	})
	b := <-bubble
	for range 1000 {
		hs, _ := BubbleHeaders(b, nil)
		if frozen, ws := Frozen(hs); frozen {
			if len(ws) != 1 || ws[0].State != "sync.Mutex.Lock" {
				t.Fatalf("waiters %+v, want one in sync.Mutex.Lock", ws)
			}
			return
		}
		time.Sleep(time.Millisecond)
	}
	t.Fatal("the bubble never showed as frozen")
}

// TestBubbleOfMatchesParse: reading one bubble's blocks out of a dump gives
// what parsing the whole dump and filtering gives, and so do the headers.
func TestBubbleOfMatchesParse(t *testing.T) {
	dump := []byte("goroutine 1 [running]:\nmain.main()\n\t/m.go:1 +0x1\n\n" +
		"goroutine 7 [select (durable), synctest bubble 3]:\npkg.a(0x1)\n\t/a.go:2 +0x2\ncreated by pkg.b in goroutine 6\n\t/b.go:3 +0x3\n\n" +
		"goroutine 8 [sync.Mutex.Lock, synctest bubble 13]:\npkg.c()\n\t/c.go:4 +0x4\n\n" +
		"goroutine 9 [sync.Mutex.Lock, 2 minutes, synctest bubble 3]:\npkg.d()\n\t/d.go:5 +0x5\n")
	for _, bubble := range []int{3, 13, 4} {
		want := InBubble(Parse(dump), bubble)
		got := BubbleOf(dump, bubble)
		if len(got) != len(want) {
			t.Fatalf("bubble %d: %d goroutines, want %d", bubble, len(got), len(want))
		}
		hs := HeadersIn(dump, bubble)
		for i := range want {
			if got[i].ID != want[i].ID || got[i].State != want[i].State || got[i].Raw != want[i].Raw || len(got[i].Frames) != len(want[i].Frames) {
				t.Errorf("bubble %d goroutine %d: %+v, want %+v", bubble, i, got[i], want[i])
			}
			if h := hs[i]; h.ID != want[i].ID || h.State != want[i].State || h.Durable != want[i].Durable {
				t.Errorf("bubble %d header %d: %+v, want %+v", bubble, i, h, want[i])
			}
		}
	}
}
