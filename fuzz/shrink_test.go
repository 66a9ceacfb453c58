package fuzz

import (
	"crypto/sha256"
	"flag"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	flagShrink  = flag.Bool("closesim.shrink", false, "TestShrink: shrink the scenario of -closesim.seed or -closesim.file")
	flagOut     = flag.String("closesim.out", "shrunk.json", "TestShrink: where to write the minimal scenario")
	flagReplays = flag.Int("closesim.replays", 3, "TestShrink: replays per candidate; it still fails if the same failure shows in a majority")
	flagPlant   = flag.Bool("closesim.plant", false, "FuzzClose: also fail on the planted test-only invariant "+plantedID)
)

// plantedID names a test-only invariant that fails when A is closed inside
// one virtual instant (an immediate close step) while its signaling state is
// have-local-offer and B has not applied the offer: a close point three
// steps deep (create the channel, offer, close) that no seed corpus entry
// reaches. It shows that fuzzing finds a failure, the saved input replays
// it and shrinking minimizes it.
const plantedID = "planted.immediate-close-after-local-offer"

// failures lists the IDs of what is wrong with obs: the invariants that
// failed (known issues excepted) and, when plant is set, the planted one.
func failures(obs *sim.Observation, plant bool) ([]string, error) {
	v, err := judged(obs)
	if err != nil {
		return nil, err
	}
	var ids []string
	for _, f := range v.Fail {
		if !slices.Contains(ids, f.Invariant) {
			ids = append(ids, f.Invariant)
		}
	}
	if plant && plantedFails(obs) {
		ids = append(ids, plantedID)
	}
	return ids, nil
}

func plantedFails(obs *sim.Observation) bool {
	for _, c := range obs.Closes {
		steps := obs.Scenario.Steps[:c.Step]
		applied := slices.ContainsFunc(steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindApplyOffer })
		if c.Peer == "A" && c.Before.Signaling == "have-local-offer" && obs.Scenario.Steps[c.Step].Immediate && !applied {
			return true
		}
	}
	return false
}

// stillFails reports whether failure id shows in a majority of replays of sc.
func stillFails(t *testing.T, id string, plant bool, replays int) func(scenarios.Scenario) bool {
	return func(sc scenarios.Scenario) bool {
		hits := 0
		for range replays {
			obs, err := sim.Run(t, sc)
			if err != nil {
				return false
			}
			if ids, err := failures(obs, plant); err == nil && slices.Contains(ids, id) {
				hits++
			}
		}
		return 2*hits > replays
	}
}

// corpusFile renders data in Go's fuzz corpus format and returns it with
// the name go test gives it (the first 16 hex digits of its SHA-256).
func corpusFile(data []byte) (name string, content []byte) {
	content = fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
	return fmt.Sprintf("%x", sha256.Sum256(content))[:16], content
}

// TestShrink shrinks a failing scenario and writes the minimal one:
//
//	go test ./fuzz -run '^TestShrink$' -v -closesim.shrink -closesim.seed=377 -closesim.out=min.json
func TestShrink(t *testing.T) {
	if !*flagShrink {
		t.Skip("set -closesim.shrink with -closesim.seed=N or -closesim.file=PATH")
	}
	var sc scenarios.Scenario
	switch {
	case *flagFile != "":
		var err error
		if sc, err = loadScenario(*flagFile); err != nil {
			t.Fatal(err)
		}
	case *flagSeed >= 0:
		sc = scenarios.Generate(uint64(*flagSeed))
	default:
		t.Fatal("-closesim.shrink needs -closesim.seed=N or -closesim.file=PATH")
	}
	obs, err := sim.Run(t, sc)
	if err != nil {
		t.Fatal(err)
	}
	ids, err := failures(obs, *flagPlant)
	if err != nil {
		t.Fatal(err)
	}
	if len(ids) == 0 {
		t.Fatalf("the scenario does not fail (outcome %s): nothing to shrink", obs.Outcome)
	}
	min, st := scenarios.Shrink(sc, stillFails(t, ids[0], *flagPlant, *flagReplays))
	js, err := scenarios.Marshal(min)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(*flagOut, js, 0o644); err != nil {
		t.Fatalf("write shrunk scenario: %v", err)
	}
	fmt.Printf("shrunk %s: %s\nwrote %s\nrepro: %s\n", ids[0], st, *flagOut, replayFileCmd(*flagOut))
}

// TestPlantedFailureIsFoundReplayedAndShrunk: random FuzzClose inputs reach
// the planted close point, the input saved in Go's corpus format replays
// it, and shrinking leaves at most three steps.
func TestPlantedFailureIsFoundReplayedAndShrunk(t *testing.T) {
	r := rand.New(rand.NewPCG(7, 7))
	var found []byte
	tries := 0
	for ; tries < 2000 && found == nil; tries++ {
		data := make([]byte, scenarios.FuzzHeaderSize+scenarios.FuzzStepSize*(1+r.IntN(12)))
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		obs, err := sim.Run(t, scenarios.FromFuzz(data))
		if err != nil {
			t.Fatal(err)
		}
		if ids, err := failures(obs, true); err != nil {
			t.Fatal(err)
		} else if slices.Contains(ids, plantedID) {
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
	sc, err := loadScenario(path)
	if err != nil {
		t.Fatal(err)
	}
	if !stillFails(t, plantedID, true, 3)(sc) {
		t.Fatalf("the saved input %s does not replay the planted failure", path)
	}
	min, st := scenarios.Shrink(sc, stillFails(t, plantedID, true, 3))
	if len(min.Steps) > 3 {
		t.Fatalf("shrunk to %d steps, want at most 3: %v", len(min.Steps), min.Steps)
	}
	t.Logf("found after %d random inputs; corpus id %s; %s: %v", tries, name, st, min.Steps)
}
