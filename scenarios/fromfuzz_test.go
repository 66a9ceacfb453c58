package scenarios

import (
	"math/rand/v2"
	"reflect"
	"testing"
)

func TestFromFuzzAlwaysValid(t *testing.T) {
	r := rand.New(rand.NewPCG(1, 2))
	for i := range 300 {
		data := make([]byte, r.IntN(600))
		for j := range data {
			data[j] = byte(r.Uint32())
		}
		sc := FromFuzz(data)
		if err := Validate(&sc); err != nil {
			t.Fatalf("input %d (%d bytes): invalid scenario: %v", i, len(data), err)
		}
		if !reflect.DeepEqual(sc, FromFuzz(data)) {
			t.Fatalf("input %d: FromFuzz is not deterministic", i)
		}
		js, err := Marshal(sc)
		if err != nil {
			t.Fatal(err)
		}
		back, err := Unmarshal(js)
		if err != nil || !reflect.DeepEqual(back, sc) {
			t.Fatalf("input %d: JSON round trip: %v", i, err)
		}
	}
}

func TestFromFuzzDeletingAChunkDeletesAStep(t *testing.T) {
	choices := []FuzzChoice{{Op: "advance"}, {Op: "advance"}, {Op: "sleep"}, {Op: "close", Peer: PeerBoth}}
	data := EncodeFuzz(choices)
	full := FromFuzz(data)
	if len(full.Steps) != len(choices) {
		t.Fatalf("%d steps, want %d", len(full.Steps), len(choices))
	}
	// Remove the third chunk (the sleep).
	cut := append(append([]byte(nil), data[:FuzzHeaderSize+2*FuzzStepSize]...), data[FuzzHeaderSize+3*FuzzStepSize:]...)
	short := FromFuzz(cut)
	want := append(append([]Step(nil), full.Steps[:2]...), full.Steps[3:]...)
	if !reflect.DeepEqual(short.Steps, want) {
		t.Fatalf("after deleting chunk 3:\n got %v\nwant %v", short.Steps, want)
	}
}

func TestEncodeFuzz(t *testing.T) {
	tests := []struct {
		choices []FuzzChoice
		kinds   []Kind
	}{
		{[]FuzzChoice{{Op: "advance"}, {Op: "advance"}, {Op: "advance"}}, []Kind{KindCreateDataChannel, KindOffer, KindApplyOffer}},
		{[]FuzzChoice{{Op: "close", Peer: PeerB, Immediate: true}}, []Kind{KindClose}},
		{[]FuzzChoice{{Op: "advance"}, {Op: "send", Peer: PeerB}, {Op: "await", Peer: PeerA}}, []Kind{KindCreateDataChannel, KindSend, KindAwait}},
	}
	for _, tt := range tests {
		sc := FromFuzz(EncodeFuzz(tt.choices))
		if len(sc.Steps) != len(tt.kinds) {
			t.Fatalf("%v: %d steps, want %d", tt.choices, len(sc.Steps), len(tt.kinds))
		}
		for i, s := range sc.Steps {
			if s.Kind != tt.kinds[i] {
				t.Errorf("%v: step %d is %s, want %s", tt.choices, i, s.Kind, tt.kinds[i])
			}
			if c := tt.choices[i]; c.Op == "close" && (s.Peer != c.Peer || s.Immediate != c.Immediate) {
				t.Errorf("close step %v, want peer %s immediate %v", s, c.Peer, c.Immediate)
			}
		}
	}
}

func FuzzFromFuzz(f *testing.F) {
	f.Add(EncodeFuzz([]FuzzChoice{{Op: "advance"}, {Op: "close", Peer: PeerA}}))
	f.Fuzz(func(t *testing.T, data []byte) {
		sc := FromFuzz(data)
		if err := Validate(&sc); err != nil {
			t.Fatalf("invalid: %v", err)
		}
	})
}
