package invariants

import (
	"github.com/closesim/closesim/facts"
)

// Scopes: what each invariant needs a run to have given it before the run
// counts as judged (Invariant.Applies). Each reuses the selection its
// check iterates over, so a check and its scope cannot drift apart.

// leakChecked: the harness closed everything, settled and counted what was
// left (the run neither wedged, panicked nor failed to build its world).
func leakChecked(obs *facts.Observation) bool {
	return obs.Outcome == facts.OutcomeOK || obs.Outcome == facts.OutcomeLeak
}

// anyCloseTimed: some close returned and the run did not wedge.
func anyCloseTimed(obs *facts.Observation) bool {
	if obs.Outcome == facts.OutcomeWedge {
		return false
	}
	for _, c := range allCloses(obs) {
		if c.After != nil {
			return true
		}
	}
	return false
}

// closedWithFinal: the scenario closed a peer and the final states were
// taken.
func closedWithFinal(obs *facts.Observation) bool {
	for _, p := range peers {
		if _, ok := firstSnapshot(obs, p); ok {
			if _, ok := finalState(obs, p); ok {
				return true
			}
		}
	}
	return false
}

// closeCalled: some peer's first close was called; closeReturned: and it
// returned; gracefulReturned: and it was a GracefulClose.
func closeCalled(obs *facts.Observation) bool {
	return firstCloseWhere(obs, func(closeSpan) bool { return true })
}

func closeReturned(obs *facts.Observation) bool {
	return firstCloseWhere(obs, func(sp closeSpan) bool { return sp.ret >= 0 })
}

func gracefulReturned(obs *facts.Observation) bool {
	return firstCloseWhere(obs, func(sp closeSpan) bool { return sp.ret >= 0 && sp.graceful() })
}

func firstCloseWhere(obs *facts.Observation, keep func(closeSpan) bool) bool {
	for _, p := range peers {
		if sp, ok := firstClose(obs.Events, p); ok && keep(sp) {
			return true
		}
	}
	return false
}

// some turns a subject list into a scope: the run applies when it has one.
func some[T any](subjects func(*facts.Observation) []T) func(*facts.Observation) bool {
	return func(obs *facts.Observation) bool { return len(subjects(obs)) > 0 }
}

// hasProbe: a probe that keep selects was made.
func hasProbe(keep func(facts.APIProbe) bool) func(*facts.Observation) bool {
	return func(obs *facts.Observation) bool { return len(probesOf(obs, keep)) > 0 }
}
