package echo

import (
	"errors"
	"flag"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/invariants"
	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
	"github.com/closesim/closesim/suite"
)

var flagBroken = flag.Bool("echo.broken", false, "TestBrokenCloseSweep: sweep the broken fixture too (its sweep fails by design)")

// forgetfulPing is a fixture: Server.ping as it is often first written. It
// keeps pinging through send errors (a transient error should not stop the
// pings) and nothing tells it that the client went away, so once the
// connection is gone its goroutine and ticker live on forever: one leaked
// goroutine per data channel that ever opened.
func forgetfulPing(s *Server, _ *client, dc *webrtc.DataChannel) {
	interval := s.PingInterval
	if interval <= 0 {
		interval = DefaultPingInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for range ticker.C {
		if err := dc.SendText("ping"); err != nil {
			continue
		}
	}
}

// newForgetfulServer is the server with the fixture's ping loop.
func newForgetfulServer() *Server {
	s := NewServer()
	s.pinger = forgetfulPing
	return s
}

// acceptClosedOnly is a fixture: Accept with the connection-state handler
// many services start with, which forgets a client when its connection is
// "closed" and ignores "failed". When the client vanishes without a DTLS
// close_notify (DisableCloseByDTLS, or the alert lost), Pion reports
// "failed" after ICE consent expires and nothing ever closes it: the
// client stays in the map until some teardown of the server's own.
func acceptClosedOnly(s *Server, pc *webrtc.PeerConnection) error {
	if err := s.Accept(pc); err != nil {
		return err
	}
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) { // replaces Accept's
		if state != webrtc.PeerConnectionStateClosed {
			return
		}
		s.mu.Lock()
		var gone *client
		for _, c := range s.clients {
			if c.pc == pc {
				gone = c
			}
		}
		s.mu.Unlock()
		if gone != nil {
			s.remove(gone)
		}
	})
	return nil
}

// TestBrokenCloseSweep is the forgotten-ping fixture's suite test, for the
// CLI and the replay and shrink flags:
//
//	go run ./cmd/closesim run -pkg ./examples/echo -test TestBrokenCloseSweep -n 20
//	go test ./examples/echo -run '^TestBrokenCloseSweep$' -v -closesim.seed=0
//
// Its sweep fails by design, so a plain sweep (go test ./...) skips it
// unless -echo.broken is set.
func TestBrokenCloseSweep(t *testing.T) {
	if suite.Selected() == suite.ModeSweep && !*flagBroken {
		t.Skip("the broken fixture's sweep fails by design: set -echo.broken, a -closesim.seed, or drive it with closesim run")
	}
	suite.Run(t, config(newForgetfulServer, (*Server).Accept))
}

// TestBrokenVariantsAreCaught: a sweep of each broken variant finds it
// through a real check (closesim's leak check, the example's own invariant
// on the server's client count), the failing seed replays, and shrinking
// keeps a smaller scenario that still fails the same way; the shipped
// server passes both scenarios.
func TestBrokenVariantsAreCaught(t *testing.T) {
	fixed := config(NewServer, (*Server).Accept)
	fixed.Options = append(fixed.Options, sim.WithWatchdog(time.Second))
	for _, tc := range []struct {
		name     string
		broken   suite.Config
		id       string
		evidence func(*facts.Observation) bool
	}{
		{
			name: "forgotten ping goroutine", broken: config(newForgetfulServer, (*Server).Accept), id: "leak.goroutines",
			evidence: func(obs *facts.Observation) bool {
				return slices.ContainsFunc(obs.Leaks, func(g facts.Goroutine) bool { return strings.Contains(g.Stack, "forgetfulPing") })
			},
		},
		{
			name: "failed client kept", broken: config(NewServer, acceptClosedOnly), id: goneClientsReleased.ID,
			evidence: func(obs *facts.Observation) bool {
				// Only the final reading shows it: the harness's teardown
				// closes the connection and the client goes after all.
				return obs.Final[1].Connection == "failed" && obs.FinalReports["clients"] == "1" && obs.Reports["clients"] == "0"
			},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			// A run that wedges (Pion's F1, frequent under the race
			// detector) costs a second instead of three; a run that does
			// not wedge takes milliseconds, under the race detector too.
			tc.broken.Options = append(tc.broken.Options, sim.WithWatchdog(time.Second))
			// One run judged: a run that froze in one of Pion's known
			// wedges (F1, which the race detector's randomized scheduling
			// makes common) never reached the leak check or the final
			// reading, so it is run again, as suite.Shrink does.
			fails := func(sc scenarios.Scenario) bool {
				for range 5 {
					obs, v := suite.Judge(t, tc.broken, sc)
					if obs.Outcome == facts.OutcomeWedge {
						continue
					}
					return slices.ContainsFunc(v.Fail, func(f invariants.Violation) bool { return f.Invariant == tc.id }) && tc.evidence(obs)
				}
				return false
			}
			// replays is suite.Shrink's own criterion: a majority of 3.
			replays := func(sc scenarios.Scenario) bool {
				n := 0
				for range 3 {
					if fails(sc) {
						n++
					}
				}
				return n >= 2
			}
			const seeds = 50
			seed, found := uint64(0), false
			for ; seed < seeds && !found; seed++ {
				sc := generate(seed)
				found = fails(sc) && replays(sc)
			}
			if !found {
				t.Fatalf("seeds 0..%d never caught it", seeds-1)
			}
			seed--
			sc := generate(seed)
			min, st := suite.Shrink(t, tc.broken, sc, tc.id)
			if len(min.Steps) >= len(sc.Steps) {
				t.Fatalf("shrinking kept %d of %d steps", len(min.Steps), len(sc.Steps))
			}
			if !replays(min) {
				t.Fatalf("the shrunk scenario does not fail: %v", min.Steps)
			}
			for _, c := range []scenarios.Scenario{sc, min} {
				if _, v := suite.Judge(t, fixed, c); !v.OK() {
					t.Errorf("the shipped server fails %q: %v", c.Name, v.Fail)
				}
			}
			t.Logf("caught by %s at seed %d (%s); %s; minimal: %v", tc.id, seed, sc.Name, st, min.Steps)
		})
	}
}

// TestUnbuildableSweep is a suite whose server cannot be built: every run
// ends in a harness error (outcome "error"), which closesim run and every
// report must count as failed (cmd/closesim TestHarnessErrorFails). Like
// TestBrokenCloseSweep, a plain sweep skips it unless -echo.broken is set.
func TestUnbuildableSweep(t *testing.T) {
	if suite.Selected() == suite.ModeSweep && !*flagBroken {
		t.Skip("the unbuildable fixture's sweep fails by design: set -echo.broken, a -closesim.seed, or drive it with closesim run")
	}
	c := config(NewServer, (*Server).Accept)
	c.Peers[scenarios.PeerB] = func(*sim.PeerEnv) (*webrtc.PeerConnection, error) {
		return nil, errors.New("the server's configuration is missing")
	}
	suite.Run(t, c)
}
