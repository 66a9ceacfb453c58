package sim

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/ice/v4"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/rtcerr"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/internal/browser"
	"github.com/closesim/closesim/scenarios"
)

// This file is closesim browser's world: a Pion peer on real loopback UDP,
// in real time, against headless Chromium (internal/browser). It is not
// deterministic and is the one mode outside the bubble besides the
// real-time wedge recheck: callers repeat each scenario and report
// frequencies.

// BrowserWindow is how long a browser run observes both sides after the
// close before it takes their final states.
const BrowserWindow = 3 * time.Second

// loopbackPeer is the Pion side of a browser run, with its record.
type loopbackPeer struct {
	pc    *webrtc.PeerConnection
	start time.Time

	mu     sync.Mutex
	events []facts.BrowserEvent
	dcs    []*webrtc.DataChannel
	open   chan struct{}
	once   sync.Once
}

func (p *loopbackPeer) rec(kind, detail string) {
	p.mu.Lock()
	p.events = append(p.events, facts.BrowserEvent{At: time.Since(p.start), Kind: kind, Detail: detail})
	p.mu.Unlock()
}

// newLoopbackPeer makes a PeerConnection that gathers only 127.0.0.1 host
// candidates and records every callback.
func newLoopbackPeer(start time.Time) (*loopbackPeer, error) {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(se)).NewPeerConnection(webrtc.Configuration{})
	if err != nil {
		return nil, fmt.Errorf("pion peer: %w", err)
	}
	p := &loopbackPeer{pc: pc, start: start, open: make(chan struct{})}
	pc.OnSignalingStateChange(func(s webrtc.SignalingState) { p.rec("signaling", s.String()) })
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) { p.rec("ice", s.String()) })
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { p.rec("pc", s.String()) })
	pc.OnICEGatheringStateChange(func(s webrtc.ICEGatheringState) { p.rec("gathering", s.String()) })
	pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) { p.rec("dtls", s.String()) })
	pc.SCTP().OnClose(func(error) { p.rec("sctp close", "") })
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		p.rec("datachannel", dc.Label())
		p.watch(dc)
	})
	return p, nil
}

func (p *loopbackPeer) watch(dc *webrtc.DataChannel) {
	p.mu.Lock()
	p.dcs = append(p.dcs, dc)
	p.mu.Unlock()
	label := dc.Label()
	dc.OnOpen(func() {
		p.rec("dc open", label)
		p.once.Do(func() { close(p.open) })
	})
	dc.OnClose(func() { p.rec("dc close", label) })
	dc.OnError(func(err error) { p.rec("dc error", label) })
	dc.OnMessage(func(webrtc.DataChannelMessage) { p.rec("dc message", label) })
}

// state reads p's states (outside any callback).
func (p *loopbackPeer) state() facts.PeerState {
	pc := p.pc
	st := facts.PeerState{
		Peer: "pion", Signaling: pc.SignalingState().String(), Connection: pc.ConnectionState().String(),
		ICEConnection: pc.ICEConnectionState().String(), ICEGathering: pc.ICEGatheringState().String(),
		DTLS: pc.SCTP().Transport().State().String(), SCTP: pc.SCTP().State().String(),
		ICETransport: pc.SCTP().Transport().ICETransport().State().String(),
	}
	p.mu.Lock()
	for _, dc := range p.dcs {
		st.DataChannels = append(st.DataChannels, facts.DCState{Label: dc.Label(), State: dc.ReadyState().String()})
	}
	p.mu.Unlock()
	return st
}

// describe creates, sets and returns p's offer or answer once gathering
// completed.
func (p *loopbackPeer) describe(offer bool) (browser.Description, error) {
	var d webrtc.SessionDescription
	var err error
	if offer {
		d, err = p.pc.CreateOffer(nil)
	} else {
		d, err = p.pc.CreateAnswer(nil)
	}
	if err != nil {
		return browser.Description{}, err
	}
	gathered := webrtc.GatheringCompletePromise(p.pc)
	if err := p.pc.SetLocalDescription(d); err != nil {
		return browser.Description{}, err
	}
	select {
	case <-gathered:
	case <-time.After(10 * time.Second):
		return browser.Description{}, errors.New("pion: gathering did not complete")
	}
	ld := p.pc.LocalDescription()
	return browser.Description{Type: ld.Type.String(), SDP: ld.SDP}, nil
}

func (p *loopbackPeer) apply(d browser.Description) error {
	return p.pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.NewSDPType(d.Type), SDP: d.SDP})
}

// RunBrowser runs sc between a Pion peer on loopback UDP and a new tab of
// b, observes both sides for window after the close, and returns what each
// side saw. A step that fails before the close is the run's Err.
func RunBrowser(b *browser.Browser, sc scenarios.BrowserScenario, rep int, window time.Duration) facts.BrowserRun {
	run := facts.BrowserRun{Seed: sc.Seed, Name: sc.Name(), Rep: rep, Offerer: sc.Offerer, Phase: sc.Phase, Closer: sc.Closer, Mode: sc.Mode,
		Pion: facts.BrowserSide{Noticed: -1}, Browser: facts.BrowserSide{Noticed: -1}}
	start := time.Now()
	pion, err := newLoopbackPeer(start)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	defer pion.pc.Close()
	page, err := b.NewPeer()
	if err != nil {
		run.Err = err.Error()
		return run
	}
	tabOpen := true
	defer func() {
		if tabOpen {
			page.Close()
		}
	}()
	if err := connectBrowser(pion, page, sc); err != nil {
		run.Err = err.Error()
		return run
	}

	// The close, and its reference times on both clocks.
	var closeAt time.Duration // Pion clock
	var pageMark float64      // page clock, ms
	switch sc.Closer {
	case "pion":
		if pageMark, err = page.Mark("pion close call"); err != nil {
			run.Err = err.Error()
			return run
		}
		closeAt = time.Since(start)
		pion.rec("close call", sc.Mode)
		if sc.Mode == "graceful" {
			err = pion.pc.GracefulClose()
		} else {
			err = pion.pc.Close()
		}
		run.Pion.CloseTook = time.Since(start) - closeAt
		pion.rec("close return", errText(err))
		at := pion.state()
		run.Pion.AtReturn = &at
	default:
		if pageMark, err = page.Mark("browser close call"); err != nil {
			run.Err = err.Error()
			return run
		}
		closeAt = time.Since(start)
		pion.rec("mark", "browser close call")
		if sc.Mode == "tab" {
			page.Close()
			tabOpen = false
		} else if err := page.ClosePC(); err != nil {
			run.Err = err.Error()
			return run
		}
		run.Browser.CloseTook = time.Since(start) - closeAt
	}
	time.Sleep(window)

	switch {
	case sc.Closer == "pion":
		run.Pion.Probes = pion.probe()
	case sc.Mode == "close":
		if run.Browser.Probes, err = page.Probe(); err != nil {
			run.Err = err.Error()
			return run
		}
	}
	final := pion.state()
	run.Pion.Final = &final
	pion.mu.Lock()
	for _, e := range pion.events {
		e.At -= closeAt
		run.Pion.Events = append(run.Pion.Events, e)
	}
	pion.mu.Unlock()
	if tabOpen {
		rec, err := page.Record()
		if err != nil {
			run.Err = err.Error()
			return run
		}
		for _, e := range rec.Events {
			run.Browser.Events = append(run.Browser.Events, facts.BrowserEvent{
				At: time.Duration((e.T - pageMark) * float64(time.Millisecond)), Kind: e.Kind, Detail: e.Detail})
		}
		fs := pageState(rec.State)
		run.Browser.Final = &fs
		if rec.AfterClose != nil {
			as := pageState(*rec.AfterClose)
			run.Browser.AtReturn = &as
		}
	}
	if sc.Closer == "pion" {
		run.Browser.Noticed, run.Browser.NoticedBy = noticed(run.Browser.Events)
	} else {
		run.Pion.Noticed, run.Pion.NoticedBy = noticed(run.Pion.Events)
	}
	return run
}

// probe calls, after close, the Pion methods that match those the W3C
// spec guards with [[IsClosed]] (named as in JavaScript, as the page's
// probes are) and returns what each did.
func (p *loopbackPeer) probe() map[string]string {
	pc := p.pc
	out := map[string]string{}
	do := func(name string, err error) {
		var ise *rtcerr.InvalidStateError
		switch {
		case err == nil:
			out[name] = "no error"
		case errors.As(err, &ise):
			out[name] = "InvalidStateError"
		default:
			out[name] = "error: " + err.Error()
		}
	}
	_, err := pc.CreateOffer(nil)
	do("createOffer", err)
	_, err = pc.CreateAnswer(nil)
	do("createAnswer", err)
	do("setLocalDescription", pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer}))
	do("setRemoteDescription", pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\n"}))
	do("addIceCandidate", pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 127.0.0.1 9 typ host"}))
	_, err = pc.CreateDataChannel("after-close", nil)
	do("createDataChannel", err)
	_, err = pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio)
	do("addTransceiver", err)
	do("setConfiguration", pc.SetConfiguration(webrtc.Configuration{}))
	return out
}

// connectBrowser runs the scenario up to its close phase.
func connectBrowser(pion *loopbackPeer, page *browser.Peer, sc scenarios.BrowserScenario) error {
	var answer browser.Description
	if sc.Offerer == "pion" {
		dc, err := pion.pc.CreateDataChannel("dc", nil)
		if err != nil {
			return err
		}
		pion.watch(dc)
		offer, err := pion.describe(true)
		if err != nil {
			return err
		}
		if err := page.Apply(offer); err != nil {
			return err
		}
		if sc.Phase == "before_answer" {
			return nil
		}
		if answer, err = page.Answer(); err != nil {
			return err
		}
		if err := pion.apply(answer); err != nil {
			return err
		}
	} else {
		if err := page.CreateDataChannel("dc"); err != nil {
			return err
		}
		offer, err := page.Offer()
		if err != nil {
			return err
		}
		if err := pion.apply(offer); err != nil {
			return err
		}
		if sc.Phase == "before_answer" {
			return nil
		}
		if answer, err = pion.describe(false); err != nil {
			return err
		}
		if err := page.Apply(answer); err != nil {
			return err
		}
	}
	if sc.Phase == "after_answer" {
		return nil
	}
	select {
	case <-pion.open:
	case <-time.After(10 * time.Second):
		return errors.New("pion: data channel not open within 10s")
	}
	if err := page.WaitOpen("dc", 10*time.Second); err != nil {
		return err
	}
	if sc.Phase == "mid_transfer" {
		pion.mu.Lock()
		dc := pion.dcs[0]
		pion.mu.Unlock()
		msg := make([]byte, 1024)
		for range sc.Messages {
			if err := dc.Send(msg); err != nil {
				return fmt.Errorf("pion send: %w", err)
			}
		}
		if err := page.Send("dc", sc.Messages, 1024); err != nil {
			return err
		}
	}
	return nil
}

// noticed is the first event after the close call (At > 0) by which the
// side that did not close reported it: its data channel closing, or its
// connection, ICE or DTLS leaving connected.
func noticed(evs []facts.BrowserEvent) (time.Duration, string) {
	for _, e := range evs {
		if e.At < 0 {
			continue
		}
		switch {
		case e.Kind == "dc close", e.Kind == "sctp close",
			slices.Contains([]string{"pc", "ice", "dtls"}, e.Kind) && slices.Contains([]string{"disconnected", "failed", "closed"}, e.Detail):
			return e.At, strings.TrimSpace(e.Kind + " " + e.Detail)
		}
	}
	return -1, ""
}

// pageState is the page's state as a facts.PeerState.
func pageState(s browser.State) facts.PeerState {
	st := facts.PeerState{Peer: "browser", Signaling: s.Signaling, Connection: s.Connection, ICEConnection: s.ICE,
		ICEGathering: s.Gathering, ICETransport: s.ICETransport, DTLS: s.DTLS, SCTP: s.SCTP}
	for _, c := range s.Channels {
		st.DataChannels = append(st.DataChannels, facts.DCState{Label: c.Label, State: c.State})
	}
	return st
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
