package scenarios

import (
	"fmt"
	"time"
)

// Catalogue returns the named scenarios, one per interesting close point or
// feature. Each is a regression test (fuzz.TestCatalogue) and a seed of the
// fuzz corpus's families. Names are stable; seeds are fixed.
func Catalogue() []Scenario {
	var out []Scenario
	add := func(name string, sc Scenario) {
		sc.Name = name
		out = append(out, sc)
	}
	seed := uint64(1000)
	next := func() Scenario { seed++; return Base(seed) }
	connected := func() Scenario { // connected with the channel open on both sides, no close yet
		sc := WithClose(next(), CloseAt{Phase: PhaseDCOpen, Closer: PeerA, Mode: ModeClose}, 0, 0)
		sc.Steps = sc.Steps[:len(sc.Steps)-1]
		return sc
	}
	then := func(sc Scenario, steps ...Step) Scenario {
		sc.Steps = append(append([]Step(nil), sc.Steps...), steps...)
		return sc
	}
	u16 := func(v uint16) *uint16 { return &v }
	closeA := Step{Kind: KindClose, Peer: PeerA, Mode: ModeClose}

	// Every phase, closed by A with Close and by both with GracefulClose.
	for _, p := range allPhases {
		add("phase/"+string(p)+"/A-close", WithClose(next(), CloseAt{Phase: p, Closer: PeerA, Mode: ModeClose}, 10, 512))
		add("phase/"+string(p)+"/both-graceful", WithClose(next(), CloseAt{Phase: p, Closer: PeerBoth, Mode: ModeGraceful}, 10, 512))
	}
	// Inside one virtual instant: both close right after the last send (F1's shape).
	sc := WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerBoth, Mode: ModeClose}, 12, 1471)
	sc.Steps[len(sc.Steps)-1].Immediate, sc.Steps[len(sc.Steps)-1].Yields = true, 1
	add("instant/both-close-mid-transfer", sc)
	sc = WithClose(next(), CloseAt{Phase: PhaseAfterRemote, Closer: PeerB, Mode: ModeClose}, 0, 0)
	sc.Steps[len(sc.Steps)-1].Immediate = true
	add("instant/B-close-right-after-set-remote", sc)

	// Close from inside each callback.
	for _, c := range []struct {
		on    Callback
		peer  Peer
		state State
	}{
		{OnICECandidate, PeerA, ""}, {OnICEGatheringStateChange, PeerA, "gathering"},
		{OnICEConnectionStateChange, PeerA, "checking"}, {OnICEConnectionStateChange, PeerB, "connected"},
		{OnConnectionStateChange, PeerA, "connected"}, {OnSignalingStateChange, PeerB, "have-remote-offer"},
		{OnDataChannel, PeerB, ""}, {OnDataChannelOpen, PeerA, ""}, {OnDataChannelMessage, PeerB, ""},
		{OnNegotiationNeeded, PeerA, ""}, {OnDTLSStateChange, PeerA, "connecting"},
	} {
		arm := Step{Kind: KindCloseOn, Peer: c.peer, On: c.on, State: c.state, Mode: ModeClose}
		sc := WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeClose}, 3, 64)
		sc.Steps = append([]Step{arm}, sc.Steps[:len(sc.Steps)-1]...) // armed first; no other close
		name := "callback/" + string(c.peer) + "-close-in-" + string(c.on)
		if c.state != "" {
			name += "-" + string(c.state)
		}
		add(name, sc)
	}

	// Data channels.
	add("dc/close-channel-then-pc", then(connected(),
		Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: 5, Size: 100},
		Step{Kind: KindCloseDataChannel, Peer: PeerA, Label: DataChannelLabel, Mode: ModeClose}, closeA))
	add("dc/graceful-close-channel-mid-transfer", then(connected(),
		Step{Kind: KindSend, Peer: PeerB, Label: DataChannelLabel, Count: 50, Size: 4000},
		Step{Kind: KindCloseDataChannel, Peer: PeerB, Label: DataChannelLabel, Mode: ModeGraceful, Immediate: true}, closeA))
	for _, o := range []struct {
		name string
		opts ChannelOptions
	}{
		{"unordered", ChannelOptions{Unordered: true}},
		{"max-retransmits-0", ChannelOptions{Unordered: true, MaxRetransmits: u16(0)}},
		{"max-packet-lifetime-10ms", ChannelOptions{MaxPacketLifeTime: u16(10)}},
	} {
		sc := WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeClose}, 30, 1200)
		opts := o.opts
		sc.Steps[0].Channel = &opts
		add("dc/"+o.name+"-close-mid-transfer", sc)
	}
	neg := ChannelOptions{Negotiated: true, ID: u16(5)}
	sc = next()
	sc.Steps = []Step{
		{Kind: KindCreateDataChannel, Peer: PeerA, Label: "neg", Channel: &neg},
		{Kind: KindCreateDataChannel, Peer: PeerB, Label: "neg", Channel: &neg},
		{Kind: KindOffer, Peer: PeerA}, {Kind: KindApplyOffer, Peer: PeerB}, {Kind: KindAnswer, Peer: PeerB}, {Kind: KindApplyAnswer, Peer: PeerA},
		{Kind: KindAwait, Peer: PeerA, State: StateDCOpen, Label: "neg"},
		{Kind: KindSend, Peer: PeerA, Label: "neg", Count: 5, Size: 64},
		{Kind: KindClose, Peer: PeerB, Mode: ModeClose},
	}
	add("dc/negotiated-id-5-B-close", sc)
	add("dc/large-messages-200KiB-close", then(connected(),
		Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: 3, Size: 200 << 10}, closeA))
	add("dc/zero-byte-messages-close", then(connected(),
		Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: 10, Size: 0}, closeA))
	sc = then(connected(), Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: 2, Size: 64 << 10}, closeA)
	sc.Settings.SCTPMaxMessageSize = 16 << 10
	add("dc/message-over-max-size-close", sc)

	// Negotiation.
	add("negotiation/renegotiate-then-B-close", then(connected(),
		Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: "second"},
		Step{Kind: KindOffer, Peer: PeerA}, Step{Kind: KindApplyOffer, Peer: PeerB},
		Step{Kind: KindClose, Peer: PeerB, Mode: ModeClose}))
	add("negotiation/ice-restart-then-close", then(connected(),
		Step{Kind: KindOffer, Peer: PeerA, ICERestart: true}, Step{Kind: KindApplyOffer, Peer: PeerB},
		Step{Kind: KindAnswer, Peer: PeerB}, Step{Kind: KindApplyAnswer, Peer: PeerA},
		Step{Kind: KindSleep, Duration: Duration(time.Second)}, closeA))
	sc = next()
	sc.Steps = []Step{{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel},
		{Kind: KindOffer, Peer: PeerA}, {Kind: KindRollback, Peer: PeerA}, closeA}
	add("negotiation/rollback-then-close", sc)
	sc = next()
	sc.Steps = []Step{{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel},
		{Kind: KindCreateDataChannel, Peer: PeerB, Label: "b"},
		{Kind: KindOffer, Peer: PeerA}, {Kind: KindOffer, Peer: PeerB},
		{Kind: KindApplyOffer, Peer: PeerB}, {Kind: KindClose, Peer: PeerBoth, Mode: ModeClose}}
	add("negotiation/glare-then-both-close", sc)

	// Close actions.
	add("close/eight-concurrent-closes", then(connected(), Step{Kind: KindClose, Peer: PeerA, Mode: ModeClose, Concurrency: 8}))
	add("close/double-close", then(connected(), closeA, closeA))
	add("close/close-then-graceful", then(connected(), closeA, Step{Kind: KindClose, Peer: PeerA, Mode: ModeGraceful}))

	// Settings.
	sc = then(connected(), closeA)
	sc.Settings.DisableCloseByDTLS = true
	add("settings/disable-close-by-dtls-consent-failure", sc)
	sc = then(connected(), closeA)
	sc.Settings.DisableCloseByDTLS = true
	sc.Settings.ICEDisconnectedTimeout, sc.Settings.ICEFailedTimeout, sc.Settings.ICEKeepalive =
		Duration(time.Second), Duration(2*time.Second), Duration(500*time.Millisecond)
	add("settings/short-ice-timeouts", sc)
	sc = WithClose(next(), CloseAt{Phase: PhaseDTLSHandshake, Closer: PeerB, Mode: ModeClose}, 0, 0)
	sc.Settings.AnsweringDTLSRole = "server"
	add("settings/answerer-dtls-server-close-in-handshake", sc)
	sc = WithClose(next(), CloseAt{Phase: PhaseDTLSHandshake, Closer: PeerA, Mode: ModeGraceful}, 0, 0)
	sc.Topology.LinkDelay = Duration(50 * time.Millisecond)
	sc.Faults.SignalDelays = []Duration{Duration(30 * time.Millisecond), Duration(5 * time.Millisecond)}
	sc.Settings.Trickle = true
	add("settings/slow-link-trickle-graceful-in-handshake", sc)

	// Media.
	add("media/A-close-mid-media", ConnectMediaClose(next().Seed, false, PeerA, ModeClose))
	add("media/both-graceful-media-and-data", ConnectMediaClose(next().Seed, true, PeerBoth, ModeGraceful))
	mediaConnected := func() Scenario { // A's audio and video flowing to B, no close yet
		sc := ConnectMediaClose(next().Seed, false, PeerA, ModeClose)
		sc.Steps = sc.Steps[:len(sc.Steps)-1]
		return sc
	}
	add("media/remove-track-then-close", then(mediaConnected(),
		Step{Kind: KindRemoveTrack, Peer: PeerA, Label: AudioLabel}, closeA))
	add("media/stop-transceiver-then-B-close", then(mediaConnected(),
		Step{Kind: KindStopTransceiver, Peer: PeerA, Label: VideoLabel},
		Step{Kind: KindClose, Peer: PeerB, Mode: ModeClose, Immediate: true}))
	sc = WithClose(next(), CloseAt{Phase: PhaseDTLSHandshake, Closer: PeerB, Mode: ModeClose}, 0, 0)
	sc.Steps = append([]Step{{Kind: KindAddTrack, Peer: PeerA, Label: AudioLabel, Media: MediaAudio, Direction: "sendrecv"},
		{Kind: KindAddTrack, Peer: PeerB, Label: VideoLabel, Media: MediaVideo, Direction: "recvonly"}}, sc.Steps...)
	add("media/transceivers-B-close-in-handshake", sc)
	sc = ConnectMediaClose(next().Seed, false, PeerA, ModeClose)
	sc.Steps = append([]Step{{Kind: KindCloseOn, Peer: PeerB, On: OnTrack, State: State(VideoLabel), Mode: ModeClose}}, sc.Steps[:len(sc.Steps)-1]...)
	add("callback/B-close-in-track-video", sc)

	// Network.
	for _, nat := range []NATType{NATFullCone, NATSymmetric} {
		sc = WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeClose}, 10, 512)
		sc.Topology.NAT = nat
		add("net/nat-"+string(nat)+"-A-close-mid-transfer", sc)
	}
	sc = then(connected(), Step{Kind: KindSleep, Duration: Duration(3 * time.Second)}, closeA)
	sc.Faults.Packets = []PacketFault{{Action: "drop", After: Duration(2 * time.Second), Until: Duration(20 * time.Second)}}
	add("net/close-during-two-way-partition", sc)
	sc = WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerBoth, Mode: ModeGraceful}, 20, 1000)
	sc.Faults.Packets = []PacketFault{{Action: "drop", Probability: 0.1}}
	add("net/loss-10pct-both-graceful", sc)
	sc = WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerB, Mode: ModeClose}, 20, 1000)
	sc.Faults.Packets = []PacketFault{{Action: "duplicate", Probability: 0.5, Delay: Duration(5 * time.Millisecond)}}
	add("net/duplicates-B-close", sc)

	// Detached data channels (F11).
	sc = WithClose(next(), CloseAt{Phase: PhaseMidTransfer, Closer: PeerA, Mode: ModeGraceful}, 10, 512)
	sc.Settings.DetachDataChannels = true
	add("dc/detached-A-graceful-mid-transfer", sc)

	for i := range out {
		if err := Validate(&out[i]); err != nil {
			panic(fmt.Sprintf("catalogue scenario %s is invalid: %v", out[i].Name, err))
		}
	}
	return out
}
