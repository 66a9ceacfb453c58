package sim

import (
	"fmt"
	"net"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/interceptor"
	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/scenarios"
)

// This file holds the pieces of an application's configuration surface
// that the generator widens over (issue #14): how the peer's UDPMux is
// built, which interceptors it registers, who trickles, and when B's
// OnDataChannel handler is in place.

// newMux builds the peer's ICE UDPMux on its port and sets it on se: one
// ice.UDPMuxDefault on the peer's first address, or, with
// Settings.MultiUDPMux, an ice.MultiUDPMuxDefault with one per address.
func (p *peer) newMux(se *webrtc.SettingEngine, ip string, port uint16) error {
	logger := se.LoggerFactory.NewLogger("udpmux")
	if p.w.sc.Settings.MultiUDPMux {
		m, err := ice.NewMultiUDPMuxFromPort(int(port), ice.UDPMuxFromPortWithNet(p.net),
			ice.UDPMuxFromPortWithInterfaceFilter(func(name string) bool { return name == "eth0" }),
			ice.UDPMuxFromPortWithNetworks(ice.NetworkTypeUDP4), ice.UDPMuxFromPortWithLogger(logger))
		if err != nil {
			return fmt.Errorf("multi udp mux: %w", err)
		}
		p.mux = m
	} else {
		conn, err := p.net.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: int(port)})
		if err != nil {
			return fmt.Errorf("udp mux socket: %w", err)
		}
		p.mux = ice.NewUDPMuxDefault(ice.UDPMuxParams{UDPConn: conn, Net: p.net, Logger: logger})
	}
	se.SetICEUDPMux(p.mux)
	return nil
}

// registerInterceptors registers the named interceptors (and what they
// need in the media engine) in their order, as an application that picks
// its own does.
func registerInterceptors(me *webrtc.MediaEngine, reg *interceptor.Registry, names []scenarios.InterceptorName) error {
	for _, n := range names {
		var err error
		switch n {
		case scenarios.InterceptorNACK:
			err = webrtc.ConfigureNack(me, reg)
		case scenarios.InterceptorRTCPReports:
			err = webrtc.ConfigureRTCPReports(reg)
		case scenarios.InterceptorSimulcast:
			err = webrtc.ConfigureSimulcastExtensionHeaders(me)
		case scenarios.InterceptorStats:
			err = webrtc.ConfigureStatsInterceptor(reg)
		case scenarios.InterceptorTWCC:
			err = webrtc.ConfigureTWCCSender(me, reg)
		case scenarios.InterceptorCCFB:
			err = webrtc.ConfigureCongestionControlFeedback(me, reg)
		default:
			err = fmt.Errorf("unknown interceptor %q", n)
		}
		if err != nil {
			return fmt.Errorf("interceptor %s: %w", n, err)
		}
	}
	return nil
}

// trickles reports whether peer name trickles its candidates.
func (w *world) trickles(name scenarios.Peer) bool {
	st := w.sc.Settings
	return st.Trickle && (st.TrickleOnly == "" || st.TrickleOnly == name)
}

// watchDataChannels registers p's OnDataChannel handler, which tracks and
// traces the channels the remote opens: at once, later
// (Settings.DataChannelHandlerDelayB), or, for B with
// Settings.NoDataChannelHandlerB, never (Pion's default handler then
// closes them).
func (p *peer) watchDataChannels() {
	st := p.w.sc.Settings
	if p.name == scenarios.PeerB && st.NoDataChannelHandlerB {
		p.w.trace.Add(string(p.name), facts.KindHarness, "no OnDataChannel handler")
		return
	}
	name, tr := string(p.name), p.w.trace
	register := func() {
		p.pc.OnDataChannel(func(dc *webrtc.DataChannel) {
			tr.op(name, facts.KindDC, facts.OpRemote, dc.Label(), "remote %q", dc.Label())
			p.addDataChannel(dc)
			p.fire(scenarios.OnDataChannel, dc.Label())
		})
	}
	if d := time.Duration(st.DataChannelHandlerDelayB); p.name == scenarios.PeerB && d > 0 {
		p.late = time.AfterFunc(d, func() {
			tr.Add(name, facts.KindHarness, "OnDataChannel handler registered")
			register()
		})
		return
	}
	register()
}
