package scenarios

import (
	"fmt"
	"time"
)

// ShrinkStats says how much Shrink removed.
type ShrinkStats struct {
	// StepsBefore and StepsAfter count steps.
	StepsBefore, StepsAfter int
	// Tries counts calls of the predicate; Accepted those that still failed.
	Tries, Accepted int
	// Simplified lists the simplifications kept besides step removal.
	Simplified []string
	// OutOfBudget is set by callers that bound a shrink (the suite's
	// -closesim.shrinkbudget) when the bound cut it short: a smaller
	// failing scenario may exist.
	OutOfBudget bool
}

// String summarizes the stats in one line.
func (s ShrinkStats) String() string {
	out := ""
	if s.OutOfBudget {
		out = " (stopped at its budget)"
	}
	return fmt.Sprintf("steps %d -> %d, %d of %d candidates kept, simplified: %v%s",
		s.StepsBefore, s.StepsAfter, s.Accepted, s.Tries, s.Simplified, out)
}

// Shrink returns the smallest scenario it can find for which fails still
// returns true, starting from sc (for which it must return true). It removes
// steps by delta debugging (ddmin: chunks of halving size, then single
// steps), then drops faults and settings, then shrinks counts, sizes, sleeps
// and yields. Only valid scenarios are offered to fails. Shrink is pure: it
// runs nothing itself, so fails decides what "still fails" means (for
// closesim: the same invariant fails in a majority of replays).
func Shrink(sc Scenario, fails func(Scenario) bool) (Scenario, ShrinkStats) {
	st := ShrinkStats{StepsBefore: len(sc.Steps)}
	try := func(c Scenario) bool {
		if Validate(&c) != nil {
			return false
		}
		st.Tries++
		if fails(c) {
			st.Accepted++
			return true
		}
		return false
	}
	sc = shrinkSteps(sc, try)
	for _, s := range simplifications {
		c := cloneScenario(sc)
		if s.apply(&c) && try(c) {
			sc = c
			st.Simplified = append(st.Simplified, s.name)
		}
	}
	// Step removal again: a simpler scenario may need fewer steps.
	sc = shrinkSteps(sc, try)
	for i := range sc.Steps {
		for _, s := range stepSimplifications {
			kept := false
			for {
				c := cloneScenario(sc)
				if !s.apply(&c.Steps[i]) || !try(c) {
					break
				}
				sc, kept = c, true
			}
			if kept {
				st.Simplified = append(st.Simplified, fmt.Sprintf("steps[%d] %s", i, s.name))
			}
		}
	}
	st.StepsAfter = len(sc.Steps)
	return sc, st
}

// shrinkSteps is ddmin over the step list.
func shrinkSteps(sc Scenario, try func(Scenario) bool) Scenario {
	n := 2
	for len(sc.Steps) >= 1 {
		chunk := (len(sc.Steps) + n - 1) / n
		removed := false
		for start := 0; start < len(sc.Steps); start += chunk {
			end := min(start+chunk, len(sc.Steps))
			c := cloneScenario(sc)
			c.Steps = append(c.Steps[:start:start], sc.Steps[end:]...)
			if try(c) {
				sc, removed = c, true
				break
			}
		}
		switch {
		case removed:
			n = max(n-1, 2)
		case chunk == 1:
			return sc
		default:
			n = min(n*2, len(sc.Steps))
		}
	}
	return sc
}

func cloneScenario(sc Scenario) Scenario {
	sc.Steps = append([]Step(nil), sc.Steps...)
	sc.Faults.SignalDelays = append([]Duration(nil), sc.Faults.SignalDelays...)
	return sc
}

type simplification struct {
	name  string
	apply func(*Scenario) bool // reports whether it changed anything
}

var simplifications = []simplification{
	{"no signal delays", func(s *Scenario) bool {
		ch := len(s.Faults.SignalDelays) > 0
		s.Faults.SignalDelays = nil
		return ch
	}},
	{"no link delay", func(s *Scenario) bool { ch := s.Topology.LinkDelay != 0; s.Topology.LinkDelay = 0; return ch }},
	{"no trickle", func(s *Scenario) bool { ch := s.Settings.Trickle; s.Settings.Trickle = false; return ch }},
	{"close by DTLS", func(s *Scenario) bool {
		ch := s.Settings.DisableCloseByDTLS
		s.Settings.DisableCloseByDTLS = false
		return ch
	}},
}

type stepSimplification struct {
	name  string
	apply func(*Step) bool
}

var stepSimplifications = []stepSimplification{
	{"not immediate", func(s *Step) bool {
		ch := s.Immediate
		s.Immediate, s.Yields = false, 0
		return ch
	}},
	{"half the yields", func(s *Step) bool { ch := s.Yields > 0; s.Yields /= 2; return ch }},
	{"half the count", func(s *Step) bool { ch := s.Count > 1; s.Count /= 2; return ch }},
	{"half the size", func(s *Step) bool { ch := s.Size > 1; s.Size /= 2; return ch }},
	{"half the sleep", func(s *Step) bool {
		ch := s.Duration > Duration(time.Millisecond)
		s.Duration /= 2
		return ch
	}},
}
