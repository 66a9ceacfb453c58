package sim_test

import (
	"testing"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// TestSFU: A serves two more clients (Topology.SFUClients), on ports of
// their own or on its one UDPMux. The clients are up before the steps;
// A's close of its connection with B leaves theirs up and carrying
// messages, unless the close closes them all (SFUCloseAll): then each of
// A's closes leaves its connection closed and each client notices.
func TestSFU(t *testing.T) {
	for _, tt := range []struct {
		name          string
		mux, closeAll bool
	}{
		{name: "ports, one closes"},
		{name: "ports, all close", closeAll: true},
		{name: "mux, one closes", mux: true},
		{name: "mux, all close", mux: true, closeAll: true},
	} {
		t.Run(tt.name, func(t *testing.T) {
			obs := runUnwedged(t, 7, func(seed uint64) scenarios.Scenario {
				sc := scenarios.WithClose(scenarios.Base(seed), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer, Closer: scenarios.PeerA, Mode: scenarios.ModeGraceful}, 2, 100)
				sc.Topology.SFUClients, sc.Topology.SFUCloseAll, sc.Settings.UDPMux = 2, tt.closeAll, tt.mux
				// Without a close_notify, B does not close its side while
				// A's SCTP ABORT is handled: under -race that reaches
				// Pion's F1 in nearly every seed (CI: ten in a row).
				sc.Settings.DisableCloseByDTLS = true
				return sc
			})
			if obs.Outcome != facts.OutcomeOK {
				t.Fatalf("outcome %s", obs.Outcome)
			}
			if len(obs.SFU) != 2 {
				t.Fatalf("%d SFU connections recorded, want 2", len(obs.SFU))
			}
			for _, c := range obs.SFU {
				if !c.Up {
					t.Errorf("%s: not up before the steps", c.Client)
				}
				if tt.closeAll {
					if c.Close == nil || c.Close.After == nil || c.Close.After.Connection != facts.StateClosed || c.Close.Err != "" {
						t.Errorf("%s: A's close %+v, want it closed without error", c.Client, c.Close)
					}
					if c.Remote.Connection == facts.StateConnected || c.ProbeDelivered {
						t.Errorf("%s: client %q, probe delivered %v after A closed all", c.Client, c.Remote.Connection, c.ProbeDelivered)
					}
					continue
				}
				if c.Close != nil || c.A.Connection != facts.StateConnected || !c.ProbeDelivered {
					t.Errorf("%s: close %v, A's side %q, probe delivered %v; want it untouched by the close of B's", c.Client, c.Close, c.A.Connection, c.ProbeDelivered)
				}
			}
			if len(obs.Leaks) > 0 || len(obs.OpenSockets) > 0 {
				t.Errorf("%d goroutine(s) and %d socket(s) left", len(obs.Leaks), len(obs.OpenSockets))
			}
		})
	}
}
