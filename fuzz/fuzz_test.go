package fuzz

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// corpusFamilies is FuzzClose's seed corpus: one entry per close phase and closer,
// plus sub-instant closes, written as fuzz step choices.
func corpusFamilies() [][]byte {
	adv := scenarios.FuzzChoice{Op: "advance"}
	var out [][]byte
	for _, closer := range scenarios.Closers {
		for negotiated := 0; negotiated <= 6; negotiated++ { // 0: before the channel, 5+: after negotiation
			choices := make([]scenarios.FuzzChoice, 0, 10)
			for range negotiated {
				choices = append(choices, adv)
			}
			if negotiated >= 5 {
				choices = append(choices, scenarios.FuzzChoice{Op: "await", Peer: scenarios.PeerA},
					scenarios.FuzzChoice{Op: "send", Peer: scenarios.PeerA}, scenarios.FuzzChoice{Op: "send", Peer: scenarios.PeerB})
			}
			choices = append(choices, scenarios.FuzzChoice{Op: "close", Peer: closer, Immediate: negotiated%2 == 1})
			out = append(out, scenarios.EncodeFuzz(choices))
		}
	}
	return out
}

// FuzzClose decodes the input into a scenario (scenarios.FromFuzz: always
// valid; one step per 8 bytes after a 16-byte header, so the minimizer
// shrinks steps), runs it, judges it with the invariants of
// -closesim.profile and fails on any violation that is not a known issue of
// -closesim.known. The failure prints the violations with their evidence,
// the scenario JSON and both repro lines.
func FuzzClose(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzClose (see TestCorpusFiles).
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := scenarios.FromFuzz(data)
		obs, err := sim.Run(t, sc)
		if err != nil {
			t.Fatalf("FromFuzz produced a scenario sim rejects: %v", err)
		}
		ids, err := failures(obs, *flagPlant)
		if err != nil {
			t.Fatal(err)
		}
		if len(ids) == 0 {
			return
		}
		js, _ := scenarios.Marshal(sc)
		id, _ := corpusFile(data)
		corpus := "testdata/fuzz/FuzzClose/" + id
		t.Fatalf("%v\n%s\n%s\nscenario:\n%s\n\nrepro: go test ./fuzz -run=FuzzClose/%s\nrepro: %s",
			ids, verdictText(obs), summary(obs), js, id, replayFileCmd(corpus))
	})
}

var (
	flagProfile = flag.String("closesim.profile", "pion", "invariant profile: pion or w3c")
	flagKnown   = flag.String("closesim.known", "auto", "known-issues JSON file (\"\" for none; auto: known-issues.json at the module root)")
)

func judgeConfig() (invariants.Profile, []invariants.KnownIssue, error) {
	profile, err := invariants.ParseProfile(*flagProfile)
	if err != nil {
		return "", nil, err
	}
	path := *flagKnown
	if path == "auto" {
		path = moduleFile("known-issues.json")
	}
	var known []invariants.KnownIssue
	if path != "" {
		if known, err = invariants.LoadKnown(path); err != nil {
			return "", nil, err
		}
	}
	return profile, known, nil
}

// moduleFile returns name in the nearest directory at or above the working
// directory that holds a go.mod, or "" if that directory has no such file
// (the test binary may run in its package directory or, driven by the
// closesim CLI, wherever the CLI runs).
func moduleFile(name string) string {
	dir, err := os.Getwd()
	if err != nil {
		return ""
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			p := filepath.Join(dir, name)
			if _, err := os.Stat(p); err == nil {
				return p
			}
			return ""
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return ""
		}
		dir = parent
	}
}

// judged runs the invariants of the -closesim.profile profile over obs,
// with the known issues of -closesim.known.
func judged(obs *sim.Observation) (invariants.Verdict, error) {
	profile, known, err := judgeConfig()
	if err != nil {
		return invariants.Verdict{}, err
	}
	return invariants.Judge(obs, profile, known), nil
}

// verdictText lists an observation's failing and known violations with
// their evidence.
func verdictText(obs *sim.Observation) string {
	v, err := judged(obs)
	if err != nil {
		return err.Error()
	}
	var b strings.Builder
	for _, f := range v.Fail {
		fmt.Fprintf(&b, "FAIL %s\n", f)
		for _, e := range f.Evidence {
			fmt.Fprintf(&b, "    %s\n", e)
		}
	}
	for _, k := range v.Known {
		fmt.Fprintf(&b, "known (%s) %s\n", k.Issue.ID, k.Violation)
	}
	return b.String()
}
