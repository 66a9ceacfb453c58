package sim

import (
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"sync"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/pion/transport/v5"

	"github.com/closesim/closesim/internal/backpressure"
	"github.com/closesim/closesim/internal/netcount"
	"github.com/closesim/closesim/internal/pktclass"
	"github.com/closesim/closesim/internal/rtcpcount"
	"github.com/closesim/closesim/scenarios"
)

// world is everything one run builds inside its bubble.
type world struct {
	sc  scenarios.Scenario
	cfg *config
	// abandon is closed when a real-time run is declared wedged
	// (abandonRealTime): its sleeps end early and nothing of it outlives
	// the run longer than it must.
	abandon     chan struct{}
	abandonOnce sync.Once
	trace       *Trace
	router      *vnet.Router
	peers       map[scenarios.Peer]*peer
	packets     pktclass.Counter
	injector    *pktclass.Injector // nil without packet faults

	pumpMu  sync.Mutex // serializes signaling delivery
	reports reports    // user reporters (PeerEnv.Report)

	mu      sync.Mutex
	signalN int         // signaling messages sent so far (index into the delay schedule)
	queue   []signalMsg // signaling messages in flight
	offer   string
	answer  string
	steps   []facts.StepResult
	closes  []facts.CloseSnapshot
	turn    *turnRelay   // the TURN relay (Topology.TURN), nil without
	sfu     []*sfuClient // A's SFU clients beyond B (Topology.SFUClients)
}

// peer is one side: its PeerConnection, network and what it has seen.
type peer struct {
	name scenarios.Peer
	w    *world
	pc   *webrtc.PeerConnection
	net  *netcount.Net
	bp   *backpressure.Net // nil without backpressure
	user bool              // built by a user's PeerFactory (WithPeer)
	rtcp rtcpcount.Counter // RTCP BYEs sent (closesim's own peers only)
	mux  ice.UDPMux        // the peer's ICE UDPMux (Settings.UDPMux), nil without
	late *time.Timer       // registers B's late OnDataChannel handler, nil without

	mu        sync.Mutex
	changed   chan struct{} // closed and replaced on every state change
	seen      map[scenarios.State]bool
	dcs       map[string]*webrtc.DataChannel
	sent      map[string]int
	received  map[string]int
	recvSeq   map[string][]int            // indices of indexed messages, in arrival order
	corrupt   map[string]int              // messages whose payload did not match their index
	detached  map[string]io.Writer        // detached channels' ReadWriteClosers, by label
	inbox     []webrtc.SessionDescription // descriptions that arrived over signaling
	remoteSet bool
	pending   []webrtc.ICECandidateInit // candidates that arrived before the remote description
	tracks    map[string]*localTrack    // tracks added by steps, by label
	remote    map[string]*remoteTrack   // tracks received, by id
	closed    bool                      // a close action ran on this peer
	armed     []armedClose              // close_on steps not yet fired
}

const cidr = "10.0.0.0/24"

var peerIPs = map[scenarios.Peer]string{scenarios.PeerA: "10.0.0.1", scenarios.PeerB: "10.0.0.2"}

// extraIPs are the peers' second addresses (Topology.ExtraIPs); B's, behind
// a NAT, is natExtraIP.
var extraIPs = map[scenarios.Peer]string{scenarios.PeerA: "10.0.0.11", scenarios.PeerB: "10.0.0.12"}

// peerName names the peer whose address, as the main router sees it, is
// ip: "A", "B", or ip itself for any other address (B's private address
// behind a NAT, say).
func peerName(ip string) string {
	for _, ips := range []map[scenarios.Peer]string{peerIPs, extraIPs} {
		for name, a := range ips {
			if a == ip {
				return string(name)
			}
		}
	}
	return ip
}

// routedIPs are the addresses the main router sees for peer p, comma
// separated (as pktclass.Fault takes them): its second address too with
// Topology.ExtraIPs, unless it sits behind the NAT's one public address.
func (w *world) routedIPs(p scenarios.Peer) string {
	if !w.sc.Topology.ExtraIPs || (p == scenarios.PeerB && w.sc.Topology.NAT != "") {
		return peerIPs[p]
	}
	return peerIPs[p] + "," + extraIPs[p]
}

func peerIndex(p scenarios.Peer) int {
	if p == scenarios.PeerB {
		return 1
	}
	return 0
}

func newWorld(sc scenarios.Scenario, cfg *config) (*world, error) {
	w := &world{sc: sc, cfg: cfg, trace: newTrace(time.Now()), peers: map[scenarios.Peer]*peer{}, abandon: make(chan struct{})}
	router, err := vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          cidr,
		MinDelay:      time.Duration(sc.Topology.LinkDelay),
		LoggerFactory: &traceLoggerFactory{trace: w.trace},
	})
	if err != nil {
		return nil, fmt.Errorf("vnet router: %w", err)
	}
	w.router = router
	// An abandoned run's packets stop its clock (Trace.holdIfAbandoned);
	// count every packet by class, then apply the scenario's packet faults.
	router.AddChunkFilter(func(vnet.Chunk) bool { w.trace.holdIfAbandoned(); return true })
	router.AddChunkFilter(w.packets.ChunkFilter())
	if len(sc.Faults.Packets) > 0 {
		inj, err := pktclass.NewInjector(router, w.trace.start, w.packetFaults(), func(h pktclass.Hit) {
			from, to := peerName(h.Src.String()), peerName(h.Dst.String())
			w.trace.record(facts.Event{Kind: facts.KindFault, Fault: &facts.FaultFact{Action: scenarios.FaultAction(h.Fault.Action), Class: scenarios.PacketClass(h.Class.String()), From: from, To: to}},
				"%s on %s %s->%s", h.Fault, h.Class, from, to)
		})
		if err != nil {
			return nil, fmt.Errorf("packet faults: %w", err)
		}
		w.injector = inj
		router.AddChunkFilter(inj.ChunkFilter())
	}
	if sc.Topology.SFUClients > 0 && cfg.factories[scenarios.PeerA] != nil {
		return nil, fmt.Errorf("topology.sfu_clients needs closesim's own peer A, not a user's PeerFactory")
	}
	if sc.Topology.TURN {
		if err := w.startTURN(); err != nil {
			return nil, err
		}
	}
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		port := sc.Topology.PortA
		if name == scenarios.PeerB {
			port = sc.Topology.PortB
		}
		p, err := w.newPeer(name, port)
		if err != nil {
			w.closeAll()
			return nil, fmt.Errorf("peer %s: %w", name, err)
		}
		w.peers[name] = p
	}
	if err := router.Start(); err != nil {
		w.closeAll()
		return nil, fmt.Errorf("start router: %w", err)
	}
	return w, nil
}

func (w *world) newPeer(name scenarios.Peer, port uint16) (*peer, error) {
	ip, extra := peerIPs[name], extraIPs[name]
	if name == scenarios.PeerB && w.sc.Topology.NAT != "" {
		ip, extra = natPrivateIP, natExtraIP
	}
	ips := []string{ip}
	if w.sc.Topology.ExtraIPs {
		ips = append(ips, extra)
	}
	vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: ips})
	if err != nil {
		return nil, fmt.Errorf("vnet net: %w", err)
	}
	if err := w.attach(name, vn); err != nil {
		return nil, err
	}
	p := &peer{
		name: name, w: w, changed: make(chan struct{}), seen: map[scenarios.State]bool{},
		dcs: map[string]*webrtc.DataChannel{}, sent: map[string]int{}, received: map[string]int{},
		recvSeq: map[string][]int{}, corrupt: map[string]int{}, detached: map[string]io.Writer{},
		tracks: map[string]*localTrack{}, remote: map[string]*remoteTrack{},
	}
	var inner transport.Net = vn
	bp := w.sc.Topology.BackpressureA
	if name == scenarios.PeerB {
		bp = w.sc.Topology.BackpressureB
	}
	if bp != nil {
		cfg := backpressure.Config{QueueBytes: bp.QueueBytes, Rate: bp.Rate}
		if bp.StallUntil != 0 {
			cfg.StallFrom, cfg.StallUntil = w.trace.start.Add(time.Duration(bp.StallAfter)), w.trace.start.Add(time.Duration(bp.StallUntil))
		}
		p.bp = backpressure.New(vn, cfg)
		inner = p.bp
	}
	p.net = netcount.New(inner, netcount.WithOnEvent(func(ev netcount.Event) {
		w.trace.Add(string(name), facts.KindSocket, "%s %s %s", ev.Op, ev.Socket.Kind, ev.Socket.Local)
	}))

	se := webrtc.SettingEngine{LoggerFactory: &traceLoggerFactory{trace: w.trace, peer: string(name)}}
	se.SetNet(p.net)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if err := se.SetEphemeralUDPPortRange(port, port); err != nil {
		return nil, fmt.Errorf("port range: %w", err)
	}
	se.SetIncludeLoopbackCandidate(false)
	se.DisableCloseByDTLS(w.sc.Settings.DisableCloseByDTLS)
	if w.sc.Settings.DetachDataChannels {
		se.DetachDataChannels()
	}
	if w.sc.Settings.DataChannelBlockWrite {
		se.EnableDataChannelBlockWrite(true)
	}
	se.SetInterfaceFilter(func(ifName string) bool { return ifName == "eth0" })
	if err := applySettings(&se, w.sc.Settings); err != nil {
		return nil, err
	}
	if w.sc.Settings.ICELiteB && name == scenarios.PeerB {
		se.SetLite(true)
	}
	if w.sc.Settings.UDPMux {
		// The application's mux, on the peer's one port; the harness
		// closes it after the PeerConnection, as its owner would.
		if err := p.newMux(&se, ip, port); err != nil {
			return nil, err
		}
	}

	var conf webrtc.Configuration
	if w.sc.Topology.TURN {
		conf.ICEServers = turnICEServers()
		if w.sc.Settings.RelayOnly {
			conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
		}
	}
	if len(w.cfg.certs) == 2 {
		conf.Certificates = []webrtc.Certificate{w.cfg.certs[peerIndex(name)]}
	}
	if f := w.cfg.factories[name]; f != nil {
		if err := p.userPeerConnection(f, se, conf); err != nil {
			return nil, err
		}
		return p, nil
	}
	api, err := w.newAPI(se, &p.rtcp)
	if err != nil {
		return nil, err
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		return nil, fmt.Errorf("new peer connection: %w", err)
	}
	p.pc = pc
	p.watch()
	if name == scenarios.PeerA && w.sc.Topology.SFUClients > 0 {
		// The SFU's other connections: from A's API when they share its
		// UDPMux, otherwise from one on the ports after A's.
		sfuAPI := api
		if !w.sc.Settings.UDPMux {
			n := uint16(w.sc.Topology.SFUClients)
			if err := se.SetEphemeralUDPPortRange(port+1, port+n); err != nil {
				return nil, fmt.Errorf("sfu port range: %w", err)
			}
			if sfuAPI, err = w.newAPI(se, nil); err != nil {
				return nil, err
			}
		}
		if err := w.newSFUClients(sfuAPI); err != nil {
			return nil, err
		}
	}
	return p, nil
}

// simulcast reports whether some step adds a simulcast track.
func (w *world) simulcast() bool {
	return slices.ContainsFunc(w.sc.Steps, func(s scenarios.Step) bool { return s.Simulcast })
}

// newAPI builds what webrtc.NewAPI builds by default (default codecs and
// interceptors, or the scenario's), plus, with rtcp, an interceptor that
// only counts the RTCP BYEs the peer sends (before SRTCP encrypts them).
func (w *world) newAPI(se webrtc.SettingEngine, rtcp *rtcpcount.Counter) (*webrtc.API, error) {
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("default codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	var iopts []webrtc.InterceptorOption
	if se.LoggerFactory != nil {
		iopts = append(iopts, webrtc.WithInterceptorLoggerFactory(se.LoggerFactory))
	}
	switch {
	case len(w.sc.Settings.Interceptors) > 0:
		if err := registerInterceptors(me, reg, w.sc.Settings.Interceptors); err != nil {
			return nil, err
		}
	case !w.sc.Settings.NoDefaultInterceptors:
		if err := webrtc.RegisterDefaultInterceptorsWithOptions(me, reg, iopts...); err != nil {
			return nil, fmt.Errorf("default interceptors: %w", err)
		}
	}
	if w.simulcast() && !slices.Contains(w.sc.Settings.Interceptors, scenarios.InterceptorSimulcast) {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
			return nil, fmt.Errorf("simulcast header extensions: %w", err)
		}
	}
	if rtcp != nil {
		reg.Add(rtcp)
	}
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg)), nil
}

// packetFaults turns the scenario's packet faults into injector faults.
func (w *world) packetFaults() []pktclass.Fault {
	fs := w.sc.Faults.Packets
	out := make([]pktclass.Fault, len(fs))
	for i, f := range fs {
		out[i] = pktclass.Fault{Class: pktclass.Class(f.Class), Action: string(f.Action), FirstN: f.FirstN,
			After: time.Duration(f.After), Until: time.Duration(f.Until), Delay: time.Duration(f.Delay),
			Probability: f.Probability, Seed: w.sc.Seed ^ uint64(i)<<32}
		if f.From != "" {
			out[i].From, out[i].To = w.routedIPs(f.From), w.routedIPs(f.From.Other())
		}
	}
	return out
}

// packetCounts summarizes the packets routed, per direction and class.
func (w *world) packetCounts() []facts.PacketCount {
	var out []facts.PacketCount
	for _, e := range w.packets.Snapshot() {
		out = append(out, facts.PacketCount{From: peerName(e.From), To: peerName(e.To), Class: string(e.Class), Packets: e.Packets})
	}
	return out
}

// applySettings applies a scenario's SettingEngine dimensions.
func applySettings(se *webrtc.SettingEngine, st scenarios.Settings) error {
	if st.ICEDisconnectedTimeout != 0 || st.ICEFailedTimeout != 0 || st.ICEKeepalive != 0 {
		orDefault := func(d scenarios.Duration, def time.Duration) time.Duration {
			if d == 0 {
				return def
			}
			return time.Duration(d)
		}
		se.SetICETimeouts(orDefault(st.ICEDisconnectedTimeout, 5*time.Second),
			orDefault(st.ICEFailedTimeout, 25*time.Second), orDefault(st.ICEKeepalive, 2*time.Second))
	}
	switch st.AnsweringDTLSRole {
	case "client":
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleClient); err != nil {
			return fmt.Errorf("answering DTLS role: %w", err)
		}
	case "server":
		if err := se.SetAnsweringDTLSRole(webrtc.DTLSRoleServer); err != nil {
			return fmt.Errorf("answering DTLS role: %w", err)
		}
	}
	if st.SCTPMaxMessageSize != 0 {
		se.SetSCTPMaxMessageSize(st.SCTPMaxMessageSize)
	}
	if o := st.SCTP; o != nil {
		if o.MaxReceiveBufferSize != 0 {
			se.SetSCTPMaxReceiveBufferSize(o.MaxReceiveBufferSize)
		}
		if o.RTOMax != 0 {
			se.SetSCTPRTOMax(time.Duration(o.RTOMax))
		}
		if o.ZeroChecksum {
			se.EnableSCTPZeroChecksum(true)
		}
		if o.MinCwnd != 0 {
			se.SetSCTPMinCwnd(o.MinCwnd)
		}
	}
	if o := st.DTLS; o != nil {
		if o.RetransmissionInterval != 0 {
			se.SetDTLSRetransmissionInterval(time.Duration(o.RetransmissionInterval))
		}
		if o.ReplayProtectionWindow != 0 {
			se.SetDTLSReplayProtectionWindow(o.ReplayProtectionWindow)
		}
	}
	return nil
}

// watch registers a trace-recording handler for every callback Pion offers.
func (p *peer) watch() {
	name, tr := string(p.name), p.w.trace
	pc := p.pc
	pc.OnSignalingStateChange(func(s webrtc.SignalingState) {
		tr.state(name, facts.KindSignaling, s.String())
		p.notify("")
		p.fire(scenarios.OnSignalingStateChange, s.String())
	})
	pc.OnICEGatheringStateChange(func(s webrtc.ICEGatheringState) {
		tr.state(name, facts.KindGather, s.String())
		p.notify("")
		p.fire(scenarios.OnICEGatheringStateChange, s.String())
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		tr.state(name, facts.KindICE, s.String())
		p.notify(scenarios.State("ice:" + s.String()))
		p.fire(scenarios.OnICEConnectionStateChange, s.String())
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		tr.state(name, facts.KindPC, s.String())
		p.notify(scenarios.State("pc:" + s.String()))
		p.fire(scenarios.OnConnectionStateChange, s.String())
	})
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		if c == nil {
			tr.op(name, facts.KindCandidate, facts.OpEndOfCandidates, "", "end-of-candidates")
			p.fire(scenarios.OnICECandidate, "end-of-candidates")
			return
		}
		tr.op(name, facts.KindCandidate, facts.Op(c.Typ.String()), "", "%s %s:%d", c.Typ, c.Address, c.Port)
		if p.w.trickles(p.name) {
			p.w.signalCandidate(p.name.Other(), c.ToJSON())
		}
		p.fire(scenarios.OnICECandidate, c.Typ.String())
	})
	pc.OnNegotiationNeeded(func() {
		tr.Add(name, facts.KindNegotiationNeeded, "")
		p.fire(scenarios.OnNegotiationNeeded, "")
	})
	p.watchDataChannels()
	pc.OnTrack(p.onTrack)
	dtls := pc.SCTP().Transport()
	dtls.OnStateChange(func(s webrtc.DTLSTransportState) {
		tr.state(name, facts.KindDTLS, s.String())
		p.notify(scenarios.State("dtls:" + s.String()))
		// Pion calls this handler with the DTLS transport's lock held.
		p.fire(scenarios.OnDTLSStateChange, s.String())
	})
	pc.SCTP().OnClose(func(err error) { tr.op(name, facts.KindSCTP, facts.OpClose, "", "close err=%v", err) })
	pc.SCTP().OnError(func(err error) { tr.op(name, facts.KindSCTP, facts.OpError, "", "error %v", err) })
}

// addDataChannel tracks dc and traces its callbacks.
func (p *peer) addDataChannel(dc *webrtc.DataChannel) {
	name, tr, label := string(p.name), p.w.trace, dc.Label()
	p.mu.Lock()
	p.dcs[label] = dc
	p.mu.Unlock()
	dc.OnOpen(func() {
		tr.op(name, facts.KindDC, facts.OpOpen, label, "open %q", label)
		if p.w.sc.Settings.DetachDataChannels {
			p.detach(dc)
		}
		p.notify(scenarios.StateDCOpen + scenarios.State("/"+label))
		p.fire(scenarios.OnDataChannelOpen, label)
	})
	dc.OnClose(func() {
		tr.op(name, facts.KindDC, facts.OpClose, label, "close %q", label)
		p.notify("")
	})
	dc.OnError(func(err error) { tr.op(name, facts.KindDC, facts.OpError, label, "error %q %v", label, err) })
	dc.OnMessage(func(msg webrtc.DataChannelMessage) { p.onMessage(label, msg.Data, facts.OpMessage) })
}

// onMessage records one message received on channel label: delivered by
// OnMessage (op OpMessage) or read from a detached channel (OpRead).
func (p *peer) onMessage(label string, data []byte, op facts.Op) {
	name, tr := string(p.name), p.w.trace
	idx, ok := decodeMessage(data)
	p.mu.Lock()
	p.received[label]++
	n := p.received[label]
	if idx >= 0 {
		p.recvSeq[label] = append(p.recvSeq[label], idx)
	}
	if !ok {
		p.corrupt[label]++
	}
	p.mu.Unlock()
	if !ok {
		tr.op(name, facts.KindDC, op, label, "message %q #%d %dB CORRUPT (index %d)", label, n, len(data), idx)
		return
	}
	tr.op(name, facts.KindDC, op, label, "message %q #%d %dB", label, n, len(data))
	p.fire(scenarios.OnDataChannelMessage, label)
}

// detach detaches dc (in its OnOpen, as Pion requires) and reads it on a
// goroutine until it is closed.
func (p *peer) detach(dc *webrtc.DataChannel) {
	name, tr, label := string(p.name), p.w.trace, dc.Label()
	raw, err := dc.Detach()
	if err != nil {
		tr.op(name, facts.KindDC, facts.OpDetach, label, "detach %q: %v", label, err)
		return
	}
	p.mu.Lock()
	p.detached[label] = raw
	p.mu.Unlock()
	go func() {
		buf := make([]byte, scenarios.MaxMessageSize+1)
		for {
			n, _, err := raw.ReadDataChannel(buf)
			if err != nil {
				tr.op(name, facts.KindDC, facts.OpDetachedDone, label, "detached reader %q done err=%v", label, err)
				return
			}
			p.onMessage(label, buf[:n], facts.OpRead)
		}
	}()
}

// notify records that state st was reached (if not empty) and wakes awaits.
func (p *peer) notify(st scenarios.State) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if st != "" {
		p.seen[st] = true
	}
	close(p.changed)
	p.changed = make(chan struct{})
}

// await blocks until cond (called with p.mu held) is true or timeout of
// virtual time passes (or the real-time run is abandoned); it reports
// whether cond became true.
func (p *peer) await(timeout time.Duration, cond func() bool) bool {
	deadline := time.NewTimer(timeout)
	defer deadline.Stop()
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline.C:
			return false
		case <-p.w.abandon:
			return false
		}
	}
}

// state reads the state tuple of p through Pion's getters.
func (p *peer) state() facts.PeerState {
	pc := p.pc
	dtls := pc.SCTP().Transport()
	st := facts.PeerState{
		Peer:          string(p.name),
		Signaling:     pc.SignalingState().String(),
		Connection:    pc.ConnectionState().String(),
		ICEConnection: pc.ICEConnectionState().String(),
		ICEGathering:  pc.ICEGatheringState().String(),
		ICETransport:  dtls.ICETransport().State().String(),
		DTLS:          dtls.State().String(),
		SCTP:          pc.SCTP().State().String(),
	}
	p.mu.Lock()
	for _, dc := range p.sortedDataChannels() {
		l := dc.Label()
		st.DataChannels = append(st.DataChannels, facts.DCState{
			Label: l, State: dc.ReadyState().String(), Ordered: dc.Ordered(),
			Reliable: dc.MaxRetransmits() == nil && dc.MaxPacketLifeTime() == nil,
			Sent:     p.sent[l], Received: p.received[l],
			ReceivedSeq: append([]int(nil), p.recvSeq[l]...), Corrupt: p.corrupt[l], Detached: p.detached[l] != nil,
		})
	}
	st.Tracks = p.trackStates()
	p.mu.Unlock()
	st.Transceivers = p.transceiverStates()
	st.RTCPByes = p.rtcp.Byes()
	return st
}

// armedClose is a close_on step waiting for its callback.
type armedClose struct {
	step  int
	on    scenarios.Callback
	state string
}

// fire runs the first armed close_on whose callback is cb (and state, if
// set, is detail) right here, inside the callback, as an application that
// closes from a handler would.
func (p *peer) fire(cb scenarios.Callback, detail string) {
	p.mu.Lock()
	i := slices.IndexFunc(p.armed, func(a armedClose) bool {
		return a.on == cb && (a.state == "" || a.state == detail)
	})
	if i < 0 {
		p.mu.Unlock()
		return
	}
	a := p.armed[i]
	p.armed = slices.Delete(p.armed, i, i+1)
	p.closed = true
	p.mu.Unlock()
	snap := facts.CloseSnapshot{Step: a.step, Peer: string(p.name), Mode: string(scenarios.ModeClose), By: facts.CloseByCallback,
		At: p.w.now(), Before: p.stateInCallback(), Callback: string(cb)}
	p.w.trace.Add(string(p.name), facts.KindCallbackClose, "from %s(%s)", cb, detail)
	p.closeSnap(&snap)
	p.w.mu.Lock()
	p.w.closes = append(p.w.closes, snap)
	p.w.mu.Unlock()
}

// stateInCallback is the part of the state tuple that can be read inside a
// Pion callback without taking Pion's locks (some handlers, such as the
// DTLS transport's, run with a lock held; reading the DTLS, SCTP or ICE
// transport state there would deadlock the harness, not Pion). The rest
// is facts.StateUnknown.
func (p *peer) stateInCallback() facts.PeerState {
	pc := p.pc
	st := facts.PeerState{
		Peer: string(p.name), Signaling: pc.SignalingState().String(), Connection: pc.ConnectionState().String(),
		ICEConnection: pc.ICEConnectionState().String(), ICEGathering: facts.StateUnknown, ICETransport: facts.StateUnknown, DTLS: facts.StateUnknown, SCTP: facts.StateUnknown,
	}
	// A channel's ready state is an atomic: readable anywhere. Its label is
	// p's own key (DataChannel.Label takes the channel's lock).
	p.mu.Lock()
	labels := slices.Sorted(maps.Keys(p.dcs))
	for _, l := range labels {
		st.DataChannels = append(st.DataChannels, facts.DCState{Label: l, State: p.dcs[l].ReadyState().String(), Detached: p.detached[l] != nil})
	}
	p.mu.Unlock()
	return st
}

// isClosed reports whether a close step ran on p.
func (p *peer) isClosed() bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.closed
}

// sortedDataChannels returns p's data channels by label; p.mu must be held.
func (p *peer) sortedDataChannels() []*webrtc.DataChannel {
	labels := make([]string, 0, len(p.dcs))
	for l := range p.dcs {
		labels = append(labels, l)
	}
	sort.Strings(labels)
	out := make([]*webrtc.DataChannel, len(labels))
	for i, l := range labels {
		out[i] = p.dcs[l]
	}
	return out
}

// signal delivers an SDP to peer to after the next scheduled signaling delay.
func (w *world) signalSDP(to scenarios.Peer, sdp webrtc.SessionDescription) {
	w.mu.Lock()
	if sdp.Type == webrtc.SDPTypeOffer {
		w.offer = sdp.SDP
	} else {
		w.answer = sdp.SDP
	}
	w.mu.Unlock()
	w.send(to, sdp.Type.String(), func(p *peer) {
		p.mu.Lock()
		p.inbox = append(p.inbox, sdp)
		p.mu.Unlock()
		p.notify("")
	})
}

// signalCandidate delivers a trickled candidate to peer to.
func (w *world) signalCandidate(to scenarios.Peer, c webrtc.ICECandidateInit) {
	w.send(to, "candidate", func(p *peer) {
		p.mu.Lock()
		if !p.remoteSet {
			p.pending = append(p.pending, c)
			p.mu.Unlock()
			return
		}
		p.mu.Unlock()
		p.addCandidate(c)
	})
}

func (p *peer) addCandidate(c webrtc.ICECandidateInit) {
	if err := p.pc.AddICECandidate(c); err != nil {
		p.w.trace.Add(string(p.name), facts.KindSignal, "add candidate: %v", err)
	}
}

// send schedules deliver on the signaling channel with the scenario's delay.
// Messages due at the same virtual instant are delivered in the order they
// were sent, by one pump at a time: the order of equal-time timers is not
// something the run should depend on.
func (w *world) send(to scenarios.Peer, what string, deliver func(*peer)) {
	w.mu.Lock()
	i := w.signalN
	w.signalN++
	d := w.sc.Faults.SignalDelay(i)
	w.queue = append(w.queue, signalMsg{due: w.now() + d, seq: i, to: to, what: what, deliver: deliver})
	w.mu.Unlock()
	w.trace.record(facts.Event{Peer: string(to.Other()), Kind: facts.KindSignal, Signal: &facts.SignalFact{What: what, Seq: i}},
		"send %s #%d delay=%s", what, i, d)
	time.AfterFunc(d, w.pump)
}

// signalMsg is a signaling message in flight.
type signalMsg struct {
	due     time.Duration
	seq     int
	to      scenarios.Peer
	what    string
	deliver func(*peer)
}

// pump delivers every signaling message that is due, earliest (then first
// sent) first.
func (w *world) pump() {
	w.pumpMu.Lock()
	defer w.pumpMu.Unlock()
	for {
		w.mu.Lock()
		now, best := w.now(), -1
		for k, m := range w.queue {
			if m.due <= now && (best < 0 || m.due < w.queue[best].due ||
				m.due == w.queue[best].due && m.seq < w.queue[best].seq) {
				best = k
			}
		}
		if best < 0 {
			w.mu.Unlock()
			return
		}
		m := w.queue[best]
		w.queue = append(w.queue[:best], w.queue[best+1:]...)
		w.mu.Unlock()
		w.trace.record(facts.Event{Peer: string(m.to), Kind: facts.KindSignal, Signal: &facts.SignalFact{Recv: true, What: m.what, Seq: m.seq}},
			"recv %s #%d", m.what, m.seq)
		m.deliver(w.peers[m.to])
	}
}

// sleep is time.Sleep(d), except that in a real-time run it ends early
// once the run is abandoned. In the bubble it is exactly time.Sleep, so as
// not to change how the bubble's goroutines interleave.
func (w *world) sleep(d time.Duration) {
	if !w.cfg.realTime {
		time.Sleep(d)
		return
	}
	t := time.NewTimer(d)
	defer t.Stop()
	select {
	case <-t.C:
	case <-w.abandon:
	}
}

// abandonRealTime tears down a real-time run the watchdog gave up on.
// Outside a bubble nothing stops its goroutines: ICE agents would go on
// sending keepalives, on the real clock, drawing from the process's
// randomness while later runs reseed it (a data race, and another run's
// stream). It ends the run's sleeps and closes every PeerConnection, the
// muxes and the TURN server in the background (a Close that hangs stays
// behind, as it would in an application).
func (w *world) abandonRealTime() {
	w.abandonOnce.Do(func() {
		close(w.abandon)
		go w.closeAll()
	})
}

// closeAll closes whatever the world built; used on setup failure and by
// abandonRealTime.
func (w *world) closeAll() {
	for _, cl := range w.sfu {
		_ = cl.a.Close()
		_ = cl.c.Close()
	}
	for _, p := range w.peers {
		if p.pc != nil {
			_ = p.pc.Close()
		}
		if p.mux != nil {
			_ = p.mux.Close()
		}
	}
	if w.turn != nil {
		_ = w.turn.shutdown()
	}
}

// openSockets lists sockets still bound on both peers, A first.
func (w *world) openSockets() []facts.Socket {
	var out []facts.Socket
	for _, name := range []scenarios.Peer{scenarios.PeerA, scenarios.PeerB} {
		for _, s := range w.peers[name].net.Open() {
			out = append(out, facts.Socket{Peer: string(name), Kind: s.Kind, Local: s.Local, Remote: s.Remote})
		}
	}
	for _, cl := range w.sfu {
		for _, s := range cl.net.Open() {
			out = append(out, facts.Socket{Peer: cl.name, Kind: s.Kind, Local: s.Local, Remote: s.Remote})
		}
	}
	return out
}

// B's address behind a NAT, and the NAT's private network.
const (
	natPrivateIP   = "192.168.1.2"
	natExtraIP     = "192.168.1.3"
	natPrivateCIDR = "192.168.1.0/24"
)

// natTypes maps scenarios.NATTypes() to vnet's NAT behaviours.
var natTypes = map[scenarios.NATType]vnet.NATType{
	scenarios.NATFullCone:       {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent},
	scenarios.NATRestricted:     {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrDependent},
	scenarios.NATPortRestricted: {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent},
	scenarios.NATSymmetric:      {MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent},
}

// attach connects a peer's network to the world: to the main router, or,
// for B behind a NAT, to a child router whose public address is B's usual
// one (so packet faults and counts on the main router see the same
// addresses either way).
func (w *world) attach(name scenarios.Peer, vn *vnet.Net) error {
	if name != scenarios.PeerB || w.sc.Topology.NAT == "" {
		if err := w.router.AddNet(vn); err != nil {
			return fmt.Errorf("add net to router: %w", err)
		}
		return nil
	}
	nt, ok := natTypes[w.sc.Topology.NAT]
	if !ok {
		return fmt.Errorf("unknown NAT type %q", w.sc.Topology.NAT)
	}
	nat, err := vnet.NewRouter(&vnet.RouterConfig{
		Name:          "nat",
		CIDR:          natPrivateCIDR,
		StaticIPs:     []string{peerIPs[scenarios.PeerB]},
		NATType:       &nt,
		LoggerFactory: &traceLoggerFactory{trace: w.trace},
	})
	if err != nil {
		return fmt.Errorf("NAT router: %w", err)
	}
	if err := w.router.AddRouter(nat); err != nil {
		return fmt.Errorf("add NAT router: %w", err)
	}
	if err := nat.AddNet(vn); err != nil {
		return fmt.Errorf("add net to NAT router: %w", err)
	}
	return nil
}
