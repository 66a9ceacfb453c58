package invariants

import (
	"fmt"
	"maps"
	"slices"
	"strings"

	"github.com/closesim/closesim/facts"
)

// IDs of the API-after-close and data-integrity invariants.
const (
	idAPIRejected       = "api.rejected-after-close"
	idAPIIdempotent     = "api.close-idempotent"
	idAPIStats          = "api.getstats-after-close"
	idAPISendFails      = "api.send-fails-after-close"
	idAPISendInvalid    = "api.send-invalid-state"
	idDataOrdered       = "data.reliable-ordered-prefix"
	idDataUnordered     = "data.reliable-unordered-subset"
	idDataPartial       = "data.partial-subset"
	idLeakTimers        = "leak.timers"
	idLeakTURN          = "leak.turn-allocations"
	refCloseMethodSteps = "W3C webrtc-pc: each of these methods first checks [[IsClosed]] and rejects (throws) with an InvalidStateError"
)

// rejectedAfterClose are the probed calls the W3C spec makes fail with
// InvalidStateError once [[IsClosed]] is true (facts.APIProbe.Call names).
var rejectedAfterClose = []string{
	"CreateOffer", "CreateAnswer", "SetLocalDescription", "SetRemoteDescription", "AddICECandidate",
	"CreateDataChannel", "AddTransceiverFromKind", "SetConfiguration", "AddTrack", "RemoveTrack",
}

func apiInvariants() []Invariant {
	return []Invariant{
		{
			ID:       idLeakTURN,
			Rule:     "No TURN allocation is left on the relay after the harness closed both peers and let 5 s of virtual time pass.",
			Ref:      "RFC 8656 §7 (a client deletes its allocation with a Refresh of lifetime 0) and " + refCloseTheConnection + " step 8 (destroy the ICE Agent, \"releasing any relevant resources (e.g. TURN permissions)\")",
			Profiles: both,
			Check:    checkLeakTURN,
			Needs:    []facts.Fact{facts.FactTURN},
			Applies:  func(obs *facts.Observation) bool { return obs.Scenario.Topology.TURN && leakChecked(obs) },
		},
		{
			ID:       idLeakTimers,
			Rule:     "Nothing happens in 10 idle virtual minutes after the harness closed both peers and counted leaks: no timer or ticker is still pending and acting.",
			Ref:      refGracefulCloseWaitsOn + "; " + refCloseTheConnection + " step 8 (destroy the ICE Agent)",
			Profiles: both,
			Check:    checkLeakTimers,
			Needs:    []facts.Fact{facts.FactTimers},
			Applies:  leakChecked,
		},
		{
			ID:       idAPIRejected,
			Rule:     "After a close, " + strings.Join(rejectedAfterClose, ", ") + " each fail with an InvalidStateError (rtcerr.InvalidStateError).",
			Ref:      refCloseMethodSteps + " (createOffer, createAnswer, setLocalDescription, setRemoteDescription, addIceCandidate, createDataChannel, addTransceiver, setConfiguration, addTrack, removeTrack)",
			Profiles: both,
			Check:    checkAPIRejected,
			Applies:  hasProbe(func(p facts.APIProbe) bool { return slices.Contains(rejectedAfterClose, p.Call) }),
			Subjects: probeSubjects(func(p facts.APIProbe) bool { return slices.Contains(rejectedAfterClose, p.Call) }),
		},
		{
			ID:       idAPIIdempotent,
			Rule:     "Close and GracefulClose called again after a close return no error.",
			Ref:      refCloseTheConnection + " step 1 (if [[IsClosed]] is true, abort these steps); Pion PeerConnection.Close doc",
			Profiles: both,
			Check:    checkAPIIdempotent,
			Applies:  hasProbe(isCloseAgain),
			Subjects: probeSubjects(isCloseAgain),
		},
		{
			ID:       idAPIStats,
			Rule:     "GetStats still works after a close (returns a report, does not panic).",
			Ref:      "W3C webrtc-pc getStats() has no [[IsClosed]] check; W3C webrtc-stats",
			Profiles: both,
			Check:    checkAPIStats,
			Applies:  hasProbe(func(p facts.APIProbe) bool { return p.Call == "GetStats" }),
			Subjects: probeSubjects(func(p facts.APIProbe) bool { return p.Call == "GetStats" }),
		},
		{
			ID:       idAPISendFails,
			Rule:     "DataChannel.Send on a channel of a closed peer returns an error.",
			Ref:      "W3C webrtc-pc RTCDataChannel.send() step 2 (readyState not \"open\": throw); RFC 8831 §6.7 (a closed stream carries no data)",
			Profiles: both,
			Check:    checkAPISendFails,
			Applies:  hasProbe(isSend),
			Subjects: probeSubjects(isSend),
		},
		{
			ID:       idAPISendInvalid,
			Rule:     "DataChannel.Send on a channel of a closed peer fails with an InvalidStateError.",
			Ref:      "W3C webrtc-pc RTCDataChannel.send() step 2 (\"throw an InvalidStateError\")",
			Profiles: w3cOnly,
			Check:    checkAPISendInvalid,
			Applies:  hasProbe(isSend),
			Subjects: probeSubjects(isSend),
		},
		{
			ID:       idDataOrdered,
			Rule:     "On a reliable ordered channel, the messages a peer received are a prefix of those the other peer sent, in order, without duplicates or corruption.",
			Ref:      "RFC 8831 §6.1 (reliable, ordered delivery) and §6.6; RFC 8832 (DCEP channel types)",
			Profiles: both,
			Check:    dataCheck(idDataOrdered, true, true),
			Needs:    []facts.Fact{facts.FactDelivery},
			Applies:  hasChannels(true, true),
		},
		{
			ID:       idDataUnordered,
			Rule:     "On a reliable unordered channel, the messages a peer received are a subset of those sent, without duplicates or corruption.",
			Ref:      "RFC 8831 §6.1 (unordered delivery) and §6.6",
			Profiles: both,
			Check:    dataCheck(idDataUnordered, true, false),
			Needs:    []facts.Fact{facts.FactDelivery},
			Applies:  hasChannels(true, false),
		},
		{
			ID:       idDataPartial,
			Rule:     "On a partially reliable channel, the messages a peer received are a subset of those sent, without corruption.",
			Ref:      "RFC 8831 §6.1 (partial reliability, RFC 3758)",
			Profiles: both,
			Check:    dataCheck(idDataPartial, false, false),
			Needs:    []facts.Fact{facts.FactDelivery},
			Applies:  hasChannels(false, false),
		},
	}
}

func probesOf(obs *facts.Observation, keep func(facts.APIProbe) bool) []facts.APIProbe {
	var out []facts.APIProbe
	for _, p := range obs.Probes {
		if keep(p) {
			out = append(out, p)
		}
	}
	return out
}

func probeEvidence(p facts.APIProbe) []string {
	ev := []string{fmt.Sprintf("%s %s -> err=%q type=%q", p.Peer, p.Call, p.Err, p.ErrType)}
	if p.Panic != "" {
		ev = append(ev, "panic: "+p.Panic)
	}
	return ev
}

func checkAPIRejected(obs *facts.Observation) []Violation {
	var vs []Violation
	for _, p := range probesOf(obs, func(p facts.APIProbe) bool { return slices.Contains(rejectedAfterClose, p.Call) }) {
		if p.ErrType != "InvalidStateError" || p.Panic != "" {
			got := "no error"
			switch {
			case p.Panic != "":
				got = "a panic"
			case p.Err != "":
				got = fmt.Sprintf("%s %q", p.ErrType, p.Err)
			}
			vs = append(vs, Violation{Invariant: idAPIRejected, Peer: p.Peer, Call: p.Call,
				Message: fmt.Sprintf("%s after close returned %s, want InvalidStateError", p.Call, got), Evidence: probeEvidence(p)})
		}
	}
	return vs
}

func checkAPIIdempotent(obs *facts.Observation) []Violation {
	var vs []Violation
	for _, p := range probesOf(obs, isCloseAgain) {
		if p.Err != "" || p.Panic != "" {
			vs = append(vs, Violation{Invariant: idAPIIdempotent, Peer: p.Peer, Call: p.Call,
				Message: fmt.Sprintf("%s returned %q%s, want nil", p.Call, p.Err, p.Panic), Evidence: probeEvidence(p)})
		}
	}
	return vs
}

func checkAPIStats(obs *facts.Observation) []Violation {
	var vs []Violation
	for _, p := range probesOf(obs, func(p facts.APIProbe) bool { return p.Call == "GetStats" }) {
		if p.Err != "" || p.Panic != "" {
			vs = append(vs, Violation{Invariant: idAPIStats, Peer: p.Peer, Call: p.Call,
				Message: fmt.Sprintf("GetStats after close: %s%s", p.Err, p.Panic), Evidence: probeEvidence(p)})
		}
	}
	return vs
}

func isCloseAgain(p facts.APIProbe) bool { return strings.HasSuffix(p.Call, "Close (again)") }

func isSend(p facts.APIProbe) bool { return strings.HasSuffix(p.Call, ").Send") }

func checkAPISendFails(obs *facts.Observation) []Violation {
	var vs []Violation
	for _, p := range probesOf(obs, isSend) {
		if p.Err == "" || p.Panic != "" {
			vs = append(vs, Violation{Invariant: idAPISendFails, Peer: p.Peer, Call: p.Call,
				Message: fmt.Sprintf("%s after close returned no error%s", p.Call, p.Panic), Evidence: probeEvidence(p)})
		}
	}
	return vs
}

func checkAPISendInvalid(obs *facts.Observation) []Violation {
	var vs []Violation
	for _, p := range probesOf(obs, isSend) {
		if p.ErrType != "InvalidStateError" {
			vs = append(vs, Violation{Invariant: idAPISendInvalid, Peer: p.Peer, Call: p.Call,
				Message: fmt.Sprintf("%s after close returned %s %q, want InvalidStateError", p.Call, p.ErrType, p.Err), Evidence: probeEvidence(p)})
		}
	}
	return vs
}

// channelPair is a data channel present on both peers: what receiver got
// of what sender sent.
type channelPair struct {
	label            string
	receiver, sender string
	rx, tx           facts.DCState
}

// channelPairs lists, for every label present on both peers with the
// given reliability (and order, for reliable channels), each direction.
func channelPairs(obs *facts.Observation, reliable, ordered bool) []channelPair {
	states := map[string]map[string]facts.DCState{} // peer -> label -> state
	for _, ps := range obs.Final {
		states[ps.Peer] = map[string]facts.DCState{}
		for _, dc := range ps.DataChannels {
			states[ps.Peer][dc.Label] = dc
		}
	}
	var out []channelPair
	for _, pair := range [][2]string{{"A", "B"}, {"B", "A"}} {
		recvPeer, sendPeer := pair[0], pair[1]
		for _, label := range slices.Sorted(maps.Keys(states[recvPeer])) {
			rx := states[recvPeer][label]
			tx, ok := states[sendPeer][label]
			if !ok || rx.Reliable != reliable || (reliable && rx.Ordered != ordered) {
				continue
			}
			out = append(out, channelPair{label, recvPeer, sendPeer, rx, tx})
		}
	}
	return out
}

// hasChannels: a channel of the given kind was on both peers.
func hasChannels(reliable, ordered bool) func(*facts.Observation) bool {
	return func(obs *facts.Observation) bool { return len(channelPairs(obs, reliable, ordered)) > 0 }
}

// dataCheck judges, for every channel label present on both peers with the
// given reliability and order, what each peer received against what the
// other sent (facts.DCState: Sent, ReceivedSeq, Corrupt).
func dataCheck(id string, reliable, ordered bool) func(*facts.Observation) []Violation {
	return func(obs *facts.Observation) []Violation {
		var vs []Violation
		for _, c := range channelPairs(obs, reliable, ordered) {
			if msg := judgeDelivery(c.rx, c.tx.Sent, ordered, reliable); msg != "" {
				vs = append(vs, Violation{Invariant: id, Peer: c.receiver,
					Message: fmt.Sprintf("channel %q: %s", c.label, msg),
					Evidence: []string{fmt.Sprintf("%s sent %d; %s received %d, indices %v, corrupt %d",
						c.sender, c.tx.Sent, c.receiver, c.rx.Received, c.rx.ReceivedSeq, c.rx.Corrupt)}})
			}
		}
		slices.SortFunc(vs, func(a, b Violation) int { return strings.Compare(a.Peer+a.Message, b.Peer+b.Message) })
		return vs
	}
}

// judgeDelivery returns what is wrong with the received messages, or "".
func judgeDelivery(rx facts.DCState, sent int, ordered, reliable bool) string {
	switch {
	case rx.Corrupt > 0:
		return fmt.Sprintf("%d corrupt message(s)", rx.Corrupt)
	case rx.Received > sent:
		return fmt.Sprintf("received %d messages but only %d were sent", rx.Received, sent)
	}
	seen := map[int]bool{}
	for k, idx := range rx.ReceivedSeq {
		switch {
		case idx < 0 || idx >= sent:
			return fmt.Sprintf("received message index %d, but only %d were sent", idx, sent)
		case seen[idx] && reliable:
			return fmt.Sprintf("message %d received twice", idx)
		case ordered && idx != k:
			return fmt.Sprintf("message %d arrived in position %d: not a prefix in order", idx, k)
		}
		seen[idx] = true
	}
	return ""
}

func checkLeakTURN(obs *facts.Observation) []Violation {
	if obs.TURNAllocations == 0 {
		return nil
	}
	var out []Violation
	left := 0
	for _, p := range peers {
		// The relay traces each allocation it creates and deletes, by the
		// client it belongs to; those created last are the ones left.
		var created []facts.Event
		deleted := 0
		for _, e := range obs.Events {
			switch {
			case e.Peer != p || e.Kind != facts.KindTURN:
			case e.Op == facts.OpOpen:
				created = append(created, e)
			case e.Op == facts.OpClose:
				deleted++
			}
		}
		sp, closed := firstClose(obs.Events, p)
		for _, a := range created[min(deleted, len(created)):] {
			left++
			ev := append([]string{a.String()}, kindEvents(obs.Events, p, maxEvidence, withCloses(facts.KindTURN)...)...)
			msg := fmt.Sprintf("TURN allocation %s of %s, made at t=%.6fs, is still held by the relay after %s closed: its deallocation never arrived", a.Label, p, a.At.Seconds(), p)
			if closed && sp.ret >= 0 && a.Seq > obs.Events[sp.ret].Seq {
				msg = fmt.Sprintf("TURN allocation %s of %s was made at t=%.6fs, after %s returned, and is never released", a.Label, p, a.At.Seconds(), describeClose(obs.Events, sp))
			}
			out = append(out, Violation{Invariant: idLeakTURN, Peer: p, Object: ObjectICEAgent, Message: msg, Evidence: ev})
		}
	}
	if left < obs.TURNAllocations {
		// Allocations the trace does not attribute to A or B (a NAT'd
		// source the relay saw by its public address).
		out = append(out, Violation{Invariant: idLeakTURN, Object: ObjectICEAgent,
			Message: fmt.Sprintf("%d TURN allocation(s) of a client behind a NAT still held by the relay after the harness closed everything: their deallocation never arrived", obs.TURNAllocations-left)})
	}
	return out
}

func checkLeakTimers(obs *facts.Observation) []Violation {
	if len(obs.LateEvents) == 0 {
		return nil
	}
	var ev []string
	for i, e := range obs.LateEvents {
		if i == maxEvidence {
			ev = append(ev, fmt.Sprintf("... and %d more", len(obs.LateEvents)-maxEvidence))
			break
		}
		ev = append(ev, e.String())
	}
	first := obs.LateEvents[0]
	return []Violation{{Invariant: idLeakTimers, Peer: first.Peer,
		Message:  fmt.Sprintf("%d event(s) after teardown, first %s %s %q: a timer was still pending", len(obs.LateEvents), first.Peer, first.Kind, first.Detail),
		Evidence: ev}}
}
