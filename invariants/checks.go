package invariants

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// CloseBound is the longest virtual time a Close or GracefulClose call may
// take (close.returns-bounded).
const CloseBound = 5 * time.Second

// ConsentWindow is how long after the remote closed a surviving peer is
// given to notice (remote.not-left-connected, remote.consent-failure): ICE
// consent expires 30 s after the last response (RFC 7675 §5.1); Pion's
// defaults reach "failed" about 30.2 s after the remote went silent.
const ConsentWindow = 35 * time.Second

// maxEvidence bounds the trace lines one violation carries.
const maxEvidence = 12

// Invariant IDs.
const (
	idLeakGoroutines         = "leak.goroutines"
	idLeakSockets            = "leak.sockets"
	idNoWedge                = "harness.no-wedge"
	idNoPanic                = "harness.no-panic"
	idCloseBounded           = "close.returns-bounded"
	idClosedStates           = "local.closed-states"
	idStatesAtReturn         = "close.states-at-return"
	idGatheringUnchanged     = "local.gathering-unchanged"
	idNoneAfterClose         = "events.none-after-close"
	idNoneDuringClose        = "events.none-during-close"
	idNoActivityAfterClose   = "events.no-activity-after-close"
	idGracefulCloseWaits     = "events.graceful-close-waits"
	idRemoteNotLeftConnected = "remote.not-left-connected"
	idRemoteClosedByDTLS     = "remote.closed-by-dtls"
	idRemoteConsentFailure   = "remote.consent-failure"
	idRemoteSCTPAfterAbort   = "remote.sctp-closed-after-abort"
	refCloseTheConnection    = "W3C webrtc-pc RTCPeerConnection.close(), \"close the connection\""
	refGracefulCloseWaitsOn  = "Pion behaviour: PeerConnection.GracefulClose \"waits for any goroutines it started to complete\""
)

var (
	both     = []Profile{W3C, Pion}
	w3cOnly  = []Profile{W3C}
	pionOnly = []Profile{Pion}
)

// All returns every invariant, in a stable order: harness and leaks first,
// then the closing peer's own states and events, then the remote's.
func All() []Invariant {
	return append(append(append(coreInvariants(), apiInvariants()...), transceiverInvariants()...), sfuInvariants()...)
}

func coreInvariants() []Invariant {
	return []Invariant{
		{
			ID:       idNoPanic,
			Rule:     "No step, Pion call or callback panics.",
			Ref:      "Pion behaviour (a panic in a library goroutine kills the process)",
			Profiles: both,
			Check:    checkNoPanic,
			Needs:    []facts.Fact{facts.FactPanics},
		},
		{
			ID:       idNoWedge,
			Rule:     "The run never freezes: its outcome is neither a wedge (no progress in wall time) nor a deadlock (every goroutine blocked for good).",
			Ref:      "Pion behaviour: Close and GracefulClose return, and no lock is held across a timed wait",
			Profiles: both,
			Check:    checkNoWedge,
			Needs:    []facts.Fact{facts.FactWedge},
		},
		{
			ID:       idLeakGoroutines,
			Rule:     "No goroutine is left in the bubble after the harness closed both peers and let 5 s of virtual time pass.",
			Ref:      refGracefulCloseWaitsOn + " (pion/webrtc#2847)",
			Profiles: both,
			Check:    checkLeakGoroutines,
			Needs:    []facts.Fact{facts.FactGoroutines},
			Applies:  leakChecked,
		},
		{
			ID:       idLeakSockets,
			Rule:     "No vnet socket is still bound after the harness closed both peers and let 5 s of virtual time pass.",
			Ref:      refCloseTheConnection + " step 8 (destroy the ICE Agent, releasing its resources)",
			Profiles: both,
			Check:    checkLeakSockets,
			Needs:    []facts.Fact{facts.FactSockets},
			Applies:  leakChecked,
		},
		{
			ID:       idCloseBounded,
			Rule:     fmt.Sprintf("Every Close or GracefulClose returns within %s of virtual time (not judged when the run wedged).", CloseBound),
			Ref:      refCloseTheConnection + " runs synchronously; " + refGracefulCloseWaitsOn + ", all of which stop when closed",
			Profiles: both,
			Check:    checkCloseBounded,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  anyCloseTimed,
		},
		{
			ID:       idClosedStates,
			Rule:     "A peer closed by a close step ends with signaling, connection, ICE connection, ICE transport and DTLS \"closed\", SCTP \"closed\" once an answer was applied, and every data channel \"closed\".",
			Ref:      refCloseTheConnection + " steps 3, 5, 6, 7, 9, 10, 11 (Pion's close() cites the same steps)",
			Profiles: both,
			Check:    checkClosedStates,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  closedWithFinal,
			Subjects: finalStateSubjects,
		},
		{
			ID:       idStatesAtReturn,
			Rule:     "The moment a close returns (a close step's Close or GracefulClose, each of its concurrent Close calls, a Close from inside a callback, the harness's GracefulClose), the peer's signaling, connection, ICE connection, ICE transport and DTLS read \"closed\", SCTP too once an answer was applied, and every data channel; a state that cannot be read inside a callback is not judged.",
			Ref:      refCloseTheConnection + " steps 3, 5, 6, 7, 9, 10, 11: the algorithm runs synchronously inside close(), so every state it sets is \"closed\" when close() returns",
			Profiles: w3cOnly,
			Check:    checkStatesAtReturn,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  some(atReturnSubjects),
			Subjects: stateSubjectsAtReturn,
		},
		{
			ID:       idGatheringUnchanged,
			Rule:     "Closing a peer leaves its ICE gathering state as it was when the close step started.",
			Ref:      refCloseTheConnection + ": no step changes [[IceGatheringState]]",
			Profiles: w3cOnly,
			Check:    checkGatheringUnchanged,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  some(gatheringSubjects),
			Subjects: objects(ObjectGathering),
		},
		{
			ID:       idNoneAfterClose,
			Rule:     "No callback (pc, ice, gather, signaling, dtls, sctp, dc, candidate, negotiation-needed) fires for a peer after its first close returned.",
			Ref:      refCloseTheConnection + " steps 3, 5, 10, 11 (\"This does not fire any event\"; data channels close without the closing procedure) and every queued task aborts once [[IsClosed]] is true",
			Profiles: w3cOnly,
			Check:    checkNoneAfterClose,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  closeReturned,
			Subjects: eventSubjects,
		},
		{
			ID:       idNoneDuringClose,
			Rule:     "No state-change callback (pc, ice, gather, signaling, dtls, sctp, dc open/close) fires for a peer between the call and the return of its first close.",
			Ref:      refCloseTheConnection + " steps 3, 10, 11 (\"This does not fire any event\") and step 5 (the data channel closing procedure is not invoked)",
			Profiles: w3cOnly,
			Check:    checkNoneDuringClose,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  closeCalled,
			Subjects: eventSubjects,
		},
		{
			ID:       idNoActivityAfterClose,
			Rule:     "After a peer's first close returned, its only callbacks are notices that an object reached \"closed\" (pc/ice/signaling/dtls closed, sctp close, dc close) or late notices of the signaling or connection state it already had at the close: no message, open, candidate, gathering or other state change.",
			Ref:      "Pion behaviour: Close stops every transport before it returns; only handlers it already dispatched on their own goroutines (\"go handler(...)\") may run later",
			Profiles: pionOnly,
			Check:    checkNoActivityAfterClose,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  closeReturned,
			Subjects: eventSubjects,
		},
		{
			ID:       idGracefulCloseWaits,
			Rule:     "After a peer's first close, when it was GracefulClose, returned, not even the late notices events.no-activity-after-close allows fire for that peer (no callback at all).",
			Ref:      refGracefulCloseWaitsOn,
			Profiles: pionOnly,
			Check:    checkGracefulCloseWaits,
			Needs:    []facts.Fact{facts.FactCloserSide},
			Applies:  gracefulReturned,
			Subjects: eventSubjects,
		},
		{
			ID:       idRemoteNotLeftConnected,
			Rule:     fmt.Sprintf("A peer that no close step closed, whose remote was closed at least %s before the final states (counted from the end of the remote's uplink stall, if it was stalled at its close), does not end with connection or ICE connection \"connected\"/\"completed\".", ConsentWindow),
			Ref:      "RFC 7675 §5.1 (consent expires 30 s after the last response); W3C webrtc-pc RTCIceTransportState \"failed\" (pairs lost consent)",
			Profiles: both,
			Check:    checkRemoteNotLeftConnected,
			Applies:  some(consentSubjects),
			Subjects: objects(ObjectConnection, ObjectICEConnection),
		},
		{
			ID:       idRemoteClosedByDTLS,
			Rule:     "When the remote closed with DTLS connected on both sides and both peers' ICE connected (a path for the close_notify), no packet fault dropped both its close_notify and its SCTP ABORT (if SCTP was up), its uplink was not stalled at the close (Backpressure.StallAfter..StallUntil), the application had not closed its socket first (Settings.CloseMuxFirst), and DisableCloseByDTLS is false, the surviving peer ends with DTLS, SCTP and every data channel \"closed\".",
			Ref:      "RFC 5246 §7.2.1 (close_notify); W3C webrtc-pc RTCDtlsTransportState \"closed\" (close_notify received) and " + refCloseTheConnection + " step 6 (remote sends SCTP ABORT); Pion SettingEngine.DisableCloseByDTLS(false) closes the PeerConnection",
			Profiles: both,
			Check:    checkRemoteClosedByDTLS,
			Applies:  func(obs *facts.Observation) bool { rcs, _ := dtlsSubjects(obs); return len(rcs) > 0 },
			Subjects: remoteDTLSSubjects,
		},
		{
			ID:       idRemoteSCTPAfterAbort,
			Rule:     "A peer that no close step closed, whose SCTP close callback fired after the remote closed (the remote's ABORT ended the association), ends with SCTP \"closed\".",
			Ref:      refCloseTheConnection + " step 6 (the closing side sends an SCTP ABORT) and RTCSctpTransportState \"closed\"; RFC 4960 §9.1; Pion SCTPTransport.OnClose (\"invoked when the SCTP Association closes\")",
			Profiles: both,
			Check:    checkRemoteSCTPAfterAbort,
			Applies:  some(abortSubjects),
			Subjects: objects(ObjectSCTP),
		},
		{
			ID:       idRemoteConsentFailure,
			Rule:     fmt.Sprintf("With DisableCloseByDTLS, a surviving full (not ICE-lite) ICE agent whose ICE was connected when the remote closed (and that does not restart ICE afterwards) goes ICE \"disconnected\" and then \"failed\" within %s (counted from the end of the remote's uplink stall, if it was stalled at its close: its last packets leave then).", ConsentWindow),
			Ref:      "RFC 7675 §5.1 (consent freshness); Pion SettingEngine.DisableCloseByDTLS (\"relies on the ice failed state\")",
			Profiles: both,
			Check:    checkRemoteConsentFailure,
			Applies:  some(consentFailureSubjects),
			Subjects: objects(ObjectICEConnection),
		},
	}
}

func checkNoPanic(obs *facts.Observation) []Violation {
	if obs.Outcome != facts.OutcomePanic {
		return nil
	}
	first, _, _ := strings.Cut(strings.TrimSpace(obs.Panic), "\n")
	return []Violation{{
		Invariant: idNoPanic,
		Message:   "the run panicked: " + first,
		Evidence:  stackHead(obs.Panic, 30),
	}}
}

func checkNoWedge(obs *facts.Observation) []Violation {
	if obs.Outcome != facts.OutcomeWedge && obs.Outcome != facts.OutcomeDeadlock {
		return nil
	}
	var ev []string
	if obs.Wedge != nil {
		for _, line := range strings.Split(strings.TrimSpace(obs.Wedge.Diagnosis), "\n") {
			if strings.TrimSpace(line) != "" {
				ev = append(ev, line)
			}
		}
	}
	// The last events before the freeze say where it happened.
	var tail []string
	for i := len(obs.Events) - 1; i >= 0 && len(tail) < 6; i-- {
		if obs.Events[i].Kind != "log" {
			tail = append(tail, obs.Events[i].String())
		}
	}
	for i := len(tail) - 1; i >= 0; i-- {
		ev = append(ev, tail[i])
	}
	msg := fmt.Sprintf("the run ended in a %s", obs.Outcome)
	if len(ev) > 0 && obs.Wedge != nil && obs.Wedge.Headline != "" {
		msg += ": " + obs.Wedge.Headline
	}
	return []Violation{{Invariant: idNoWedge, Message: msg, Evidence: ev}}
}

func checkLeakGoroutines(obs *facts.Observation) []Violation {
	var out []Violation
	for _, g := range obs.Leaks {
		ev := append([]string{"top: " + g.Top}, stackHead(g.Stack, 16)...)
		out = append(out, Violation{
			Invariant: idLeakGoroutines,
			Message:   fmt.Sprintf("goroutine %d [%s] left in the bubble at %s", g.ID, g.State, g.Top),
			Evidence:  ev,
		})
	}
	return out
}

func checkLeakSockets(obs *facts.Observation) []Violation {
	var out []Violation
	for _, s := range obs.OpenSockets {
		ev := []string{fmt.Sprintf("%s %s local=%s remote=%s", s.Peer, s.Kind, s.Local, s.Remote)}
		ev = append(ev, kindEvents(obs.Events, s.Peer, maxEvidence, "socket")...)
		out = append(out, Violation{
			Invariant: idLeakSockets,
			Peer:      s.Peer,
			Message:   fmt.Sprintf("%s socket %s still bound after the harness closed everything", s.Kind, s.Local),
			Evidence:  ev,
		})
	}
	return out
}

func checkCloseBounded(obs *facts.Observation) []Violation {
	if obs.Outcome == facts.OutcomeWedge {
		return nil
	}
	var out []Violation
	for _, c := range obs.Closes {
		if c.Took <= CloseBound {
			continue
		}
		out = append(out, Violation{
			Invariant: idCloseBounded,
			Peer:      c.Peer,
			Message:   fmt.Sprintf("%s (step #%d) took %s of virtual time, more than %s", c.Mode, c.Step, c.Took, CloseBound) + stallNote(obs.Scenario, c.Peer, c.At, c.At+c.Took) + turnDropNote(obs, c.Peer, c.At, c.At+c.Took),
			Evidence:  closeEvidence(obs, c.Peer, c.By.Kind()),
		})
	}
	for _, c := range obs.HarnessCloses {
		if c.Took > CloseBound {
			out = append(out, Violation{
				Invariant: idCloseBounded,
				Peer:      c.Peer,
				Message:   fmt.Sprintf("the harness's graceful close took %s of virtual time, more than %s", c.Took, CloseBound) + stallNote(obs.Scenario, c.Peer, c.At, c.At+c.Took) + turnDropNote(obs, c.Peer, c.At, c.At+c.Took),
				Evidence:  closeEvidence(obs, c.Peer, facts.KindHarnessClose),
			})
		}
	}
	return out
}

// closeEvidence renders the close call and return events of peer.
func closeEvidence(obs *facts.Observation, peer string, kind facts.Kind) []string {
	var out []string
	for _, e := range obs.Events {
		if e.Peer == peer && e.Kind == kind {
			out = append(out, e.String())
		}
	}
	return out
}

// answerApplied reports whether peer completed an offer/answer exchange
// before evs[end]: it went back to "stable" from have-local-offer or
// have-remote-offer. Only then does W3C give it an RTCSctpTransport.
func answerApplied(evs []facts.Event, peer string, end int) bool {
	return find(evs, peer, facts.KindSignaling, facts.StateStable, 0, end) >= 0
}

func checkClosedStates(obs *facts.Observation) []Violation {
	var out []Violation
	for _, p := range peers {
		snap, ok := firstSnapshot(obs, p)
		if !ok {
			continue
		}
		final, ok := finalState(obs, p)
		if !ok {
			continue // no final states (wedge, panic): nothing to judge
		}
		callAt := len(obs.Events)
		if sp, ok := firstScenarioClose(obs.Events, p); ok {
			callAt = sp.call
		}
		for _, f := range closedFields(final, answerApplied(obs.Events, p, callAt)) {
			if f.got == facts.StateClosed {
				continue
			}
			ev := []string{
				"final " + p + ": " + formatState(final),
				fmt.Sprintf("at close (step #%d %s, t=%.6fs) %s: %s", snap.Step, snap.Mode, snap.At.Seconds(), p, formatState(snap.Before)),
			}
			ev = append(ev, kindEvents(obs.Events, p, maxEvidence, withCloses(f.kind)...)...)
			out = append(out, Violation{
				Invariant: idClosedStates,
				Object:    f.object,
				Peer:      p,
				Message:   fmt.Sprintf("%s is %q after close, want \"closed\"", f.name, f.got),
				Evidence:  ev,
			})
		}
	}
	return out
}

// gatheringSubjects are the scenario's first closes of each peer whose
// gathering state was read when the close started, with the states it is
// compared against: at the close's return (when read there) and final.
func gatheringSubjects(obs *facts.Observation) []facts.CloseSnapshot {
	var out []facts.CloseSnapshot
	for _, p := range peers {
		snap, ok := firstSnapshot(obs, p)
		if !ok || !facts.Known(snap.Before.ICEGathering) {
			continue
		}
		_, hasFinal := finalState(obs, p)
		if hasFinal || (snap.After != nil && facts.Known(snap.After.ICEGathering)) {
			out = append(out, snap)
		}
	}
	return out
}

// atReturnSubjects are the closes whose states were read when they
// returned, with at least one state readable.
func atReturnSubjects(obs *facts.Observation) []facts.CloseSnapshot {
	var out []facts.CloseSnapshot
	for _, c := range allCloses(obs) {
		if c.After == nil {
			continue
		}
		for _, f := range closedFields(*c.After, true) {
			if facts.Known(f.got) {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

// closeCall names the call of a close mode: "Close()" or "GracefulClose()".
func closeCall(mode string) string {
	if mode == string(scenarios.ModeGraceful) {
		return "GracefulClose()"
	}
	return "Close()"
}

// describeSnapshot names a close in a message.
func describeSnapshot(c facts.CloseSnapshot) string {
	call := closeCall(c.Mode)
	switch c.By {
	case facts.CloseByHarness:
		return "the harness's " + call
	case facts.CloseByCallback:
		return fmt.Sprintf("%s from %s (step #%d)", call, c.Callback, c.Step)
	case facts.CloseByExtra:
		return fmt.Sprintf("a concurrent extra %s (step #%d)", call, c.Step)
	}
	return fmt.Sprintf("%s (step #%d)", call, c.Step)
}

// returnFields are the fields of close c's state tuple at its return that
// the close algorithm sets "closed" (SCTP once the peer had applied an
// answer before its first close).
func returnFields(obs *facts.Observation, c facts.CloseSnapshot) []stateField {
	callAt := len(obs.Events)
	if sp, ok := firstClose(obs.Events, c.Peer); ok {
		callAt = sp.call
	}
	return closedFields(*c.After, answerApplied(obs.Events, c.Peer, callAt))
}

func checkStatesAtReturn(obs *facts.Observation) []Violation {
	var out []Violation
	for _, c := range atReturnSubjects(obs) {
		for _, f := range returnFields(obs, c) {
			if f.got == facts.StateClosed || !facts.Known(f.got) {
				continue
			}
			ev := []string{
				fmt.Sprintf("at return of %s, t=%.6fs+%s, %s: %s", describeSnapshot(c), c.At.Seconds(), c.Took, c.Peer, formatState(*c.After)),
				fmt.Sprintf("at its call %s: %s", c.Peer, formatState(c.Before)),
			}
			ev = append(ev, kindEvents(obs.Events, c.Peer, maxEvidence, withCloses(f.kind)...)...)
			out = append(out, Violation{
				Invariant: idStatesAtReturn,
				Object:    f.object,
				Peer:      c.Peer,
				Message:   fmt.Sprintf("%s is %q when %s returned, want \"closed\"", f.name, f.got, describeSnapshot(c)),
				Evidence:  ev,
			})
		}
	}
	return out
}

func checkGatheringUnchanged(obs *facts.Observation) []Violation {
	var out []Violation
	for _, snap := range gatheringSubjects(obs) {
		p, before := snap.Peer, snap.Before.ICEGathering
		when, got := "", before
		if a := snap.After; a != nil && facts.Known(a.ICEGathering) && a.ICEGathering != before {
			when, got = "when the close returned", a.ICEGathering
		} else if final, ok := finalState(obs, p); ok && final.ICEGathering != before {
			when, got = "after it", final.ICEGathering
		}
		if when == "" {
			continue
		}
		ev := []string{fmt.Sprintf("at close (step #%d %s) %s: ice_gathering=%s", snap.Step, snap.Mode, p, before)}
		if a := snap.After; a != nil {
			ev = append(ev, fmt.Sprintf("at return %s: ice_gathering=%s", p, a.ICEGathering))
		}
		if final, ok := finalState(obs, p); ok {
			ev = append(ev, fmt.Sprintf("final %s: ice_gathering=%s", p, final.ICEGathering))
		}
		ev = append(ev, kindEvents(obs.Events, p, maxEvidence, withCloses(facts.KindGather)...)...)
		out = append(out, Violation{
			Invariant: idGatheringUnchanged,
			Object:    ObjectGathering,
			Peer:      p,
			Message:   fmt.Sprintf("ICE gathering went from %q at the close to %q %s", before, got, when),
			Evidence:  ev,
		})
	}
	return out
}

// eventsViolations groups the events of peer selected by pick among
// evs[from:to] by eventKey and returns one violation per group.
func eventsViolations(obs *facts.Observation, id, peer string, sp closeSpan, from, to int, what string, pick func(facts.Event) bool) []Violation {
	evs := obs.Events
	groups := map[string][]facts.Event{}
	var keys []string
	for i := max(from, 0); i < min(to, len(evs)); i++ {
		e := evs[i]
		if e.Peer != peer || !pick(e) {
			continue
		}
		k := eventKey(e)
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], e)
	}
	// A Close that finds another goroutine's close under way returns at
	// once (F9): say so when the peer had concurrent Close calls.
	concurrent := ""
	for _, e := range evs {
		if e.Peer == peer && e.Kind == facts.KindExtraClose {
			concurrent = " (one of several concurrent Close calls)"
			break
		}
	}
	var out []Violation
	for _, k := range keys {
		g := groups[k]
		ev := []string{evs[sp.call].String()}
		if sp.ret >= 0 {
			ev = append(ev, evs[sp.ret].String())
		}
		for i, e := range g {
			if i == maxEvidence {
				ev = append(ev, fmt.Sprintf("... and %d more", len(g)-maxEvidence))
				break
			}
			ev = append(ev, e.String())
		}
		n := "1 event"
		if len(g) > 1 {
			n = fmt.Sprintf("%d events", len(g))
		}
		out = append(out, Violation{
			Invariant: id,
			Object:    objectOfKind(g[0].Kind),
			Peer:      peer,
			Message:   fmt.Sprintf("%s %q %s %s%s (first at t=%.6fs)", n, k, what, describeClose(evs, sp), concurrent, g[0].At.Seconds()),
			Evidence:  ev,
		})
	}
	return out
}

// describeClose names a close span: "its first Close()", "the harness's
// GracefulClose()".
func describeClose(evs []facts.Event, sp closeSpan) string {
	call := closeCall(sp.mode)
	switch sp.by {
	case facts.CloseByHarness:
		return "the harness's " + call
	case facts.CloseByCallback:
		return "its first " + call + " (from " + closeCallback(evs, sp) + ")"
	}
	return "its first " + call
}

// stateAtClose is peer's state tuple when the close of span sp started: the
// close step's snapshot, or for the harness's close the final states (taken
// just before it).
func stateAtClose(obs *facts.Observation, peer string, sp closeSpan) (facts.PeerState, bool) {
	if sp.by == facts.CloseByHarness {
		return finalState(obs, peer)
	}
	snap, ok := firstSnapshot(obs, peer)
	return snap.Before, ok
}

// closeCallback names the callback a callback close ran inside.
func closeCallback(evs []facts.Event, sp closeSpan) string {
	if c := evs[sp.call].Close; c != nil && c.Callback != "" {
		return c.Callback
	}
	return "a callback"
}

// stateField is one object's state in a state tuple, with the trace kind
// whose events explain it.
type stateField struct {
	name, got string
	kind      facts.Kind
	object    string // Violation.Object
}

// closedFields lists the states of st that the close algorithm sets to
// "closed": signaling, connection, ICE connection, ICE transport, DTLS,
// SCTP when withSCTP (an answer was applied, so W3C has an
// RTCSctpTransport), and every data channel.
func closedFields(st facts.PeerState, withSCTP bool) []stateField {
	fields := []stateField{
		{"signaling", st.Signaling, facts.KindSignaling, ObjectSignaling},
		{"connection", st.Connection, facts.KindPC, ObjectConnection},
		{"ICE connection", st.ICEConnection, facts.KindICE, ObjectICEConnection},
		{"ICE transport", st.ICETransport, facts.KindICE, ObjectICETransport},
		{"DTLS", st.DTLS, facts.KindDTLS, ObjectDTLS},
	}
	if withSCTP {
		fields = append(fields, stateField{"SCTP", st.SCTP, facts.KindSCTP, ObjectSCTP})
	}
	for _, dc := range st.DataChannels {
		fields = append(fields, stateField{dcName(dc), dc.State, facts.KindDC, ObjectDataChannel})
	}
	return fields
}

// lateNotice reports whether e reports, through a handler Pion runs on a
// goroutine of its own (signaling and connection state), the state the peer
// was already in when the close started: a change made before the close,
// delivered late.
func lateNotice(e facts.Event, at facts.PeerState) bool {
	switch e.Kind {
	case facts.KindSignaling:
		return facts.Known(at.Signaling) && e.State == at.Signaling
	case facts.KindPC:
		return facts.Known(at.Connection) && e.State == at.Connection
	}
	return false
}

func checkNoneAfterClose(obs *facts.Observation) []Violation {
	var out []Violation
	for _, p := range peers {
		sp, ok := firstClose(obs.Events, p)
		if !ok || sp.ret < 0 {
			continue
		}
		out = append(out, eventsViolations(obs, idNoneAfterClose, p, sp, sp.ret+1, len(obs.Events),
			"fired after the return of", func(e facts.Event) bool { return e.IsCallback() })...)
	}
	return out
}

func checkNoneDuringClose(obs *facts.Observation) []Violation {
	var out []Violation
	for _, p := range peers {
		sp, ok := firstClose(obs.Events, p)
		if !ok {
			continue
		}
		end := sp.ret
		if end < 0 {
			end = len(obs.Events)
		}
		out = append(out, eventsViolations(obs, idNoneDuringClose, p, sp, sp.call+1, end,
			"fired during", isStateChange)...)
	}
	return out
}

func checkNoActivityAfterClose(obs *facts.Observation) []Violation {
	var out []Violation
	for _, p := range peers {
		sp, ok := firstClose(obs.Events, p)
		if !ok || sp.ret < 0 {
			continue
		}
		at, known := stateAtClose(obs, p, sp)
		out = append(out, eventsViolations(obs, idNoActivityAfterClose, p, sp, sp.ret+1, len(obs.Events),
			"fired after the return of", func(e facts.Event) bool {
				return e.IsCallback() && !isClosedNotice(e) && !(known && lateNotice(e, at))
			})...)
	}
	return out
}

func checkGracefulCloseWaits(obs *facts.Observation) []Violation {
	var out []Violation
	for _, p := range peers {
		sp, ok := firstClose(obs.Events, p)
		if !ok || sp.ret < 0 || !sp.graceful() {
			continue
		}
		// The late notices events.no-activity-after-close lets pass; every
		// other late callback is already its violation.
		at, known := stateAtClose(obs, p, sp)
		out = append(out, eventsViolations(obs, idGracefulCloseWaits, p, sp, sp.ret+1, len(obs.Events),
			"still fired after the return of", func(e facts.Event) bool {
				return isClosedNotice(e) || (known && lateNotice(e, at))
			})...)
	}
	return out
}

// remoteClose is the situation the remote.* invariants judge: survivor
// was not closed by any step, its remote was, first at span sp.
type remoteClose struct {
	survivor, remote string
	snap             facts.CloseSnapshot // the remote's first close
	sp               closeSpan           // the remote's first close in the trace
	final            facts.PeerState     // the survivor's final state
	window           time.Duration       // virtual time from the remote's close call (or its last packet, see lastSentAfterClose) to Final
}

// remoteCloses lists the survivors that have final states and whose
// remote's close is in the trace.
func remoteCloses(obs *facts.Observation) []remoteClose {
	var out []remoteClose
	at, okAt := finalAt(obs)
	for _, s := range survivors(obs) {
		r := other(s)
		final, ok := finalState(obs, s)
		if !ok {
			continue
		}
		snap, _ := firstSnapshot(obs, r)
		sp, ok := firstScenarioClose(obs.Events, r)
		if !ok {
			continue
		}
		rc := remoteClose{survivor: s, remote: r, snap: snap, sp: sp, final: final}
		if okAt {
			rc.window = at - lastSentAfterClose(obs.Scenario, r, obs.Events[sp.call].At)
		}
		out = append(out, rc)
	}
	return out
}

// consentSubjects are the remote closes remote.not-left-connected judges:
// those with at least ConsentWindow between the remote's close and Final.
func consentSubjects(obs *facts.Observation) []remoteClose {
	var out []remoteClose
	for _, rc := range remoteCloses(obs) {
		if rc.window >= ConsentWindow {
			out = append(out, rc)
		}
	}
	return out
}

func checkRemoteNotLeftConnected(obs *facts.Observation) []Violation {
	var out []Violation
	for _, rc := range consentSubjects(obs) {
		s := rc.survivor
		type field struct{ name, got, object string }
		var bad []field
		if rc.final.Connection == facts.StateConnected {
			bad = append(bad, field{"connection", rc.final.Connection, ObjectConnection})
		}
		if rc.final.ICEConnection == facts.StateConnected || rc.final.ICEConnection == facts.StateCompleted {
			bad = append(bad, field{"ICE connection", rc.final.ICEConnection, ObjectICEConnection})
		}
		for _, f := range bad {
			ev := []string{
				obs.Events[rc.sp.call].String(),
				fmt.Sprintf("final %s (%s after the remote's close): %s", s, rc.window, formatState(rc.final)),
			}
			ev = append(ev, kindEvents(obs.Events[rc.sp.call:], s, maxEvidence, facts.KindPC, facts.KindICE, facts.KindDTLS)...)
			out = append(out, Violation{
				Invariant: idRemoteNotLeftConnected,
				Object:    f.object,
				Peer:      s,
				Message:   fmt.Sprintf("%s is still %q %s after %s closed", f.name, f.got, rc.window, rc.remote),
				Evidence:  ev,
			})
		}
	}
	return out
}

// dtlsSubjects are the remote closes remote.closed-by-dtls judges: the
// remote closed a DTLS session both sides had up, over a path that could
// carry the close_notify, which no packet fault dropped (with the SCTP
// ABORT, if SCTP was up), from a socket the application had not closed
// first (Settings.CloseMuxFirst), and DisableCloseByDTLS is off. end is the index
// of the survivor's harness close.
func dtlsSubjects(obs *facts.Observation) (out []remoteClose, ends []int) {
	if obs.Scenario.Settings.DisableCloseByDTLS {
		return nil, nil
	}
	for _, rc := range remoteCloses(obs) {
		s := rc.survivor
		if rc.snap.Before.DTLS != facts.StateConnected {
			continue // the remote had no DTLS session to close
		}
		if ice := rc.snap.Before.ICEConnection; ice != facts.StateConnected && ice != facts.StateCompleted {
			continue // no selected pair to carry the close_notify (e.g. mid ICE restart)
		}
		if ice := lastICEState(obs.Events[:rc.sp.call], s); ice != facts.StateConnected && ice != facts.StateCompleted {
			continue // the survivor's side of the path was down (e.g. its ICE restart under way)
		}
		if uplinkStalled(obs.Scenario, rc.remote, rc.snap.At) {
			continue // the remote's uplink was stalled: its close_notify may never have left
		}
		if obs.Scenario.Settings.CloseMuxFirst && rc.snap.By == facts.CloseByStep {
			continue // the application had closed the remote's socket (its UDPMux) before this close
		}
		if after := obs.Events[stepStart(obs.Events, rc.sp.call, rc.remote):]; closeNotifyDropped(after, rc.remote, s, rc.snap.Before.SCTP == facts.StateConnected) {
			// A packet fault dropped the close_notify, and there was no
			// SCTP ABORT to bring the news or it was dropped too.
			continue
		}
		// The survivor must have had its side of the session up: a
		// close_notify means nothing to a handshake still in flight.
		end := harnessCloseAt(obs.Events, s)
		if find(obs.Events, s, facts.KindDTLS, facts.StateConnected, 0, end) < 0 {
			continue
		}
		out, ends = append(out, rc), append(ends, end)
	}
	return out, ends
}

func checkRemoteClosedByDTLS(obs *facts.Observation) []Violation {
	var out []Violation
	rcs, ends := dtlsSubjects(obs)
	for k, rc := range rcs {
		s, end := rc.survivor, ends[k]
		fields := []stateField{{"DTLS", rc.final.DTLS, facts.KindDTLS, ObjectDTLS}, {"SCTP", rc.final.SCTP, facts.KindSCTP, ObjectSCTP}}
		for _, dc := range rc.final.DataChannels {
			fields = append(fields, stateField{dcName(dc), dc.State, facts.KindDC, ObjectDataChannel})
		}
		for _, f := range fields {
			if f.got == facts.StateClosed {
				continue
			}
			ev := []string{
				fmt.Sprintf("at close (step #%d %s) %s: %s", rc.snap.Step, rc.snap.Mode, rc.remote, formatState(rc.snap.Before)),
				obs.Events[rc.sp.call].String(),
				"final " + s + ": " + formatState(rc.final),
			}
			ev = append(ev, kindEvents(obs.Events[rc.sp.call:end], s, maxEvidence, facts.KindDTLS, facts.KindSCTP, facts.KindDC, facts.KindPC)...)
			out = append(out, Violation{
				Invariant: idRemoteClosedByDTLS,
				Object:    f.object,
				Peer:      s,
				Message:   fmt.Sprintf("%s is %q after %s closed a connected DTLS session, want \"closed\"", f.name, f.got, rc.remote),
				Evidence:  ev,
			})
		}
	}
	return out
}

// consentFailureSubject is a remote close remote.consent-failure judges,
// with the indices of the survivor's first "disconnected" after it (-1 if
// none) and of its harness close.
type consentFailureSubject struct {
	remoteClose
	disc, end int
}

// consentFailureSubjects are the remote closes remote.consent-failure
// judges: DisableCloseByDTLS on, ConsentWindow of settle, the survivor's
// ICE connected when the remote closed and not restarted afterwards.
func consentFailureSubjects(obs *facts.Observation) []consentFailureSubject {
	if !obs.Scenario.Settings.DisableCloseByDTLS {
		return nil
	}
	var out []consentFailureSubject
	evs := obs.Events
	for _, rc := range consentSubjects(obs) {
		s := rc.survivor
		if s == string(scenarios.PeerB) && obs.Scenario.Settings.ICELiteB {
			// An ICE-lite agent sends no connectivity checks: it has no
			// consent to lose, only an inbound timeout of its own.
			continue
		}
		// Consent freshness applies to a connection ICE had established.
		if st := lastState(evs, s, facts.KindICE, rc.sp.call); st != facts.StateConnected && st != facts.StateCompleted {
			continue
		}
		end := harnessCloseAt(evs, s)
		disc := find(evs, s, facts.KindICE, facts.StateDisconnected, rc.sp.call, end)
		if restart := find(evs, s, facts.KindICE, facts.StateChecking, rc.sp.call, end); restart >= 0 && (disc < 0 || restart < disc) {
			// The survivor restarted ICE after the close (an ICE-restart
			// offer it was still applying): checking can only fail, it
			// has no connection whose consent could expire.
			continue
		}
		out = append(out, consentFailureSubject{rc, disc, end})
	}
	return out
}

func checkRemoteConsentFailure(obs *facts.Observation) []Violation {
	var out []Violation
	evs := obs.Events
	for _, c := range consentFailureSubjects(obs) {
		s := c.survivor
		failed := -1
		if c.disc >= 0 {
			failed = find(evs, s, facts.KindICE, facts.StateFailed, c.disc, c.end)
		}
		if c.disc >= 0 && failed >= 0 {
			continue
		}
		msg := fmt.Sprintf("ICE never went \"disconnected\" in the %s after %s closed", c.window, c.remote)
		if c.disc >= 0 {
			msg = fmt.Sprintf("ICE went \"disconnected\" but never \"failed\" in the %s after %s closed", c.window, c.remote)
		}
		// Say so: an agent whose writes block cannot run its checks.
		until := c.window + evs[c.sp.call].At // Final (the window runs to it)
		if c.end < len(evs) {
			until = evs[c.end].At
		}
		msg += stallNote(obs.Scenario, s, evs[c.sp.call].At, until)
		ev := []string{evs[c.sp.call].String(), "final " + s + ": " + formatState(c.final)}
		ev = append(ev, kindEvents(evs[c.sp.call:c.end], s, maxEvidence, facts.KindICE, facts.KindPC)...)
		out = append(out, Violation{Invariant: idRemoteConsentFailure, Object: ObjectICEConnection, Peer: s, Message: msg, Evidence: ev})
	}
	return out
}

// abortSubject is a survivor whose SCTP close callback fired (at index
// closed) after its remote closed, with the index of its harness close.
type abortSubject struct {
	remoteClose
	closed, end int
}

// abortSubjects are the survivors remote.sctp-closed-after-abort judges.
func abortSubjects(obs *facts.Observation) []abortSubject {
	var out []abortSubject
	evs := obs.Events
	for _, rc := range remoteCloses(obs) {
		s := rc.survivor
		end := harnessCloseAt(evs, s)
		i := slices.IndexFunc(evs[rc.sp.call:end], func(e facts.Event) bool {
			return e.Peer == s && e.Kind == facts.KindSCTP && e.Op == facts.OpClose
		})
		if i >= 0 {
			out = append(out, abortSubject{rc, rc.sp.call + i, end})
		}
	}
	return out
}

func checkRemoteSCTPAfterAbort(obs *facts.Observation) []Violation {
	var out []Violation
	evs := obs.Events
	for _, a := range abortSubjects(obs) {
		if a.final.SCTP == facts.StateClosed {
			continue
		}
		s := a.survivor
		ev := []string{evs[a.sp.call].String(), evs[a.closed].String(), "final " + s + ": " + formatState(a.final)}
		ev = append(ev, kindEvents(evs[a.sp.call:a.end], s, maxEvidence, facts.KindSCTP, facts.KindDC, facts.KindDTLS)...)
		out = append(out, Violation{
			Invariant: idRemoteSCTPAfterAbort,
			Object:    ObjectSCTP,
			Peer:      s,
			Message:   fmt.Sprintf("SCTP is %q at the end though its close callback fired at t=%.6fs, after %s closed", a.final.SCTP, evs[a.closed].At.Seconds(), a.remote),
			Evidence:  ev,
		})
	}
	return out
}

// lastICEState is the last ICE connection state peer reported in evs.
func lastICEState(evs []facts.Event, peer string) string {
	for i := len(evs) - 1; i >= 0; i-- {
		if evs[i].Peer == peer && evs[i].Kind == facts.KindICE {
			return evs[i].State
		}
	}
	return ""
}

// dcName names a data channel in a violation: its label, and whether it
// was detached (Pion handles detached channels apart).
func dcName(dc facts.DCState) string {
	if dc.Detached {
		return fmt.Sprintf("data channel %q (detached)", dc.Label)
	}
	return fmt.Sprintf("data channel %q", dc.Label)
}

// dropped reports whether a packet fault dropped a packet of class sent
// from peer from to peer to among evs ("" for from or to: any).
func dropped(evs []facts.Event, class scenarios.PacketClass, from, to string) bool {
	for _, e := range evs {
		if f := e.Fault; f != nil && f.Action == scenarios.FaultDrop && f.Class == class &&
			(from == "" || f.From == from) && (to == "" || f.To == to) {
			return true
		}
	}
	return false
}

// lastSentAfterClose is when the last packets peer wrote before its close
// at virtual time at can leave it: at, or, when its uplink was stalled
// then, the stall's end (a socket that outlives the PeerConnection, an
// application's UDPMux, still holds them).
func lastSentAfterClose(sc scenarios.Scenario, peer string, at time.Duration) time.Duration {
	if !uplinkStalled(sc, peer, at) {
		return at
	}
	return time.Duration(backpressureOf(sc, peer).StallUntil)
}

// backpressureOf returns peer's backpressure, nil if none.
func backpressureOf(sc scenarios.Scenario, peer string) *scenarios.Backpressure {
	if peer == string(scenarios.PeerB) {
		return sc.Topology.BackpressureB
	}
	return sc.Topology.BackpressureA
}

// stallNote says, for a violation's message, that peer's uplink was
// stalled during [from, to] ("" when it was not): writes blocked then, and
// what waits for them waited too.
func stallNote(sc scenarios.Scenario, peer string, from, to time.Duration) string {
	bp := backpressureOf(sc, peer)
	if bp == nil || bp.StallUntil == 0 || time.Duration(bp.StallUntil) <= from || time.Duration(bp.StallAfter) > to {
		return ""
	}
	return fmt.Sprintf(" (its uplink stalled from %s to %s)", time.Duration(bp.StallAfter), time.Duration(bp.StallUntil))
}

// turnDropNote says, for a violation's message, that requests of peer to
// the TURN relay were dropped during [from, to] ("" when none was): a
// pion/turn client retransmits an unanswered request for up to 7.8 s, and
// what waits for the transaction waits as long.
func turnDropNote(obs *facts.Observation, peer string, from, to time.Duration) string {
	if !obs.Scenario.Topology.TURN {
		return ""
	}
	for _, e := range obs.Events {
		if f := e.Fault; f != nil && e.At >= from && e.At <= to && f.Action == scenarios.FaultDrop &&
			f.Class == scenarios.ClassSTUN && f.From == peer && f.To == facts.TURNRelayIP {
			return " (its TURN requests to the relay were being dropped during the close)"
		}
	}
	return ""
}

// uplinkStalled reports whether peer's uplink was stalled at virtual time
// at (Backpressure.StallAfter..StallUntil): what it wrote then waited in
// its own send queue, and a close in the meantime discards the writes
// still blocked, as a kernel fails them.
func uplinkStalled(sc scenarios.Scenario, peer string, at time.Duration) bool {
	bp := backpressureOf(sc, peer)
	return bp != nil && bp.StallUntil != 0 && time.Duration(bp.StallAfter) <= at && at < time.Duration(bp.StallUntil)
}

// closeNotifyDropped reports whether a packet fault may have dropped the
// remote's close_notify (and, if SCTP was up, its ABORT, which travels as
// DTLS application data) on its way to the survivor: directly, or relayed
// through the TURN server, where it travels as TURN channel data.
func closeNotifyDropped(evs []facts.Event, remote, survivor string, sctpUp bool) bool {
	if dropped(evs, scenarios.ClassTURNChannel, remote, "") || dropped(evs, scenarios.ClassTURNChannel, "", survivor) {
		return true
	}
	return dropped(evs, scenarios.ClassDTLSAlert, remote, survivor) &&
		(!sctpUp || dropped(evs, scenarios.ClassDTLSApplicationData, remote, survivor))
}

// stepStart returns the index of the event that started peer's step
// whose close call is at index call (concurrent closes of the same step
// may have called Close, and sent the close's packets, before it), or call
// itself. Another peer's step events (an async step finishing) are passed
// over.
func stepStart(evs []facts.Event, call int, peer string) int {
	for j := call - 1; j >= 0; j-- {
		if e := evs[j]; e.Step != nil && !e.Step.End && e.Peer == peer {
			return j
		}
	}
	return call
}
