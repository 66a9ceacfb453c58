package fuzz

import (
	"path/filepath"
	"slices"
	"testing"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/suite"
)

// TestFindingReproducers replays each current minimal reproducer of
// docs/findings/ once and checks that its finding shows, as the known issue
// of that ID: a reproducer that stops reproducing (a Pion upgrade that fixed
// the bug, or a change of the world) fails here instead of rotting.
//
// F1, F12, F15, F17, F18, F24, F26 and F29 live in one interleaving of Pion's goroutines,
// and the race detector changes Pion's interleavings: under -race they do
// not show (for F1, F12 and F15 whatever the close's yields, 0-24 tried),
// so a race build skips them and says so; plain go test ./fuzz checks all.
func TestFindingReproducers(t *testing.T) {
	tests := []struct {
		file         string
		id           string
		interleaving bool // shows only in the interleaving of a build without -race
	}{
		{"F1-min.json", "F1", true},
		{"F2-min.json", "F2", false},
		{"F3-min.json", "F3", false},
		{"F4-min.json", "F4", false},
		{"F6-min.json", "F6", false},
		{"F7-min.json", "F7", false},
		{"F12-min.json", "F12", true},
		{"F13-min.json", "F13", false},
		{"F15-min.json", "F15", true},
		{"F16-min.json", "F16", false},
		{"F17-min.json", "F17", true},
		{"F18-min.json", "F18", true},
		{"F19-min.json", "F19", false},
		{"F20-min.json", "F20", false},
		{"F21-min.json", "F21", false},
		{"F22-min.json", "F22", false},
		{"F23-min.json", "F23", false},
		{"F24-min.json", "F24", true},
		{"F25-min.json", "F25", false},
		{"F26-min.json", "F26", true},
		{"F27-min.json", "F27", false},
		{"F29-min.json", "F29", true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if tt.interleaving && raceBuild {
				t.Skipf("%s is an interleaving of the build without -race; run go test ./fuzz -run TestFindingReproducers", tt.id)
			}
			sc, err := suite.Load(filepath.Join("..", "docs", "findings", tt.file))
			if err != nil {
				t.Fatal(err)
			}
			obs, v := suite.Judge(t, config(), sc)
			if !slices.ContainsFunc(v.Known, func(k invariants.Labeled) bool { return k.Issue.ID == tt.id }) {
				t.Fatalf("%s no longer shows %s: %s\nrepro: go test ./fuzz -run '^TestReplay$' -v -count=1 -closesim.file=../docs/findings/%s",
					tt.file, tt.id, suite.VerdictKey(obs, v), tt.file)
			}
		})
	}
}
