package scenarios

import (
	"testing"
)

func TestShrink(t *testing.T) {
	// "Fails" when A closes after A made an offer and A sent at least one
	// message of 100 bytes or more.
	fails := func(sc Scenario) bool {
		offered, sent := false, false
		for _, s := range sc.Steps {
			switch {
			case s.Kind == KindOffer && s.Peer == PeerA:
				offered = true
			case s.Kind == KindSend && s.Peer == PeerA && s.Count >= 1 && s.Size >= 100:
				sent = true
			case s.Kind == KindClose && s.Peer == PeerA && offered && sent:
				return true
			}
		}
		return false
	}
	tests := []struct {
		name string
		sc   Scenario
		want int // steps after shrinking
	}{
		{"mid transfer", WithClose(Base(1), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeClose}, 40, 3000), 4},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.sc.Faults.SignalDelays = []Duration{5, 6}
			tt.sc.Steps[len(tt.sc.Steps)-1].Immediate = true
			tt.sc.Steps[len(tt.sc.Steps)-1].Yields = 40
			if !fails(tt.sc) {
				t.Fatal("the starting scenario does not fail")
			}
			got, st := Shrink(tt.sc, fails)
			if !fails(got) || Validate(&got) != nil {
				t.Fatalf("shrunk scenario does not fail or is invalid: %v", got.Steps)
			}
			if len(got.Steps) != tt.want {
				t.Fatalf("shrunk to %d steps %v, want %d", len(got.Steps), got.Steps, tt.want)
			}
			if len(got.Faults.SignalDelays) != 0 || got.Steps[len(got.Steps)-1].Immediate {
				t.Errorf("faults or sub-instant placement not simplified: %+v", got)
			}
			for _, s := range got.Steps {
				if s.Kind == KindSend && (s.Count != 1 || s.Size >= 200) {
					t.Errorf("send not shrunk: %v", s)
				}
			}
			t.Logf("%s: %v", st, got.Steps)
		})
	}
}
