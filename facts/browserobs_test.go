package facts

import (
	"slices"
	"testing"
	"time"
)

func browserState(dc string) *PeerState {
	return &PeerState{Signaling: "closed", Connection: "closed", ICEConnection: "closed", ICETransport: "closed", DTLS: "closed", SCTP: "closed",
		DataChannels: []DCState{{Label: "dc", State: dc}}, Transceivers: []TransceiverState{{Mid: "0", Kind: "audio", Direction: "stopped"}}}
}

// TestBrowserObservation: a browser run becomes an Observation with Pion
// as A and the browser as B, both sides' events merged by time from 0, the
// closer's close as a close with its snapshot and probes, the final states
// at the measured window, and the facts a real-time run cannot record
// listed as unobserved; a closed tab is no close, and a channel close no
// close of the connection.
func TestBrowserObservation(t *testing.T) {
	connected := &PeerState{Signaling: "stable", Connection: "connected", DTLS: "connected", SCTP: "connected", DataChannels: []DCState{{Label: "dc", State: "open"}}}
	pionEvents := []BrowserEvent{{At: -10 * time.Millisecond, Kind: "dc open", Detail: "dc"}, {At: 3 * time.Millisecond, Kind: "sctp close"}, {At: 4 * time.Millisecond, Kind: "dtls", Detail: "closed"}}
	pageEvents := []BrowserEvent{{At: -20 * time.Millisecond, Kind: "dtls", Detail: "connected"}, {At: -time.Millisecond, Kind: "mark", Detail: "browser close call"},
		{At: 0, Kind: "close call"}, {At: time.Millisecond, Kind: "close return"}, {At: 2 * time.Millisecond, Kind: "dc close", Detail: "dc"}}
	base := BrowserRun{Seed: 9, Closer: "browser", Mode: "close", Window: 2 * time.Second,
		Pion:    BrowserSide{Events: pionEvents, Final: browserState("closed")},
		Browser: BrowserSide{Events: pageEvents, Before: connected, AtReturn: browserState("open"), Final: browserState("closed"), CloseTook: time.Millisecond, Probes: map[string]string{"createOffer": "InvalidStateError", "addIceCandidate": "no error", "setConfiguration": "error: boom"}}}

	for _, tt := range []struct {
		name       string
		edit       func(*BrowserRun)
		closes     int      // close snapshots
		closeKinds []Kind   // kinds of the close events, in order
		probes     []string // probed calls
		unobserved []Fact
		outcome    Outcome
	}{
		{"browser close", func(*BrowserRun) {}, 1, []Kind{KindClose, KindClose}, []string{"CreateOffer", "AddICECandidate", "SetConfiguration"},
			[]Fact{FactPanics, FactWedge, FactGoroutines, FactSockets, FactTimers, FactTURN, FactDelivery}, OutcomeOK},
		{"close in a handler", func(r *BrowserRun) { r.Mode, r.On = "callback", "dc_open" }, 1, []Kind{KindCallbackClose, KindCallbackClose}, []string{"CreateOffer", "AddICECandidate", "SetConfiguration"}, nil, OutcomeOK},
		{"closed tab", func(r *BrowserRun) { r.Mode = "tab" }, 0, nil, nil, []Fact{FactCloserSide}, OutcomeOK},
		{"channel close", func(r *BrowserRun) { r.Mode = "channel" }, 0, nil, nil, nil, OutcomeOK},
		{"harness error", func(r *BrowserRun) { r.Err = "browser: boom" }, 1, []Kind{KindClose, KindClose}, []string{"CreateOffer", "AddICECandidate", "SetConfiguration"}, nil, OutcomeError},
		{"wedge", func(r *BrowserRun) { r.Wedge = &Wedge{Headline: "stuck"} }, 1, []Kind{KindClose, KindClose}, []string{"CreateOffer", "AddICECandidate", "SetConfiguration"}, nil, OutcomeWedge},
	} {
		t.Run(tt.name, func(t *testing.T) {
			r := base
			tt.edit(&r)
			obs := r.Observation()
			if obs.Outcome != tt.outcome {
				t.Errorf("outcome %s, want %s", obs.Outcome, tt.outcome)
			}
			for _, f := range tt.unobserved {
				if obs.Observes(f) {
					t.Errorf("%s is observed; a browser run cannot record it", f)
				}
			}
			if !obs.Observes(FactCloserSide) && r.Mode != "tab" {
				t.Errorf("the closer's side is unobserved for mode %s", r.Mode)
			}
			if len(obs.Closes) != tt.closes {
				t.Fatalf("%d close snapshots, want %d: %+v", len(obs.Closes), tt.closes, obs.Closes)
			}
			var kinds []Kind
			for i, e := range obs.Events {
				if e.Seq != i || (i > 0 && e.At < obs.Events[i-1].At) || e.At < 0 {
					t.Errorf("event %d (%s) out of order or before 0", i, e)
				}
				if e.Kind.IsClose() {
					kinds = append(kinds, e.Kind)
					if e.Peer != BrowserPagePeer || e.Close == nil {
						t.Errorf("close event %s: want the browser's (B) with a CloseFact", e)
					}
				}
				if e.Kind == KindDTLS && e.Peer == BrowserPionPeer && e.State != StateClosed {
					t.Errorf("Pion's dtls event %s lost its state", e)
				}
			}
			if !slices.Equal(kinds, tt.closeKinds) {
				t.Errorf("close events %v, want %v", kinds, tt.closeKinds)
			}
			var calls []string
			for _, p := range obs.Probes {
				calls = append(calls, p.Call)
				if p.Peer != BrowserPagePeer {
					t.Errorf("probe %s is %s's, want B's", p.Call, p.Peer)
				}
			}
			if !slices.Equal(calls, tt.probes) {
				t.Errorf("probes %v, want %v", calls, tt.probes)
			}
			if len(obs.Final) != 2 || obs.Final[0].Peer != BrowserPionPeer || obs.Final[1].Peer != BrowserPagePeer {
				t.Fatalf("final states %+v: want A's then B's", obs.Final)
			}
			if obs.Final[1].Transceivers != nil || obs.Final[0].Transceivers == nil {
				t.Errorf("transceivers: the browser's must be left out (its directions use \"stopped\"), Pion's kept: %+v", obs.Final)
			}
			if want := 20*time.Millisecond + 2*time.Second; obs.FinalAt != want {
				t.Errorf("final states at %s, want %s (the earliest event is at 0, the close at 20ms)", obs.FinalAt, want)
			}
			if tt.closes == 1 {
				c := obs.Closes[0]
				if c.Peer != BrowserPagePeer || c.At != 20*time.Millisecond || c.After == nil || c.After.DataChannels[0].State != "open" || c.Before.Connection != "connected" {
					t.Errorf("close snapshot %+v: want B's at 20ms, before connected, its channel open at return", c)
				}
			}
		})
	}
	probes := browserProbes("B", map[string]string{"createOffer": "InvalidStateError", "addIceCandidate": "no error", "setConfiguration": "error: boom", "createAnswer": "OperationError"})
	want := []APIProbe{{Peer: "B", Call: "CreateOffer", Err: "InvalidStateError", ErrType: "InvalidStateError"}, {Peer: "B", Call: "CreateAnswer", Err: "OperationError", ErrType: "OperationError"},
		{Peer: "B", Call: "AddICECandidate"}, {Peer: "B", Call: "SetConfiguration", Err: "boom", ErrType: "error"}}
	if !slices.Equal(probes, want) {
		t.Errorf("probes %+v, want %+v", probes, want)
	}
}
