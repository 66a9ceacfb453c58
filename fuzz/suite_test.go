package fuzz

import (
	"flag"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/suite"
)

var flagPlant = flag.Bool("closesim.plant", false, "also judge the planted test-only invariant "+plantedID)

// config is the suite this package runs: both peers closesim's, the
// generated scenarios, closesim's invariants (and, with -closesim.plant,
// the planted one).
func config() suite.Config {
	var c suite.Config
	if *flagPlant {
		c.Invariants = []invariants.Invariant{planted}
	}
	return c
}

// TestSweep is the package's suite test: every mode of suite.Run, chosen by
// the -closesim.* flags (a 20-seed sweep by default), and the test closesim
// run drives.
//
//	go test ./fuzz -run '^TestSweep$' -v -closesim.seeds=200 -closesim.out=out/
func TestSweep(t *testing.T) { suite.Run(t, config()) }

// TestReplay replays one seed or scenario file and prints its scenario,
// trace and outcome; it runs only when the flags select a replay.
//
//	go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=42
func TestReplay(t *testing.T) {
	only(t, suite.ModeReplay, "set -closesim.seed=N or -closesim.file=PATH to replay")
}

// TestShrink shrinks a failing scenario and writes the minimal one; it runs
// only with -closesim.shrink.
//
//	go test ./fuzz -run '^TestShrink$' -v -closesim.shrink -closesim.seed=377 -closesim.out=min.json
//
// Without -closesim.shrink it replays, so that the repro line a shrink
// prints (which names this test) runs.
func TestShrink(t *testing.T) {
	mode := suite.ModeShrink
	if suite.Selected() == suite.ModeReplay {
		mode = suite.ModeReplay
	}
	only(t, mode, "set -closesim.shrink with -closesim.seed=N or -closesim.file=PATH")
}

// TestWorker is the worker mode of earlier closesim run versions; it runs
// only with -closesim.worker.
func TestWorker(t *testing.T) {
	only(t, suite.ModeWorker, "worker mode: run by closesim run (-closesim.worker)")
}

// only runs the suite when the flags select mode, and skips otherwise. It
// also skips when no -run pattern picked the tests: TestSweep then serves
// the mode already, and the replay would run twice.
func only(t *testing.T, mode suite.Mode, why string) {
	if suite.Selected() != mode {
		t.Skip(why)
	}
	if f := flag.Lookup("test.run"); f == nil || f.Value.String() == "" {
		t.Skip("TestSweep runs this mode when no -run pattern selects " + t.Name())
	}
	suite.Run(t, config())
}

// plantedID names a test-only invariant that fails when A is closed inside
// one virtual instant (an immediate close step) while its signaling state is
// have-local-offer and B has not applied the offer: a close point three
// steps deep (create the channel, offer, close) that no seed corpus entry
// reaches. It shows that fuzzing finds a failure, the saved input replays
// it and shrinking minimizes it.
const plantedID = "planted.immediate-close-after-local-offer"

var planted = invariants.Invariant{
	ID:   plantedID,
	Rule: "A is never closed within one virtual instant while it has a local offer that B has not applied (test-only).",
	Ref:  "closesim's own test of fuzzing, replay and shrinking",
	Check: func(obs *facts.Observation) []invariants.Violation {
		for _, c := range obs.Closes {
			steps := obs.Scenario.Steps[:c.Step]
			applied := slices.ContainsFunc(steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindApplyOffer })
			if c.Peer == "A" && c.Before.Signaling == "have-local-offer" && obs.Scenario.Steps[c.Step].Immediate && !applied {
				return []invariants.Violation{{Invariant: plantedID, Peer: "A", Message: "closed within an instant after its local offer"}}
			}
		}
		return nil
	},
}

// TestPlantedFailureIsFoundReplayedAndShrunk: random FuzzClose inputs reach
// the planted close point, the input saved in Go's corpus format replays
// it, and shrinking leaves at most three steps.
func TestPlantedFailureIsFoundReplayedAndShrunk(t *testing.T) {
	c := suite.Config{Invariants: []invariants.Invariant{planted}}
	plantedFails := func(sc scenarios.Scenario) bool {
		_, v := suite.Judge(t, c, sc)
		return slices.ContainsFunc(v.Fail, func(f invariants.Violation) bool { return f.Invariant == plantedID })
	}
	r := rand.New(rand.NewPCG(7, 7))
	var found []byte
	tries := 0
	for ; tries < 2000 && found == nil; tries++ {
		data := make([]byte, scenarios.FuzzHeaderSize+scenarios.FuzzStepSize*(1+r.IntN(12)))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		if plantedFails(scenarios.FromFuzz(data)) {
			found = data
		}
	}
	if found == nil {
		t.Fatalf("%d random inputs never reached the planted close point", tries)
	}
	name, content := corpusFile(found)
	path := filepath.Join(t.TempDir(), name)
	if err := os.WriteFile(path, content, 0o644); err != nil {
		t.Fatal(err)
	}
	sc, err := suite.Load(path)
	if err != nil {
		t.Fatal(err)
	}
	if !plantedFails(sc) {
		t.Fatalf("the saved input %s does not replay the planted failure", path)
	}
	min, st := suite.Shrink(t, c, sc, plantedID)
	if len(min.Steps) > 3 {
		t.Fatalf("shrunk to %d steps, want at most 3: %v", len(min.Steps), min.Steps)
	}
	if !plantedFails(min) {
		t.Fatalf("the shrunk scenario does not fail: %v", min.Steps)
	}
	t.Logf("found after %d random inputs; corpus id %s; %s: %v", tries, name, st, min.Steps)
}
