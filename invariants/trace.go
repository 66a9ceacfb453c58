package invariants

import (
	"fmt"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// isStateChange reports whether e reports a state change of an object: a
// state callback, an SCTP close or error, or a data channel opening or
// closing.
func isStateChange(e facts.Event) bool {
	switch e.Kind {
	case facts.KindPC, facts.KindICE, facts.KindGather, facts.KindSignaling, facts.KindDTLS, facts.KindSCTP:
		return true
	case facts.KindDC:
		return e.Op == facts.OpOpen || e.Op == facts.OpClose
	}
	return false
}

// isClosedNotice reports whether e is the notification that an object
// reached "closed": what Pion's Close itself causes.
func isClosedNotice(e facts.Event) bool {
	switch e.Kind {
	case facts.KindPC, facts.KindICE, facts.KindSignaling, facts.KindDTLS:
		return e.State == facts.StateClosed
	case facts.KindSCTP, facts.KindDC:
		return e.Op == facts.OpClose
	}
	return false
}

// eventKey groups events for reporting: kind and what the event reported
// ("dc message", "pc closed", "candidate host").
func eventKey(e facts.Event) string {
	switch {
	case e.State != "":
		return string(e.Kind) + " " + e.State
	case e.Op != "":
		return string(e.Kind) + " " + string(e.Op)
	}
	return string(e.Kind)
}

// closeSpan is one close of a peer in the trace: the indices in obs.Events
// of its call and return events (ret is -1 if the call never returned).
type closeSpan struct {
	by        facts.CloseBy
	mode      string
	call, ret int
}

// graceful reports whether the close was a GracefulClose.
func (sp closeSpan) graceful() bool { return sp.mode == string(scenarios.ModeGraceful) }

// closeSpans lists every close of peer in the trace that keep selects, in
// the order they were called, each with its return.
func closeSpans(evs []facts.Event, peer string, keep func(facts.CloseBy) bool) []closeSpan {
	var out []closeSpan
	for i, e := range evs {
		if e.Peer != peer || e.Close == nil || e.Close.Return || !keep(e.Close.By) {
			continue
		}
		sp := closeSpan{by: e.Close.By, mode: e.Close.Mode, call: i, ret: -1}
		for j := i + 1; j < len(evs); j++ {
			if f := evs[j]; f.Peer == peer && f.Kind == e.Kind && f.Close != nil && f.Close.Return {
				sp.ret = j
				break
			}
		}
		out = append(out, sp)
	}
	return out
}

// firstClose finds the first close of peer in the trace, however it was
// started: a close step's, a close from inside a callback, or, for a peer
// the scenario left open, the harness's. A close step's extra concurrent
// Close calls belong to that step's close and do not count on their own.
func firstClose(evs []facts.Event, peer string) (closeSpan, bool) {
	sps := closeSpans(evs, peer, func(by facts.CloseBy) bool { return by != facts.CloseByExtra })
	if len(sps) == 0 {
		return closeSpan{}, false
	}
	return sps[0], true
}

// firstScenarioClose finds the first close the scenario made of peer (a
// close step or a close from a callback; not the harness's).
func firstScenarioClose(evs []facts.Event, peer string) (closeSpan, bool) {
	sp, ok := firstClose(evs, peer)
	if !ok || sp.by == facts.CloseByHarness {
		return closeSpan{}, false
	}
	return sp, true
}

// harnessCloseAt is the index of the harness's close call of peer, or
// len(evs) if there is none: events before it happened before Final was
// taken or while the harness had not touched the peer.
func harnessCloseAt(evs []facts.Event, peer string) int {
	for i, e := range evs {
		if e.Peer == peer && e.Close != nil && e.Close.By == facts.CloseByHarness {
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

// firstSnapshot returns the snapshot of peer's first close by the scenario
// (a close step or a close from a callback).
func firstSnapshot(obs *facts.Observation, peer string) (facts.CloseSnapshot, bool) {
	for _, c := range obs.Closes {
		if c.Peer == peer && c.By != facts.CloseByExtra {
			return c, true
		}
	}
	return facts.CloseSnapshot{}, false
}

// closedByScenario reports whether the scenario closed peer (a close step
// or a close from a callback).
func closedByScenario(obs *facts.Observation, peer string) bool {
	_, ok := firstSnapshot(obs, peer)
	return ok
}

// survivors returns the peers the scenario did not close while it closed
// the other peer: the peers that only saw their remote go away.
func survivors(obs *facts.Observation) []string {
	var out []string
	for _, p := range peers {
		if !closedByScenario(obs, p) && closedByScenario(obs, other(p)) {
			out = append(out, p)
		}
	}
	return out
}

// finalAt returns the virtual time at which Final was taken.
func finalAt(obs *facts.Observation) (time.Duration, bool) {
	return obs.FinalAt, obs.FinalAt > 0
}

// lastState returns the state of the last event of kind for peer among
// evs[:end], or "" if there is none.
func lastState(evs []facts.Event, peer string, kind facts.Kind, end int) string {
	for i := min(end, len(evs)) - 1; i >= 0; i-- {
		if evs[i].Peer == peer && evs[i].Kind == kind {
			return evs[i].State
		}
	}
	return ""
}

// find returns the index of the first event of peer reporting state for
// kind in evs[from:to], or -1.
func find(evs []facts.Event, peer string, kind facts.Kind, state string, from, to int) int {
	for i := max(from, 0); i < min(to, len(evs)); i++ {
		if e := evs[i]; e.Peer == peer && e.Kind == kind && e.State == state {
			return i
		}
	}
	return -1
}

// kindEvents renders the events of peer whose kind is one of kinds, for
// evidence, at most limit of them.
func kindEvents(evs []facts.Event, peer string, limit int, kinds ...facts.Kind) []string {
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
		names := make([]string, len(kinds))
		for i, k := range kinds {
			names[i] = string(k)
		}
		out = append(out, fmt.Sprintf("... and %d more %s events of %s", n-limit, strings.Join(names, "/"), peer))
	}
	return out
}

// closeKinds are the trace kinds of every close, for evidence.
var closeKinds = []facts.Kind{facts.KindClose, facts.KindCallbackClose, facts.KindExtraClose, facts.KindHarnessClose}

// withCloses appends the close kinds to kinds.
func withCloses(kinds ...facts.Kind) []facts.Kind { return append(kinds, closeKinds...) }

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
