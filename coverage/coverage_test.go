package coverage

import (
	"slices"
	"testing"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
)

func TestPoints(t *testing.T) {
	st := facts.PeerState{Signaling: "stable", ICEConnection: "connected", ICEGathering: "complete", DTLS: "connected",
		SCTP: "connected", DataChannels: []facts.DCState{{Label: "dc", State: "open"}}}
	obs := &facts.Observation{
		Scenario: scenarios.Scenario{Steps: []scenarios.Step{
			{Kind: scenarios.KindSend}, {Kind: scenarios.KindClose, Immediate: true, Yields: 12}, {Kind: scenarios.KindClose},
		}},
		Closes: []facts.CloseSnapshot{
			{Step: 1, Before: st},
			{Step: 2, Before: facts.PeerState{Signaling: "closed", ICEConnection: "closed", ICEGathering: "complete", DTLS: "closed", SCTP: "closed"}},
			{Step: 0, Callback: "track", Before: facts.PeerState{Signaling: "stable", ICEConnection: "connected", ICEGathering: "?", DTLS: "?", SCTP: "?"}},
		},
	}
	want := []string{
		"sig=stable ice=connected gather=complete dtls=connected sctp=connected dc=open op=during send",
		"sig=closed ice=closed gather=complete dtls=closed sctp=closed dc=none op=after close",
		"sig=stable ice=connected gather=? dtls=? sctp=? dc=none op=callback track",
		"yields K=9-64", "yields quiet", "yields quiet",
	}
	if got := Keys(obs); !slices.Equal(got, want) {
		t.Errorf("Keys =\n%q\nwant\n%q", got, want)
	}
}

func TestMeasure(t *testing.T) {
	for _, tc := range []struct {
		name            string
		reachable, hit  []string
		hitN, total     int
		missing, beyond []string
		percent         float64
	}{
		{"empty space", nil, []string{"a"}, 0, 0, nil, []string{"a"}, 0},
		{"all hit, K keys ignored", []string{"a", "b"}, []string{"b", "a", "yields K=0"}, 2, 2, nil, nil, 100},
		{"some missed, some beyond", []string{"a", "b", "c", "d"}, []string{"a", "x", "c"}, 2, 4, []string{"b", "d"}, []string{"x"}, 50},
	} {
		t.Run(tc.name, func(t *testing.T) {
			m := Measure(tc.reachable, tc.hit)
			if m.Hit != tc.hitN || m.Total != tc.total || !slices.Equal(m.Missing, tc.missing) || !slices.Equal(m.New, tc.beyond) || m.Percent() != tc.percent {
				t.Errorf("Measure = %+v (%.1f%%)", m, m.Percent())
			}
		})
	}
}

func TestParseReachable(t *testing.T) {
	got := ParseReachable("# comment\n\nb\twitness-1\na\n  a\twitness-2\n")
	if want := []string{"a", "b"}; !slices.Equal(got, want) {
		t.Errorf("ParseReachable = %q, want %q", got, want)
	}
}
