package sim_test

import (
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestStuckAsyncStepIsNamed: when an async step never returns (seed 3981
// of the generator before issue #14, frozen in testdata: a data channel's
// GracefulClose waiting for a read loop that never ends, F10), the wedge's
// Stuck names the step goroutine's calls, Pion's included, not only the
// harness's wait for its async steps; so F10's known issue ("stuck":
// (*DataChannel).GracefulClose) can match.
func TestStuckAsyncStepIsNamed(t *testing.T) {
	data, err := os.ReadFile("testdata/f10-async-graceful-close.json")
	if err != nil {
		t.Fatal(err)
	}
	sc, err := scenarios.Unmarshal(data)
	if err != nil {
		t.Fatal(err)
	}
	obs := mustRun(t, sc)
	if obs.Outcome != facts.OutcomeWedge || obs.Wedge == nil {
		t.Fatalf("outcome %s, want the wedge this scenario reaches (replays 20/20 without -race)", obs.Outcome)
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
