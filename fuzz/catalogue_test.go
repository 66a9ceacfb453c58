package fuzz

import (
	"testing"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
	"github.com/closesim/closesim/suite"
)

// TestCatalogue runs every named scenario as a regression test: it must
// end without a failing invariant; violations that match a known issue
// (a recorded finding with its evidence in docs/findings.md) are logged.
func TestCatalogue(t *testing.T) {
	c := config()
	c.Options = append(c.Options, sim.WithWatchdog(2*sim.DefaultWatchdog))
	for _, sc := range scenarios.Catalogue() {
		t.Run(sc.Name, func(t *testing.T) { suite.Check(t, c, sc) })
	}
}
