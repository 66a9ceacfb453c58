package facts

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"strings"
	"time"

	"github.com/closesim/closesim/scenarios"
)

// Event is one entry of a Trace. Detail is for people; what a judge needs
// is in the typed fields (Kind, State, Op, Label, Close, Step, Fault), which
// sim fills as it records the event. No judge reads Detail.
type Event struct {
	// Seq is the 0-based position of the event in the trace.
	Seq int `json:"seq"`
	// At is the virtual time since the world started.
	At time.Duration `json:"at"`
	// Peer is "A", "B", or "" for the world itself (network, harness).
	Peer string `json:"peer,omitempty"`
	// Kind classifies the event (see the Kind constants).
	Kind Kind `json:"kind"`
	// Detail is the rest, as text, e.g. "connected" or "open \"dc\"".
	Detail string `json:"detail"`
	// State is the state a state-change callback reported (KindPC,
	// KindICE, KindGather, KindSignaling, KindDTLS): the State's String,
	// e.g. "connected".
	State string `json:"state,omitempty"`
	// Op is what a data channel, SCTP, candidate or track callback
	// reported (see the Op constants; for KindCandidate the candidate
	// type, "host", "srflx", "relay", or OpEndOfCandidates).
	Op Op `json:"op,omitempty"`
	// Label is the data channel's label (KindDC) or the track's id
	// (KindTrack).
	Label string `json:"label,omitempty"`
	// Close is set on a close call or return (the close kinds).
	Close *CloseFact `json:"close,omitempty"`
	// Step is set on KindStep events.
	Step *StepFact `json:"step_fact,omitempty"`
	// Fault is set on KindFault events.
	Fault *FaultFact `json:"fault,omitempty"`
	// Signal is set on KindSignal events that send or receive a message.
	Signal *SignalFact `json:"signal,omitempty"`
}

// SignalFact is a signaling message sent or received.
type SignalFact struct {
	// Recv is false when the message is sent, true when it arrives.
	Recv bool `json:"recv,omitempty"`
	// What is "offer", "answer" or "candidate".
	What string `json:"what"`
	// Seq numbers the messages of a run, in the order they were sent.
	Seq int `json:"seq"`
}

// Kind is the kind of an Event.
type Kind string

// Event kinds. Callback kinds (IsCallback) are recorded from a Pion
// callback of one peer: what the application can observe happening.
const (
	KindPC                Kind = "pc"                 // OnConnectionStateChange
	KindICE               Kind = "ice"                // OnICEConnectionStateChange
	KindGather            Kind = "gather"             // OnICEGatheringStateChange
	KindSignaling         Kind = "signaling"          // OnSignalingStateChange
	KindDTLS              Kind = "dtls"               // DTLSTransport.OnStateChange
	KindSCTP              Kind = "sctp"               // SCTPTransport.OnClose/OnError
	KindDC                Kind = "dc"                 // data channel callbacks and detached reads
	KindCandidate         Kind = "candidate"          // OnICECandidate
	KindNegotiationNeeded Kind = "negotiation-needed" // OnNegotiationNeeded
	KindTrack             Kind = "track"              // OnTrack, and media readers ending
	KindTransceiver       Kind = "transceiver"        // a transceiver's state read by the harness

	KindStep          Kind = "step"           // a scenario step starts or ends (Step)
	KindClose         Kind = "close"          // a close step's call or return (Close)
	KindCallbackClose Kind = "callback-close" // a close fired from inside a callback (Close; "from" marker without)
	KindExtraClose    Kind = "extra-close"    // one of K concurrent closes beyond the first (Close)
	KindHarnessClose  Kind = "harness-close"  // the harness closing what the scenario left open (Close)
	KindProbe         Kind = "probe"          // an API call made after close (see APIProbe)
	KindSignal        Kind = "signal"         // the signaling channel: send, recv, candidate errors
	KindSocket        Kind = "socket"         // a vnet socket bound or closed
	KindFault         Kind = "fault"          // a packet fault acted on a packet (Fault)
	KindLog           Kind = "log"            // a Pion log line (outside trace identity)
	KindCustom        Kind = "custom"         // a user's custom step
	KindHarness       Kind = "harness"        // the harness itself: settle, router stop, wedge
	KindTURN          Kind = "turn"           // the world's TURN relay: an allocation created (OpOpen), deleted by its client (OpClose), dropped by the relay's shutdown (OpEnded)
	KindSFU           Kind = "sfu"            // one of an SFU's other connections (Topology.SFUClients), under the client's name: states, its channel, its close
)

// IsCallback reports whether events of kind k come from a Pion callback.
func (k Kind) IsCallback() bool {
	switch k {
	case KindPC, KindICE, KindGather, KindSignaling, KindDTLS, KindSCTP, KindDC, KindCandidate, KindNegotiationNeeded:
		return true
	}
	return false
}

// IsCallback reports whether e is a callback Pion made: an event of a
// callback kind that is not the harness's own read of a detached channel
// (a read returning data or ending is the application's call, not Pion's).
func (e Event) IsCallback() bool {
	return e.Kind.IsCallback() && e.Op != OpRead && e.Op != OpDetachedDone
}

// IsClose reports whether k is one of the close kinds, whose call and
// return events carry a CloseFact.
func (k Kind) IsClose() bool {
	return k == KindClose || k == KindCallbackClose || k == KindExtraClose || k == KindHarnessClose
}

// Op is what a non-state callback reported.
type Op string

// Ops.
const (
	OpOpen            Op = "open"              // a data channel opened
	OpClose           Op = "close"             // a data channel's OnClose, or SCTPTransport.OnClose
	OpMessage         Op = "message"           // a data channel message (OnMessage)
	OpRead            Op = "read"              // a message the harness read from a detached channel
	OpError           Op = "error"             // an OnError
	OpRemote          Op = "remote"            // OnDataChannel (a channel the remote opened), OnTrack
	OpBufferedLow     Op = "buffered"          // OnBufferedAmountLow
	OpDetach          Op = "detach"            // a Detach failed
	OpDetachedDone    Op = "detached"          // a detached channel's reader ended
	OpEnded           Op = "ended"             // a remote track's RTP reader ended (the track ended)
	OpRTCPDone        Op = "rtcp-done"         // a local track's RTCP reader ended (its sender stopped)
	OpFirstPacket     Op = "first"             // a remote track's first RTP packet
	OpEndOfCandidates Op = "end-of-candidates" // OnICECandidate(nil)
	OpHost            Op = "host"              // a host candidate (KindCandidate; a browser run gathers only 127.0.0.1 host candidates)
	OpClosing         Op = "closing"           // a data channel's closing event (browsers; Pion has no such callback)
)

// CloseFact is a close call or its return.
type CloseFact struct {
	// Return is false on the call, true on the return.
	Return bool `json:"return,omitempty"`
	// Mode is the close: "close" (PeerConnection.Close) or "graceful"
	// (GracefulClose).
	Mode string `json:"mode"`
	// By says what started it.
	By CloseBy `json:"by"`
	// Callback names the callback a CloseByCallback close ran inside.
	Callback string `json:"callback,omitempty"`
	// Err is the error the close returned (on the return), "" for nil.
	Err string `json:"err,omitempty"`
}

// CloseBy says what started a close.
type CloseBy string

// What starts a close.
const (
	CloseByStep     CloseBy = "step"     // a close step of the scenario
	CloseByCallback CloseBy = "callback" // a close_on step, from inside a Pion callback
	CloseByExtra    CloseBy = "extra"    // one of a close step's concurrent extra Close calls
	CloseByHarness  CloseBy = "harness"  // the harness, closing what the scenario left open
)

// Kind is the trace kind of the call and return events of a close started
// by b.
func (b CloseBy) Kind() Kind {
	switch b {
	case CloseByCallback:
		return KindCallbackClose
	case CloseByExtra:
		return KindExtraClose
	case CloseByHarness:
		return KindHarnessClose
	}
	return KindClose
}

// StepFact is a step starting or ending.
type StepFact struct {
	// Index is the step's index in the scenario.
	Index int `json:"index"`
	// Kind is the step's kind.
	Kind scenarios.Kind `json:"kind"`
	// End is false when the step starts, true when it ends.
	End bool `json:"end,omitempty"`
	// Err is the error the step ended with ("" for none).
	Err string `json:"err,omitempty"`
}

// FaultFact is a packet fault acting on one packet.
type FaultFact struct {
	// Action is what the fault did: drop, delay or duplicate.
	Action scenarios.FaultAction `json:"action"`
	// Class is the packet's class (RFC 7983 demux), e.g. "dtls-alert".
	Class scenarios.PacketClass `json:"class"`
	// From and To are the peers the packet went between ("A", "B", or an
	// address for anything else).
	From string `json:"from"`
	To   string `json:"to"`
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
	return peer + " " + string(e.Kind) + " " + e.Detail
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
		if e.Kind == KindLog {
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

// TURNRelayIP is the address of the world's TURN relay (Topology.TURN),
// as the fault events of packets to and from it name it (FaultFact.From
// and To; the peers are "A" and "B").
const TURNRelayIP = "10.0.0.3"
