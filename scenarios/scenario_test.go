package scenarios

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestGenerateIsValidDeterministicAndRoundTrips(t *testing.T) {
	for seed := range uint64(500) {
		sc := Generate(seed)
		if err := Validate(&sc); err != nil {
			t.Fatalf("seed %d: generated scenario is invalid: %v", seed, err)
		}
		if again := Generate(seed); !reflect.DeepEqual(sc, again) {
			t.Fatalf("seed %d: Generate is not deterministic", seed)
		}
		data, err := Marshal(sc)
		if err != nil {
			t.Fatalf("seed %d: marshal: %v", seed, err)
		}
		back, err := Unmarshal(data)
		if err != nil {
			t.Fatalf("seed %d: unmarshal: %v\n%s", seed, err, data)
		}
		if !reflect.DeepEqual(sc, back) {
			t.Fatalf("seed %d: round trip changed the scenario:\n%+v\n%+v", seed, sc, back)
		}
	}
}

func TestGenerateCoversEveryCloserAndMode(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(300) {
		sc := Generate(seed)
		last := sc.Steps[len(sc.Steps)-1]
		seen[string(last.Peer)+"/"+string(last.Mode)] = true
	}
	for _, c := range allClosers {
		for _, m := range allModes {
			if !seen[string(c)+"/"+string(m)] {
				t.Errorf("300 seeds never close by %s with %s", c, m)
			}
		}
	}
}

// TestGenerateUsesEveryDimension: over 300 seeds the swarm switches each
// optional dimension on somewhere, and the scenario then holds it.
func TestGenerateUsesEveryDimension(t *testing.T) {
	seen := map[string]bool{}
	for seed := range uint64(300) {
		sc := Generate(seed)
		for _, s := range sc.Steps {
			seen[string(s.Kind)] = true
			if s.Direction != "" {
				seen["direction "+string(s.Direction)] = true
			}
			if s.Immediate {
				seen["immediate"] = true
			}
			if s.Async {
				seen["async "+string(s.Kind)] = true
				seen["async"] = true
			}
			if s.Channel != nil && s.Channel.BufferedAmountLowThreshold > 0 {
				seen["buffered low"] = true
			}
		}
		for _, f := range sc.Faults.Packets {
			switch {
			case f.Until > 0:
				seen["partition"] = true
			case f.Probability > 0:
				seen["p-"+string(f.Action)] = true
			}
		}
		if sc.Topology.NAT != "" {
			seen["nat "+string(sc.Topology.NAT)] = true
		}
		if sc.Settings.DetachDataChannels {
			seen["detach"] = true
		}
	}
	want := []string{"partition", "p-drop", "p-duplicate", "detach", "immediate", "async", "buffered low"}
	for _, k := range allKinds {
		if k != KindCustom && k != KindRollback && k != KindSleep {
			want = append(want, string(k))
		}
	}
	for _, d := range allDirections[1:] {
		want = append(want, "direction "+string(d))
	}
	for _, n := range allNATTypes {
		want = append(want, "nat "+string(n))
	}
	for _, w := range want {
		if !seen[w] {
			t.Errorf("300 generated scenarios never use %s", w)
		}
	}
}

func TestWithClosePlacesCloseAtPhase(t *testing.T) {
	tests := []struct {
		phase Phase
		// before is the kind of the step right before the close (0 if none).
		before Kind
		state  State
	}{
		{PhaseBeforeOffer, KindCreateDataChannel, ""},
		{PhaseAfterSetLocal, KindOffer, ""},
		{PhaseAfterRemote, KindApplyOffer, ""},
		{PhaseICEChecking, KindAwait, StateICEChecking},
		{PhaseDTLSHandshake, KindAwait, StateDTLSConnecting},
		{PhaseDCOpen, KindAwait, StateDCOpen},
		{PhaseMidTransfer, KindSend, ""},
	}
	for _, tt := range tests {
		t.Run(string(tt.phase), func(t *testing.T) {
			sc := WithClose(Base(1), CloseAt{Phase: tt.phase, Closer: PeerB, Mode: ModeGraceful}, 3, 10)
			if err := Validate(&sc); err != nil {
				t.Fatal(err)
			}
			n := len(sc.Steps)
			if got := sc.Steps[n-1]; got.Kind != KindClose || got.Peer != PeerB || got.Mode != ModeGraceful {
				t.Fatalf("last step = %v, want B close(graceful)", got)
			}
			if got := sc.Steps[n-2]; got.Kind != tt.before || got.State != tt.state {
				t.Fatalf("step before close = %v, want %s %s", got, tt.before, tt.state)
			}
		})
	}
}

func TestValidateRejectsBadInput(t *testing.T) {
	good := func() Scenario {
		return WithClose(Base(7), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeClose}, 2, 2)
	}
	tests := []struct {
		name  string
		edit  func(*Scenario)
		field string
	}{
		{"unknown step kind", func(s *Scenario) { s.Steps[1].Kind = "explode" }, "steps[1].kind"},
		{"missing kind", func(s *Scenario) { s.Steps[0].Kind = "" }, "steps[0].kind"},
		{"close by a peer that does not exist", func(s *Scenario) { s.Steps[0] = Step{Kind: KindClose, Peer: "C", Mode: ModeClose} }, "steps[0].peer"},
		{"apply before any offer", func(s *Scenario) { s.Steps = []Step{{Kind: KindApplyOffer, Peer: PeerB}} }, "steps[0].kind"},
		{"answer before apply", func(s *Scenario) {
			s.Steps = []Step{{Kind: KindOffer, Peer: PeerA}, {Kind: KindAnswer, Peer: PeerB}}
		}, "steps[1].kind"},
		{"send on a channel never created", func(s *Scenario) { s.Steps = []Step{{Kind: KindSend, Peer: PeerA, Label: "x"}} }, "steps[0].label"},
		{"negative count", func(s *Scenario) { s.Steps[len(s.Steps)-2].Count = -1 }, "steps[10].count"},
		{"oversized message", func(s *Scenario) { s.Steps[len(s.Steps)-2].Size = MaxMessageSize + 1 }, "steps[10].size"},
		{"negative sleep", func(s *Scenario) { s.Steps = append(s.Steps, Step{Kind: KindSleep, Duration: -1}) }, "steps[12].duration"},
		{"bad close mode", func(s *Scenario) { s.Steps[len(s.Steps)-1].Mode = "slam" }, "steps[11].mode"},
		{"both on a non-close step", func(s *Scenario) { s.Steps[1].Peer = PeerBoth }, "steps[1].peer"},
		{"unknown await state", func(s *Scenario) { s.Steps[5].State = "ice:sleepy" }, "steps[5].state"},
		{"custom without name", func(s *Scenario) { s.Steps = append(s.Steps, Step{Kind: KindCustom}) }, "steps[12].name"},
		{"port too low", func(s *Scenario) { s.Topology.PortA = 80 }, "topology.port_a"},
		{"negative link delay", func(s *Scenario) { s.Topology.LinkDelay = -1 }, "topology.link_delay"},
		{"huge signal delay", func(s *Scenario) { s.Faults.SignalDelays = []Duration{Duration(time.Hour)} }, "faults.signal_delays[0]"},
		{"future version", func(s *Scenario) { s.Version = 99 }, "version"},
		{"unknown NAT", func(s *Scenario) { s.Topology.NAT = "carrier-grade" }, "topology.nat"},
		{"partition that heals before it starts", func(s *Scenario) {
			s.Faults.Packets = []PacketFault{{Action: "drop", After: Duration(2 * time.Second), Until: Duration(time.Second)}}
		}, "faults.packets[0].until"},
		{"loss probability over 1", func(s *Scenario) { s.Faults.Packets = []PacketFault{{Action: "drop", Probability: 2}} }, "faults.packets[0].probability"},
		{"track without media", func(s *Scenario) { s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t"}) }, "steps[12].media"},
		{"duplicate track", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaAudio}, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaVideo})
		}, "steps[13].label"},
		{"bad direction", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaAudio, Direction: "sideways"})
		}, "steps[12].direction"},
		{"write on a track never added", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindWriteMedia, Peer: PeerB, Label: "t", Count: 1})
		}, "steps[12].label"},
		{"write on a recvonly transceiver", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaAudio, Direction: "recvonly"}, Step{Kind: KindWriteMedia, Peer: PeerA, Label: "t", Count: 1})
		}, "steps[13].label"},
		{"oversized sample", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaVideo}, Step{Kind: KindWriteMedia, Peer: PeerA, Label: "t", Count: 1, Size: MaxSampleSize + 1})
		}, "steps[13].size"},
		{"media on a send step", func(s *Scenario) { s.Steps[len(s.Steps)-2].Media = MediaAudio }, "steps[10].media"},
		{"async close", func(s *Scenario) { s.Steps[len(s.Steps)-1].Async = true }, "steps[11].async"},
		{"simulcast audio", func(s *Scenario) {
			s.Steps = append(s.Steps, Step{Kind: KindAddTrack, Peer: PeerA, Label: "t", Media: MediaAudio, Simulcast: true})
		}, "steps[12].simulcast"},
		{"too many SFU clients", func(s *Scenario) { s.Topology.SFUClients = MaxSFUClients + 1 }, "topology.sfu_clients"},
		{"SFU close-all without clients", func(s *Scenario) { s.Topology.SFUCloseAll = true }, "topology.sfu_close_all"},
		{"mux closed first without a mux", func(s *Scenario) { s.Settings.CloseMuxFirst = true }, "settings.close_mux_first"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			sc := good()
			if err := Validate(&sc); err != nil {
				t.Fatalf("base scenario invalid: %v", err)
			}
			tt.edit(&sc)
			err := Validate(&sc)
			var fe *FieldError
			if !errors.As(err, &fe) {
				t.Fatalf("Validate = %v, want a *FieldError", err)
			}
			if fe.Field != tt.field {
				t.Fatalf("error names field %q (%v), want %q", fe.Field, err, tt.field)
			}
		})
	}
}

func TestUnmarshalErrors(t *testing.T) {
	tests := []struct {
		name, json, want string
	}{
		{"not json", `{`, "decode scenario"},
		{"unknown field", `{"seed":1,"topology":{"port_a":2000,"port_b":3000},"stepz":[]}`, `unknown field "stepz"`},
		{"bad duration", `{"seed":1,"topology":{"port_a":2000,"port_b":3000},"settle":"soon"}`, `duration "soon"`},
		{"trailing data", `{"seed":1,"topology":{"port_a":2000,"port_b":3000}} {}`, "trailing data"},
		{"invalid step", `{"seed":1,"topology":{"port_a":2000,"port_b":3000},"steps":[{"kind":"send","peer":"A","label":"dc","count":-5}]}`, "steps[0].label"},
		{"wrong type", `{"seed":"one"}`, "decode scenario"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Unmarshal([]byte(tt.json))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Unmarshal = %v, want an error containing %q", err, tt.want)
			}
		})
	}
}

func FuzzUnmarshal(f *testing.F) {
	for seed := range uint64(5) {
		data, _ := Marshal(Generate(seed))
		f.Add(data)
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		sc, err := Unmarshal(data)
		if err != nil {
			return
		}
		out, err := Marshal(sc)
		if err != nil {
			t.Fatalf("marshal of a valid scenario: %v", err)
		}
		if _, err := Unmarshal(out); err != nil {
			t.Fatalf("re-unmarshal: %v", err)
		}
	})
}

func TestCatalogueIsValidAndNamed(t *testing.T) {
	cat := Catalogue()
	t.Logf("%d catalogue scenarios", len(cat))
	if len(cat) < 40 {
		t.Fatalf("%d catalogue scenarios, want at least 40", len(cat))
	}
	names := map[string]bool{}
	for _, sc := range cat {
		if names[sc.Name] {
			t.Errorf("duplicate catalogue name %q", sc.Name)
		}
		names[sc.Name] = true
		if err := Validate(&sc); err != nil {
			t.Errorf("%s: %v", sc.Name, err)
		}
	}
}
