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
