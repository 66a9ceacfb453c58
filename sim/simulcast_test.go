package sim_test

import (
	"slices"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestSimulcast: a simulcast video track (Step.Simulcast) reaches the
// other peer as three layers, one remote track per RID, each carrying
// RTP, and the close then ends every layer's reader.
func TestSimulcast(t *testing.T) {
	for _, simulcast := range []bool{false, true} {
		obs := runUnwedged(t, 5, func(seed uint64) scenarios.Scenario {
			sc := scenarios.WithClose(scenarios.Base(seed), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer, Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 1, 10)
			offer := slices.IndexFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindOffer })
			sc.Steps = slices.Insert(sc.Steps, offer, scenarios.Step{Kind: scenarios.KindAddTrack, Peer: scenarios.PeerA, Label: "video", Media: scenarios.MediaVideo, Simulcast: simulcast})
			closeAt := len(sc.Steps) - 1
			sc.Steps = slices.Insert(sc.Steps, closeAt,
				scenarios.Step{Kind: scenarios.KindWriteMedia, Peer: scenarios.PeerA, Label: "video", Count: 20, Size: 300, Duration: scenarios.Duration(30 * time.Millisecond)})
			if err := scenarios.Validate(&sc); err != nil {
				t.Fatal(err)
			}
			return sc
		})
		if obs.Outcome != facts.OutcomeOK {
			t.Fatalf("simulcast %v: outcome %s", simulcast, obs.Outcome)
		}
		var layers []string
		for _, tr := range obs.Final[1].Tracks {
			if !tr.Local && tr.Packets > 0 {
				layers = append(layers, tr.Label)
			}
		}
		want := []string{"video"}
		if simulcast {
			want = []string{"video/f", "video/h", "video/q"}
		}
		if !slices.Equal(layers, want) {
			t.Errorf("simulcast %v: B received RTP on %v, want %v", simulcast, layers, want)
		}
		ended := 0
		for _, e := range obs.Events {
			if e.Peer == "B" && e.Kind == facts.KindTrack && e.Op == facts.OpEnded {
				ended++
			}
		}
		if ended != len(want) {
			t.Errorf("simulcast %v: %d remote track reader(s) ended, want %d", simulcast, ended, len(want))
		}
	}
}
