package sim_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestStuckAsyncStepIsNamed: when an async step never returns (seed 3981
// of the generator: a data channel's GracefulClose waiting for a read loop
// that never ends, F10), the wedge's Stuck names the step goroutine's
// calls, Pion's included, not only the harness's wait for its async steps;
// so F10's known issue ("stuck": (*DataChannel).GracefulClose) can match.
func TestStuckAsyncStepIsNamed(t *testing.T) {
	obs := mustRun(t, scenarios.Generate(3981))
	if obs.Outcome != facts.OutcomeWedge || obs.Wedge == nil {
		t.Fatalf("outcome %s, want the wedge seed 3981 reaches (replays 20/20 without -race)", obs.Outcome)
	}
	has := func(sub string) bool {
		return slices.ContainsFunc(obs.Wedge.Stuck, func(f string) bool { return strings.Contains(f, sub) })
	}
	if !has("(*DataChannel).GracefulClose") || !has("(*runner).runSteps") {
		t.Errorf("stuck %v, want the async step's DataChannel.GracefulClose and the harness's runSteps", obs.Wedge.Stuck)
	}
	if !strings.Contains(obs.Wedge.Diagnosis, "a step's goroutine") {
		t.Errorf("diagnosis does not name the step's goroutine:\n%s", obs.Wedge.Diagnosis)
	}
}
