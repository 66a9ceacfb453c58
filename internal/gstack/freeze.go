package gstack

import (
	"bytes"
	"runtime"
	"strconv"
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

// Dump returns runtime.Stack(buf, true): every goroutine of the process,
// one consistent snapshot taken with the world stopped. buf is reused when
// large enough; the result aliases the (possibly grown) buffer, which the
// caller passes again next time.
func Dump(buf []byte) []byte {
	if len(buf) < 64<<10 {
		buf = make([]byte, 64<<10)
	}
	buf = buf[:cap(buf)]
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return buf[:n]
		}
		buf = make([]byte, 2*len(buf))
	}
}

// BubbleHeaders dumps every goroutine of the process once (see [Dump]) and
// returns the headers of those in synctest bubble bubble, in dump order,
// with the dump (for [BubbleOf], or for the next call's buffer).
func BubbleHeaders(bubble int, buf []byte) ([]Header, []byte) {
	dump := Dump(buf)
	return HeadersIn(dump, bubble), dump
}

// HeadersIn returns the headers of a dump's goroutines that are in synctest
// bubble bubble. It reads only header lines, found by their
// "synctest bubble N]:" suffix, so it costs little beside the dump itself.
func HeadersIn(dump []byte, bubble int) []Header {
	var out []Header
	eachBlock(dump, bubble, func(header, _ []byte) {
		if g, ok := parseHeader(string(header)); ok && g.Bubble == bubble {
			out = append(out, Header{ID: g.ID, State: g.State, Durable: g.Durable, Bubble: g.Bubble})
		}
	})
	return out
}

// BubbleOf parses, with [Parse], only the goroutine blocks of a dump that
// are in synctest bubble bubble: a process that keeps thousands of
// goroutines of other bubbles does not pay for parsing them.
func BubbleOf(dump []byte, bubble int) []Goroutine {
	var blocks []byte
	eachBlock(dump, bubble, func(_, block []byte) {
		blocks = append(append(blocks, block...), '\n')
	})
	return InBubble(Parse(blocks), bubble)
}

// eachBlock calls fn with the header line and the whole block (through its
// last line) of every goroutine of dump whose header ends in
// "synctest bubble N]:", in dump order.
func eachBlock(dump []byte, bubble int, fn func(header, block []byte)) {
	suffix := []byte(" synctest bubble " + strconv.Itoa(bubble) + "]:")
	for off := 0; off < len(dump); {
		i := bytes.Index(dump[off:], suffix)
		if i < 0 {
			return
		}
		start := bytes.LastIndexByte(dump[:off+i], '\n') + 1
		headerEnd := off + i + len(suffix)
		end := len(dump)
		if j := bytes.Index(dump[headerEnd:], []byte("\n\n")); j >= 0 {
			end = headerEnd + j + 1
		}
		fn(dump[start:headerEnd], dump[start:end])
		off = end
	}
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
