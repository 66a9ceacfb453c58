package suite

import (
	"fmt"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
)

// TestShrinkWithinBudget: an automatic shrink stops running candidates
// once its budget is spent and keeps the smallest failing scenario found
// by then, saying so in its stats; without a budget it goes to the end.
func TestShrinkWithinBudget(t *testing.T) {
	tooLong := invariants.Invariant{ID: "test.too-long", Rule: "at most two steps", Ref: "suite's tests",
		Check: func(obs *facts.Observation) []invariants.Violation {
			if n := len(obs.Scenario.Steps); n > 2 {
				return []invariants.Violation{{Invariant: "test.too-long", Message: fmt.Sprintf("%d steps", n)}}
			}
			return nil
		}}
	c := Config{Invariants: []invariants.Invariant{tooLong}}
	sc := light(1)
	for _, tt := range []struct {
		name      string
		budget    time.Duration // 0: none
		wantSteps int
		wantOut   bool
	}{
		{name: "no budget", wantSteps: 3},
		{name: "spent at once", budget: 1, wantSteps: len(sc.Steps), wantOut: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			min, st := shrinkWithin(t, c, sc, "test.too-long", time.Duration(tt.budget))
			if len(min.Steps) != tt.wantSteps || st.OutOfBudget != tt.wantOut {
				t.Errorf("%d steps, out of budget %v (%s); want %d, %v", len(min.Steps), st.OutOfBudget, st, tt.wantSteps, tt.wantOut)
			}
		})
	}
}
