package scenarios

import (
	"fmt"
	"time"

	fuzz "github.com/google/gofuzz"
)

// Fuzz layout: FromFuzz reads a header of FuzzHeaderSize bytes, then one
// step per FuzzStepSize bytes. Deleting a whole chunk deletes one step, so
// Go's input minimizer, which removes byte ranges, shrinks a crasher into a
// shorter scenario. A trailing partial chunk is ignored.
const (
	FuzzHeaderSize = 16
	FuzzStepSize   = 8
	maxFuzzSteps   = 64
)

// fuzzHeader is what the header chunk decodes into.
type fuzzHeader struct {
	Seed      uint64
	Trickle   bool
	NoDTLS    bool
	LinkDelay uint8
	Delays    [4]uint8
}

// fuzzStep is what one step chunk decodes into.
type fuzzStep struct {
	Op, Peer, A, B uint8
	Yields         uint8
	Immediate      bool
}

// FromFuzz turns fuzz bytes into a scenario that always validates: every
// choice is clamped to a legal one rather than rejected. Each step chunk
// picks an operation; "advance" runs the next step of the offer/answer
// exchange (A offers, B answers), so negotiation order is legal by
// construction, and sends and awaits use the data channel only once it
// exists.
func FromFuzz(data []byte) Scenario {
	var h fuzzHeader
	if len(data) >= FuzzHeaderSize {
		fuzz.NewFromGoFuzz(data[:FuzzHeaderSize]).NilChance(0).Fuzz(&h)
		data = data[FuzzHeaderSize:]
	} else {
		data = nil
	}
	sc := Base(h.Seed)
	sc.Name = fmt.Sprintf("fuzz-%d", h.Seed)
	sc.Settings = Settings{Trickle: h.Trickle, DisableCloseByDTLS: h.NoDTLS}
	sc.Topology.LinkDelay = Duration(time.Duration(h.LinkDelay%32) * time.Millisecond)
	for _, d := range h.Delays {
		sc.Faults.SignalDelays = append(sc.Faults.SignalDelays, Duration(time.Duration(d%64)*time.Millisecond))
	}
	b := fuzzBuilder{sc: &sc}
	for len(data) >= FuzzStepSize && len(sc.Steps) < maxFuzzSteps {
		var st fuzzStep
		fuzz.NewFromGoFuzz(data[:FuzzStepSize]).NilChance(0).Fuzz(&st)
		data = data[FuzzStepSize:]
		b.add(st)
	}
	return sc
}

// negotiation is the offer/answer exchange in order.
var negotiation = []Step{
	{Kind: KindOffer, Peer: PeerA}, {Kind: KindApplyOffer, Peer: PeerB},
	{Kind: KindAnswer, Peer: PeerB}, {Kind: KindApplyAnswer, Peer: PeerA},
}

type fuzzBuilder struct {
	sc      *Scenario
	negDone int  // steps of negotiation added so far
	dc      bool // the data channel exists
}

func (b *fuzzBuilder) add(st fuzzStep) {
	peer := PeerA
	if st.Peer%2 == 1 {
		peer = PeerB
	}
	var s Step
	switch st.Op % 8 {
	case 0, 1: // advance the negotiation; create the channel first if none yet
		switch {
		case !b.dc:
			s = Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel}
			b.dc = true
		case b.negDone < len(negotiation):
			s = negotiation[b.negDone]
			b.negDone++
		default:
			s = Step{Kind: KindAwait, Peer: peer, State: StatePCConnected, Timeout: Duration(5 * time.Second)}
		}
	case 2:
		s = Step{Kind: KindAwait, Peer: peer, State: States[int(st.A)%len(States)], Timeout: Duration(time.Duration(1+st.B%10) * time.Second)}
		if s.State == StateDCOpen {
			if !b.dc {
				s.State = StateICEChecking
			} else {
				s.Label = DataChannelLabel
			}
		}
	case 3, 4:
		if !b.dc {
			s = Step{Kind: KindSleep, Duration: Duration(time.Duration(st.A) * time.Millisecond)}
			break
		}
		s = Step{Kind: KindSend, Peer: peer, Label: DataChannelLabel, Count: int(st.A % 64), Size: int(st.B) * 64}
	case 5:
		s = Step{Kind: KindSleep, Duration: Duration(time.Duration(st.A) * time.Duration(1+st.B%100) * time.Millisecond)}
	default: // 6, 7: close
		closer := Closers[int(st.Peer)%len(Closers)]
		s = Step{Kind: KindClose, Peer: closer, Mode: Modes[int(st.A)%len(Modes)]}
	}
	if st.Immediate {
		s.Immediate, s.Yields = true, int(st.Yields%65)
	}
	b.sc.Steps = append(b.sc.Steps, s)
}

// FuzzChoice is the meaning of one step chunk, for building corpus entries:
// Op is "advance", "await", "send", "sleep" or "close"; Closer matters for
// close (A, B or both), Peer for the others.
type FuzzChoice struct {
	Op        string
	Peer      Peer
	Immediate bool
}

func opName(op uint8) string {
	return [...]string{"advance", "advance", "await", "send", "send", "sleep", "close", "close"}[op%8]
}

// EncodeFuzz returns fuzz bytes that FromFuzz decodes into the given choices
// (after an arbitrary header). Each chunk is found by a short search, since
// gofuzz hashes a chunk's bytes into its values.
func EncodeFuzz(choices []FuzzChoice) []byte {
	out := make([]byte, FuzzHeaderSize, FuzzHeaderSize+len(choices)*FuzzStepSize)
	for _, c := range choices {
		for n := uint64(1); ; n++ {
			var chunk [FuzzStepSize]byte
			for i := range chunk {
				chunk[i] = byte(n >> (8 * i))
			}
			var st fuzzStep
			fuzz.NewFromGoFuzz(chunk[:]).NilChance(0).Fuzz(&st)
			peerOK := (st.Peer%2 == 1) == (c.Peer == PeerB)
			if c.Op == "close" {
				peerOK = Closers[int(st.Peer)%len(Closers)] == c.Peer
			}
			if opName(st.Op) == c.Op && peerOK && st.Immediate == c.Immediate {
				out = append(out, chunk[:]...)
				break
			}
		}
	}
	return out
}
