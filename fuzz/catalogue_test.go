package fuzz

import (
	"strings"
	"testing"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// TestCatalogue runs every named scenario as a regression test: it must
// end without a failing invariant; violations that match a known issue
// (a recorded finding with its evidence in docs/findings.md) are logged.
func TestCatalogue(t *testing.T) {
	for _, sc := range scenarios.Catalogue() {
		t.Run(sc.Name, func(t *testing.T) {
			obs, err := sim.Run(t, sc, sim.WithWatchdog(2*sim.DefaultWatchdog))
			if err != nil {
				t.Fatal(err)
			}
			v, err := judged(obs)
			if err != nil {
				t.Fatal(err)
			}
			for _, k := range v.Known {
				t.Logf("known %s: %s", k.Issue.ID, k.Violation)
			}
			if len(v.Fail) > 0 {
				js, _ := scenarios.Marshal(sc)
				var b strings.Builder
				for _, f := range v.Fail {
					b.WriteString(f.String() + "\n")
					for _, e := range f.Evidence {
						b.WriteString("    " + e + "\n")
					}
				}
				t.Errorf("outcome %s\n%s\nscenario:\n%s\nrepro: go test ./fuzz -run 'TestCatalogue/%s$' -v -count=1",
					obs.Outcome, b.String(), js, sc.Name)
			}
		})
	}
}
