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
		racy         bool // the bug is a data race too: the race detector fails the test
		// resumes: a wedge whose abandoned bubble can run again after its
		// test's cleanup restored crypto/rand's global source
		// (cryptotest.SetGlobalRandom); the race detector then reports that
		// read of the harness's, in a later test (seen once in five CI runs:
		// the TURN client's Refresh under the harness's GracefulClose).
		resumes bool
	}{
		{file: "F1-min.json", id: "F1", interleaving: true},
		{file: "F2-min.json", id: "F2"},
		{file: "F3-min.json", id: "F3"},
		{file: "F4-min.json", id: "F4"},
		{file: "F6-min.json", id: "F6"},
		{file: "F7-min.json", id: "F7"},
		{file: "F12-min.json", id: "F12", interleaving: true},
		{file: "F13-min.json", id: "F13"},
		{file: "F15-min.json", id: "F15", interleaving: true},
		{file: "F16-min.json", id: "F16"},
		{file: "F17-min.json", id: "F17", interleaving: true},
		{file: "F18-min.json", id: "F18", interleaving: true},
		{file: "F19-min.json", id: "F19"},
		{file: "F20-min.json", id: "F20"},
		{file: "F21-min.json", id: "F21"},
		{file: "F22-min.json", id: "F22"},
		{file: "F23-min.json", id: "F23", resumes: true},
		{file: "F24-min.json", id: "F24", interleaving: true},
		{file: "F25-min.json", id: "F25"},
		{file: "F26-min.json", id: "F26", interleaving: true},
		{file: "F27-min.json", id: "F27"},
		{file: "F29-min.json", id: "F29", interleaving: true},
		{file: "F30-min.json", id: "F30", racy: true},
	}
	for _, tt := range tests {
		t.Run(tt.file, func(t *testing.T) {
			if tt.interleaving && raceBuild {
				t.Skipf("%s is an interleaving of the build without -race; run go test ./fuzz -run TestFindingReproducers", tt.id)
			}
			if tt.resumes && raceBuild {
				t.Skipf("%s's abandoned bubble can resume after the test's cleanup, which the race detector reports against the harness; run go test ./fuzz -run TestFindingReproducers", tt.id)
			}
			if tt.racy && raceBuild {
				t.Skipf("%s is a data race in Pion as well, which the race detector reports as a test failure; run go test ./fuzz -run TestFindingReproducers", tt.id)
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
