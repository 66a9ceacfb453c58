package scenarios

import (
	"fmt"
	"math/rand/v2"
	"slices"
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
	b := fuzzBuilder{sc: &sc, tracks: map[Peer]map[string]Direction{PeerA: {}, PeerB: {}}}
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
	dc2     bool // the second channel exists
	neg     bool // the pre-negotiated channel exists
	// renegotiate is set when a track was added after the negotiation
	// completed: the next "advance" starts it over.
	renegotiate bool
	// tracks holds, per peer, the tracks added so far and their direction.
	tracks map[Peer]map[string]Direction
}

// sendable returns a track of peer that can carry media (not recvonly).
func (b *fuzzBuilder) sendable(peer Peer, pick uint8) (string, bool) {
	var out []string
	for _, l := range []string{AudioLabel, VideoLabel} {
		if dir, ok := b.tracks[peer][l]; ok && dir != "recvonly" {
			out = append(out, l)
		}
	}
	if len(out) == 0 {
		return "", false
	}
	return out[int(pick)%len(out)], true
}

func (b *fuzzBuilder) add(st fuzzStep) {
	peer := PeerA
	if st.Peer%2 == 1 {
		peer = PeerB
	}
	var s Step
	sleep := Step{Kind: KindSleep, Duration: Duration(time.Duration(st.A) * time.Millisecond)}
	switch st.Op % 16 {
	case 0, 1: // advance the negotiation; create the channel first if none yet
		switch {
		case !b.dc:
			s = Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel}
			b.dc = true
		case b.negDone == len(negotiation) && b.renegotiate:
			b.negDone, b.renegotiate = 1, false
			s = negotiation[0]
		case b.negDone < len(negotiation):
			s = negotiation[b.negDone]
			b.negDone++
		default:
			s = Step{Kind: KindAwait, Peer: peer, State: StatePCConnected, Timeout: Duration(5 * time.Second)}
		}
	case 2:
		s = Step{Kind: KindAwait, Peer: peer, State: allStates[int(st.A)%len(allStates)], Timeout: Duration(time.Duration(1+st.B%10) * time.Second)}
		if s.State == StateDCOpen {
			if !b.dc {
				s.State = StateICEChecking
			} else {
				s.Label = DataChannelLabel
			}
		}
	case 3, 4:
		if !b.dc {
			s = sleep
			break
		}
		s = Step{Kind: KindSend, Peer: peer, Label: DataChannelLabel, Count: int(st.A % 64), Size: int(st.B) * 64}
	case 5, 15:
		s = Step{Kind: KindSleep, Duration: Duration(time.Duration(st.A) * time.Duration(1+st.B%100) * time.Millisecond)}
	case 6, 7: // close
		closer := allClosers[int(st.Peer)%len(allClosers)]
		s = Step{Kind: KindClose, Peer: closer, Mode: allModes[int(st.A)%len(allModes)], Concurrency: int(st.B % 4)}
	case 8: // add a track (each peer has at most one audio and one video)
		label := []string{AudioLabel, VideoLabel}[st.A%2]
		if _, dup := b.tracks[peer][label]; dup {
			s = sleep
			break
		}
		dir := allDirections[int(st.B)%len(allDirections)]
		b.tracks[peer][label] = dir
		b.renegotiate = b.negDone == len(negotiation)
		s = Step{Kind: KindAddTrack, Peer: peer, Label: label, Media: Media(label), Direction: dir,
			Simulcast: label == VideoLabel && dir == DirectionDefault && st.B&0x80 != 0}
	case 9: // write media on a track that can send
		label, ok := b.sendable(peer, st.A)
		if !ok {
			s = sleep
			break
		}
		s = Step{Kind: KindWriteMedia, Peer: peer, Label: label, Count: 1 + int(st.B%32), Size: 100 + int(st.A)*4,
			Duration: Duration(time.Duration(st.B%3*10) * time.Millisecond)}
	case 10: // remove a track or stop its transceiver
		label, ok := b.sendable(peer, st.A)
		if !ok {
			s = sleep
			break
		}
		s = Step{Kind: []Kind{KindRemoveTrack, KindStopTransceiver}[st.B%2], Peer: peer, Label: label}
	case 11: // close the data channel
		if !b.dc {
			s = sleep
			break
		}
		s = Step{Kind: KindCloseDataChannel, Peer: peer, Label: DataChannelLabel, Mode: allModes[int(st.A)%len(allModes)]}
	case 12: // close from inside a callback, armed now
		s = Step{Kind: KindCloseOn, Peer: peer, On: allCallbacks[int(st.A)%len(allCallbacks)], Mode: ModeClose}
	case 13: // a network fault: seeded loss, or a partition that heals
		f := PacketFault{From: []Peer{"", PeerA, PeerB}[st.Peer%3], Action: "drop"}
		if st.A%2 == 0 {
			f.Probability = float64(1+st.B%30) / 100
		} else {
			f.After = Duration(time.Duration(st.B) * 20 * time.Millisecond)
			f.Until = f.After + Duration(time.Duration(1+int(st.A))*40*time.Millisecond)
		}
		b.sc.Faults.Packets = append(b.sc.Faults.Packets, f)
		s = sleep
	case 14: // topology and settings: the configuration surface of an application
		set := &b.sc.Settings
		// A%16 keeps 0..8 as they were when there were nine variants.
		switch st.A % 16 {
		case 0:
			b.sc.Topology.NAT = allNATTypes[int(st.B)%len(allNATTypes)]
		case 1:
			set.DetachDataChannels = true
		case 2:
			set.SCTP = drawSCTPOptions(rand.New(rand.NewPCG(uint64(st.B), 1)))
		case 3:
			set.DTLS = drawDTLSOptions(rand.New(rand.NewPCG(uint64(st.B), 2)))
		case 4:
			set.NoDefaultInterceptors, set.Interceptors = true, nil
		case 5: // a UDPMux, sometimes closed before the PeerConnection
			set.UDPMux = true
			set.CloseMuxFirst = set.CloseMuxFirst || st.B%4 == 3
		case 6:
			set.ICELiteB = true
		case 8: // a TURN relay, and sometimes relayed candidates only
			b.sc.Topology.TURN, set.RelayOnly = true, st.B%2 == 1
		case 9: // a second address per peer; B%4 == 3: A an SFU with more clients
			b.sc.Topology.ExtraIPs = true
			if st.B%4 == 3 {
				b.sc.Topology.SFUClients, b.sc.Topology.SFUCloseAll = 1+int(st.B/4)%MaxSFUClients, st.B/16%2 == 1
			}
		case 10:
			set.UDPMux, set.MultiUDPMux = true, true
		case 11: // the peer's uplink stalls for 6 to 60 s
			bp := &Backpressure{QueueBytes: 1500 + int(st.B)*64, Rate: 2000 + int(st.B)*4096}
			after := Duration(time.Duration(st.B) * 20 * time.Millisecond)
			bp.StallAfter, bp.StallUntil = after, after+Duration(time.Duration(6+int(st.B)%55)*time.Second)
			if peer == PeerA {
				b.sc.Topology.BackpressureA = bp
			} else {
				b.sc.Topology.BackpressureB = bp
			}
		case 12: // interceptors picked one by one (bit i of B: the i-th)
			if !set.NoDefaultInterceptors {
				set.Interceptors = nil
				for i, n := range allInterceptors {
					if st.B&(1<<i) != 0 {
						set.Interceptors = append(set.Interceptors, n)
					}
				}
				if len(set.Interceptors) == 0 {
					set.Interceptors = []InterceptorName{InterceptorCCFB}
				}
			}
		case 13: // only this peer trickles
			set.Trickle, set.TrickleOnly = true, peer
		case 14: // B's OnDataChannel handler: none, or registered late
			if st.B%2 == 0 {
				set.NoDataChannelHandlerB, set.DataChannelHandlerDelayB = true, 0
			} else {
				set.NoDataChannelHandlerB, set.DataChannelHandlerDelayB = false, Duration(time.Duration(st.B)*20*time.Millisecond)
			}
		case 15: // detached channels written through their ReadWriteCloser
			set.DetachDataChannels, set.DetachedWrites, set.DataChannelBlockWrite = true, true, st.B%2 == 1
		case 7: // a second channel, with options of its own, before any offer
			if b.dc && b.negDone == 0 && !b.neg && st.B%4 == 3 {
				// A channel both peers create with one id.
				id := uint16(100 + int(st.B))
				a := &ChannelOptions{Negotiated: true, ID: &id}
				bOpts := *a
				b.sc.Steps = append(b.sc.Steps, Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: NegotiatedChannelLabel, Channel: a})
				s = Step{Kind: KindCreateDataChannel, Peer: PeerB, Label: NegotiatedChannelLabel, Channel: &bOpts}
				b.neg = true
			} else if b.dc && b.negDone == 0 && !b.dc2 {
				s = Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: SecondChannelLabel, Channel: drawChannel(rand.New(rand.NewPCG(uint64(st.B), 3)))}
				b.dc2 = true
			}
		}
		if s.Kind == "" {
			s = sleep
		}
	}
	if st.Immediate {
		s.Immediate, s.Yields = true, int(st.Yields%65)
	}
	if st.Yields >= 224 && slices.Contains(allAsyncKinds, s.Kind) {
		s.Async = true // the next steps race it in flight
	}
	b.sc.Steps = append(b.sc.Steps, s)
}

// FuzzChoice is the meaning of one step chunk, for building corpus entries:
// Op is "advance", "await", "send", "sleep", "close", "add_track",
// "write_media", "track_op", "close_data_channel", "close_on", "fault" or
// "topology"; Peer is the closer for close (A, B or both), the actor for
// the others.
type FuzzChoice struct {
	Op        string
	Peer      Peer
	Immediate bool
}

func opName(op uint8) string {
	return [...]string{"advance", "advance", "await", "send", "send", "sleep", "close", "close",
		"add_track", "write_media", "track_op", "close_data_channel", "close_on", "fault", "topology", "sleep"}[op%16]
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
				peerOK = allClosers[int(st.Peer)%len(allClosers)] == c.Peer
			}
			if opName(st.Op) == c.Op && peerOK && st.Immediate == c.Immediate {
				out = append(out, chunk[:]...)
				break
			}
		}
	}
	return out
}
