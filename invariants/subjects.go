package invariants

import (
	"slices"

	"github.com/closesim/closesim/facts"
)

// Subject functions (Invariant.Subjects): what each rule judged in a run,
// from the same selections its check iterates over.

// sortedSubjects dedupes and sorts subjects.
func sortedSubjects(in []string) []string {
	slices.Sort(in)
	return slices.Compact(in)
}

// stateSubjectsAtReturn are the objects of the closes' state tuples at return
// that were read (close.states-at-return).
func stateSubjectsAtReturn(obs *facts.Observation) []string {
	var out []string
	for _, c := range atReturnSubjects(obs) {
		for _, f := range returnFields(obs, c) {
			if facts.Known(f.got) {
				out = append(out, f.object)
			}
		}
	}
	return sortedSubjects(out)
}

// finalStateSubjects are the objects local.closed-states judged in the
// final states of the peers the scenario closed.
func finalStateSubjects(obs *facts.Observation) []string {
	var out []string
	for _, p := range peers {
		if _, ok := firstSnapshot(obs, p); !ok {
			continue
		}
		final, ok := finalState(obs, p)
		if !ok {
			continue
		}
		callAt := len(obs.Events)
		if sp, ok := firstScenarioClose(obs.Events, p); ok {
			callAt = sp.call
		}
		for _, f := range closedFields(final, answerApplied(obs.Events, p, callAt)) {
			out = append(out, f.object)
		}
	}
	return sortedSubjects(out)
}

// eventSubjects are the objects whose callbacks the events.* rules watch
// for a peer with a close: the connection's own (signaling, connection,
// ICE connection, gathering, candidates, DTLS), SCTP once an answer was
// applied, data channels and tracks when the peer had any.
func eventSubjects(obs *facts.Observation) []string {
	var out []string
	for _, p := range peers {
		if _, ok := firstClose(obs.Events, p); !ok {
			continue
		}
		out = append(out, ObjectSignaling, ObjectConnection, ObjectICEConnection, ObjectGathering, ObjectICEAgent, ObjectDTLS)
		if answerApplied(obs.Events, p, len(obs.Events)) {
			out = append(out, ObjectSCTP)
		}
		for _, e := range obs.Events {
			if e.Peer == p && (e.Kind == facts.KindDC || e.Kind == facts.KindTrack) {
				out = append(out, objectOfKind(e.Kind))
			}
		}
	}
	return sortedSubjects(out)
}

// remoteDTLSSubjects are the survivor objects remote.closed-by-dtls judged.
func remoteDTLSSubjects(obs *facts.Observation) []string {
	var out []string
	rcs, _ := dtlsSubjects(obs)
	for _, rc := range rcs {
		out = append(out, ObjectDTLS, ObjectSCTP)
		if len(rc.final.DataChannels) > 0 {
			out = append(out, ObjectDataChannel)
		}
	}
	return sortedSubjects(out)
}

// objects returns a Subjects function that reports objs whenever the rule
// applies.
func objects(objs ...string) func(*facts.Observation) []string {
	return func(*facts.Observation) []string { return objs }
}

// probeSubjects returns a Subjects function that reports the probed calls
// keep selects.
func probeSubjects(keep func(facts.APIProbe) bool) func(*facts.Observation) []string {
	return func(obs *facts.Observation) []string {
		var out []string
		for _, p := range probesOf(obs, keep) {
			out = append(out, CallSubject(p.Call))
		}
		return sortedSubjects(out)
	}
}
