package sim_test

import (
	"crypto/sha256"
	"fmt"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/internal/gstack"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

// burn does a fixed amount of CPU work (about 50 ms on one core, several
// times that under -race) without blocking, tracing or yielding.
func burn() {
	b := make([]byte, 1<<20)
	for range 60 {
		s := sha256.Sum256(b)
		b[0] = s[0]
	}
}

// TestFreezeDetection: what declares a run wedged, for a bubble that is
// frozen, one that hangs while its clock moves, and runs that are slow on
// purpose. Slow runs have a runnable goroutine (or one whose wait is about
// to end) whenever freeze detection looks, and must end ok. The watchdog is
// a minute, so a wedge declared by anything but the expected detector shows
// as the wrong By, not as a slow test.
func TestFreezeDetection(t *testing.T) {
	tests := []struct {
		name    string
		step    sim.StepFunc
		opts    []sim.Option
		outcome facts.Outcome
		by      facts.WedgeDetector
	}{
		{
			name:    "lock held across a fake timer freezes",
			step:    func(*sim.StepContext) error { (&stuck{}).holdAcrossSleep(); return nil },
			outcome: facts.OutcomeWedge, by: facts.WedgeByFreeze,
		},
		{
			name:    "same freeze with the watchdog alone",
			step:    func(*sim.StepContext) error { (&stuck{}).holdAcrossSleep(); return nil },
			opts:    []sim.Option{sim.WithFreezeDetection(false), sim.WithWatchdog(300 * time.Millisecond)},
			outcome: facts.OutcomeWedge, by: facts.WedgeByWatchdog,
		},
		{
			name: "call that never returns while a ticker runs",
			step: func(*sim.StepContext) error {
				go func() {
					for range time.Tick(100 * time.Millisecond) {
					}
				}()
				<-make(chan struct{})
				return nil
			},
			outcome: facts.OutcomeWedge, by: facts.WedgeByDeadline,
		},
		{
			name: "waiter woken from outside the bubble",
			step: func(*sim.StepContext) error {
				burn()                           // past the detector's first sample
				<-outsideAfter(time.Millisecond) // not durable: made outside; under the 3 ms confirmation
				return nil
			},
			outcome: facts.OutcomeOK,
		},
		{
			name:    "CPU-bound step",
			step:    func(*sim.StepContext) error { burn(); burn(); return nil },
			outcome: facts.OutcomeOK,
		},
		{
			name: "mutex waiter behind a busy holder",
			step: func(*sim.StepContext) error {
				var mu sync.Mutex
				locked := make(chan struct{})
				go func() {
					mu.Lock()
					close(locked)
					burn()
					burn()
					mu.Unlock()
				}()
				<-locked
				mu.Lock() // not durably blocked, for as long as the holder works
				mu.Unlock()
				return nil
			},
			outcome: facts.OutcomeOK,
		},
		{
			name: "a hundred thousand yields",
			step: func(*sim.StepContext) error {
				for range 100_000 {
					runtime.Gosched()
				}
				return nil
			},
			outcome: facts.OutcomeOK,
		},
		{
			name: "long sleep in virtual time",
			step: func(*sim.StepContext) error {
				time.Sleep(9 * time.Minute) // under StepDeadline
				return nil
			},
			outcome: facts.OutcomeOK,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := scenarios.Base(4)
			sc.Steps = []scenarios.Step{{Kind: scenarios.KindCustom, Name: "x"}}
			opts := append([]sim.Option{sim.WithWatchdog(time.Minute), sim.WithStep("x", tt.step)}, tt.opts...)
			obs := mustRun(t, sc, opts...)
			if obs.Outcome != tt.outcome {
				d := ""
				if obs.Wedge != nil {
					d = string(obs.Wedge.By) + ": " + obs.Wedge.Diagnosis
				}
				t.Fatalf("outcome %s, want %s (wall %s) %s", obs.Outcome, tt.outcome, obs.Wall, d)
			}
			if tt.by != "" && obs.Wedge.By != tt.by {
				t.Fatalf("wedge declared by %s, want %s: %s", obs.Wedge.By, tt.by, obs.Wedge.Diagnosis)
			}
			if obs.Outcome == facts.OutcomeWedge {
				// The abandoned bubble must not keep running in this
				// process (a ticker would spin its fake clock for ever).
				time.Sleep(20 * time.Millisecond)
				if err := stillFrozen(obs); err != nil {
					t.Fatal(err)
				}
			}
			t.Logf("%s in %s of wall time, %s virtual, %d freeze-detection dumps", obs.Outcome, obs.Wall, obs.Virtual, obs.FreezeDumps)
		})
	}
}

// stillFrozen checks that the goroutines of a wedged run's bubble are all
// blocked, in two dumps 10 ms apart that show the same states.
func stillFrozen(obs *facts.Observation) error {
	ids := map[int64]bool{}
	for _, g := range obs.Wedge.Goroutines {
		ids[g.ID] = true
	}
	dump := func() []gstack.Header {
		var hs []gstack.Header
		for _, g := range gstack.All() {
			if ids[g.ID] {
				hs = append(hs, gstack.Header{ID: g.ID, State: g.State, Durable: g.Durable, Bubble: g.Bubble})
			}
		}
		return hs
	}
	a := dump()
	time.Sleep(10 * time.Millisecond)
	b := dump()
	if frozen, _ := gstack.Frozen(a); !frozen || fmt.Sprint(a) != fmt.Sprint(b) {
		return fmt.Errorf("the wedged bubble is still running after Run returned: %v then %v", a, b)
	}
	return nil
}

// outsideAfter returns a channel made outside any bubble that a goroutine
// outside closes after d of real time. A bubble goroutine waiting on it is
// not durably blocked, and nothing inside the bubble can wake it.
var outsideAfter = func() func(time.Duration) <-chan struct{} {
	reqs := make(chan time.Duration)
	resp := make(chan chan struct{})
	go func() { // started at init, outside every bubble
		for d := range reqs {
			ch := make(chan struct{})
			go func() {
				time.Sleep(d)
				close(ch)
			}()
			resp <- ch
		}
	}()
	return func(d time.Duration) <-chan struct{} {
		reqs <- d
		return <-resp
	}
}()

// TestAbandonedBubbleRests: a run abandoned as wedged while its peers
// are busy leaves its bubble in the process. Run returns only once that
// bubble is at rest (frozen: it cannot run again, so it neither burns CPU
// nor draws from the next run's randomness), and the next run's offer
// (deterministic by construction) is the one it gives alone. Under -race,
// the abandoned goroutines' reads of crypto/rand's reader must also be
// ordered before the next run replaces it.
func TestAbandonedBubbleRests(t *testing.T) {
	next := scenarios.WithClose(scenarios.Base(11), scenarios.CloseAt{Phase: scenarios.PhaseDCOpen, Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 1, 10)
	want := mustRun(t, next).Offer
	if want == "" {
		t.Fatal("the reference run made no offer")
	}
	// Connected peers exchanging data, declared wedged by a 10 ms
	// watchdog long before the transfer ends.
	busy := scenarios.ConnectDataClose(3, 100000)
	for i := range 3 {
		before := bubblesIn(gstack.Dump(nil))
		abandoned := mustRun(t, busy, sim.WithWatchdog(10*time.Millisecond), sim.WithFreezeDetection(false))
		if abandoned.Outcome != facts.OutcomeWedge {
			t.Fatalf("run %d: outcome %s, want the run abandoned as a wedge", i, abandoned.Outcome)
		}
		dump := gstack.Dump(nil)
		for b := range bubblesIn(dump) {
			if before[b] {
				continue // another test's bubble, left as that test ended it
			}
			if frozen, _ := gstack.Frozen(gstack.HeadersIn(dump, b)); !frozen {
				t.Fatalf("run %d: abandoned bubble %d is not at rest after Run returned: %+v", i, b, gstack.HeadersIn(dump, b))
			}
		}
		if got := mustRun(t, next).Offer; got != want {
			t.Fatalf("run %d: the offer after an abandoned run differs from the run alone:\n%s\nwant\n%s", i, got, want)
		}
	}
}

// bubblesIn returns the synctest bubbles that have goroutines in dump.
func bubblesIn(dump []byte) map[int]bool {
	out := map[int]bool{}
	for _, g := range gstack.Parse(dump) {
		if g.Bubble != 0 {
			out[g.Bubble] = true
		}
	}
	return out
}
