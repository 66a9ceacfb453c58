package fuzz

import (
	"crypto/sha256"
	"fmt"
	"testing"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/suite"
)

// corpusFamilies is FuzzClose's seed corpus: one entry per close phase and closer,
// plus sub-instant closes, written as fuzz step choices.
func corpusFamilies() [][]byte {
	adv := scenarios.FuzzChoice{Op: "advance"}
	var out [][]byte
	for _, closer := range scenarios.Closers() {
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

// corpusFile renders data in Go's fuzz corpus format and returns it with
// the name go test gives it (the first 16 hex digits of its SHA-256).
func corpusFile(data []byte) (name string, content []byte) {
	content = fmt.Appendf(nil, "go test fuzz v1\n[]byte(%q)\n", data)
	return fmt.Sprintf("%x", sha256.Sum256(content))[:16], content
}

// FuzzClose decodes the input into a scenario (scenarios.FromFuzz: always
// valid; one step per 8 bytes after a 16-byte header, so the minimizer
// shrinks steps), runs it, judges it with the invariants of
// -closesim.profile and fails on any violation that is not a known issue of
// -closesim.known (suite.Fuzz). The failure prints the violations with their
// evidence, the scenario JSON and both repro lines.
func FuzzClose(f *testing.F) {
	// The seed corpus is in testdata/fuzz/FuzzClose (see TestCorpusFiles).
	f.Fuzz(suite.Fuzz(config()))
}
