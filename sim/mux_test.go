package sim_test

import (
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestCloseMuxFirst: with Settings.CloseMuxFirst the application closes
// the closer's UDPMux before its PeerConnection, so nothing the close
// sends leaves: the survivor's DTLS session is not closed by a
// close_notify (it learns of the close from ICE consent, or not before
// its own close), while without the setting it is. Both runs end with
// every state closed and nothing running.
func TestCloseMuxFirst(t *testing.T) {
	for _, first := range []bool{false, true} {
		obs := runUnwedged(t, 7, func(seed uint64) scenarios.Scenario {
			sc := scenarios.WithClose(scenarios.Base(seed), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer, Closer: scenarios.PeerA, Mode: scenarios.ModeGraceful}, 2, 100)
			sc.Settings.UDPMux, sc.Settings.CloseMuxFirst = true, first
			return sc
		})
		if obs.Outcome != facts.OutcomeOK {
			t.Fatalf("close mux first %v: outcome %s", first, obs.Outcome)
		}
		dtlsClosed := false
		for _, e := range obs.Events {
			if e.Close != nil && e.Peer == string(scenarios.PeerB) && e.Close.By == facts.CloseByHarness {
				break // B's own close
			}
			if e.Peer == string(scenarios.PeerB) && e.Kind == facts.KindDTLS && e.State == facts.StateClosed {
				dtlsClosed = true
			}
		}
		if dtlsClosed == first {
			t.Errorf("close mux first %v: B's DTLS closed by A's close: %v, want %v", first, dtlsClosed, !first)
		}
		for _, c := range append(append([]facts.CloseSnapshot{}, obs.Closes...), obs.HarnessCloses...) {
			if c.After == nil || c.After.Connection != facts.StateClosed || c.After.DTLS != facts.StateClosed {
				t.Errorf("close mux first %v: %s's close left %+v", first, c.Peer, c.After)
			}
		}
		if len(obs.Leaks) > 0 {
			t.Errorf("close mux first %v: %d goroutine(s) leaked, first %s", first, len(obs.Leaks), obs.Leaks[0].Top)
		}
	}
}
