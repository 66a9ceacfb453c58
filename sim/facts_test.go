package sim_test

import (
	"strings"
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestTypedFacts checks that sim records, with every event a judge reads,
// the typed facts the judges read instead of its wording: a change of
// wording must not switch a judge off. It sweeps generated scenarios until
// each fact has been seen at least once.
func TestTypedFacts(t *testing.T) {
	seen := map[string]int{}
	for seed := uint64(1); seed <= 40; seed++ {
		obs := mustRun(t, scenarios.Generate(seed))
		for _, e := range obs.Events {
			switch k := e.Kind; {
			case k == facts.KindPC || k == facts.KindICE || k == facts.KindGather || k == facts.KindSignaling || k == facts.KindDTLS:
				if e.State == "" || e.State != e.Detail {
					t.Errorf("seed %d: state event without its state: %+v", seed, e)
				}
				seen["state"]++
			case k == facts.KindDC || k == facts.KindSCTP || k == facts.KindCandidate || k == facts.KindTrack:
				if e.Op == "" {
					t.Errorf("seed %d: %s event without its op: %+v", seed, k, e)
				}
				if k == facts.KindDC && e.Label == "" {
					t.Errorf("seed %d: dc event without its label: %+v", seed, e)
				}
				seen[string(k)+" "+string(e.Op)]++
			case k.IsClose():
				if e.Close == nil {
					if k == facts.KindCallbackClose {
						continue // the "from <callback>" marker
					}
					t.Errorf("seed %d: close event without its fact: %+v", seed, e)
					continue
				}
				seen["close "+string(e.Close.By)]++
			case k == facts.KindStep:
				if e.Step == nil {
					t.Errorf("seed %d: step event without its fact: %+v", seed, e)
				}
				seen["step"]++
			case k == facts.KindSignal && (strings.HasPrefix(e.Detail, "send ") || strings.HasPrefix(e.Detail, "recv ")):
				if e.Signal == nil || e.Signal.What == "" || e.Signal.Recv != strings.HasPrefix(e.Detail, "recv ") {
					t.Errorf("seed %d: signal event without its fact: %+v", seed, e)
				}
				seen["signal"]++
			case k == facts.KindFault:
				if e.Fault == nil || e.Fault.Class == "" || e.Fault.Action == "" || e.Fault.From == "" || e.Fault.To == "" {
					t.Errorf("seed %d: fault event without its fact: %+v", seed, e)
				}
				seen["fault"]++
			}
		}
		if obs.Outcome == facts.OutcomeOK && obs.FinalAt == 0 {
			t.Errorf("seed %d: no FinalAt", seed)
		}
		for _, c := range obs.Closes {
			if c.By == "" {
				t.Errorf("seed %d: close snapshot without By: %+v", seed, c)
			}
			if c.After != nil {
				seen["after "+string(c.By)]++
			}
		}
	}
	for _, want := range []string{"signal", "state", "dc open", "dc close", "dc message", "sctp close", "close step", "close harness", "step", "after step"} {
		if seen[want] == 0 {
			t.Errorf("no %q event in 40 generated scenarios: %v", want, seen)
		}
	}
	t.Logf("facts seen: %v", seen)
}
