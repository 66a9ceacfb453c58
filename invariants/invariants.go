package invariants

import (
	"fmt"
	"slices"

	"github.com/closesim/closesim/facts"
)

// Invariant is one rule an Observation is judged against.
type Invariant struct {
	// ID names the invariant, "<area>.<rule>", e.g. "leak.goroutines".
	// Known issues and reports refer to it.
	ID string
	// Rule is the rule in one line.
	Rule string
	// Ref is where the rule comes from: a spec section and step, an RFC
	// section, or "Pion behaviour" for a rule that only Pion's own
	// documentation or code makes.
	Ref string
	// Profiles lists the profiles that expect the rule to hold ("w3c",
	// "pion").
	Profiles []Profile
	// Check judges one Observation and returns every violation of the rule,
	// or none. It never panics and never modifies the Observation.
	Check func(*facts.Observation) []Violation
	// Applies reports whether a run gave the rule anything to judge (a
	// close of the kind it is about, a probe, a surviving peer...); nil
	// means every run does. A run it does not apply to is "n/a" for the
	// rule, never "pass". Check finds nothing where Applies is false; if it
	// does find a violation, the violation counts (a judge never hides
	// what it found).
	Applies func(*facts.Observation) bool
	// Needs lists the facts the rule reads (facts.Fact): a run whose world
	// did not record one of them (facts.Observation.Unobserved) gives the
	// rule nothing to judge, whatever Applies says, as an empty record of
	// what was never looked at proves nothing.
	Needs []facts.Fact
	// Subjects, when set, lists what the rule judged in a run it applies
	// to: the objects (Object constants) and the probed calls ("call:"
	// followed by facts.APIProbe.Call) it looked at. A conformance row
	// about one object or call counts a run for the rule only if the rule
	// judged that subject (Verdict.Subjects). Nil: not reported.
	Subjects func(*facts.Observation) []string
}

// CallSubject is the subject naming a probed call (see Subjects).
func CallSubject(call string) string { return "call:" + call }

// AppliesTo reports whether obs gave inv anything to judge: its world
// recorded every fact inv Needs, and Applies holds.
func (inv Invariant) AppliesTo(obs *facts.Observation) bool {
	for _, f := range inv.Needs {
		if !obs.Observes(f) {
			return false
		}
	}
	return inv.Applies == nil || inv.Applies(obs)
}

// In reports whether profile p expects the invariant to hold.
func (inv Invariant) In(p Profile) bool { return slices.Contains(inv.Profiles, p) }

// Violation is one breach of an invariant by one run.
type Violation struct {
	// Invariant is the ID of the violated invariant.
	Invariant string `json:"invariant"`
	// Peer is the peer at fault ("A" or "B"), or "" when the violation is
	// not one peer's (a wedge, a leaked goroutine).
	Peer string `json:"peer,omitempty"`
	// Message says what went wrong in one line.
	Message string `json:"message"`
	// Evidence backs the message: trace lines in facts.Event.String() form,
	// state tuples, stack excerpts.
	Evidence []string `json:"evidence,omitempty"`
	// Object is the object the violation is about (one of the Object
	// constants, e.g. ObjectDTLS), "" when it is about no single object.
	Object string `json:"object,omitempty"`
	// Call is the probed API call (facts.APIProbe.Call) the violation is
	// about, "" for none.
	Call string `json:"call,omitempty"`
}

// Objects a violation can be about (Violation.Object): what the close
// algorithm's steps each act on.
const (
	ObjectSignaling     = "signaling"
	ObjectConnection    = "connection"
	ObjectICEConnection = "ice-connection"
	ObjectICETransport  = "ice-transport"
	ObjectGathering     = "gathering"
	ObjectICEAgent      = "ice-agent" // candidates
	ObjectDTLS          = "dtls"
	ObjectSCTP          = "sctp"
	ObjectDataChannel   = "data-channel"
	ObjectTransceiver   = "transceiver"
	ObjectTrack         = "track"
	ObjectNegotiation   = "negotiation"
)

// objectOfKind is the object a callback kind reports on.
func objectOfKind(k facts.Kind) string {
	switch k {
	case facts.KindSignaling:
		return ObjectSignaling
	case facts.KindPC:
		return ObjectConnection
	case facts.KindICE:
		return ObjectICEConnection
	case facts.KindGather:
		return ObjectGathering
	case facts.KindCandidate:
		return ObjectICEAgent
	case facts.KindDTLS:
		return ObjectDTLS
	case facts.KindSCTP:
		return ObjectSCTP
	case facts.KindDC:
		return ObjectDataChannel
	case facts.KindTrack:
		return ObjectTrack
	case facts.KindNegotiationNeeded:
		return ObjectNegotiation
	}
	return ""
}

// String renders the violation as "[id] peer: message".
func (v Violation) String() string {
	if v.Peer == "" {
		return fmt.Sprintf("[%s] %s", v.Invariant, v.Message)
	}
	return fmt.Sprintf("[%s] %s: %s", v.Invariant, v.Peer, v.Message)
}

// Profile names a set of expectations: the invariants that should hold for
// a given reading of the specifications.
type Profile string

// Profiles.
const (
	// W3C expects the W3C webrtc-pc close algorithm to the letter: close()
	// fires no event and leaves every object "closed".
	W3C Profile = "w3c"
	// Pion expects what Pion documents and intends, which differs from W3C
	// where Pion knowingly departs from it (it dispatches state-change
	// callbacks, including those caused by Close, on goroutines of its own).
	// It is the default profile.
	Pion Profile = "pion"
)

// DefaultProfile is the profile used when none is given.
const DefaultProfile = Pion

// Profiles lists every profile, default first.
var allProfiles = []Profile{Pion, W3C}

// ParseProfile returns the profile named s; "" is DefaultProfile.
func ParseProfile(s string) (Profile, error) {
	if s == "" {
		return DefaultProfile, nil
	}
	for _, p := range allProfiles {
		if string(p) == s {
			return p, nil
		}
	}
	return "", fmt.Errorf("unknown profile %q (want %q or %q)", s, Pion, W3C)
}

// Of returns the invariants profile p expects, in All's order. The empty
// profile is DefaultProfile; an unknown profile gets every invariant, so
// that a misspelt profile never silently judges less (use ParseProfile to
// reject one).
func Of(p Profile) []Invariant {
	if p == "" {
		p = DefaultProfile
	}
	all := All()
	if !slices.Contains(allProfiles, p) {
		return all
	}
	out := all[:0:0]
	for _, inv := range all {
		if inv.In(p) {
			out = append(out, inv)
		}
	}
	return out
}

// Check runs every invariant profile p expects (see Of) on obs and returns
// the violations, in All's order. A nil Observation has no violations.
func Check(obs *facts.Observation, p Profile) []Violation {
	if obs == nil {
		return nil
	}
	var out []Violation
	for _, inv := range Of(p) {
		out = append(out, inv.Check(obs)...)
	}
	return out
}

// Lookup returns the invariant with the given ID.
func Lookup(id string) (Invariant, bool) {
	for _, inv := range All() {
		if inv.ID == id {
			return inv, true
		}
	}
	return Invariant{}, false
}
