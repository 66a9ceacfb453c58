package invariants_test

import (
	"github.com/closesim/closesim/facts"
)

// withProbes is base with the API probes a well-behaved closed peer A gives.
func withProbes() *facts.Observation {
	o := base()
	for _, call := range []string{"CreateOffer", "CreateAnswer", "SetLocalDescription", "SetRemoteDescription",
		"AddICECandidate", "CreateDataChannel", "AddTransceiverFromKind", "SetConfiguration"} {
		o.Probes = append(o.Probes, facts.APIProbe{Peer: "A", Call: call, Err: "InvalidStateError: connection closed", ErrType: "InvalidStateError"})
	}
	o.Probes = append(o.Probes,
		facts.APIProbe{Peer: "A", Call: "WriteRTCP", Err: "the DTLS transport has not started yet", ErrType: "error"},
		facts.APIProbe{Peer: "A", Call: "GetStats"},
		facts.APIProbe{Peer: "A", Call: "Close (again)"},
		facts.APIProbe{Peer: "A", Call: "GracefulClose (again)"},
		facts.APIProbe{Peer: "A", Call: "DataChannel(dc).Send", Err: "InvalidStateError: data channel closed", ErrType: "InvalidStateError"})
	return o
}

func setProbe(o *facts.Observation, call string, p facts.APIProbe) *facts.Observation {
	for i := range o.Probes {
		if o.Probes[i].Call == call {
			p.Peer, p.Call = o.Probes[i].Peer, call
			o.Probes[i] = p
		}
	}
	return o
}

// withData is base where A sent 5 and B sent 3 messages on a channel of
// the given mode and each received everything, in order.
func withData(reliable, ordered bool) *facts.Observation {
	o := base()
	o.Final[0].DataChannels = []facts.DCState{{Label: "dc", State: "closed", Reliable: reliable, Ordered: ordered, Sent: 5, Received: 3, ReceivedSeq: []int{0, 1, 2}}}
	o.Final[1].DataChannels = []facts.DCState{{Label: "dc", State: "closed", Reliable: reliable, Ordered: ordered, Sent: 3, Received: 5, ReceivedSeq: []int{0, 1, 2, 3, 4}}}
	return o
}

func receivedByB(o *facts.Observation, seq []int, corrupt int) *facts.Observation {
	o.Final[1].DataChannels[0].ReceivedSeq = seq
	o.Final[1].DataChannels[0].Received = len(seq)
	o.Final[1].DataChannels[0].Corrupt = corrupt
	return o
}

// invCase is the element type of cases (declared there as an anonymous
// struct).
type invCase = struct {
	name      string
	invariant string
	obs       func() *facts.Observation
	fail      bool
	want      string
	evidence  string
	peer      string
}

func init() {
	cases = append(cases, []invCase{
		{name: "quiet after teardown", invariant: "leak.timers", obs: base},
		{name: "late event", invariant: "leak.timers", fail: true, peer: "B", want: "a timer was still pending", evidence: "ice checking",
			obs: func() *facts.Observation {
				o := base()
				o.LateEvents = []facts.Event{e(347, "B", "ice", "checking")}
				return o
			}},
		{name: "all rejected", invariant: "api.rejected-after-close", obs: withProbes},
		{name: "no probes (peer never closed)", invariant: "api.rejected-after-close", obs: base},
		{name: "accepted after close", invariant: "api.rejected-after-close", fail: true, peer: "A", want: "CreateDataChannel after close returned no error",
			evidence: "CreateDataChannel", obs: func() *facts.Observation {
				return setProbe(withProbes(), "CreateDataChannel", facts.APIProbe{})
			}},
		{name: "wrong error type", invariant: "api.rejected-after-close", fail: true, peer: "A", want: "error \"closed\"",
			obs: func() *facts.Observation {
				return setProbe(withProbes(), "SetConfiguration", facts.APIProbe{Err: "closed", ErrType: "error"})
			}},

		{name: "idempotent", invariant: "api.close-idempotent", obs: withProbes},
		{name: "second close errors", invariant: "api.close-idempotent", fail: true, peer: "A", want: "GracefulClose (again) returned",
			obs: func() *facts.Observation {
				return setProbe(withProbes(), "GracefulClose (again)", facts.APIProbe{Err: "already closed", ErrType: "error"})
			}},

		{name: "stats work", invariant: "api.getstats-after-close", obs: withProbes},
		{name: "stats panic", invariant: "api.getstats-after-close", fail: true, peer: "A", want: "nil map",
			obs: func() *facts.Observation {
				return setProbe(withProbes(), "GetStats", facts.APIProbe{Panic: "assignment to entry in nil map"})
			}},

		{name: "send fails", invariant: "api.send-fails-after-close", obs: withProbes},
		{name: "send succeeds", invariant: "api.send-fails-after-close", fail: true, peer: "A", want: "returned no error",
			obs: func() *facts.Observation {
				return setProbe(withProbes(), "DataChannel(dc).Send", facts.APIProbe{})
			}},

		{name: "invalid state", invariant: "api.send-invalid-state", obs: withProbes},
		{name: "plain error", invariant: "api.send-invalid-state", fail: true, peer: "A", want: "closed pipe",
			obs: func() *facts.Observation {
				return setProbe(withProbes(), "DataChannel(dc).Send", facts.APIProbe{Err: "io: read/write on closed pipe", ErrType: "error"})
			}},

		{name: "prefix in order", invariant: "data.reliable-ordered-prefix", obs: func() *facts.Observation { return withData(true, true) }},
		{name: "shorter prefix", invariant: "data.reliable-ordered-prefix", obs: func() *facts.Observation { return receivedByB(withData(true, true), []int{0, 1}, 0) }},
		{name: "reordered", invariant: "data.reliable-ordered-prefix", fail: true, peer: "B", want: "not a prefix in order",
			evidence: "indices [0 2 1]", obs: func() *facts.Observation { return receivedByB(withData(true, true), []int{0, 2, 1}, 0) }},
		{name: "gap", invariant: "data.reliable-ordered-prefix", fail: true, peer: "B", want: "message 2 arrived in position 1",
			obs: func() *facts.Observation { return receivedByB(withData(true, true), []int{0, 2}, 0) }},
		{name: "corrupt", invariant: "data.reliable-ordered-prefix", fail: true, peer: "B", want: "1 corrupt",
			obs: func() *facts.Observation { return receivedByB(withData(true, true), []int{0, 1}, 1) }},

		{name: "subset", invariant: "data.reliable-unordered-subset", obs: func() *facts.Observation { return receivedByB(withData(true, false), []int{3, 0, 1}, 0) }},
		{name: "duplicate", invariant: "data.reliable-unordered-subset", fail: true, peer: "B", want: "message 3 received twice",
			obs: func() *facts.Observation { return receivedByB(withData(true, false), []int{3, 0, 3}, 0) }},

		{name: "lossy subset", invariant: "data.partial-subset", obs: func() *facts.Observation { return receivedByB(withData(false, false), []int{4, 1}, 0) }},
		{name: "never sent", invariant: "data.partial-subset", fail: true, peer: "B", want: "index 7, but only 5 were sent",
			obs: func() *facts.Observation { return receivedByB(withData(false, false), []int{7}, 0) }},
	}...)
}

func init() {
	cases = append(cases, invCase{name: "remote closed mid ICE restart (no path for close_notify)", invariant: "remote.closed-by-dtls",
		obs: func() *facts.Observation {
			o := base()
			o.Closes[0].Before.ICEConnection = "checking"
			o.Final[1].DTLS = "connected"
			return o
		}})
}
