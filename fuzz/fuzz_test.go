package fuzz

import (
	"fmt"
	"strings"
	"testing"

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
// shrinks steps), runs it and fails on any outcome but ok that is not a
// known finding. The failure prints the scenario JSON and both repro lines.
func FuzzClose(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzClose (see TestCorpusFiles).
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := scenarios.FromFuzz(data)
		obs, err := sim.Run(t, sc)
		if err != nil {
			t.Fatalf("FromFuzz produced a scenario sim rejects: %v", err)
		}
		ids := failures(obs, *flagPlant)
		if len(ids) == 0 {
			return
		}
		js, _ := scenarios.Marshal(sc)
		id, _ := corpusFile(data)
		corpus := "testdata/fuzz/FuzzClose/" + id
		t.Fatalf("%v\n%s\nscenario:\n%s\n\nrepro: go test ./fuzz -run=FuzzClose/%s\nrepro: %s",
			ids, summary(obs), js, id, replayFileCmd(corpus))
	})
}

// judge returns a description of what is wrong with obs, or "" if nothing
// is (or only a known finding is).
func judge(obs *sim.Observation) string {
	if obs.Outcome == sim.OutcomeOK {
		return ""
	}
	s := summary(obs)
	for _, k := range knownFindings {
		if obs.Outcome == k.outcome && strings.Contains(s, k.signature) {
			return ""
		}
	}
	return fmt.Sprintf("outcome %s:\n%s", obs.Outcome, s)
}

// knownFindings are docs/findings.md entries that FuzzClose must not keep
// rediscovering.
var knownFindings = []struct {
	id        string
	outcome   sim.Outcome
	signature string
}{
	{"F1", sim.OutcomeWedge, "sctp.(*Association).Abort"},
}
