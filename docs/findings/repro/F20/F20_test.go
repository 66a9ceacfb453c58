// Reproducer for closesim finding F20 (invariant leak.goroutines), written by closesim export from F20-min.json.
//
// An SCTP association whose handshake is disrupted (loss and a partition, with SettingEngine.SetSCTPRTOMax shortened) keeps its timerLoop, writeLoop and a completeHandshake send alive after both PeerConnections were GracefulClosed: nobody closes it (docs/findings.md F20).
//
// It needs only Pion and the standard library (Go 1.25 or later, for testing/synctest):
//
//	go test -run '^TestF20$' -v
//
// It fails while the bug is present and passes once it is fixed; it runs the scenario up to ten
// times (run_1...) and stops at the first run that meets the bug, as some close races are the Go
// scheduler's to decide. Edit it freely: the scenario's steps are the calls in TestF20, and the
// world they run in is written out below them.
package repro

import (
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"io"
	"math/big"
	"net"
	"os"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"testing/cryptotest"
	"testing/synctest"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/deadline"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"
	"github.com/pion/webrtc/v4/pkg/rtcerr"
)

func TestF20(t *testing.T) {
	cfg := reproConfig{
		seed: 2881, portA: 12881, portB: 22881,
		nat: "restricted",
		wrapNet: withBackpressure(map[string]queueConfig{
			"B": {queueBytes: 35062, rate: 606555},
		}),
		faults: []packetFault{
			{action: "drop", from: "A", probability: 0.26, seed: 0xb41},
			{action: "drop", after: 2494 * time.Millisecond, until: 10268 * time.Millisecond},
		},
		settings: func(peer string, se *webrtc.SettingEngine) {
			se.SetSCTPMaxReceiveBufferSize(173807)
			se.SetSCTPRTOMax(1928 * time.Millisecond)
			se.EnableSCTPZeroChecksum(true)
			se.SetSCTPMinCwnd(11020)
		},
		interceptors: true,
		detach:       true,
		settle:       40 * time.Second,
		probeFirst:   true,
	}
	runRepro(t, cfg, func(w *world) {
		// #0 A create_data_channel "dc"
		w.step(false, 0, false, func() error {
			return w.createDataChannel("A", "dc", &webrtc.DataChannelInit{Ordered: ptr(false)}, 12113)
		})
		// #1 A offer
		w.step(false, 0, false, func() error { return w.offer("A", false) })
		// #2 B apply_offer
		w.step(false, 0, false, func() error { return w.apply("B") })
		// #3 B answer
		w.step(false, 0, false, func() error { return w.answer("B") })
		// #4 A apply_answer
		w.step(false, 0, false, func() error { return w.apply("A") })
	}, checkNoLeakedGoroutines)
}

// ---------------------------------------------------------------------------
// The world the reproducer runs in, written out so that the file needs
// nothing but Pion and the standard library: two PeerConnections on a
// pion/transport vnet network, inside a testing/synctest bubble (virtual
// time: ICE and SCTP timeouts cost no wall time), with deterministic crypto
// randomness (testing/cryptotest), in-memory signaling, the scenario's
// packet drops as a router chunk filter, and a record of every callback.
// ---------------------------------------------------------------------------

// reproConfig is the scenario, as the reproducer's world needs it.
type reproConfig struct {
	seed         uint64          // crypto randomness
	portA, portB int             // each peer's one UDP port
	linkDelay    time.Duration   // one-way delay the router adds
	nat          string          // B behind a NAT: "", "full-cone", "restricted", "port-restricted", "symmetric"
	trickle      bool            // candidates one by one; otherwise after gathering completes
	trickleOnly  string          // with trickle, only this peer trickles ("A" or "B"; "" both)
	signalDelays []time.Duration // delay of the i-th signaling message, cyclically
	faults       []packetFault   // packet faults, the first matching one acts
	settings     func(peer string, se *webrtc.SettingEngine)
	interceptors bool // Pion's default interceptors
	noDCHandlerB bool // B registers no OnDataChannel handler
	detach       bool // SettingEngine.DetachDataChannels: channels are detached on open
	// wrapNet, if set, wraps a peer's network (backpressure).
	wrapNet       func(w *world, peer string, n transport.Net) transport.Net
	extraIPs      bool // a second address per peer: A 10.0.0.11, B 10.0.0.12 (192.168.1.3 behind the NAT)
	udpMux        bool // each peer gathers through an ICE UDPMux on its port, closed after the PeerConnection
	multiMux      bool // the mux is an ice.MultiUDPMuxDefault, one UDPMux per address
	closeMuxFirst bool // a closing peer's mux is closed right before its scenario close
	// registerInterceptors, if set, registers these instead of Pion's
	// default interceptors.
	registerInterceptors func(me *webrtc.MediaEngine, reg *interceptor.Registry) error
	// startRelay, if set, puts a TURN relay on the network (see below);
	// iceServers and relayOnly configure the peers to use it.
	startRelay func(w *world) relayServer
	iceServers []webrtc.ICEServer
	relayOnly  bool
	// simulcast registers the simulcast header extensions; writeLayers
	// writes one sample on a simulcast track's layers.
	simulcast   bool
	writeLayers func(p *reproPeer, label string, data []byte, every time.Duration) error
	iceLiteB    bool // B is an ICE-lite agent (set in settings too)
	settle      time.Duration
	// probeFirst calls the close-time APIs on the closed peers before the
	// check, not after it: the finding is what those calls leave behind.
	probeFirst bool
}

// packetFault drops, delays or duplicates the packets it matches.
type packetFault struct {
	class        string        // "" every packet, else as packetClass names them
	from         string        // "A" (A to B), "B" (B to A) or "" both directions
	action       string        // "drop", "delay" or "duplicate"
	firstN       int           // only the first N matching packets (0: all)
	after, until time.Duration // virtual time window (until 0: no end)
	delay        time.Duration // how long a delay holds a packet, or a duplicate follows it
	probability  float64       // act on each matching packet with this probability (0: always)
	seed         uint64        // of the probability draws
}

// event is one callback a peer's PeerConnection ran.
type event struct {
	at     time.Duration
	peer   string
	what   string // "pc closed", "dc open", "ice checking", "candidate host", ...
	closed bool   // it reports something closed (allowed after close)
}

// world is the run: the network, the two peers and the record.
type world struct {
	t      *testing.T
	cfg    reproConfig
	start  time.Time
	router *vnet.Router
	dups   []*vnet.DuplicationFilter // re-inject delayed and duplicated packets
	relay  relayServer               // the TURN relay, if the scenario has one
	torn   bool                      // teardown ran
	down   bool                      // shutdown ran
	a, b   *reproPeer

	mu      sync.Mutex
	events  []event
	signalN int
	async   sync.WaitGroup
}

// reproPeer is one side.
type reproPeer struct {
	w    *world
	name string
	pc   *webrtc.PeerConnection

	mu           sync.Mutex
	changed      chan struct{}
	seen         map[string]bool // states reached: "pc:connected", "dc:open/label"
	inbox        []webrtc.SessionDescription
	remoteSet    bool
	pending      []webrtc.ICECandidateInit
	dcs          map[string]*webrtc.DataChannel
	detached     map[string]io.ReadWriteCloser
	tracks       map[string]*webrtc.TrackLocalStaticSample
	layers       map[string][]*webrtc.TrackLocalStaticRTP // simulcast layers
	seq          map[string]uint16                        // simulcast: the last RTP sequence number
	senders      map[string]*webrtc.RTPSender
	closeCalls   int
	mux          io.Closer     // its ICE UDPMux, if the scenario has one
	closedAt     time.Duration // when its first Close returned (-1: not yet)
	closedSeq    int           // the number of events recorded before it returned
	closeCallSeq int           // the number of events recorded before its first close started (-1: none)
	closeTook    time.Duration
	armed        []armedClose
	probes       []probeResult
}

// probeResult is what one API call after close returned.
type probeResult struct {
	call string
	err  error
}

// armedClose closes the peer from inside a callback the first time it fires.
type armedClose struct {
	on, state string
	done      bool
}

func (w *world) now() time.Duration { return time.Since(w.start) }

func ptr[T any](v T) *T { return &v }

func (w *world) record(p *reproPeer, what string, closed bool) {
	w.mu.Lock()
	w.events = append(w.events, event{at: w.now(), peer: p.name, what: what, closed: closed})
	w.mu.Unlock()
	p.notify(what)
}

// attempts is how many times runRepro runs the scenario before it calls
// the bug absent. The world is seeded and runs on one P, but some bugs are
// races between goroutines Pion starts (a handler it dispatches with go and
// the Close that should have stopped it), and which one wins is the Go
// scheduler's choice: under load, or under -race, which shuffles the run
// queue on purpose, a run can miss them. Ten runs all missing a bug that
// most runs meet is not chance.
const attempts = 10

// runRepro runs body in a fresh world and then check on what it saw, up to
// attempts times, each a subtest of its own, and stops at the first that
// fails. A bubble that stops making progress (a Close that never returns, a
// lock held across a wait on the fake clock) cannot be unwound: after stall
// of wall time the reproducer panics with every goroutine's stack, as go
// test's -timeout does, and the test fails.
func runRepro(t *testing.T, cfg reproConfig, body func(w *world), check func(t *testing.T, w *world)) {
	// One P, as closesim's workers run: the goroutines a step wakes then
	// run in an order that mostly repeats from run to run.
	defer runtime.GOMAXPROCS(runtime.GOMAXPROCS(1))
	certs := certificates(t)
	for i := 1; i <= attempts; i++ {
		if !t.Run(fmt.Sprintf("run_%d", i), func(t *testing.T) { runOnce(t, cfg, certs, body, check) }) {
			return
		}
	}
}

// runOnce is one run of the scenario in a fresh world.
func runOnce(t *testing.T, cfg reproConfig, certs [2]webrtc.Certificate, body func(w *world), check func(t *testing.T, w *world)) {
	const stall = 10 * time.Second
	done := make(chan struct{})
	go func() {
		select {
		case <-done:
		case <-time.After(stall):
			buf := make([]byte, 1<<22)
			buf = buf[:runtime.Stack(buf, true)]
			fmt.Fprintf(os.Stderr, "\n%s: the run did not finish within %s of wall time: a wedge (a Close or another call that never returns, or a lock held across a wait, which freezes synctest's fake clock). Goroutines:\n\n%s\n", t.Name(), stall, buf)
			panic(t.Name() + ": wedged")
		}
	}()
	defer close(done)
	synctest.Test(t, func(t *testing.T) {
		cryptotest.SetGlobalRandom(t, cfg.seed)
		w := newWorld(t, cfg, certs)
		body(w)
		w.async.Wait()
		w.quiet()
		settle := cfg.settle
		if settle == 0 {
			settle = 40 * time.Second
		}
		time.Sleep(settle)
		w.quiet()
		if cfg.probeFirst {
			w.probe()
		}
		check(t, w)
		if !cfg.probeFirst {
			w.probe()
		}
		w.shutdown()
	})
}

// relayServer is the TURN relay as the world sees it.
type relayServer interface {
	liveAllocations() []string
	Close() error
}

// teardown closes what the scenario left open, as closesim's harness
// does: no armed close fires any more, the peers the scenario did not
// close are GracefulClosed, then the applications' UDP muxes are closed,
// and 5 s of virtual time pass.
func (w *world) teardown() {
	if w.torn {
		return
	}
	w.torn = true
	for _, p := range []*reproPeer{w.a, w.b} {
		p.mu.Lock()
		p.armed = nil
		closed := p.closeCalls > 0
		p.mu.Unlock()
		if !closed {
			_ = p.pc.GracefulClose()
		}
	}
	for _, p := range []*reproPeer{w.a, w.b} {
		if p.mux != nil {
			_ = p.mux.Close()
		}
	}
	time.Sleep(5 * time.Second)
	w.quiet()
}

// shutdown stops the relay, the fault filters and the router, so that the
// bubble can end: what is left after it is a leak.
func (w *world) shutdown() {
	w.teardown()
	if w.down {
		return
	}
	w.down = true
	if w.relay != nil {
		_ = w.relay.Close()
	}
	for _, df := range w.dups {
		_ = df.Close()
	}
	_ = w.router.Stop()
	w.quiet()
}

// certificates makes the peers' DTLS certificates once, deterministically,
// valid for the bubble's clock (which starts in 2000).
func certificates(t *testing.T) [2]webrtc.Certificate {
	var out [2]webrtc.Certificate
	t.Run("certificates", func(t *testing.T) {
		cryptotest.SetGlobalRandom(t, 0xce27)
		for i := range out {
			key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
			if err != nil {
				t.Fatal(err)
			}
			name := pkix.Name{CommonName: "repro"}
			c, err := webrtc.NewCertificate(key, x509.Certificate{
				Issuer: name, Subject: name, SerialNumber: big.NewInt(int64(i + 1)), Version: 2,
				NotBefore: time.Date(1999, 1, 1, 0, 0, 0, 0, time.UTC),
				NotAfter:  time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC),
			})
			if err != nil {
				t.Fatal(err)
			}
			out[i] = *c
		}
	})
	return out
}

var natTypes = map[string]vnet.NATType{
	"full-cone":       {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointIndependent},
	"restricted":      {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrDependent},
	"port-restricted": {MappingBehavior: vnet.EndpointIndependent, FilteringBehavior: vnet.EndpointAddrPortDependent},
	"symmetric":       {MappingBehavior: vnet.EndpointAddrPortDependent, FilteringBehavior: vnet.EndpointAddrPortDependent},
}

func newWorld(t *testing.T, cfg reproConfig, certs [2]webrtc.Certificate) *world {
	w := &world{t: t, cfg: cfg, start: time.Now()}
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", MinDelay: cfg.linkDelay, LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	w.router = router
	if cfg.startRelay != nil {
		w.relay = cfg.startRelay(w)
	}
	if len(cfg.faults) > 0 {
		router.AddChunkFilter(w.faultFilter())
	}
	w.a = w.newPeer("A", "10.0.0.1", cfg.portA, certs[0])
	w.b = w.newPeer("B", "10.0.0.2", cfg.portB, certs[1])
	if err := router.Start(); err != nil {
		t.Fatal(err)
	}
	return w
}

func (w *world) newPeer(name, ip string, port int, cert webrtc.Certificate) *reproPeer {
	t := w.t
	private, extra := ip, map[string]string{"A": "10.0.0.11", "B": "10.0.0.12"}[name]
	if name == "B" && w.cfg.nat != "" {
		private, extra = "192.168.1.2", "192.168.1.3"
	}
	ips := []string{private}
	if w.cfg.extraIPs {
		ips = append(ips, extra)
	}
	vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: ips})
	if err != nil {
		t.Fatal(err)
	}
	if private == ip {
		err = w.router.AddNet(vn)
	} else {
		nt := natTypes[w.cfg.nat]
		var nat *vnet.Router
		nat, err = vnet.NewRouter(&vnet.RouterConfig{Name: "nat", CIDR: "192.168.1.0/24", StaticIPs: []string{ip}, NATType: &nt, LoggerFactory: logging.NewDefaultLoggerFactory()})
		if err == nil {
			err = w.router.AddRouter(nat)
		}
		if err == nil {
			err = nat.AddNet(vn)
		}
	}
	if err != nil {
		t.Fatal(err)
	}
	var nw transport.Net = vn
	if w.cfg.wrapNet != nil {
		nw = w.cfg.wrapNet(w, name, vn)
	}
	se := webrtc.SettingEngine{}
	se.SetNet(nw)
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	if err := se.SetEphemeralUDPPortRange(uint16(port), uint16(port)); err != nil {
		t.Fatal(err)
	}
	se.SetIncludeLoopbackCandidate(false)
	se.SetInterfaceFilter(func(ifName string) bool { return ifName == "eth0" })
	if w.cfg.detach {
		se.DetachDataChannels()
	}
	if w.cfg.settings != nil {
		w.cfg.settings(name, &se)
	}
	var mux io.Closer
	if w.cfg.udpMux {
		// The application's mux on the peer's one port; it closes it after
		// the PeerConnection, as its owner would.
		if w.cfg.multiMux {
			m, err := ice.NewMultiUDPMuxFromPort(port, ice.UDPMuxFromPortWithNet(nw),
				ice.UDPMuxFromPortWithInterfaceFilter(func(name string) bool { return name == "eth0" }),
				ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4))
			if err != nil {
				t.Fatal(err)
			}
			se.SetICEUDPMux(m)
			mux = m
		} else {
			conn, err := nw.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(private), Port: port})
			if err != nil {
				t.Fatal(err)
			}
			m := ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Net: nw})
			se.SetICEUDPMux(m)
			mux = m
		}
	}
	me := &webrtc.MediaEngine{}
	if err := me.RegisterDefaultCodecs(); err != nil {
		t.Fatal(err)
	}
	if w.cfg.simulcast {
		if err := webrtc.ConfigureSimulcastExtensionHeaders(me); err != nil {
			t.Fatal(err)
		}
	}
	reg := &interceptor.Registry{}
	if w.cfg.registerInterceptors != nil {
		if err := w.cfg.registerInterceptors(me, reg); err != nil {
			t.Fatal(err)
		}
	} else if w.cfg.interceptors {
		if err := webrtc.RegisterDefaultInterceptors(me, reg); err != nil {
			t.Fatal(err)
		}
	}
	api := webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(me), webrtc.WithInterceptorRegistry(reg))
	conf := webrtc.Configuration{Certificates: []webrtc.Certificate{cert}, ICEServers: w.cfg.iceServers}
	if w.cfg.relayOnly {
		conf.ICETransportPolicy = webrtc.ICETransportPolicyRelay
	}
	pc, err := api.NewPeerConnection(conf)
	if err != nil {
		t.Fatal(err)
	}
	p := &reproPeer{w: w, name: name, pc: pc, changed: make(chan struct{}), seen: map[string]bool{},
		dcs: map[string]*webrtc.DataChannel{}, detached: map[string]io.ReadWriteCloser{},
		tracks: map[string]*webrtc.TrackLocalStaticSample{}, layers: map[string][]*webrtc.TrackLocalStaticRTP{}, seq: map[string]uint16{}, senders: map[string]*webrtc.RTPSender{}, closedAt: -1, closeCallSeq: -1, mux: mux}
	p.watch()
	return p
}

// watch records every callback of p's PeerConnection, and fires the
// closes armed on it.
func (p *reproPeer) watch() {
	w, pc := p.w, p.pc
	pc.OnICECandidate(func(c *webrtc.ICECandidate) {
		kind := "end-of-candidates"
		if c != nil {
			kind = c.Typ.String()
		}
		w.record(p, "candidate "+kind, false)
		p.fire("ice_candidate", kind)
		if w.trickles(p.name) {
			var init webrtc.ICECandidateInit
			if c != nil {
				init = c.ToJSON()
			}
			w.send(p.other(), func(o *reproPeer) { o.addCandidate(init) })
		}
	})
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		w.record(p, "ice "+s.String(), s == webrtc.ICEConnectionStateClosed)
		p.reach("ice:" + s.String())
		p.fire("ice_connection_state", s.String())
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		w.record(p, "pc "+s.String(), s == webrtc.PeerConnectionStateClosed)
		p.reach("pc:" + s.String())
		p.fire("connection_state", s.String())
	})
	pc.OnSignalingStateChange(func(s webrtc.SignalingState) {
		w.record(p, "signaling "+s.String(), s == webrtc.SignalingStateClosed)
		p.fire("signaling_state", s.String())
	})
	pc.OnICEGatheringStateChange(func(s webrtc.ICEGatheringState) {
		w.record(p, "gathering "+s.String(), false)
		p.fire("ice_gathering_state", s.String())
	})
	pc.OnNegotiationNeeded(func() {
		w.record(p, "negotiation needed", false)
		p.fire("negotiation_needed", "")
	})
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		w.record(p, "track "+tr.Kind().String(), false)
		p.fire("track", tr.Kind().String())
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := tr.Read(buf); err != nil {
					return
				}
			}
		}()
	})
	pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) {
		w.record(p, "dtls "+s.String(), s == webrtc.DTLSTransportStateClosed)
		p.reach("dtls:" + s.String())
		p.fire("dtls_state", s.String())
	})
	pc.SCTP().OnClose(func(error) { w.record(p, "sctp close", true) })
	if p.name == "B" && w.cfg.noDCHandlerB {
		return
	}
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		w.record(p, "data channel "+dc.Label(), false)
		p.addDataChannel(dc)
		p.fire("data_channel", dc.Label())
	})
}

// addDataChannel records dc's events (and detaches it on open when the
// scenario does).
func (p *reproPeer) addDataChannel(dc *webrtc.DataChannel) {
	w, label := p.w, dc.Label()
	p.mu.Lock()
	p.dcs[label] = dc
	p.mu.Unlock()
	dc.OnOpen(func() {
		w.record(p, "dc open", false)
		p.reach("dc:open/" + label)
		p.fire("data_channel_open", label)
		if w.cfg.detach {
			raw, err := dc.Detach()
			if err != nil {
				return
			}
			p.mu.Lock()
			p.detached[label] = raw
			p.mu.Unlock()
			go func() {
				buf := make([]byte, 1<<16)
				for {
					if _, err := raw.Read(buf); err != nil {
						return
					}
				}
			}()
		}
	})
	dc.OnMessage(func(webrtc.DataChannelMessage) {
		w.record(p, "dc message", false)
		p.fire("data_channel_message", label)
	})
	dc.OnClose(func() { w.record(p, "dc close", true) })
	dc.OnError(func(error) { w.record(p, "dc error", false) })
}

func (p *reproPeer) other() *reproPeer {
	if p == p.w.a {
		return p.w.b
	}
	return p.w.a
}

// notify wakes whoever waits for p to change.
func (p *reproPeer) notify(string) {
	p.mu.Lock()
	close(p.changed)
	p.changed = make(chan struct{})
	p.mu.Unlock()
}

func (p *reproPeer) reach(state string) {
	p.mu.Lock()
	p.seen[state] = true
	p.mu.Unlock()
	p.notify(state)
}

// fire runs the close armed on callback on (with detail state, if set).
func (p *reproPeer) fire(on, detail string) {
	p.mu.Lock()
	run := false
	for i := range p.armed {
		a := &p.armed[i]
		if !a.done && a.on == on && (a.state == "" || a.state == detail) {
			a.done, run = true, true
		}
	}
	p.mu.Unlock()
	if run {
		p.closePC(false)
	}
}

// closePC closes p's PeerConnection and records when its first close
// returned and how long it took.
func (p *reproPeer) closePC(graceful bool) {
	p.w.mu.Lock()
	callSeq := len(p.w.events)
	p.w.mu.Unlock()
	p.mu.Lock()
	if p.closeCallSeq < 0 {
		p.closeCallSeq = callSeq
	}
	p.mu.Unlock()
	start := time.Now()
	var err error
	if graceful {
		err = p.pc.GracefulClose()
	} else {
		err = p.pc.Close()
	}
	took := time.Since(start)
	p.w.mu.Lock()
	seq := len(p.w.events)
	p.w.mu.Unlock()
	p.mu.Lock()
	p.closeCalls++
	if p.closedAt < 0 {
		p.closedAt, p.closedSeq, p.closeTook = p.w.now(), seq, took
	}
	p.mu.Unlock()
	if err != nil {
		p.w.t.Logf("%s: close: %v", p.name, err)
	}
}

// await waits up to timeout of virtual time for cond.
func (p *reproPeer) await(timeout time.Duration, cond func() bool) bool {
	deadline := time.After(timeout)
	for {
		p.mu.Lock()
		ok, ch := cond(), p.changed
		p.mu.Unlock()
		if ok {
			return true
		}
		select {
		case <-ch:
		case <-deadline:
			return false
		}
	}
}

// probe calls, on each peer the scenario closed, the APIs an application
// may still call after close (closesim's probes), as closesim does after
// the settle period; each must return, most with an error.
func (w *world) probe() {
	for _, p := range w.closedPeers() {
		pc := p.pc
		call := func(what string, err error) {
			p.mu.Lock()
			p.probes = append(p.probes, probeResult{what, err})
			p.mu.Unlock()
		}
		_, err := pc.CreateOffer(nil)
		call("CreateOffer", err)
		_, err = pc.CreateAnswer(nil)
		call("CreateAnswer", err)
		call("SetLocalDescription", pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer}))
		call("SetRemoteDescription", pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\n"}))
		call("AddICECandidate", pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 10.0.0.9 9 typ host"}))
		_, err = pc.CreateDataChannel("after-close", nil)
		call("CreateDataChannel", err)
		_, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio)
		call("AddTransceiverFromKind", err)
		call("SetConfiguration", pc.SetConfiguration(webrtc.Configuration{}))
		_ = pc.GetStats()
		_ = pc.Close()
		_ = pc.GracefulClose()
		p.mu.Lock()
		dcs := make([]*webrtc.DataChannel, 0, len(p.dcs))
		for _, dc := range p.dcs {
			dcs = append(dcs, dc)
		}
		p.mu.Unlock()
		for _, dc := range dcs {
			_ = dc.Send([]byte("after close"))
		}
		w.quiet()
	}
}

// quiet lets every goroutine run until it blocks: each step starts from a
// quiet world.
func (w *world) quiet() { synctest.Wait() }

func (w *world) trickles(peer string) bool {
	return w.cfg.trickle && (w.cfg.trickleOnly == "" || w.cfg.trickleOnly == peer)
}

// send delivers a signaling message to peer to after its scheduled delay.
func (w *world) send(to *reproPeer, deliver func(*reproPeer)) {
	w.mu.Lock()
	var d time.Duration
	if n := len(w.cfg.signalDelays); n > 0 {
		d = w.cfg.signalDelays[w.signalN%n]
	}
	w.signalN++
	w.mu.Unlock()
	time.AfterFunc(d, func() { deliver(to) })
}

func (p *reproPeer) addCandidate(c webrtc.ICECandidateInit) {
	p.mu.Lock()
	if !p.remoteSet {
		p.pending = append(p.pending, c)
		p.mu.Unlock()
		return
	}
	p.mu.Unlock()
	if c.Candidate == "" {
		return
	}
	if err := p.pc.AddICECandidate(c); err != nil {
		p.w.t.Logf("%s: add candidate: %v", p.name, err)
	}
}

// step runs one scenario step: after letting the world go quiet, or, when
// immediate, right after the previous one after yields scheduler yields;
// async runs it on a goroutine of its own.
func (w *world) step(immediate bool, yields int, async bool, f func() error) {
	if immediate {
		for range yields {
			runtime.Gosched()
		}
	} else {
		w.quiet()
	}
	run := func() {
		if err := f(); err != nil {
			w.t.Logf("step: %v", err)
		}
	}
	if async {
		w.async.Go(run)
		return
	}
	run()
}

func (w *world) peer(name string) *reproPeer {
	if name == "B" {
		return w.b
	}
	return w.a
}

// createDataChannel creates a channel; a lowThreshold above 0 sets its
// buffered-amount-low threshold and records (and can close from)
// OnBufferedAmountLow.
func (w *world) createDataChannel(peer, label string, init *webrtc.DataChannelInit, lowThreshold uint64) error {
	p := w.peer(peer)
	dc, err := p.pc.CreateDataChannel(label, init)
	if err != nil {
		return err
	}
	p.addDataChannel(dc)
	if lowThreshold > 0 {
		dc.SetBufferedAmountLowThreshold(lowThreshold)
		dc.OnBufferedAmountLow(func() {
			w.record(p, "buffered amount low", false)
			p.fire("buffered_amount_low", label)
		})
	}
	return nil
}

// describe creates an offer or answer, sets it and sends it (once gathering
// completes unless the peer trickles).
func (w *world) describe(peer string, offer, iceRestart bool) error {
	p := w.peer(peer)
	var desc webrtc.SessionDescription
	var err error
	if offer {
		desc, err = p.pc.CreateOffer(&webrtc.OfferOptions{ICERestart: iceRestart})
	} else {
		desc, err = p.pc.CreateAnswer(nil)
	}
	if err != nil {
		return err
	}
	var gathered <-chan struct{}
	if !w.trickles(peer) {
		gathered = webrtc.GatheringCompletePromise(p.pc)
	}
	if err := p.pc.SetLocalDescription(desc); err != nil {
		return err
	}
	if gathered != nil {
		select {
		case <-gathered:
		case <-time.After(30 * time.Second):
			return fmt.Errorf("%s: gathering did not complete", peer)
		}
		if ld := p.pc.LocalDescription(); ld != nil {
			desc = *ld
		}
	}
	w.send(p.other(), func(o *reproPeer) {
		o.mu.Lock()
		o.inbox = append(o.inbox, desc)
		o.mu.Unlock()
		o.notify("")
	})
	return nil
}

func (w *world) offer(peer string, iceRestart bool) error { return w.describe(peer, true, iceRestart) }
func (w *world) answer(peer string) error                 { return w.describe(peer, false, false) }

// apply waits for the next description and sets it as remote.
func (w *world) apply(peer string) error {
	p := w.peer(peer)
	var desc webrtc.SessionDescription
	if !p.await(30*time.Second, func() bool {
		if len(p.inbox) == 0 {
			return false
		}
		desc, p.inbox = p.inbox[0], p.inbox[1:]
		return true
	}) {
		return fmt.Errorf("%s: no description arrived", peer)
	}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return err
	}
	p.mu.Lock()
	p.remoteSet = true
	pending := p.pending
	p.pending = nil
	p.mu.Unlock()
	for _, c := range pending {
		p.addCandidate(c)
	}
	return nil
}

func (w *world) rollback(peer string) error {
	return w.peer(peer).pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
}

func (w *world) await(peer, state string, timeout time.Duration) error {
	p := w.peer(peer)
	if !p.await(timeout, func() bool { return p.seen[state] }) {
		return fmt.Errorf("%s: %s not reached within %s", peer, state, timeout)
	}
	return nil
}

func (w *world) sendMessages(peer, label string, count, size int, detachedWrite bool) error {
	p := w.peer(peer)
	p.mu.Lock()
	dc, raw := p.dcs[label], p.detached[label]
	p.mu.Unlock()
	if dc == nil {
		return fmt.Errorf("%s has no data channel %q", peer, label)
	}
	for i := range count {
		msg := make([]byte, max(size, 4))
		msg[0], msg[1], msg[2], msg[3] = byte(i>>24), byte(i>>16), byte(i>>8), byte(i)
		var err error
		if raw != nil && detachedWrite {
			_, err = raw.Write(msg)
		} else {
			err = dc.Send(msg)
		}
		if err != nil {
			return fmt.Errorf("send %d of %d: %w", i+1, count, err)
		}
	}
	return nil
}

func (w *world) closeDataChannel(peer, label string, graceful bool) error {
	p := w.peer(peer)
	p.mu.Lock()
	dc := p.dcs[label]
	p.mu.Unlock()
	if dc == nil {
		return fmt.Errorf("%s has no data channel %q", peer, label)
	}
	if graceful {
		return dc.GracefulClose()
	}
	return dc.Close()
}

// addTrack adds a track (Opus or VP8); simulcast, three layers with RIDs
// q, h and f, each written as RTP by writeMedia (see writeSimulcast).
func (w *world) addTrack(peer, label, media, direction string, simulcast bool) error {
	p := w.peer(peer)
	kind, codec := webrtc.RTPCodecTypeAudio, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if media == "video" {
		kind, codec = webrtc.RTPCodecTypeVideo, webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	}
	if direction == "recvonly" {
		_, err := p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		return err
	}
	var track *webrtc.TrackLocalStaticSample
	var layers []*webrtc.TrackLocalStaticRTP
	var first webrtc.TrackLocal
	var err error
	if simulcast {
		for _, rid := range []string{"q", "h", "f"} {
			l, err := webrtc.NewTrackLocalStaticRTP(codec, label, "repro-"+peer, webrtc.WithRTPStreamID(rid))
			if err != nil {
				return err
			}
			layers = append(layers, l)
		}
		first = layers[0]
	} else {
		if track, err = webrtc.NewTrackLocalStaticSample(codec, label, "repro-"+peer); err != nil {
			return err
		}
		first = track
	}
	var sender *webrtc.RTPSender
	switch direction {
	case "":
		if sender, err = p.pc.AddTrack(first); err != nil {
			return err
		}
		for _, l := range layers[min(1, len(layers)):] {
			if err = sender.AddEncoding(l); err != nil {
				return err
			}
		}
	default:
		dir := webrtc.RTPTransceiverDirectionSendrecv
		if direction == "sendonly" {
			dir = webrtc.RTPTransceiverDirectionSendonly
		}
		var tr *webrtc.RTPTransceiver
		tr, err = p.pc.AddTransceiverFromTrack(first, webrtc.RTPTransceiverInit{Direction: dir})
		if tr != nil {
			sender = tr.Sender()
		}
	}
	if err != nil {
		return err
	}
	p.mu.Lock()
	p.tracks[label], p.senders[label], p.layers[label] = track, sender, layers
	p.mu.Unlock()
	go func() { // read RTCP, as an application must
		buf := make([]byte, 1500)
		for {
			if _, _, err := sender.Read(buf); err != nil {
				return
			}
		}
	}()
	return nil
}

func (w *world) writeMedia(peer, label string, count, size int, every time.Duration) error {
	p := w.peer(peer)
	p.mu.Lock()
	track, layered := p.tracks[label], len(p.layers[label]) > 0
	p.mu.Unlock()
	if track == nil && !layered {
		return fmt.Errorf("%s has no track %q", peer, label)
	}
	for range count {
		var err error
		if layered {
			err = w.cfg.writeLayers(p, label, make([]byte, size), every)
		} else {
			err = track.WriteSample(media.Sample{Data: make([]byte, size), Duration: every})
		}
		if err != nil {
			return err
		}
		time.Sleep(every)
	}
	return nil
}

func (w *world) removeTrack(peer, label string) error {
	p := w.peer(peer)
	p.mu.Lock()
	sender := p.senders[label]
	p.mu.Unlock()
	return p.pc.RemoveTrack(sender)
}

func (w *world) stopTransceiver(peer, label string) error {
	p := w.peer(peer)
	p.mu.Lock()
	sender := p.senders[label]
	p.mu.Unlock()
	for _, tr := range p.pc.GetTransceivers() {
		if tr.Sender() == sender {
			return tr.Stop()
		}
	}
	return fmt.Errorf("%s has no transceiver for %q", peer, label)
}

// closePeers closes the peers named ("A", "B" or "both" at once), each by
// concurrency goroutines at once.
func (w *world) closePeers(peer string, graceful bool, concurrency int) error {
	targets := []*reproPeer{w.peer(peer)}
	if peer == "both" {
		targets = []*reproPeer{w.a, w.b}
	}
	if w.cfg.closeMuxFirst {
		// The application stops its shared socket before the
		// PeerConnection that still uses it.
		for _, p := range targets {
			if p.mux != nil {
				_ = p.mux.Close()
			}
		}
	}
	var wg sync.WaitGroup
	for _, p := range targets {
		for range max(concurrency, 1) {
			wg.Go(func() { p.closePC(graceful) })
		}
	}
	wg.Wait()
	return nil
}

// closeOn arms a close from inside callback on (detail state, if set).
func (w *world) closeOn(peer, on, state string) error {
	p := w.peer(peer)
	p.mu.Lock()
	p.armed = append(p.armed, armedClose{on: on, state: state})
	p.mu.Unlock()
	return nil
}

// faultFilter applies the scenario's packet faults, as closesim does: the
// first fault that matches a packet acts on it; a delayed packet is
// dropped and a copy re-injected later, a duplicated one passes and a copy
// follows; a probabilistic fault draws for the n-th packet of each class
// and direction from the scenario seed.
func (w *world) faultFilter() vnet.ChunkFilter {
	reinject := map[time.Duration]vnet.ChunkFilter{}
	for _, f := range w.cfg.faults {
		if f.action == "drop" || reinject[f.delay] != nil {
			continue
		}
		df, err := vnet.NewDuplicationFilter(w.router, vnet.WithDuplicationProbability(1),
			vnet.WithDuplicationExtraDelay(f.delay, f.delay), vnet.WithDuplicationSeed(1))
		if err != nil {
			w.t.Fatal(err)
		}
		w.dups = append(w.dups, df)
		reinject[f.delay] = df.ChunkFilter()
	}
	type drawKey struct {
		fault           int
		class, src, dst string
	}
	var mu sync.Mutex
	used := make([]int, len(w.cfg.faults))
	pending := map[string]int{} // chunk tag -> copies scheduled and not yet seen
	drawn := map[drawKey]int{}
	draw := func(i int, class, src, dst string) float64 {
		key := drawKey{i, class, src, dst}
		n := drawn[key]
		drawn[key] = n + 1
		h := fnv.New64a()
		var b [16]byte
		binary.LittleEndian.PutUint64(b[0:], w.cfg.faults[i].seed)
		binary.LittleEndian.PutUint64(b[8:], uint64(n))
		_, _ = h.Write(b[:])
		fmt.Fprintf(h, "|%d|%s|%s|%s", i, class, src, dst)
		return float64(h.Sum64()>>11) / (1 << 53)
	}
	ipsOf := map[string][]string{"A": {"10.0.0.1"}, "B": {"10.0.0.2"}}
	if w.cfg.extraIPs {
		ipsOf["A"] = append(ipsOf["A"], "10.0.0.11")
		if w.cfg.nat == "" { // behind the NAT, B has one public address
			ipsOf["B"] = append(ipsOf["B"], "10.0.0.12")
		}
	}
	return func(c vnet.Chunk) bool {
		if c.Network() != "udp" {
			return true
		}
		mu.Lock()
		defer mu.Unlock()
		if tag := c.Tag(); pending[tag] > 0 {
			if pending[tag]--; pending[tag] == 0 {
				delete(pending, tag)
			}
			return true // a copy this filter scheduled
		}
		payload := c.UserData()
		src := c.SourceAddr().(*net.UDPAddr).IP.String()
		dst := c.DestinationAddr().(*net.UDPAddr).IP.String()
		elapsed := w.now()
		for i, f := range w.cfg.faults {
			switch {
			case f.firstN > 0 && used[i] >= f.firstN:
				continue
			case f.from != "" && (!slices.Contains(ipsOf[f.from], src) || !slices.Contains(ipsOf[map[string]string{"A": "B", "B": "A"}[f.from]], dst)):
				continue
			case elapsed < f.after || f.until > 0 && elapsed >= f.until:
				continue
			case f.class != "" && !hasClass(payload, f.class):
				continue
			case f.probability > 0 && f.probability < 1 && draw(i, packetClass(payload), src, dst) >= f.probability:
				continue
			}
			used[i]++
			if f.action == "drop" {
				return false
			}
			pending[c.Tag()]++
			reinject[f.delay](c.Clone())
			return f.action == "duplicate"
		}
		return true
	}
}

// hasClass reports whether a datagram is of class, counting every DTLS
// record it carries.
func hasClass(b []byte, class string) bool {
	first := packetClass(b)
	if first == class || !strings.HasPrefix(class, "dtls-") || !strings.HasPrefix(first, "dtls-") {
		return first == class
	}
	for rest := b; len(rest) > 0; {
		v := rest[0]
		if v < 20 || v > 63 {
			break
		}
		if packetClass(rest[:1]) == class {
			return true
		}
		if v == 25 || v >= 32 || len(rest) < 13 {
			break
		}
		n := 13 + (int(rest[11])<<8 | int(rest[12]))
		if n > len(rest) {
			break
		}
		rest = rest[n:]
	}
	return false
}

// packetClass names a UDP payload's protocol by RFC 7983's demultiplexing
// (DTLS by record content type).
func packetClass(b []byte) string {
	if len(b) == 0 {
		return "unknown"
	}
	switch v := b[0]; {
	case v <= 3:
		return "stun"
	case v >= 16 && v <= 19:
		return "zrtp"
	case v >= 20 && v <= 63:
		switch v {
		case 20:
			return "dtls-change-cipher-spec"
		case 21:
			return "dtls-alert"
		case 22:
			return "dtls-handshake"
		case 23:
			return "dtls-application-data"
		}
		return "dtls-other"
	case v >= 64 && v <= 79:
		return "turn-channel"
	case v >= 128 && v <= 191:
		if len(b) > 1 && b[1]&0x7f >= 64 && b[1]&0x7f <= 95 {
			return "srtcp"
		}
		return "srtp"
	}
	return "unknown"
}

// ---------------------------------------------------------------------------
// The checks: each is one closesim invariant, judged on what the world saw.
// ---------------------------------------------------------------------------

// closedPeers are the peers the scenario closed.
func (w *world) closedPeers() []*reproPeer {
	var out []*reproPeer
	for _, p := range []*reproPeer{w.a, w.b} {
		p.mu.Lock()
		if p.closeCalls > 0 {
			out = append(out, p)
		}
		p.mu.Unlock()
	}
	return out
}

// checkClosedStates (closesim's local.closed-states): every state the W3C
// close algorithm sets to closed is closed on each peer the scenario closed.
func checkClosedStates(t *testing.T, w *world) {
	for _, p := range w.closedPeers() {
		pc := p.pc
		states := []struct{ name, got, want string }{
			{"signaling", pc.SignalingState().String(), "closed"},
			{"connection", pc.ConnectionState().String(), "closed"},
			{"ICE connection", pc.ICEConnectionState().String(), "closed"},
			{"DTLS", pc.SCTP().Transport().State().String(), "closed"},
		}
		if pc.RemoteDescription() != nil && pc.LocalDescription() != nil {
			states = append(states, struct{ name, got, want string }{"SCTP", pc.SCTP().State().String(), "closed"})
		}
		p.mu.Lock()
		for label, dc := range p.dcs {
			states = append(states, struct{ name, got, want string }{"data channel " + strconv.Quote(label), dc.ReadyState().String(), "closed"})
		}
		p.mu.Unlock()
		for _, s := range states {
			if s.got != s.want {
				t.Errorf("%s: %s is %q after close, want %q", p.name, s.name, s.got, s.want)
			}
		}
	}
}

// checkNoActivityAfterClose (closesim's events.no-activity-after-close):
// once a peer's first Close returned, its PeerConnection runs no callback
// but the ones reporting something closed.
func checkNoActivityAfterClose(t *testing.T, w *world) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range w.closedPeers() {
		for _, e := range w.events[p.closedSeq:] {
			if e.peer == p.name && !e.closed {
				t.Errorf("%s: %q fired at t=%s, after its first Close() returned at t=%s", p.name, e.what, e.at, p.closedAt)
			}
		}
	}
}

// checkCloseBounded (closesim's close.returns-bounded): a Close returns
// within 5 s of virtual time.
func checkCloseBounded(t *testing.T, w *world) {
	for _, p := range w.closedPeers() {
		if p.closeTook > 5*time.Second {
			t.Errorf("%s: Close took %s of virtual time, more than 5s", p.name, p.closeTook)
		}
	}
}

// checkNoLeakedGoroutines (closesim's leak.goroutines): once both peers
// are closed and the network is idle, no Pion goroutine is left.
func checkNoLeakedGoroutines(t *testing.T, w *world) {
	w.shutdown()
	buf := make([]byte, 1<<22)
	buf = buf[:runtime.Stack(buf, true)]
	for _, g := range strings.Split(string(buf), "\n\n") {
		if strings.Contains(g, "github.com/pion/") && !strings.Contains(g, ".runRepro") {
			t.Errorf("goroutine left after both peers closed:\n%s", g)
		}
	}
}

// checkRejectedAfterClose (closesim's api.rejected-after-close): once
// closed, the methods the W3C spec guards with [[IsClosed]] fail with an
// InvalidStateError.
func checkRejectedAfterClose(t *testing.T, w *world) {
	w.probe()
	for _, p := range w.closedPeers() {
		p.mu.Lock()
		probes := p.probes
		p.mu.Unlock()
		for _, pr := range probes {
			var ise *rtcerr.InvalidStateError
			switch {
			case pr.err == nil:
				t.Errorf("%s: %s after close returned no error, want an InvalidStateError", p.name, pr.call)
			case !errors.As(pr.err, &ise):
				t.Errorf("%s: %s after close returned error %q, not an InvalidStateError", p.name, pr.call, pr.err)
			}
		}
	}
}

// checkSCTPClosedAfterAbort (closesim's remote.sctp-closed-after-abort):
// on a peer the scenario did not close, an SCTP transport whose close
// callback fired reports "closed".
func checkSCTPClosedAfterAbort(t *testing.T, w *world) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, p := range []*reproPeer{w.a, w.b} {
		p.mu.Lock()
		closed := p.closeCalls > 0
		p.mu.Unlock()
		if closed {
			continue
		}
		for _, e := range w.events {
			if e.peer == p.name && e.what == "sctp close" {
				if st := p.pc.SCTP().State(); st != webrtc.SCTPTransportStateClosed {
					t.Errorf("%s: SCTP is %q at the end though its close callback fired", p.name, st)
				}
				break
			}
		}
	}
}

// checkConsentFailure (closesim's remote.consent-failure): with
// DisableCloseByDTLS, a surviving full ICE agent that was connected when
// its remote closed goes "disconnected" and then "failed" before the end.
func checkConsentFailure(t *testing.T, w *world) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for _, s := range []*reproPeer{w.a, w.b} {
		r := s.other()
		s.mu.Lock()
		survived := s.closeCalls == 0
		s.mu.Unlock()
		r.mu.Lock()
		at := r.closeCallSeq
		r.mu.Unlock()
		if !survived || at < 0 || s == w.b && w.cfg.iceLiteB {
			continue
		}
		ice := ""
		for _, e := range w.events[:at] {
			if e.peer == s.name && strings.HasPrefix(e.what, "ice ") {
				ice = e.what
			}
		}
		if ice != "ice connected" && ice != "ice completed" {
			continue
		}
		disc, failed := false, false
		for _, e := range w.events[at:] {
			if e.peer != s.name {
				continue
			}
			switch {
			case e.what == "ice disconnected":
				disc = true
			case e.what == "ice failed" && disc:
				failed = true
			}
		}
		switch {
		case !disc:
			t.Errorf("%s: ICE never went \"disconnected\" after %s closed", s.name, r.name)
		case !failed:
			t.Errorf("%s: ICE went \"disconnected\" but never \"failed\" after %s closed", s.name, r.name)
		}
	}
}

// checkNoWedge (closesim's harness.no-wedge): the run got here, so nothing
// wedged; a wedge never returns and runRepro reports it with the stacks.
func checkNoWedge(t *testing.T, w *world) {}

// ---------------------------------------------------------------------------
// Backpressure: a peer's sockets get a bounded send queue drained at a fixed
// rate in virtual time, so that writes block as on a full kernel buffer
// (vnet's never do). A write waits while the queue is full, until its
// deadline passes or the socket closes; a stalled uplink stops the drain.
// ---------------------------------------------------------------------------

// queueConfig is one peer's send queue.
type queueConfig struct {
	queueBytes, rate       int           // capacity in bytes, drain rate in bytes/s
	stallAfter, stallUntil time.Duration // no drain in this window of virtual time
}

// withBackpressure wraps the networks of the peers cfgs names.
func withBackpressure(cfgs map[string]queueConfig) func(w *world, peer string, n transport.Net) transport.Net {
	return func(w *world, peer string, n transport.Net) transport.Net {
		cfg, ok := cfgs[peer]
		if !ok {
			return n
		}
		return &queueNet{Net: n, cfg: cfg, start: w.start}
	}
}

type queueNet struct {
	transport.Net
	cfg   queueConfig
	start time.Time
}

func (n *queueNet) ListenUDP(network string, laddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, laddr)
	if err != nil || c == nil {
		return c, err
	}
	return n.wrap(c), nil
}

func (n *queueNet) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.DialUDP(network, laddr, raddr)
	if err != nil || c == nil {
		return c, err
	}
	return n.wrap(c), nil
}

func (n *queueNet) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := n.Net.ListenPacket(network, address)
	if err != nil || pc == nil {
		return pc, err
	}
	if c, ok := pc.(transport.UDPConn); ok {
		return n.wrap(c), nil
	}
	return pc, nil
}

func (n *queueNet) wrap(c transport.UDPConn) *queueConn {
	return &queueConn{UDPConn: c, n: n, wdl: deadline.New(), closedCh: make(chan struct{})}
}

// stalled returns how long the drain must still wait (0: not stalled).
func (n *queueNet) stalled() time.Duration {
	if n.cfg.stallUntil == 0 {
		return 0
	}
	now := time.Since(n.start)
	if now < n.cfg.stallAfter || now >= n.cfg.stallUntil {
		return 0
	}
	return n.cfg.stallUntil - now
}

type queuedPacket struct {
	b    []byte
	addr net.Addr // nil: Write on a connected socket
}

type queueWaiter struct {
	p       queuedPacket
	granted bool
	ready   chan struct{}
}

// queueConn is a socket with a send queue.
type queueConn struct {
	transport.UDPConn
	n        *queueNet
	wdl      *deadline.Deadline
	closedCh chan struct{}

	mu       sync.Mutex
	closed   bool
	queue    []queuedPacket
	queued   int // bytes charged: the queue plus the datagram on the link
	waiters  []*queueWaiter
	draining bool
	drained  chan struct{}
}

func (c *queueConn) send(p queuedPacket) {
	if p.addr == nil {
		_, _ = c.UDPConn.Write(p.b)
		return
	}
	_, _ = c.UDPConn.WriteTo(p.b, p.addr)
}

func (c *queueConn) fits(size int) bool {
	return c.queued == 0 || c.queued+size <= c.n.cfg.queueBytes
}

func (c *queueConn) pushLocked(p queuedPacket) {
	c.queue = append(c.queue, p)
	c.queued += len(p.b)
	if !c.draining {
		c.draining = true
		c.drained = make(chan struct{})
		go c.drain(c.drained)
	}
}

func (c *queueConn) admitLocked() {
	if c.wdl.Err() != nil {
		return
	}
	for len(c.waiters) > 0 && c.fits(len(c.waiters[0].p.b)) {
		wt := c.waiters[0]
		c.waiters = c.waiters[1:]
		c.pushLocked(wt.p)
		wt.granted = true
		close(wt.ready)
	}
}

func (c *queueConn) opError(addr net.Addr, err error) error {
	return &net.OpError{Op: "write", Net: "udp", Source: c.LocalAddr(), Addr: addr, Err: err}
}

func (c *queueConn) write(b []byte, addr net.Addr) (int, error) {
	p := queuedPacket{b: append([]byte{}, b...), addr: addr}
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return 0, c.opError(addr, net.ErrClosed)
	}
	if c.wdl.Err() != nil {
		c.mu.Unlock()
		return 0, c.opError(addr, os.ErrDeadlineExceeded)
	}
	if len(c.waiters) == 0 && c.fits(len(p.b)) {
		c.pushLocked(p)
		c.mu.Unlock()
		return len(b), nil
	}
	wt := &queueWaiter{p: p, ready: make(chan struct{})}
	c.waiters = append(c.waiters, wt)
	c.mu.Unlock()
	for {
		select {
		case <-wt.ready:
			return len(b), nil
		case <-c.closedCh:
			c.mu.Lock()
			granted := wt.granted
			c.mu.Unlock()
			if granted {
				return len(b), nil
			}
			return 0, c.opError(addr, net.ErrClosed)
		case <-c.wdl.Done():
			c.mu.Lock()
			if wt.granted {
				c.mu.Unlock()
				return len(b), nil
			}
			if c.wdl.Err() == nil { // the deadline moved
				c.admitLocked()
				granted := wt.granted
				c.mu.Unlock()
				if granted {
					return len(b), nil
				}
				continue
			}
			for i, x := range c.waiters {
				if x == wt {
					c.waiters = append(c.waiters[:i], c.waiters[i+1:]...)
					break
				}
			}
			c.mu.Unlock()
			return 0, c.opError(addr, os.ErrDeadlineExceeded)
		}
	}
}

// drain hands the queue to the inner socket, one datagram per its
// transmission time at the configured rate.
func (c *queueConn) drain(done chan struct{}) {
	defer close(done)
	for {
		c.mu.Lock()
		if c.closed || len(c.queue) == 0 {
			c.draining = false
			c.mu.Unlock()
			return
		}
		if d := c.n.stalled(); d > 0 {
			c.mu.Unlock()
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-c.closedCh:
				t.Stop()
				return
			}
			continue
		}
		p := c.queue[0]
		c.queue = c.queue[1:]
		c.send(p)
		c.mu.Unlock()
		if c.n.cfg.rate > 0 && len(p.b) > 0 {
			t := time.NewTimer(time.Duration((int64(len(p.b))*int64(time.Second) + int64(c.n.cfg.rate) - 1) / int64(c.n.cfg.rate)))
			select {
			case <-t.C:
			case <-c.closedCh:
				t.Stop()
				return
			}
		}
		c.mu.Lock()
		if c.closed {
			c.mu.Unlock()
			return
		}
		c.queued -= len(p.b)
		c.admitLocked()
		c.mu.Unlock()
	}
}

func (c *queueConn) Write(b []byte) (int, error) {
	if c.RemoteAddr() == nil {
		return c.UDPConn.Write(b)
	}
	return c.write(b, nil)
}

func (c *queueConn) WriteTo(b []byte, addr net.Addr) (int, error) { return c.write(b, addr) }

func (c *queueConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	return c.write(b, addr)
}

func (c *queueConn) SetDeadline(t time.Time) error {
	c.wdl.Set(t)
	return c.UDPConn.SetReadDeadline(t)
}

func (c *queueConn) SetWriteDeadline(t time.Time) error {
	c.wdl.Set(t)
	return nil
}

// Close releases the waiting writers and flushes what the queue held.
func (c *queueConn) Close() error {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return c.opError(nil, net.ErrClosed)
	}
	c.closed = true
	pending := c.queue
	c.queue, c.queued, c.waiters = nil, 0, nil
	drained := c.drained
	if !c.draining {
		drained = nil
	}
	c.mu.Unlock()
	close(c.closedCh)
	if drained != nil {
		<-drained
	}
	for _, p := range pending {
		c.send(p)
	}
	return c.UDPConn.Close()
}
