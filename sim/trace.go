package sim

import (
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/closesim/closesim/facts"
)

// Trace records events with virtual timestamps. It is safe for concurrent
// use; the order of events is the order in which Add was called.
type Trace struct {
	added atomic.Int64 // len(events), readable without mu
	// abandoned is set once the run is declared wedged: the hooks Pion's
	// goroutines call (its logger, the router's chunk filter) then park
	// for good on a channel made outside the bubble, which stops the
	// bubble's clock (see holdIfAbandoned).
	abandoned atomic.Bool
	mu        sync.Mutex
	start     time.Time
	events    []facts.Event
}

func newTrace(start time.Time) *Trace { return &Trace{start: start} }

// Add records a free-form event (no typed facts) at the current
// (virtual) time.
func (t *Trace) Add(peer string, kind facts.Kind, format string, args ...any) {
	t.record(facts.Event{Peer: peer, Kind: kind}, format, args...)
}

// record records e, its Detail rendered from format and args, at the
// current (virtual) time.
func (t *Trace) record(e facts.Event, format string, args ...any) {
	detail := format
	if len(args) > 0 {
		detail = sprintf(format, args)
	}
	e.Detail = scrubAddrs(detail)
	now := time.Now()
	t.mu.Lock()
	defer t.mu.Unlock()
	e.Seq, e.At = len(t.events), now.Sub(t.start)
	t.events = append(t.events, e)
	t.added.Add(1)
}

// state records a state-change callback of peer.
func (t *Trace) state(peer string, kind facts.Kind, state string) {
	t.record(facts.Event{Peer: peer, Kind: kind, State: state}, state)
}

// op records a data channel, SCTP, candidate or track callback of peer.
func (t *Trace) op(peer string, kind facts.Kind, op facts.Op, label, format string, args ...any) {
	t.record(facts.Event{Peer: peer, Kind: kind, Op: op, Label: label}, format, args...)
}

// addAfterLast records an event from outside the bubble (the watchdog),
// stamped with the virtual time of the last event: the fake clock is not
// readable from outside.
func (t *Trace) addAfterLast(peer string, kind facts.Kind, detail string) {
	t.mu.Lock()
	defer t.mu.Unlock()
	var at time.Duration
	if n := len(t.events); n > 0 {
		at = t.events[n-1].At
	}
	t.events = append(t.events, facts.Event{Seq: len(t.events), At: at, Peer: peer, Kind: kind, Detail: detail})
}

// Events returns a copy of the events recorded so far.
func (t *Trace) Events() []facts.Event {
	t.mu.Lock()
	defer t.mu.Unlock()
	return append([]facts.Event(nil), t.events...)
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

// holdIfAbandoned parks the calling goroutine for good once the run was
// abandoned as wedged. A wait on a channel made outside the bubble is not
// durable, so the abandoned bubble's fake clock stops: its timers, and
// the ICE checks and TURN retransmissions they drive, no longer draw from
// the process's randomness while the next run of this process uses it
// (a data race, and another run's random stream). Only goroutines of the
// bubble may call it.
func (t *Trace) holdIfAbandoned() {
	if t.abandoned.Load() {
		<-never
	}
}
