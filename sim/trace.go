package sim

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Event is one entry of a Trace.
type Event struct {
	// Seq is the 0-based position of the event in the trace.
	Seq int `json:"seq"`
	// At is the virtual time since the world started.
	At time.Duration `json:"at"`
	// Peer is "A", "B", or "" for the world itself (network, harness).
	Peer string `json:"peer,omitempty"`
	// Kind classifies the event: "step", "pc", "ice", "gather", "signaling",
	// "dtls", "sctp", "dc", "candidate", "signal", "socket", "log", "harness".
	Kind string `json:"kind"`
	// Detail is the rest, e.g. "connected" or "open \"dc\"".
	Detail string `json:"detail"`
}

// String renders the event in the canonical form
// "t=1.234000s A pc connected".
func (e Event) String() string {
	peer := e.Peer
	if peer == "" {
		peer = "-"
	}
	return fmt.Sprintf("t=%.6fs %s %s %s", e.At.Seconds(), peer, e.Kind, e.Detail)
}

// orderString renders the event without its timestamp.
func (e Event) orderString() string {
	peer := e.Peer
	if peer == "" {
		peer = "-"
	}
	return peer + " " + e.Kind + " " + e.Detail
}

// Trace records events with virtual timestamps. It is safe for concurrent
// use; the order of events is the order in which Add was called.
type Trace struct {
	added  atomic.Int64 // len(events), readable without mu
	mu     sync.Mutex
	start  time.Time
	events []Event
}

func newTrace(start time.Time) *Trace { return &Trace{start: start} }

// Add records an event at the current (virtual) time.
func (t *Trace) Add(peer, kind, format string, args ...any) {
	detail := format
	if len(args) > 0 {
		detail = sprintf(format, args)
	}
	detail = scrubAddrs(detail)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	t.events = append(t.events, Event{Seq: len(t.events), At: now.Sub(t.start), Peer: peer, Kind: kind, Detail: detail})
	t.added.Add(1)
}

// addAfterLast records an event from outside the bubble (the watchdog),
// stamped with the virtual time of the last event: the fake clock is not
// readable from outside.
func (t *Trace) addAfterLast(peer, kind, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var at time.Duration
	if n := len(t.events); n > 0 {
		at = t.events[n-1].At
	}
	t.events = append(t.events, Event{Seq: len(t.events), At: at, Peer: peer, Kind: kind, Detail: detail})
}

// Events returns a copy of the events recorded so far.
func (t *Trace) Events() []Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]Event(nil), t.events...)
}

// Text renders events in canonical form, one per line.
func Text(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		b.WriteString(e.String())
		b.WriteByte('\n')
	}
	return b.String()
}

// OrderText renders the order-only trace: events without timestamps, and
// without Pion's log lines (their wording carries goroutine timing that is
// not part of the behaviour under test).
func OrderText(events []Event) string {
	var b strings.Builder
	for _, e := range events {
		if e.Kind == "log" {
			continue
		}
		b.WriteString(e.orderString())
		b.WriteByte('\n')
	}
	return b.String()
}

// OrderHash is a stable hash (16 hex digits) of OrderText.
func OrderHash(events []Event) string {
	sum := sha256.Sum256([]byte(OrderText(events)))
	return hex.EncodeToString(sum[:8])
}

// FirstDivergence compares two order-only traces and returns the index of
// the first event that differs and a description of both sides, or -1.
func FirstDivergence(a, b []Event) (int, string) {
	fa, fb := orderOnly(a), orderOnly(b)
	for i := 0; i < len(fa) || i < len(fb); i++ {
		var x, y string
		if i < len(fa) {
			x = fa[i]
		}
		if i < len(fb) {
			y = fb[i]
		}
		if x != y {
			return i, fmt.Sprintf("event %d: %q vs %q", i, x, y)
		}
	}
	return -1, ""
}

func orderOnly(events []Event) []string {
	var out []string
	for _, e := range events {
		if e.Kind != "log" {
			out = append(out, e.orderString())
		}
	}
	return out
}

// scrubAddrs replaces hexadecimal pointers ("0xc000123456", as Pion prints
// in some error strings) with "0x?": they differ between runs of the same
// scenario and would make equal traces look different.
func scrubAddrs(s string) string {
	if !strings.Contains(s, "0x") {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '0' && i+1 < len(s) && s[i+1] == 'x' {
			j := i + 2
			for j < len(s) && isHex(s[j]) {
				j++
			}
			if j-i-2 >= 6 {
				b.WriteString("0x?")
				i = j - 1
				continue
			}
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

func isHex(c byte) bool {
	return '0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F'
}
