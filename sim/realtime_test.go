package sim_test

import (
	"runtime"
	"slices"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// TestRealTimeAbandonTearsDown: a real-time run (the recheck of a wedge)
// that the watchdog gives up on leaves nothing running. Outside a bubble
// nothing else stops its goroutines: its ICE agents (the SFU clients'
// too) would go on sending keepalives on the real clock, drawing from the
// process's randomness while later runs reseed it, which the race detector
// reports. The scenario sleeps a minute of real time; the watchdog fires
// after a second, and the run must end as a wedge whose world is gone.
func TestRealTimeAbandonTearsDown(t *testing.T) {
	before := runtime.NumGoroutine()
	sc := scenarios.WithClose(scenarios.Base(7), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer, Closer: scenarios.PeerA, Mode: scenarios.ModeGraceful}, 2, 100)
	sc.Topology.SFUClients = 2
	closeAt := slices.IndexFunc(sc.Steps, func(s scenarios.Step) bool { return s.Kind == scenarios.KindClose })
	sc.Steps = slices.Insert(sc.Steps, closeAt, scenarios.Step{Kind: scenarios.KindSleep, Duration: scenarios.Duration(time.Minute)})
	obs := mustRun(t, sc, sim.WithRealTime(), sim.WithWatchdog(time.Second))
	if obs.Outcome != facts.OutcomeWedge || obs.Wedge.By != facts.WedgeByWatchdog {
		t.Fatalf("outcome %s, want a wedge declared by the watchdog", obs.Outcome)
	}
	if obs.Wall > 9*time.Second {
		t.Errorf("the abandoned run took %s to let go", obs.Wall)
	}
	for deadline := time.Now().Add(5 * time.Second); runtime.NumGoroutine() > before; time.Sleep(10 * time.Millisecond) {
		if time.Now().After(deadline) {
			buf := make([]byte, 1<<20)
			t.Fatalf("%d goroutines left of the abandoned run:\n%s", runtime.NumGoroutine()-before, buf[:runtime.Stack(buf, true)])
		}
	}
}
