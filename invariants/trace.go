package invariants

import (
	"fmt"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
)

// Trace event kinds the judges read (see facts.Event.Kind).
const (
	kindClose        = "close"
	kindHarnessClose = "harness-close"
	kindHarness      = "harness"
)

// callbackKinds are the kinds of trace events recorded from a Pion callback
// of one peer: everything the application can observe happening.
var callbackKinds = map[string]bool{
	"pc": true, "ice": true, "gather": true, "signaling": true, "dtls": true,
	"sctp": true, "dc": true, "candidate": true, "negotiation-needed": true,
}

// stateChangeKinds are the callback kinds that report a state change: every
// callback kind but candidates, negotiation-needed and data channel
// messages (see isStateChange).
var stateChangeKinds = map[string]bool{
	"pc": true, "ice": true, "gather": true, "signaling": true, "dtls": true, "sctp": true, "dc": true,
}

// isStateChange reports whether e reports a state change of an object.
func isStateChange(e facts.Event) bool {
	if !stateChangeKinds[e.Kind] {
		return false
	}
	if e.Kind == "dc" {
		w := firstWord(e.Detail)
		return w == "open" || w == "close"
	}
	return true
}

// isClosedNotice reports whether e is the notification that an object
// reached "closed": what Pion's Close itself causes.
func isClosedNotice(e facts.Event) bool {
	switch e.Kind {
	case "pc", "ice", "signaling", "dtls":
		return e.Detail == "closed"
	case "sctp", "dc":
		return firstWord(e.Detail) == "close"
	}
	return false
}

func firstWord(s string) string {
	w, _, _ := strings.Cut(s, " ")
	return w
}

// eventKey groups events for reporting: kind and first word of the detail
// ("dc message", "pc closed", "candidate host").
func eventKey(e facts.Event) string {
	if e.Detail == "" {
		return e.Kind
	}
	return e.Kind + " " + firstWord(e.Detail)
}

// closeSpan is one close call of a peer in the trace: the indices in
// obs.Events of its "call" and "return" events (ret is -1 if the call never
// returned).
type closeSpan struct {
	kind      string // kindClose or kindHarnessClose
	call, ret int
}

// firstClose finds the first close of peer in the trace: a close step's or,
// for a peer the scenario left open, the harness's.
func firstClose(evs []facts.Event, peer string) (closeSpan, bool) {
	for i, e := range evs {
		if e.Peer != peer || (e.Kind != kindClose && e.Kind != kindHarnessClose) || !strings.HasPrefix(e.Detail, "call ") {
			continue
		}
		sp := closeSpan{kind: e.Kind, call: i, ret: -1}
		for j := i + 1; j < len(evs); j++ {
			if evs[j].Peer == peer && evs[j].Kind == e.Kind && strings.HasPrefix(evs[j].Detail, "return ") {
				sp.ret = j
				break
			}
		}
		return sp, true
	}
	return closeSpan{}, false
}

// firstStepClose finds the first close step of peer in the trace (not the
// harness's).
func firstStepClose(evs []facts.Event, peer string) (closeSpan, bool) {
	sp, ok := firstClose(evs, peer)
	if !ok || sp.kind != kindClose {
		return closeSpan{}, false
	}
	return sp, true
}

// harnessCloseAt is the index of the harness's close call of peer, or
// len(evs) if there is none: events before it happened before Final was
// taken or while the harness had not touched the peer.
func harnessCloseAt(evs []facts.Event, peer string) int {
	for i, e := range evs {
		if e.Peer == peer && e.Kind == kindHarnessClose {
			return i
		}
	}
	return len(evs)
}

// peers are the two peers of every world.
var peers = []string{string(scenarios.PeerA), string(scenarios.PeerB)}

// other returns the other peer.
func other(p string) string {
	return string(scenarios.Peer(p).Other())
}

// finalState returns peer's state after the settle period.
func finalState(obs *facts.Observation, peer string) (facts.PeerState, bool) {
	for _, s := range obs.Final {
		if s.Peer == peer {
			return s, true
		}
	}
	return facts.PeerState{}, false
}

// firstSnapshot returns the state tuple of peer at its first close step.
func firstSnapshot(obs *facts.Observation, peer string) (facts.CloseSnapshot, bool) {
	for _, c := range obs.Closes {
		if c.Peer == peer {
			return c, true
		}
	}
	return facts.CloseSnapshot{}, false
}

// closedByStep reports whether a close step closed peer.
func closedByStep(obs *facts.Observation, peer string) bool {
	_, ok := firstSnapshot(obs, peer)
	return ok
}

// survivors returns the peers that no close step closed while the other
// peer was closed by one: the peers that only saw their remote go away.
func survivors(obs *facts.Observation) []string {
	var out []string
	for _, p := range peers {
		if !closedByStep(obs, p) && closedByStep(obs, other(p)) {
			out = append(out, p)
		}
	}
	return out
}

// finalAt returns the virtual time at which Final was taken: the harness's
// "settle D" event plus D.
func finalAt(obs *facts.Observation) (time.Duration, bool) {
	for _, e := range obs.Events {
		if e.Peer != "" || e.Kind != kindHarness {
			continue
		}
		rest, ok := strings.CutPrefix(e.Detail, "settle ")
		if !ok {
			continue
		}
		d, err := time.ParseDuration(rest)
		if err != nil {
			return 0, false
		}
		return e.At + d, true
	}
	return 0, false
}

// lastState returns the detail of the last event of kind for peer among
// evs[:end], or "" if there is none.
func lastState(evs []facts.Event, peer, kind string, end int) string {
	for i := min(end, len(evs)) - 1; i >= 0; i-- {
		if evs[i].Peer == peer && evs[i].Kind == kind {
			return evs[i].Detail
		}
	}
	return ""
}

// find returns the index of the first event of peer with kind and detail
// in evs[from:to], or -1.
func find(evs []facts.Event, peer, kind, detail string, from, to int) int {
	for i := max(from, 0); i < min(to, len(evs)); i++ {
		if e := evs[i]; e.Peer == peer && e.Kind == kind && e.Detail == detail {
			return i
		}
	}
	return -1
}

// kindEvents renders the events of peer whose kind is one of kinds, for
// evidence, at most limit of them.
func kindEvents(evs []facts.Event, peer string, limit int, kinds ...string) []string {
	var out []string
	n := 0
	for _, e := range evs {
		if e.Peer != peer {
			continue
		}
		for _, k := range kinds {
			if e.Kind == k {
				n++
				if n <= limit {
					out = append(out, e.String())
				}
				break
			}
		}
	}
	if n > limit {
		out = append(out, fmt.Sprintf("... and %d more %s events of %s", n-limit, strings.Join(kinds, "/"), peer))
	}
	return out
}

// formatState renders a state tuple on one line.
func formatState(s facts.PeerState) string {
	var b strings.Builder
	fmt.Fprintf(&b, "signaling=%s connection=%s ice_connection=%s ice_gathering=%s ice_transport=%s dtls=%s sctp=%s",
		s.Signaling, s.Connection, s.ICEConnection, s.ICEGathering, s.ICETransport, s.DTLS, s.SCTP)
	for _, dc := range s.DataChannels {
		fmt.Fprintf(&b, " dc[%s]=%s", dc.Label, dc.State)
	}
	return b.String()
}

// stackHead returns the first n lines of a goroutine stack or panic text.
func stackHead(s string, n int) []string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	if len(lines) > n {
		lines = append(lines[:n:n], fmt.Sprintf("... (%d more lines)", len(lines)-n))
	}
	return lines
}
