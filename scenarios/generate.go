package scenarios

import (
	"bytes"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"time"
)

// Phase is a point of negotiation or data flow at which a close is placed.
type Phase string

// Close phases, in the order a connection passes through them.
const (
	PhaseBeforeOffer   Phase = "before_offer"
	PhaseAfterSetLocal Phase = "after_set_local"
	PhaseAfterRemote   Phase = "after_set_remote"
	PhaseICEChecking   Phase = "ice_checking"
	PhaseDTLSHandshake Phase = "dtls_handshake"
	PhaseDCOpen        Phase = "dc_open"
	PhaseMidTransfer   Phase = "mid_transfer"
)

// Phases lists every close phase in connection order.
var allPhases = []Phase{PhaseBeforeOffer, PhaseAfterSetLocal, PhaseAfterRemote, PhaseICEChecking,
	PhaseDTLSHandshake, PhaseDCOpen, PhaseMidTransfer}

// Closers lists who can close: A, B or both.
var allClosers = []Peer{PeerA, PeerB, PeerBoth}

// Modes lists the close modes.
var allModes = []CloseMode{ModeClose, ModeGraceful}

// DataChannelLabel is the label of the data channel the built-in scenarios use.
const DataChannelLabel = "dc"

// CloseAt is a close point: where, by whom and how.
type CloseAt struct {
	Phase  Phase
	Closer Peer
	Mode   CloseMode
}

// Base returns a scenario with defaults for seed and no steps: fixed ports
// derived from the seed, no faults.
func Base(seed uint64) Scenario {
	return Scenario{
		Version:  Version,
		Seed:     seed,
		Topology: Topology{PortA: 10000 + uint16(seed%5000), PortB: 20000 + uint16(seed%5000)},
	}
}

// WithClose returns sc with the steps of a connection that A offers, closed
// at c: A creates data channel "dc", A offers, B answers, both await the
// channel, exchange messages, and the close step is placed at c.Phase.
// msgs is the number of messages each side sends in PhaseMidTransfer.
func WithClose(sc Scenario, c CloseAt, msgs, size int) Scenario {
	closeStep := Step{Kind: KindClose, Peer: c.Closer, Mode: c.Mode}
	watcher := c.Closer
	if watcher == PeerBoth {
		watcher = PeerA
	}
	steps := []Step{{Kind: KindCreateDataChannel, Peer: PeerA, Label: DataChannelLabel}}
	add := func(s ...Step) { steps = append(steps, s...) }
	at := func(p Phase) bool {
		if c.Phase == p {
			add(closeStep)
			return true
		}
		return false
	}
	sc.Name = fmt.Sprintf("close-%s-%s-%s", c.Phase, c.Closer, c.Mode)
	sc.Phase = c.Phase
	if at(PhaseBeforeOffer) {
		sc.Steps = steps
		return sc
	}
	add(Step{Kind: KindOffer, Peer: PeerA})
	if !at(PhaseAfterSetLocal) {
		add(Step{Kind: KindApplyOffer, Peer: PeerB})
		if !at(PhaseAfterRemote) {
			add(Step{Kind: KindAnswer, Peer: PeerB}, Step{Kind: KindApplyAnswer, Peer: PeerA},
				Step{Kind: KindAwait, Peer: watcher, State: StateICEChecking})
			if !at(PhaseICEChecking) {
				add(Step{Kind: KindAwait, Peer: watcher, State: StateDTLSConnecting})
				if !at(PhaseDTLSHandshake) {
					add(Step{Kind: KindAwait, Peer: PeerA, State: StateDCOpen, Label: DataChannelLabel},
						Step{Kind: KindAwait, Peer: PeerB, State: StateDCOpen, Label: DataChannelLabel})
					if !at(PhaseDCOpen) {
						add(Step{Kind: KindSend, Peer: PeerA, Label: DataChannelLabel, Count: msgs, Size: size},
							Step{Kind: KindSend, Peer: PeerB, Label: DataChannelLabel, Count: msgs, Size: size})
						at(PhaseMidTransfer)
					}
				}
			}
		}
	}
	sc.Steps = steps
	return sc
}

// ConnectDataClose is the benchmark scenario: connect, msgs messages each
// way, let them arrive, close both, settle.
func ConnectDataClose(seed uint64, msgs int) Scenario {
	sc := WithClose(Base(seed), CloseAt{Phase: PhaseMidTransfer, Closer: PeerBoth, Mode: ModeClose}, msgs, 100)
	last := sc.Steps[len(sc.Steps)-1]
	sc.Steps = append(sc.Steps[:len(sc.Steps)-1], Step{Kind: KindSleep, Duration: Duration(100 * time.Millisecond)}, last)
	sc.Name = "connect-data-close"
	sc.Settle = Duration(time.Second)
	return sc
}

// Generate returns the valid scenario of seed: a close point, settings and a
// fault schedule, all drawn from a generator seeded with seed alone.
// The same seed always gives the same scenario.
func Generate(seed uint64) Scenario {
	r := rand.New(rand.NewPCG(seed, 0x636c6f736573696d)) // "closesim"
	c := CloseAt{
		Phase:  allPhases[r.IntN(len(allPhases))],
		Closer: allClosers[r.IntN(len(allClosers))],
		Mode:   allModes[r.IntN(len(allModes))],
	}
	sc := Base(seed)
	sc.Settings = Settings{Trickle: r.IntN(2) == 0, DisableCloseByDTLS: r.IntN(4) == 0}
	if r.IntN(2) == 0 {
		sc.Topology.LinkDelay = Duration(time.Duration(r.IntN(20)) * time.Millisecond)
	}
	if r.IntN(2) == 0 {
		delays := make([]Duration, 1+r.IntN(8))
		for i := range delays {
			delays[i] = Duration(time.Duration(r.IntN(50)) * time.Millisecond)
		}
		sc.Faults.SignalDelays = delays
	}
	msgs, size := 1+r.IntN(50), r.IntN(4096)
	// Swarm testing, as TigerBeetle's VOPR does: each seed turns a random
	// subset of the optional features on, so rare combinations get weight.
	// The density varies by seed too: sparse seeds keep the plain close
	// points common, dense ones pile features up.
	density := []float64{0.15, 0.35, 0.6}[r.IntN(3)]
	swarm := drawSwarm(r, density)
	var tags []string
	on := func(bit int, tag string) bool {
		if swarm&(1<<bit) == 0 {
			return false
		}
		tags = append(tags, tag)
		return true
	}
	if on(0, "big") {
		// Large messages, few of them: megabytes through SCTP cost real
		// CPU time, and a slow run would look like a wedge.
		size, msgs = 64<<10+r.IntN(MaxMessageSize-64<<10), 1+r.IntN(3)
	}
	callback := on(8, "callback")
	if callback {
		// A close from inside a callback replaces the close step; connect
		// and transfer fully so that every callback has a chance to fire.
		c.Phase = PhaseMidTransfer
	}
	sc = WithClose(sc, c, msgs, size)
	closeName := sc.Name
	last := len(sc.Steps) - 1
	if r.IntN(2) == 0 {
		// Half the closes land inside one virtual instant, right after the
		// previous step, while the goroutines it woke are mid-flight.
		sc.Steps[last].Immediate = true
		sc.Steps[last].Yields = drawYields(r)
	}
	if on(1, "chan") {
		sc.Steps[0].Channel = drawChannel(r)
	}
	if on(2, "timeouts") {
		sc.Settings.ICEDisconnectedTimeout = Duration(time.Duration(1+r.IntN(5)) * time.Second)
		sc.Settings.ICEFailedTimeout = Duration(time.Duration(1+r.IntN(10)) * time.Second)
		sc.Settings.ICEKeepalive = Duration(time.Duration(200+r.IntN(1800)) * time.Millisecond)
	}
	if on(3, "dtlsrole") {
		sc.Settings.AnsweringDTLSRole = [...]DTLSRole{DTLSRoleClient, DTLSRoleServer}[r.IntN(2)]
	}
	connected := c.Phase == PhaseDCOpen || c.Phase == PhaseMidTransfer
	if connected && on(4, "reneg") {
		then := Step{Kind: KindApplyOffer, Peer: PeerB}
		if r.IntN(3) == 0 {
			then = Step{Kind: KindRollback, Peer: PeerA} // A takes its offer back
		}
		sc.Steps = slices.Insert(sc.Steps, last, Step{Kind: KindOffer, Peer: PeerA, ICERestart: r.IntN(2) == 0}, then)
		last += 2
	}
	if c.Phase == PhaseAfterSetLocal && on(4, "rollback") {
		sc.Steps = slices.Insert(sc.Steps, last, Step{Kind: KindRollback, Peer: PeerA}) // A takes its first offer back
		last++
	}
	if c.Phase != PhaseBeforeOffer && on(5, "dcclose") {
		sc.Steps = slices.Insert(sc.Steps, last, Step{Kind: KindCloseDataChannel, Peer: Peer([...]Peer{PeerA, PeerB}[r.IntN(2)]),
			Label: DataChannelLabel, Mode: allModes[r.IntN(2)]})
		last++
	}
	if on(6, "concurrent") {
		sc.Steps[last].Concurrency = 2 + r.IntN(7)
	}
	if on(7, "twice") {
		again := sc.Steps[last]
		again.Immediate, again.Yields, again.Mode = r.IntN(2) == 0, 0, allModes[r.IntN(2)]
		sc.Steps = append(sc.Steps, again)
	}
	var cb Callback
	if callback {
		// Close from inside a callback instead: armed before anything runs.
		cb = allCallbacks[r.IntN(len(allCallbacks))]
		arm := Step{Kind: KindCloseOn, Peer: []Peer{PeerA, PeerB}[r.IntN(2)], On: cb, Mode: ModeClose}
		if details := callbackDetails[cb]; len(details) > 0 && r.IntN(2) == 0 {
			arm.State = State(details[r.IntN(len(details))]) // a later firing, not the first
		}
		sc.Steps = append([]Step{arm}, sc.Steps[:last]...)
	}
	if on(9, "pktfault") {
		sc.Faults.Packets = []PacketFault{drawPacketFault(r)}
	}
	if on(10, "backpressure") {
		bp := &Backpressure{QueueBytes: 1500 + r.IntN(64<<10), Rate: 2000 + r.IntN(1<<20)}
		if r.IntN(2) == 0 {
			sc.Topology.BackpressureA = bp
		} else {
			sc.Topology.BackpressureB = bp
		}
	}
	if on(11, "media") || cb == OnTrack {
		// Track operations and media-only sessions at even odds, whatever
		// the seed's density: their close points need both.
		op := r.IntN(2) == 0
		if op {
			tags = append(tags, "mediaop")
		}
		addMedia(r, &sc, connected, op)
		if r.IntN(2) == 0 {
			tags = append(tags, "nodc")
			dropDataChannel(&sc)
		}
	}
	if on(20, "async") {
		// The step before the close runs async: the close races it in flight
		// (a SetRemoteDescription, a send, a track operation).
		if i := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindClose }); i > 0 && slices.Contains(allAsyncKinds, sc.Steps[i-1].Kind) {
			sc.Steps[i-1].Async = true
			sc.Steps[i].Immediate, sc.Steps[i].Yields = true, drawYields(r)
		}
	}
	if on(19, "sleep") {
		// Close after a quiet pause instead of right after the last step.
		if i := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindClose }); i >= 0 {
			sc.Steps[i].Immediate, sc.Steps[i].Yields = false, 0
			sc.Steps = slices.Insert(sc.Steps, i, Step{Kind: KindSleep, Duration: Duration(time.Duration(1+r.IntN(3000)) * time.Millisecond)})
		}
	}
	if on(13, "loss") {
		sc.Faults.Packets = append(sc.Faults.Packets, PacketFault{From: []Peer{"", PeerA, PeerB}[r.IntN(3)], Action: "drop",
			Probability: float64(1+r.IntN(30)) / 100})
	}
	if on(14, "partition") {
		after := time.Duration(r.IntN(3000)) * time.Millisecond
		sc.Faults.Packets = append(sc.Faults.Packets, PacketFault{From: []Peer{"", PeerA, PeerB}[r.IntN(3)], Action: "drop",
			After: Duration(after), Until: Duration(after + time.Duration(1+r.IntN(10000))*time.Millisecond)})
	}
	if on(15, "nat") {
		sc.Topology.NAT = allNATTypes[r.IntN(len(allNATTypes))]
	}
	if on(16, "detach") {
		sc.Settings.DetachDataChannels = true
	}
	if on(17, "dup") {
		sc.Faults.Packets = append(sc.Faults.Packets, PacketFault{Action: "duplicate", Probability: float64(1+r.IntN(50)) / 100,
			Delay: Duration(time.Duration(r.IntN(20)) * time.Millisecond)})
	}
	widen(r, &sc, on)
	// A second word of swarm bits, drawn after every draw above: a seed
	// whose second word is all off draws what it drew before it existed.
	swarm = drawSwarm(r, density)
	widenMore(r, &sc, connected, on)
	tag := ""
	if len(tags) > 0 {
		tag = "+" + strings.Join(tags, "+")
	}
	sc.Name = fmt.Sprintf("gen-%d%s/%s", seed, tag, closeName)
	return sc
}

// SecondChannelLabel and ThirdChannelLabel label the extra data channels
// of the "channels" dimension.
const (
	SecondChannelLabel = "dc2"
	ThirdChannelLabel  = "dc3"
	// ShortLivedChannelLabel labels the "openclose" dimension's channel,
	// closed right after it is created.
	ShortLivedChannelLabel = "dc-short"
)

// widen adds the dimensions of an application's configuration surface
// (issue #14), each a swarm bit of its own. It draws only after every
// other draw of Generate, so a seed whose new bits are off still draws
// the scenario it drew before they existed.
func widen(r *rand.Rand, sc *Scenario, on func(bit int, tag string) bool) {
	if on(21, "sctpopts") {
		sc.Settings.SCTP = drawSCTPOptions(r)
	}
	if on(22, "dtlsopts") {
		sc.Settings.DTLS = drawDTLSOptions(r)
	}
	if on(23, "nointerceptors") {
		sc.Settings.NoDefaultInterceptors = true
	}
	if on(24, "udpmux") {
		sc.Settings.UDPMux = true
	}
	if on(25, "icelite") {
		sc.Settings.ICELiteB = true
	}
	if first := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindCreateDataChannel }); first >= 0 && on(26, "channels") {
		// More channels at once, each with its own reliability, created
		// right after the first (before any offer).
		extra := []Step{{Kind: KindCreateDataChannel, Peer: PeerA, Label: SecondChannelLabel, Channel: drawChannel(r)}}
		if r.IntN(2) == 0 {
			extra = append(extra, Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: ThirdChannelLabel, Channel: drawChannel(r)})
		}
		sc.Steps = slices.Insert(sc.Steps, first+1, extra...)
	}
	if on(27, "longpartition") {
		// Long enough to exhaust SCTP's and DTLS's retransmissions: from
		// the handshake, a channel's opening or the transfer on.
		after := time.Duration(r.IntN(1500)) * time.Millisecond
		sc.Faults.Packets = append(sc.Faults.Packets, PacketFault{From: []Peer{"", PeerA, PeerB}[r.IntN(3)], Action: FaultDrop,
			After: Duration(after), Until: Duration(after + time.Duration(30+r.IntN(31))*time.Second)})
	}
	if on(28, "turn") {
		sc.Topology.TURN = true
		sc.Settings.RelayOnly = r.IntN(2) == 0
	}
	if first := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindCreateDataChannel }); first >= 0 && on(29, "openclose") {
		// A channel opened and closed at once, before it could open: the
		// close lands while it is still connecting.
		sc.Steps = slices.Insert(sc.Steps, first+1,
			Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: ShortLivedChannelLabel, Channel: drawChannel(r)},
			Step{Kind: KindCloseDataChannel, Peer: PeerA, Label: ShortLivedChannelLabel, Mode: allModes[r.IntN(2)]})
	}
}

// drawSwarm draws a word of swarm bits, each on with probability density.
func drawSwarm(r *rand.Rand, density float64) uint32 {
	var swarm uint32
	for bit := range 32 {
		if r.Float64() < density {
			swarm |= 1 << bit
		}
	}
	return swarm
}

// Labels of the widened generator's channels and tracks.
const (
	// NegotiatedChannelLabel labels the "negotiated" dimension's channel,
	// created by both peers with one id.
	NegotiatedChannelLabel = "dc-neg"
	// RenegotiatedTrackLabel labels the "renegtracks" dimension's track,
	// added (and sometimes removed) by a renegotiation once connected.
	RenegotiatedTrackLabel = "screen"
)

// widenMore adds the dimensions of the second swarm word (issue #14,
// continued): several addresses per peer, a MultiUDPMux, a stalled
// uplink, picked interceptors, one-sided trickle, pre-negotiated
// channels, B's OnDataChannel handler missing or late, detached writes in
// flight, several tracks, renegotiations that add and remove a track, a
// UDPMux closed before its PeerConnection, A as an SFU with more clients,
// and simulcast video.
func widenMore(r *rand.Rand, sc *Scenario, connected bool, on func(bit int, tag string) bool) {
	if on(0, "extraips") {
		sc.Topology.ExtraIPs = true
	}
	if on(1, "multimux") {
		sc.Settings.UDPMux, sc.Settings.MultiUDPMux = true, true
	}
	if on(2, "stall") {
		// The uplink stops for a while: writes block at the close, and
		// writers must be released by deadlines or by closing the socket.
		bp := sc.Topology.BackpressureA
		if bp == nil {
			bp = sc.Topology.BackpressureB
		}
		if bp == nil {
			bp = &Backpressure{QueueBytes: 1500 + r.IntN(16<<10), Rate: 2000 + r.IntN(1<<20)}
			if r.IntN(2) == 0 {
				sc.Topology.BackpressureA = bp
			} else {
				sc.Topology.BackpressureB = bp
			}
		}
		after := time.Duration(r.IntN(3000)) * time.Millisecond
		bp.StallAfter, bp.StallUntil = Duration(after), Duration(after+time.Duration(6+r.IntN(55))*time.Second)
	}
	if !sc.Settings.NoDefaultInterceptors && on(3, "interceptors") {
		for _, n := range allInterceptors {
			if r.IntN(2) == 0 {
				sc.Settings.Interceptors = append(sc.Settings.Interceptors, n)
			}
		}
		if len(sc.Settings.Interceptors) == 0 {
			sc.Settings.Interceptors = []InterceptorName{InterceptorCCFB}
		}
	}
	if on(4, "trickleonly") {
		sc.Settings.Trickle, sc.Settings.TrickleOnly = true, []Peer{PeerA, PeerB}[r.IntN(2)]
	}
	first := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindCreateDataChannel })
	if first >= 0 && on(5, "negotiated") {
		addNegotiated(r, sc, first)
	}
	if first >= 0 && on(6, "ondc") {
		if r.IntN(2) == 0 {
			sc.Settings.NoDataChannelHandlerB = true
			withoutRemoteChannelsOnB(sc)
		} else {
			sc.Settings.DataChannelHandlerDelayB = Duration(time.Duration(r.IntN(3000)) * time.Millisecond)
		}
	}
	// Detached writes in flight when their own peer closes: the last send
	// before the close runs async, on the closing peer. (A blocked write
	// on a peer nobody closes waits for good once its connection dies:
	// F25, not what this dimension is after.)
	if i := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindClose }); i > 0 && sc.Steps[i-1].Kind == KindSend &&
		(sc.Steps[i].Peer == PeerBoth || sc.Steps[i].Peer == sc.Steps[i-1].Peer) && on(7, "detachwrite") {
		sc.Settings.DetachDataChannels, sc.Settings.DetachedWrites = true, true
		sc.Settings.DataChannelBlockWrite = r.IntN(2) == 0
		sc.Steps[i-1].Async = true
	}
	if on(8, "tracks") {
		addTracks(r, sc, connected)
	}
	if connected && on(9, "renegtracks") {
		addRenegotiatedTrack(r, sc)
	}
	if sc.Settings.UDPMux && on(10, "muxfirst") {
		sc.Settings.CloseMuxFirst = true
	}
	if on(11, "sfu") {
		sc.Topology.SFUClients, sc.Topology.SFUCloseAll = 1+r.IntN(MaxSFUClients), r.IntN(2) == 0
	}
	// Every video track of the default direction sends simulcast layers.
	simulcastable := func(s Step) bool {
		return s.Kind == KindAddTrack && s.Media == MediaVideo && s.Direction == DirectionDefault
	}
	if slices.ContainsFunc(sc.Steps, simulcastable) && on(12, "simulcast") {
		for i := range sc.Steps {
			sc.Steps[i].Simulcast = simulcastable(sc.Steps[i])
		}
	}
}

// addNegotiated adds a pre-negotiated channel that both peers create with
// one id, after the channel at first, and, where the scenario awaits its
// channels open, awaits it too and sends on it.
func addNegotiated(r *rand.Rand, sc *Scenario, first int) {
	o := drawChannel(r)
	id := uint16(100 + r.IntN(900))
	o.Negotiated, o.ID = true, &id
	oB := *o
	sc.Steps = slices.Insert(sc.Steps, first+1,
		Step{Kind: KindCreateDataChannel, Peer: PeerA, Label: NegotiatedChannelLabel, Channel: o},
		Step{Kind: KindCreateDataChannel, Peer: PeerB, Label: NegotiatedChannelLabel, Channel: &oB})
	i := slices.IndexFunc(sc.Steps, func(s Step) bool {
		return s.Kind == KindAwait && s.Peer == PeerB && s.State == StateDCOpen && s.Label == DataChannelLabel
	})
	if i < 0 {
		return
	}
	sc.Steps = slices.Insert(sc.Steps, i+1,
		Step{Kind: KindAwait, Peer: PeerA, State: StateDCOpen, Label: NegotiatedChannelLabel},
		Step{Kind: KindAwait, Peer: PeerB, State: StateDCOpen, Label: NegotiatedChannelLabel},
		Step{Kind: KindSend, Peer: []Peer{PeerA, PeerB}[r.IntN(2)], Label: NegotiatedChannelLabel, Count: 1 + r.IntN(5), Size: r.IntN(2048)})
}

// withoutRemoteChannelsOnB rewrites the steps for a B that never sees the
// channels A opens: B awaits the connection instead of A's channels, and
// no longer sends on them or closes them. B's own (negotiated) channels
// stay.
func withoutRemoteChannelsOnB(sc *Scenario) {
	own := map[string]bool{}
	var out []Step
	for _, s := range sc.Steps {
		if s.Peer == PeerB && s.Kind == KindCreateDataChannel {
			own[s.Label] = true
		}
		remote := s.Peer == PeerB && s.Label != "" && !own[s.Label]
		switch {
		case remote && s.Kind == KindAwait && s.State == StateDCOpen:
			s.State, s.Label = StatePCConnected, ""
		case remote && (s.Kind == KindSend || s.Kind == KindCloseDataChannel):
			continue
		}
		out = append(out, s)
	}
	sc.Steps = out
}

// addTracks gives A (and sometimes B) an audio and a video track at once,
// adding whichever kind the peer does not have yet before the first offer;
// once connected, each sending track writes samples before the close.
func addTracks(r *rand.Rand, sc *Scenario, connected bool) {
	offer := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindOffer })
	if offer < 0 {
		offer = len(sc.Steps)
	}
	var adds, writes []Step
	for i, peer := range []Peer{PeerA, PeerB} {
		if i == 1 && r.IntN(3) != 0 {
			break
		}
		for _, media := range []Media{MediaAudio, MediaVideo} {
			if slices.ContainsFunc(sc.Steps, func(s Step) bool {
				return s.Kind == KindAddTrack && s.Peer == peer && s.Label == string(media)
			}) {
				continue
			}
			dir := allDirections[r.IntN(len(allDirections))]
			adds = append(adds, Step{Kind: KindAddTrack, Peer: peer, Label: string(media), Media: media, Direction: dir})
			if dir != DirectionRecvOnly {
				writes = append(writes, Step{Kind: KindWriteMedia, Peer: peer, Label: string(media), Count: 1 + r.IntN(30), Size: 100 + r.IntN(1200)})
			}
		}
	}
	sc.Steps = slices.Insert(sc.Steps, offer, adds...)
	if !connected {
		return
	}
	at := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindSend || s.Kind == KindClose })
	if at < 0 {
		at = len(sc.Steps)
	}
	sc.Steps = slices.Insert(sc.Steps, at, writes...)
}

// addRenegotiatedTrack adds, right before the close, a renegotiation in
// which A adds a video track and sends on it, and, half the time, a second
// one that removes it again.
func addRenegotiatedTrack(r *rand.Rand, sc *Scenario) {
	at := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindClose })
	if at < 0 {
		at = len(sc.Steps)
	}
	renegotiate := []Step{{Kind: KindOffer, Peer: PeerA}, {Kind: KindApplyOffer, Peer: PeerB},
		{Kind: KindAnswer, Peer: PeerB}, {Kind: KindApplyAnswer, Peer: PeerA}}
	steps := []Step{{Kind: KindAddTrack, Peer: PeerA, Label: RenegotiatedTrackLabel, Media: MediaVideo,
		Direction: []Direction{DirectionDefault, DirectionSendRecv, DirectionSendOnly}[r.IntN(3)]}}
	steps = append(steps, renegotiate...)
	steps = append(steps, Step{Kind: KindWriteMedia, Peer: PeerA, Label: RenegotiatedTrackLabel, Count: 1 + r.IntN(30), Size: 100 + r.IntN(1200)})
	if r.IntN(2) == 0 {
		steps = append(steps, Step{Kind: KindRemoveTrack, Peer: PeerA, Label: RenegotiatedTrackLabel})
		steps = append(steps, renegotiate...)
	}
	sc.Steps = slices.Insert(sc.Steps, at, steps...)
}

// drawSCTPOptions draws SettingEngine SCTP options.
func drawSCTPOptions(r *rand.Rand) *SCTPOptions {
	o := &SCTPOptions{ZeroChecksum: r.IntN(2) == 0}
	if r.IntN(2) == 0 {
		o.MaxReceiveBufferSize = uint32(1500 + r.IntN(256<<10))
	}
	if r.IntN(2) == 0 {
		o.RTOMax = Duration(time.Duration(100+r.IntN(5000)) * time.Millisecond)
	}
	if r.IntN(3) == 0 {
		o.MinCwnd = uint32(1200 + r.IntN(64<<10))
	}
	return o
}

// drawDTLSOptions draws SettingEngine DTLS options.
func drawDTLSOptions(r *rand.Rand) *DTLSOptions {
	o := &DTLSOptions{}
	if r.IntN(2) == 0 {
		o.RetransmissionInterval = Duration(time.Duration(10+r.IntN(1000)) * time.Millisecond)
	}
	if r.IntN(2) == 0 {
		o.ReplayProtectionWindow = uint(r.IntN(1024))
	}
	return o
}

// addMedia adds tracks to a generated scenario: A (and sometimes B) adds
// an audio or video track before the first offer, in a random direction;
// once connected, the track's owner writes samples, and with op it then
// removes the track or stops its transceiver before the close.
func addMedia(r *rand.Rand, sc *Scenario, connected, op bool) {
	offer := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindOffer })
	if offer < 0 {
		offer = len(sc.Steps) // closed before any offer: the track never negotiates
	}
	type added struct {
		peer Peer
		dir  Direction
	}
	var tracks []added
	var adds []Step
	for i, peer := range []Peer{PeerA, PeerB} {
		if i == 1 && r.IntN(3) != 0 {
			break
		}
		media := []Media{MediaAudio, MediaVideo}[r.IntN(2)]
		dir := allDirections[r.IntN(len(allDirections))]
		adds = append(adds, Step{Kind: KindAddTrack, Peer: peer, Label: string(media), Media: media, Direction: dir})
		tracks = append(tracks, added{peer, dir})
	}
	sc.Steps = slices.Insert(sc.Steps, max(offer, 0), adds...)
	if !connected {
		return
	}
	// Media flows before the data (or, without data, before the close).
	at := slices.IndexFunc(sc.Steps, func(s Step) bool { return s.Kind == KindSend || s.Kind == KindClose })
	if at < 0 {
		at = len(sc.Steps) // closed from a callback
	}
	var ops []Step
	for k, t := range tracks {
		if t.dir == "recvonly" {
			continue
		}
		label := adds[k].Label
		ops = append(ops, Step{Kind: KindWriteMedia, Peer: t.peer, Label: label, Count: 1 + r.IntN(50), Size: 100 + r.IntN(1200),
			Duration: Duration(time.Duration(r.IntN(3)*10) * time.Millisecond)})
		if op {
			ops = append(ops, Step{Kind: []Kind{KindRemoveTrack, KindStopTransceiver}[r.IntN(2)], Peer: t.peer, Label: label})
		}
	}
	sc.Steps = slices.Insert(sc.Steps, at, ops...)
}

// callbackDetails are the details a close_on can wait for, per callback,
// beyond its first firing.
var callbackDetails = map[Callback][]string{
	OnICEConnectionStateChange: {"checking", "connected"},
	OnConnectionStateChange:    {"connecting", "connected"},
	OnSignalingStateChange:     {"have-local-offer", "have-remote-offer", "stable"},
	OnICEGatheringStateChange:  {"gathering", "complete"},
	OnDTLSStateChange:          {"connecting", "connected"},
}

// dropDataChannel turns a scenario into a media-only one: no data channel,
// no sends or channel closes, and awaits for the channel become awaits for
// the connection.
func dropDataChannel(sc *Scenario) {
	var out []Step
	for _, s := range sc.Steps {
		switch {
		case s.Kind == KindCreateDataChannel, s.Kind == KindSend, s.Kind == KindCloseDataChannel:
			continue
		case s.Kind == KindAwait && s.State == StateDCOpen:
			s.State, s.Label = StatePCConnected, ""
		}
		out = append(out, s)
	}
	sc.Steps = out
}

// drawPacketFault draws a fault on one control or data packet class, in
// one direction, for the first few packets or from a time on.
func drawPacketFault(r *rand.Rand) PacketFault {
	classes := []PacketClass{ClassSTUN, ClassDTLSHandshake, ClassDTLSChangeCipherSpec, ClassDTLSAlert, ClassDTLSApplicationData}
	f := PacketFault{Class: classes[r.IntN(len(classes))], From: []Peer{PeerA, PeerB}[r.IntN(2)],
		Action: []FaultAction{FaultDrop, FaultDelay, FaultDuplicate}[r.IntN(3)]}
	if r.IntN(2) == 0 {
		f.FirstN = 1 + r.IntN(5)
	} else {
		f.After = Duration(time.Duration(r.IntN(200)) * time.Millisecond)
	}
	if f.Action != "drop" {
		f.Delay = Duration(time.Duration(1+r.IntN(500)) * time.Millisecond)
	}
	return f
}

// drawChannel draws data channel options: unordered, partially reliable
// by retransmits or by lifetime.
func drawChannel(r *rand.Rand) *ChannelOptions {
	o := &ChannelOptions{Unordered: r.IntN(2) == 0}
	if r.IntN(3) == 0 {
		o.BufferedAmountLowThreshold = uint64(r.IntN(64 << 10))
	}
	switch r.IntN(3) {
	case 0:
		n := uint16(r.IntN(4))
		o.MaxRetransmits = &n
	case 1:
		n := uint16(r.IntN(200))
		o.MaxPacketLifeTime = &n
	}
	return o
}

// drawYields draws a number of scheduler yields, weighted toward few: most
// races that live inside one instant need 0 to 64 yields to be reached.
func drawYields(r *rand.Rand) int {
	switch n := r.IntN(10); {
	case n < 3:
		return 0 // right behind the previous step: its goroutines have not run yet
	case n < 6:
		return 1 + r.IntN(8)
	case n < 8:
		return 9 + r.IntN(56)
	default:
		return 65 + r.IntN(1000)
	}
}

// Marshal encodes sc as indented JSON, the form written to reports and files.
func Marshal(sc Scenario) ([]byte, error) {
	sc.Version = Version
	return json.MarshalIndent(sc, "", "  ")
}

// Unmarshal decodes and validates a scenario. Unknown fields are errors, so
// a misspelt field is never silently ignored.
func Unmarshal(data []byte) (Scenario, error) {
	var sc Scenario
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&sc); err != nil {
		return Scenario{}, fmt.Errorf("decode scenario: %w", err)
	}
	if dec.More() {
		return Scenario{}, fmt.Errorf("decode scenario: trailing data after the JSON object")
	}
	if sc.Version == 0 {
		sc.Version = Version
	}
	if err := Validate(&sc); err != nil {
		return Scenario{}, fmt.Errorf("invalid scenario: %w", err)
	}
	return sc, nil
}
