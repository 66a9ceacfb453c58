package invariants_test

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

var (
	flagSweep = flag.Int("invariants.sweep", 0, "TestSweepJudged: number of generated scenarios to run and judge (0 skips the test)")
	flagStart = flag.Uint64("invariants.start", 0, "TestSweepJudged: first seed")
	flagKnown = flag.String("invariants.known", "../known-issues.json", "TestSweepJudged: known-issues file (\"\" for none)")
	flagDump  = flag.String("invariants.dump", "", "TestSweepJudged: directory to write each failing run's Observation to, as <seed>.json")
	flagShow  = flag.Int("invariants.show", 5, "TestSweepJudged: failing seeds to list per invariant")
)

// TestSweepJudged runs -invariants.sweep generated scenarios, judges every
// run against every invariant, and prints per invariant how many runs held
// and how many did not, with the first failing seeds and the first message.
// Violations are findings to triage, not test failures; bad input or a
// harness error fails the test.
func TestSweepJudged(t *testing.T) {
	if *flagSweep <= 0 {
		t.Skip("set -invariants.sweep=N to run and judge N generated scenarios")
	}
	var known []invariants.KnownIssue
	if *flagKnown != "" {
		var err error
		if known, err = invariants.LoadKnown(*flagKnown); err != nil {
			t.Fatal(err) // a missing file is an error, not "no known issues"
		}
	}
	if *flagDump != "" {
		if err := os.MkdirAll(*flagDump, 0o755); err != nil {
			t.Fatal(err)
		}
	}
	all := invariants.All()
	type tally struct {
		pass, fail int
		seeds      []uint64
		first      string
		kinds      map[string]int // normalized message -> violations
		kindSeed   map[string]uint64
	}
	tallies := map[string]*tally{}
	for _, inv := range all {
		tallies[inv.ID] = &tally{kinds: map[string]int{}, kindSeed: map[string]uint64{}}
	}
	outcomes := map[facts.Outcome]int{}
	verdicts := map[invariants.Profile][3]int{} // runs ok, runs with known, runs with fail
	start := time.Now()
	for i := range *flagSweep {
		seed := *flagStart + uint64(i)
		obs, err := sim.Run(t, scenarios.Generate(seed))
		if err != nil {
			t.Fatalf("seed %d: %v", seed, err)
		}
		if obs.Outcome == facts.OutcomeError {
			t.Errorf("seed %d: harness error: %s", seed, obs.Error)
			continue
		}
		outcomes[obs.Outcome]++
		failed := false
		for _, inv := range all {
			vs := inv.Check(obs)
			tl := tallies[inv.ID]
			if len(vs) == 0 {
				tl.pass++
				continue
			}
			failed = true
			tl.fail++
			if len(tl.seeds) < *flagShow {
				tl.seeds = append(tl.seeds, seed)
			}
			if tl.first == "" {
				tl.first = fmt.Sprintf("seed %d: %s", seed, vs[0])
			}
			for _, v := range vs {
				k := normalize(v)
				if tl.kinds[k] == 0 {
					tl.kindSeed[k] = seed
				}
				tl.kinds[k]++
			}
		}
		for _, p := range invariants.Profiles() {
			v := invariants.Judge(obs, p, known)
			c := verdicts[p]
			switch {
			case len(v.Fail) > 0:
				c[2]++
			case len(v.Known) > 0:
				c[1]++
			default:
				c[0]++
			}
			verdicts[p] = c
		}
		if failed && *flagDump != "" {
			js, err := json.MarshalIndent(obs, "", "  ")
			if err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(filepath.Join(*flagDump, fmt.Sprintf("%d.json", seed)), js, 0o644); err != nil {
				t.Fatal(err)
			}
		}
	}

	var b strings.Builder
	fmt.Fprintf(&b, "judged sweep: seeds %d..%d (%d runs) in %s, %d known issues loaded\n",
		*flagStart, *flagStart+uint64(*flagSweep)-1, *flagSweep, time.Since(start).Round(time.Millisecond), len(known))
	fmt.Fprintf(&b, "outcomes:")
	for _, o := range []facts.Outcome{facts.OutcomeOK, facts.OutcomeLeak, facts.OutcomeDeadlock, facts.OutcomeWedge, facts.OutcomePanic} {
		fmt.Fprintf(&b, " %s=%d", o, outcomes[o])
	}
	fmt.Fprintf(&b, "\n\n%-32s %-9s %6s %6s  %s\n", "invariant", "profiles", "pass", "fail", "first failing seeds")
	for _, inv := range all {
		tl := tallies[inv.ID]
		ps := make([]string, len(inv.Profiles))
		for i, p := range inv.Profiles {
			ps[i] = string(p)
		}
		seeds := make([]string, len(tl.seeds))
		for i, s := range tl.seeds {
			seeds[i] = fmt.Sprint(s)
		}
		fmt.Fprintf(&b, "%-32s %-9s %6d %6d  %s\n", inv.ID, strings.Join(ps, ","), tl.pass, tl.fail, strings.Join(seeds, " "))
	}
	fmt.Fprintf(&b, "\nverdicts (runs): ")
	for _, p := range invariants.Profiles() {
		c := verdicts[p]
		fmt.Fprintf(&b, "%s: pass=%d known=%d fail=%d   ", p, c[0], c[1], c[2])
	}
	fmt.Fprintf(&b, "\n\nviolations per failing invariant (numbers elided; count, first seed):\n")
	for _, inv := range all {
		tl := tallies[inv.ID]
		if tl.fail == 0 {
			continue
		}
		fmt.Fprintf(&b, "%s (first: %s)\n", inv.ID, tl.first)
		keys := make([]string, 0, len(tl.kinds))
		for k := range tl.kinds {
			keys = append(keys, k)
		}
		sort.Slice(keys, func(i, j int) bool {
			if tl.kinds[keys[i]] != tl.kinds[keys[j]] {
				return tl.kinds[keys[i]] > tl.kinds[keys[j]]
			}
			return keys[i] < keys[j]
		})
		for _, k := range keys {
			fmt.Fprintf(&b, "  %5d  %s  (seed %d)\n", tl.kinds[k], k, tl.kindSeed[k])
		}
	}
	fmt.Fprintf(&b, "\nreplay: go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.seed=N\n")
	fmt.Print(b.String())
}

var numbers = regexp.MustCompile(`[0-9]+(\.[0-9]+)?(ms|s|µs|ns)?`)

// normalize turns a violation into a class: peer and message with every
// number, time and duration elided.
func normalize(v invariants.Violation) string {
	return numbers.ReplaceAllString(v.String(), "N")
}
