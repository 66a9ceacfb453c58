package sim

import (
	"fmt"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/transport/v5/vnet"
	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/internal/netcount"
	"github.com/closesim/closesim/scenarios"
)

// An SFU (Topology.SFUClients): A serves more clients than B, each over a
// PeerConnection of its own made from one API, in the same process, as an
// SFU serving N clients does. The scenario's steps drive A and B only; the
// clients connect on their own at the start (each offers one data
// channel) before the steps start, send a probe message once the steps are
// over, and the harness closes them with the rest.

// sfuChannel labels the data channel each SFU client offers.
const sfuChannel = "sfu"

// sfuConnectTimeout bounds, in virtual time, a client's offer/answer and
// its wait for the channel to open.
const sfuConnectTimeout = 30 * time.Second

// sfuClient is one client of the SFU and A's PeerConnection for it.
type sfuClient struct {
	name   string // "C1", ...
	w      *world
	a, c   *webrtc.PeerConnection
	net    *netcount.Net // the client's network
	done   chan struct{} // closed once connect returned
	closed bool          // a close step on A closed a (Topology.SFUCloseAll)

	mu        sync.Mutex
	aDC       *webrtc.DataChannel // A's side of the channel, once it arrived
	cDC       *webrtc.DataChannel
	aOpen     bool
	aDetached bool // A's side of the channel was detached (Settings.DetachDataChannels)
	cOpen     bool
	up        bool // came up before the steps started
	probes    int  // probe messages A's side received
	fact      facts.SFUConnection
}

// sfuIP is the address of SFU client i (from 1).
func sfuIP(i int) string { return fmt.Sprintf("10.0.0.%d", 20+i) }

// newSFUClients builds A's SFU clients: each on its own network and
// address, with A's side from api (A's SettingEngine; its UDPMux, or
// ports of their own).
func (w *world) newSFUClients(api *webrtc.API) error {
	for i := 1; i <= w.sc.Topology.SFUClients; i++ {
		name := fmt.Sprintf("C%d", i)
		vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{sfuIP(i)}})
		if err != nil {
			return fmt.Errorf("sfu client %s: vnet net: %w", name, err)
		}
		if err := w.router.AddNet(vn); err != nil {
			return fmt.Errorf("sfu client %s: add net to router: %w", name, err)
		}
		cl := &sfuClient{name: name, w: w, done: make(chan struct{})}
		cl.fact.Client = name
		cl.net = netcount.New(vn, netcount.WithOnEvent(func(ev netcount.Event) {
			w.trace.Add(name, facts.KindSocket, "%s %s %s", ev.Op, ev.Socket.Kind, ev.Socket.Local)
		}))
		se := webrtc.SettingEngine{LoggerFactory: &traceLoggerFactory{trace: w.trace, peer: name}}
		se.SetNet(cl.net)
		se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
		se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
		se.SetIncludeLoopbackCandidate(false)
		se.SetInterfaceFilter(func(ifName string) bool { return ifName == "eth0" })
		if err := se.SetEphemeralUDPPortRange(30000+uint16(i), 30000+uint16(i)); err != nil {
			return fmt.Errorf("sfu client %s: port range: %w", name, err)
		}
		if cl.c, err = webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{}); err != nil {
			return fmt.Errorf("sfu client %s: new peer connection: %w", name, err)
		}
		if cl.a, err = api.NewPeerConnection(webrtc.Configuration{}); err != nil {
			_ = cl.c.Close()
			return fmt.Errorf("sfu client %s: A's peer connection: %w", name, err)
		}
		cl.watch()
		w.sfu = append(w.sfu, cl)
	}
	return nil
}

// watch traces both PeerConnections' connection states and A's side of
// the channel, under the client's name (kind facts.KindSFU: no judge of
// A's or B's events reads them).
func (cl *sfuClient) watch() {
	tr := cl.w.trace
	aName := "A~" + cl.name
	cl.a.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		tr.Add(aName, facts.KindSFU, "pc %s", s)
	})
	cl.c.OnConnectionStateChange(func(s webrtc.PeerConnectionState) {
		tr.Add(cl.name, facts.KindSFU, "pc %s", s)
	})
	cl.a.OnDataChannel(func(dc *webrtc.DataChannel) {
		cl.mu.Lock()
		cl.aDC = dc
		cl.mu.Unlock()
		received := func() {
			tr.Add(aName, facts.KindSFU, "dc %s message", dc.Label())
			cl.mu.Lock()
			cl.probes++
			cl.mu.Unlock()
		}
		dc.OnOpen(func() {
			tr.Add(aName, facts.KindSFU, "dc %s open", dc.Label())
			cl.mu.Lock()
			cl.aOpen = true
			cl.mu.Unlock()
			if cl.w.sc.Settings.DetachDataChannels {
				// A's API detaches its channels: read through the
				// ReadWriteCloser until the channel closes.
				raw, err := dc.Detach()
				if err != nil {
					tr.Add(aName, facts.KindSFU, "dc %s detach: %v", dc.Label(), err)
					return
				}
				cl.mu.Lock()
				cl.aDetached = true
				cl.mu.Unlock()
				go func() {
					buf := make([]byte, 1500)
					for {
						if _, err := raw.Read(buf); err != nil {
							return
						}
						received()
					}
				}()
			}
		})
		dc.OnMessage(func(webrtc.DataChannelMessage) { received() })
	})
}

// connect runs the client's offer/answer with A, without trickle, and
// waits for its channel to open on both sides; bounded by
// sfuConnectTimeout. The harness runs it before the steps.
func (cl *sfuClient) connect() {
	defer close(cl.done)
	tr := cl.w.trace
	fail := func(what string, err error) { tr.Add(cl.name, facts.KindSFU, "connect: %s: %v", what, err) }
	dc, err := cl.c.CreateDataChannel(sfuChannel, nil)
	if err != nil {
		fail("create data channel", err)
		return
	}
	dc.OnOpen(func() {
		cl.mu.Lock()
		cl.cOpen = true
		cl.mu.Unlock()
	})
	cl.mu.Lock()
	cl.cDC = dc
	cl.mu.Unlock()
	offer, err := cl.describe(cl.c, func() (webrtc.SessionDescription, error) { return cl.c.CreateOffer(nil) })
	if err != nil {
		fail("offer", err)
		return
	}
	if err := cl.a.SetRemoteDescription(offer); err != nil {
		fail("A applies the offer", err)
		return
	}
	answer, err := cl.describe(cl.a, func() (webrtc.SessionDescription, error) { return cl.a.CreateAnswer(nil) })
	if err != nil {
		fail("answer", err)
		return
	}
	if err := cl.c.SetRemoteDescription(answer); err != nil {
		fail("apply the answer", err)
		return
	}
	deadline := time.Now().Add(sfuConnectTimeout)
	for time.Now().Before(deadline) {
		cl.mu.Lock()
		up := cl.aOpen && cl.cOpen && cl.a.ConnectionState() == webrtc.PeerConnectionStateConnected
		cl.up = up
		cl.mu.Unlock()
		if up {
			tr.Add(cl.name, facts.KindSFU, "up")
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
	tr.Add(cl.name, facts.KindSFU, "not up after %s", sfuConnectTimeout)
}

// describe sets the description create makes as pc's local one and
// returns it once gathering completed (bounded by sfuConnectTimeout).
func (cl *sfuClient) describe(pc *webrtc.PeerConnection, create func() (webrtc.SessionDescription, error)) (webrtc.SessionDescription, error) {
	sd, err := create()
	if err != nil {
		return sd, err
	}
	gathered := webrtc.GatheringCompletePromise(pc)
	if err := pc.SetLocalDescription(sd); err != nil {
		return sd, err
	}
	select {
	case <-gathered:
	case <-time.After(sfuConnectTimeout):
		return sd, fmt.Errorf("gathering not complete after %s", sfuConnectTimeout)
	}
	return *pc.LocalDescription(), nil
}

// closeSFU closes A's side of every SFU connection at once, in mode, as
// part of a close step on A (Topology.SFUCloseAll), and records each.
func (w *world) closeSFU(step int, mode scenarios.CloseMode) {
	var wg sync.WaitGroup
	for _, cl := range w.sfu {
		if cl.closed {
			continue // an earlier close step on A closed it
		}
		cl.closed = true
		wg.Go(func() {
			snap := &facts.CloseSnapshot{Step: step, Peer: "A~" + cl.name, Mode: string(mode), By: facts.CloseByStep, At: w.now(), Before: cl.stateA()}
			w.trace.Add(snap.Peer, facts.KindSFU, "call %s", mode)
			start := time.Now()
			var err error
			if mode == scenarios.ModeGraceful {
				err = cl.a.GracefulClose()
			} else {
				err = cl.a.Close()
			}
			snap.Took = time.Since(start)
			after := cl.stateA()
			snap.After = &after
			if err != nil {
				snap.Err = err.Error()
			}
			w.trace.Add(snap.Peer, facts.KindSFU, "return %s err=%v", mode, err)
			cl.mu.Lock()
			cl.fact.Close = snap
			cl.mu.Unlock()
		})
	}
	wg.Wait()
}

// probe sends the client's probe message, once the scenario's steps are
// over, over a channel still open.
func (cl *sfuClient) probe() {
	cl.mu.Lock()
	dc, open := cl.cDC, cl.cOpen
	cl.mu.Unlock()
	if dc == nil || !open || dc.ReadyState() != webrtc.DataChannelStateOpen {
		return
	}
	err := dc.SendText("probe")
	cl.w.trace.Add(cl.name, facts.KindSFU, "send probe: %v", err)
	if err == nil {
		cl.mu.Lock()
		cl.fact.ProbeSent = true
		cl.mu.Unlock()
	}
}

// final records the connection's states when Final is taken.
func (cl *sfuClient) final() facts.SFUConnection {
	cl.mu.Lock()
	f := cl.fact
	f.Up, f.ProbeDelivered = cl.up, f.ProbeSent && cl.probes > 0
	cDC := cl.cDC
	cl.mu.Unlock()
	f.A = cl.stateA()
	f.Remote = sfuState(cl.c, cl.name, cDC)
	return f
}

func (cl *sfuClient) dcA() *webrtc.DataChannel {
	cl.mu.Lock()
	defer cl.mu.Unlock()
	return cl.aDC
}

// stateA reads A's side's states, its channel marked detached if it was.
func (cl *sfuClient) stateA() facts.PeerState {
	st := sfuState(cl.a, "A~"+cl.name, cl.dcA())
	cl.mu.Lock()
	if len(st.DataChannels) == 1 {
		st.DataChannels[0].Detached = cl.aDetached
	}
	cl.mu.Unlock()
	return st
}

// sfuState reads one SFU PeerConnection's states, and its channel's.
func sfuState(pc *webrtc.PeerConnection, name string, dc *webrtc.DataChannel) facts.PeerState {
	tr := pc.SCTP().Transport()
	st := facts.PeerState{
		Peer:          name,
		Signaling:     pc.SignalingState().String(),
		Connection:    pc.ConnectionState().String(),
		ICEConnection: pc.ICEConnectionState().String(),
		ICEGathering:  pc.ICEGatheringState().String(),
		ICETransport:  tr.ICETransport().State().String(),
		DTLS:          tr.State().String(),
		SCTP:          pc.SCTP().State().String(),
	}
	if dc != nil {
		st.DataChannels = []facts.DCState{{Label: dc.Label(), State: dc.ReadyState().String(), Ordered: dc.Ordered(), Reliable: true}}
	}
	return st
}

// closeAllSFU is the harness's close of every SFU connection the scenario
// left open, both sides, after its connect returned.
func (w *world) closeAllSFU() {
	for _, cl := range w.sfu {
		<-cl.done
		if !cl.closed {
			w.trace.Add("A~"+cl.name, facts.KindSFU, "harness close: %v", cl.a.GracefulClose())
		}
		w.trace.Add(cl.name, facts.KindSFU, "harness close: %v", cl.c.GracefulClose())
	}
}
