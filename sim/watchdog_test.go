package sim_test

import (
	"testing"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// TestWatchdogWaitsForProgress: the watchdog declares a run wedged when
// its trace has not grown for a whole period, or when it has run twice
// the period in all; a run that is slow but keeps recording (an SFU's
// handshakes under -race on a loaded machine) and ends within that is
// not a wedge. The custom step waits for ticks of a goroutine outside the
// bubble (so the fake clock does not move, as in a slow run) and logs
// each; freeze detection is off, so only the watchdog decides.
func TestWatchdogWaitsForProgress(t *testing.T) {
	const period = 300 * time.Millisecond
	for _, tt := range []struct {
		name    string
		ticks   int // ticks the step waits for (-1: forever)
		every   time.Duration
		want    facts.Outcome
		minWall time.Duration
	}{
		{name: "slow but progressing, done in 1.5 periods", ticks: 18, every: 25 * time.Millisecond, want: facts.OutcomeOK},
		{name: "silent", ticks: 1, every: time.Hour, want: facts.OutcomeWedge, minWall: period},
		{name: "progressing forever", ticks: -1, every: 25 * time.Millisecond, want: facts.OutcomeWedge, minWall: 2 * period},
	} {
		t.Run(tt.name, func(t *testing.T) {
			tick, stop := make(chan struct{}), make(chan struct{})
			defer close(stop)
			go func() {
				for {
					select {
					case <-stop:
						return
					case <-time.After(tt.every):
					}
					select {
					case tick <- struct{}{}:
					case <-stop:
						return
					}
				}
			}()
			sc := scenarios.Base(4)
			sc.Steps = []scenarios.Step{{Kind: scenarios.KindCustom, Name: "slow"}}
			obs := mustRun(t, sc, sim.WithWatchdog(period), sim.WithFreezeDetection(false), sim.WithStep("slow", func(c *sim.StepContext) error {
				for i := 0; tt.ticks < 0 || i < tt.ticks; i++ {
					<-tick
					c.Logf("tick %d", i)
				}
				return nil
			}))
			if obs.Outcome != tt.want {
				t.Fatalf("outcome %s after %s, want %s", obs.Outcome, obs.Wall, tt.want)
			}
			if tt.want == facts.OutcomeWedge && (obs.Wedge.By != facts.WedgeByWatchdog || obs.Wall < tt.minWall) {
				t.Errorf("wedge by %s after %s, want the watchdog's, after at least %s", obs.Wedge.By, obs.Wall, tt.minWall)
			}
		})
	}
}
