package sim_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
	"github.com/closesim/closesim/sim"
)

func packets(obs *facts.Observation, from, class string) int {
	n := 0
	for _, c := range obs.Packets {
		if c.From == from && c.Class == class {
			n += c.Packets
		}
	}
	return n
}

// TestPacketClassesOnRealTraffic counts packets per class in a connect,
// data, media and close run: ICE's STUN, the DTLS handshake, SCTP inside
// DTLS application data, SRTP (A's audio and video), SRTCP (reports both
// ways: sender reports from A, receiver reports from B) and the
// close_notify alert.
func TestPacketClassesOnRealTraffic(t *testing.T) {
	obs := runUnwedged(t, 11, func(seed uint64) scenarios.Scenario {
		return scenarios.ConnectMediaClose(seed, true, scenarios.PeerA, scenarios.ModeGraceful)
	})
	for _, tc := range []struct{ class, from string }{
		{"stun", "A"}, {"stun", "B"},
		{"dtls-handshake", "A"}, {"dtls-handshake", "B"},
		{"dtls-application-data", "A"}, {"dtls-application-data", "B"},
		{"dtls-alert", "A"},
		{"srtp", "A"},
		{"srtcp", "A"}, {"srtcp", "B"},
	} {
		if packets(obs, tc.from, tc.class) == 0 {
			t.Errorf("no %s packets from %s", tc.class, tc.from)
		}
	}
	if packets(obs, "B", "srtp") != 0 {
		t.Errorf("B sent SRTP but has no track")
	}
	var got []string
	for _, tr := range obs.Final[1].Tracks {
		got = append(got, fmt.Sprintf("%s:%s>0=%v", tr.Label, tr.Kind, tr.Packets > 0))
	}
	if want := "audio:audio>0=true video:video>0=true"; strings.Join(got, " ") != want {
		t.Errorf("B's received tracks %q, want %q", strings.Join(got, " "), want)
	}
	t.Logf("packets: %+v", obs.Packets)
}

// TestDroppedCloseNotify drops A's DTLS alerts (its close_notify). With a
// data channel up, Pion's close sends the SCTP ABORT before the
// close_notify, and B closes on the ABORT alone: B ends closed either way,
// and what B observes after A's close is recorded for both runs.
func TestDroppedCloseNotify(t *testing.T) {
	var clean, faulted *facts.Observation
	// Under -race most seeds can reach F1 in one of the two runs (a CI run
	// saw eight in a row): try up to 48, each wedge checked to be F1.
	for seed := uint64(12); seed < 60 && faulted == nil; seed++ {
		base := scenarios.WithClose(scenarios.Base(seed), scenarios.CloseAt{Phase: scenarios.PhaseDCOpen, Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 0, 0)
		base.Settle = scenarios.Duration(time.Second)
		dropped := base
		dropped.Faults.Packets = []scenarios.PacketFault{{Class: "dtls-alert", From: scenarios.PeerA, Action: "drop"}}
		c, f := mustRun(t, base, sim.WithWatchdog(time.Second)), mustRun(t, dropped, sim.WithWatchdog(time.Second))
		if c.Outcome == facts.OutcomeWedge || f.Outcome == facts.OutcomeWedge {
			// The scheduling (e.g. under -race) reached F1 instead; try
			// another seed: this test is about runs that finish.
			w := c.Wedge
			if w == nil {
				w = f.Wedge
			}
			if !strings.Contains(w.Diagnosis, "(*Association).Abort") {
				t.Fatalf("seed %d: a wedge that is not F1:\n%s", seed, w.Diagnosis)
			}
			t.Logf("seed %d wedged (F1), trying the next", seed)
			continue
		}
		clean, faulted = c, f
	}
	if faulted == nil {
		t.Fatal("every seed wedged")
	}
	seen := func(obs *facts.Observation) string {
		var b strings.Builder
		after := false
		for _, e := range obs.Events {
			after = after || (e.Peer == "A" && e.Kind == "close")
			if after && e.Peer == "B" && (e.Kind == "dtls" || e.Kind == "sctp" || e.Kind == "pc") {
				b.WriteString(string(e.Kind) + " " + e.Detail + "; ")
			}
		}
		return b.String()
	}
	hits := 0
	for _, e := range faulted.Events {
		if e.Kind == "fault" && strings.Contains(e.Detail, "dtls-alert") {
			hits++
		}
	}
	if hits == 0 {
		t.Fatal("the fault never acted")
	}
	if n := packets(faulted, "A", "dtls-alert"); n == 0 {
		t.Fatal("A sent no alert to drop")
	}
	for _, obs := range []*facts.Observation{clean, faulted} {
		if obs.Final[1].Connection != "closed" {
			t.Errorf("B ends %s, want closed (by close_notify or by the SCTP ABORT)", obs.Final[1].Connection)
		}
	}
	t.Logf("B after A's close, clean:   %s", seen(clean))
	t.Logf("B after A's close, dropped: %s", seen(faulted))
}

// TestParkedWriterAndClose: A's sends queue behind a slow, small send
// buffer, so Pion's writers park; A closes 200 ms into the transfer.
// The run records whether Close released them (a wedge would be a finding).
func TestParkedWriterAndClose(t *testing.T) {
	sc := scenarios.WithClose(scenarios.Base(13), scenarios.CloseAt{Phase: scenarios.PhaseMidTransfer, Closer: scenarios.PeerA, Mode: scenarios.ModeClose}, 40, 8000)
	sc.Topology.BackpressureA = &scenarios.Backpressure{QueueBytes: 1500, Rate: 2000}
	last := len(sc.Steps) - 1
	sc.Steps = append(sc.Steps[:last], scenarios.Step{Kind: scenarios.KindSleep, Duration: scenarios.Duration(200 * time.Millisecond)}, sc.Steps[last])
	obs := mustRun(t, sc)
	if obs.Outcome == facts.OutcomeWedge {
		// F1 reached through backpressure: the ABORT cannot be written
		// behind the full queue, Abort waits under SCTPTransport.lock.
		if !strings.Contains(obs.Wedge.Diagnosis, "(*Association).Abort") {
			t.Fatalf("wedge that is not F1:\n%s", obs.Wedge.Diagnosis)
		}
		t.Logf("FINDING (F1 via a full send queue): %s", firstLineOf(obs.Wedge.Diagnosis))
		return
	}
	if obs.Parked["A"] == 0 {
		t.Fatalf("no writer ever parked on A's send queue: %+v", obs.Parked)
	}
	t.Logf("max parked writers %d; outcome %s; A closed in %s", obs.Parked["A"], obs.Outcome, obs.Closes[0].Took)
}

func firstLineOf(s string) string {
	lines := strings.Split(s, "\n")
	if len(lines) > 1 {
		return lines[1]
	}
	return lines[0]
}

// TestDroppedAlertChangesRemote: with media only (no SCTP, so no ABORT to
// carry the news), A's DTLS close_notify is the only way B learns of A's
// close. Delivered, B closes at once; dropped, B notices only when ICE
// consent fails, tens of virtual seconds later, and ends failed.
func TestDroppedAlertChangesRemote(t *testing.T) {
	base := func(seed uint64) scenarios.Scenario {
		sc := scenarios.ConnectMediaClose(seed, false, scenarios.PeerA, scenarios.ModeClose)
		sc.Settle = scenarios.Duration(40 * time.Second)
		return sc
	}
	dropped := func(seed uint64) scenarios.Scenario {
		sc := base(seed)
		sc.Faults.Packets = []scenarios.PacketFault{{Class: "dtls-alert", From: scenarios.PeerA, Action: "drop"}}
		return sc
	}
	for _, tc := range []struct {
		name    string
		sc      func(uint64) scenarios.Scenario
		last    string        // B's last connection state
		minTime time.Duration // B's last state at least this long after A's close
		maxTime time.Duration
	}{
		{"alert delivered", base, "closed", 0, time.Second},
		{"alert dropped", dropped, "failed", 5 * time.Second, 35 * time.Second},
	} {
		t.Run(tc.name, func(t *testing.T) {
			obs := runUnwedged(t, 21, tc.sc)
			var closeAt, lastAt time.Duration
			last := ""
			for _, e := range obs.Events {
				if e.Kind == "harness-close" {
					break // the harness's own close after settling is not the scenario's
				}
				switch {
				case e.Peer == "A" && e.Kind == "close" && strings.HasPrefix(e.Detail, "call"):
					closeAt = e.At
				case e.Peer == "B" && e.Kind == "pc" && closeAt > 0:
					last, lastAt = e.Detail, e.At
				}
			}
			if last != tc.last || lastAt-closeAt < tc.minTime || lastAt-closeAt > tc.maxTime {
				t.Errorf("B's last state %q %v after A's close; want %q within [%v, %v]", last, lastAt-closeAt, tc.last, tc.minTime, tc.maxTime)
			}
			t.Logf("B %s %v after A's close", last, lastAt-closeAt)
		})
	}
}
