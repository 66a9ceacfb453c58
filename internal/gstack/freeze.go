package gstack

import (
	"bytes"
	"runtime"
	"strings"
)

// Header is what the header line of one goroutine's traceback says: enough
// to tell whether a synctest bubble can still make progress, read without
// parsing frames.
type Header struct {
	// ID is the goroutine ID.
	ID int64
	// State is the wait reason or status, as in [Goroutine.State].
	State string
	// Durable reports whether the wait is durable inside its bubble.
	Durable bool
	// Bubble is the synctest bubble ID, 0 if none.
	Bubble int
}

// Active reports whether the goroutine can run without being woken: it is
// running, runnable, in a system call, or in one of the runtime's
// transitional states (stack copy, preemption).
func (h Header) Active() bool {
	switch h.State {
	case "running", "runnable", "syscall", "copystack", "preempted", "idle", "":
		return true
	}
	return strings.HasPrefix(h.State, "running") // "running on other thread"
}

// BubbleHeaders dumps every goroutine of the process once (runtime.Stack
// with all=true, a consistent snapshot taken with the world stopped) and
// returns the headers of those in synctest bubble bubble, in dump order.
// buf is reused when large enough; the possibly grown buffer is returned
// for the next call.
func BubbleHeaders(bubble int, buf []byte) ([]Header, []byte) {
	if len(buf) == 0 {
		buf = make([]byte, 64<<10)
	}
	var n int
	for {
		n = runtime.Stack(buf, true)
		if n < len(buf) {
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []Header
	dump := buf[:n]
	for len(dump) > 0 {
		line := dump
		if i := bytes.IndexByte(dump, '\n'); i >= 0 {
			line, dump = dump[:i], dump[i+1:]
		} else {
			dump = nil
		}
		if !bytes.HasPrefix(line, []byte("goroutine ")) || !bytes.Contains(line, []byte("synctest bubble ")) {
			continue
		}
		g, ok := parseHeader(string(line))
		if ok && g.Bubble == bubble {
			out = append(out, Header{ID: g.ID, State: g.State, Durable: g.Durable, Bubble: g.Bubble})
		}
	}
	return out, buf
}

// Frozen reports whether a bubble whose goroutines are hs can never run
// again: every goroutine is blocked and at least one of them is not durably
// blocked. Such a bubble's fake clock cannot advance (it moves only when
// every goroutine is durably blocked), so its timers never fire, and only a
// goroutine outside the bubble could wake the non-durable waiter. It
// returns the non-durable waiters when frozen. An empty bubble is not
// frozen (it has ended).
func Frozen(hs []Header) (frozen bool, waiters []Header) {
	if len(hs) == 0 {
		return false, nil
	}
	for _, h := range hs {
		if h.Active() {
			return false, nil
		}
		if !h.Durable {
			waiters = append(waiters, h)
		}
	}
	if len(waiters) == 0 {
		return false, nil
	}
	return true, waiters
}
