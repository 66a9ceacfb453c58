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
	"github.com/closesim/closesim/internal/gstack"
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
	labels []string // dcs' labels (DataChannel.Label takes the channel's lock)
	open   chan struct{}
	once   sync.Once

	// armed is a close to make from inside the handler of event on (with
	// state, if set) the first time it fires; closed is closed once it
	// returned, and cb holds what it recorded.
	user      bool // built by a BrowserPeerFactory
	armed     *[2]string
	fired     bool
	closed    chan struct{}
	cb        facts.BrowserSide
	cbCloseAt time.Duration
}

// fire closes p from inside the handler of event on, reporting state, if a
// close is armed for it. The states it reads are those readable inside a
// Pion callback without its locks (stateInCallback).
func (p *loopbackPeer) fire(on, state string) {
	p.mu.Lock()
	if p.armed == nil || p.fired || p.armed[0] != on || (p.armed[1] != "" && p.armed[1] != state) {
		p.mu.Unlock()
		return
	}
	p.fired = true
	p.mu.Unlock()
	before := p.stateInCallback()
	at := time.Since(p.start)
	p.rec("close call", "close")
	err := p.pc.Close()
	took := time.Since(p.start) - at
	p.rec("close return", errText(err))
	after := p.stateInCallback()
	p.mu.Lock()
	p.cb = facts.BrowserSide{Before: &before, AtReturn: &after, CloseTook: took}
	p.cbCloseAt = at
	p.mu.Unlock()
	close(p.closed)
}

// channel is p's data channel "dc", nil if p has none (a service's own
// OnDataChannel took the browser's).
func (p *loopbackPeer) channel() *webrtc.DataChannel {
	p.mu.Lock()
	defer p.mu.Unlock()
	if len(p.dcs) == 0 {
		return nil
	}
	return p.dcs[0]
}

// stateInCallback is the part of the state tuple a Pion callback can read
// without taking Pion's locks (as the simulated world's peer reads it);
// the rest is facts.StateUnknown.
func (p *loopbackPeer) stateInCallback() facts.PeerState {
	pc := p.pc
	st := facts.PeerState{
		Peer: "pion", Signaling: pc.SignalingState().String(), Connection: pc.ConnectionState().String(),
		ICEConnection: pc.ICEConnectionState().String(), ICEGathering: facts.StateUnknown, ICETransport: facts.StateUnknown, DTLS: facts.StateUnknown, SCTP: facts.StateUnknown,
	}
	p.mu.Lock()
	for i, dc := range p.dcs {
		st.DataChannels = append(st.DataChannels, facts.DCState{Label: p.labels[i], State: dc.ReadyState().String()})
	}
	p.mu.Unlock()
	return st
}

func (p *loopbackPeer) rec(kind, detail string) {
	p.mu.Lock()
	p.events = append(p.events, facts.BrowserEvent{At: time.Since(p.start), Kind: kind, Detail: detail})
	p.mu.Unlock()
}

// loopbackSettings is the SettingEngine of a browser run's Pion side: only
// 127.0.0.1 host candidates over UDP4, no mDNS.
func loopbackSettings() webrtc.SettingEngine {
	se := webrtc.SettingEngine{}
	se.SetIncludeLoopbackCandidate(true)
	se.SetNetworkTypes([]webrtc.NetworkType{webrtc.NetworkTypeUDP4})
	se.SetIPFilter(func(ip net.IP) bool { return ip.Equal(net.IPv4(127, 0, 0, 1)) })
	se.SetICEMulticastDNSMode(ice.MulticastDNSModeDisabled)
	return se
}

// newLoopbackPeer makes the Pion side of a browser run, closesim's own or
// the one factory builds, gathering only 127.0.0.1 host candidates and
// recording every callback.
func newLoopbackPeer(start time.Time, factory BrowserPeerFactory) (*loopbackPeer, error) {
	p := &loopbackPeer{start: start, open: make(chan struct{}), closed: make(chan struct{})}
	if factory == nil {
		pc, err := webrtc.NewAPI(webrtc.WithSettingEngine(loopbackSettings())).NewPeerConnection(webrtc.Configuration{})
		if err != nil {
			return nil, fmt.Errorf("pion peer: %w", err)
		}
		p.pc = pc
		p.watchPC()
		return p, nil
	}
	env := &BrowserPeerEnv{SettingEngine: loopbackSettings(), p: p}
	pc, err := factory(env)
	switch {
	case err != nil:
		if p.pc != nil {
			_ = p.pc.Close()
		}
		return nil, fmt.Errorf("the service's peer factory: %w", err)
	case pc == nil || pc != p.pc:
		if pc != nil {
			_ = pc.Close()
		}
		return nil, errors.New("the service's peer factory must return the PeerConnection BrowserPeerEnv.NewPeerConnection made")
	}
	p.user = true
	return p, nil
}

// watchPC registers p's recording handlers on its PeerConnection.
func (p *loopbackPeer) watchPC() {
	pc := p.pc
	pc.OnSignalingStateChange(func(s webrtc.SignalingState) { p.rec("signaling", s.String()); p.fire("signaling_state", s.String()) })
	pc.OnICEConnectionStateChange(func(s webrtc.ICEConnectionState) {
		p.rec("ice", s.String())
		p.fire("ice_connection_state", s.String())
	})
	pc.OnConnectionStateChange(func(s webrtc.PeerConnectionState) { p.rec("pc", s.String()); p.fire("connection_state", s.String()) })
	pc.OnICEGatheringStateChange(func(s webrtc.ICEGatheringState) { p.rec("gathering", s.String()) })
	pc.SCTP().Transport().OnStateChange(func(s webrtc.DTLSTransportState) { p.rec("dtls", s.String()); p.fire("dtls_state", s.String()) })
	pc.SCTP().OnClose(func(error) { p.rec("sctp close", "") })
	pc.OnTrack(func(tr *webrtc.TrackRemote, _ *webrtc.RTPReceiver) { p.rec("track", tr.Kind().String()) })
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		p.rec("datachannel", dc.Label())
		p.watch(dc)
	})
}

func (p *loopbackPeer) watch(dc *webrtc.DataChannel) {
	p.mu.Lock()
	label := dc.Label()
	p.dcs = append(p.dcs, dc)
	p.labels = append(p.labels, label)
	p.mu.Unlock()
	dc.OnOpen(func() {
		p.rec("dc open", label)
		p.once.Do(func() { close(p.open) })
		p.fire("dc_open", label)
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
	for _, t := range pc.GetTransceivers() {
		st.Transceivers = append(st.Transceivers, facts.TransceiverState{Mid: t.Mid(), Kind: t.Kind().String(), Direction: t.Direction().String()})
	}
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
func RunBrowser(b *browser.Browser, sc scenarios.BrowserScenario, rep int, window time.Duration, opts ...BrowserOption) (run facts.BrowserRun) {
	var cfg browserConfig
	for _, o := range opts {
		o(&cfg)
	}
	run = facts.BrowserRun{Seed: sc.Seed, Name: sc.Name(), Rep: rep, Offerer: sc.Offerer, Phase: sc.Phase, Closer: sc.Closer, Mode: sc.Mode,
		On: sc.On, Pion: facts.BrowserSide{Noticed: -1}, Browser: facts.BrowserSide{Noticed: -1}}
	start := time.Now()
	pion, err := newLoopbackPeer(start, cfg.peer)
	if err != nil {
		run.Err = err.Error()
		return run
	}
	run.PionUser = pion.user
	defer func() {
		if run.Wedge != nil {
			return // its Close is still blocked: another would block too
		}
		if err := closeWithin(pion.pc, stepTimeout); err != nil && run.Err == "" {
			run.Wedge = processWedge(err.Error())
		}
	}()
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
	fail := func(err error) facts.BrowserRun {
		run.Err = err.Error()
		return run
	}
	callback := sc.Mode == "callback"
	if callback {
		on, state := sc.Handler()
		if sc.Closer == "pion" {
			pion.mu.Lock()
			pion.armed = &[2]string{on, state}
			pion.mu.Unlock()
		} else if err := page.CloseOn(on, state); err != nil {
			return fail(err)
		}
	}
	if err := connectBrowser(pion, page, sc); err != nil && !callback {
		return fail(err)
	}

	// The close, and the two clocks aligned: the page's time pageMark
	// (ms) is Pion's markAt, the middle of the call that read it.
	var closeAt time.Duration // Pion clock
	sent := time.Since(start)
	pageMark, err := page.Mark(sc.Closer + " close call")
	if err != nil {
		return fail(err)
	}
	back := time.Since(start)
	markAt, skew := (sent+back)/2, (back-sent)/2
	run.Skew = skew
	pageToPion := func(ms float64) time.Duration { return markAt + time.Duration((ms-pageMark)*float64(time.Millisecond)) }
	closeAt = markAt
	switch {
	case callback && sc.Closer == "pion":
		select {
		case <-pion.closed:
		case <-time.After(stepTimeout):
			run.Wedge = processWedge(fmt.Sprintf("the close armed in the %s handler did not return within %s", sc.On, stepTimeout))
			pion.mu.Lock()
			run.Pion.Events = slices.Clone(pion.events) // relative to the start: there is no close return to align to
			pion.mu.Unlock()
			return run
		}
		pion.mu.Lock()
		run.Pion.Before, run.Pion.AtReturn, run.Pion.CloseTook, closeAt = pion.cb.Before, pion.cb.AtReturn, pion.cb.CloseTook, pion.cbCloseAt
		pion.mu.Unlock()
	case callback:
		rec, err := page.Record()
		if err != nil {
			return fail(err)
		}
		i := slices.IndexFunc(rec.Events, func(e browser.Event) bool { return e.Kind == "close call" })
		if i < 0 {
			var seen []string
			for _, e := range rec.Events {
				if e.Kind != "mark" && e.Kind != "candidate" {
					seen = append(seen, strings.TrimSpace(e.Kind+" "+e.Detail))
				}
			}
			return fail(fmt.Errorf("browser: the close armed in the %s handler did not fire; the page saw: %s", sc.On, strings.Join(seen, ", ")))
		}
		closeAt = pageToPion(rec.Events[i].T)
		if rec.ClosedAt >= 0 {
			run.Browser.CloseTook = time.Duration((rec.ClosedAt - rec.Events[i].T) * float64(time.Millisecond))
		}
	case sc.Mode == "channel" && sc.Closer == "pion":
		dc := pion.channel()
		if dc == nil {
			return fail(errors.New("pion: no data channel to close: the service's OnDataChannel replaced closesim's"))
		}
		pion.rec("channel close call", "dc")
		err := dc.Close()
		run.Pion.CloseTook = time.Since(start) - closeAt
		pion.rec("channel close return", errText(err))
	case sc.Mode == "channel":
		pion.rec("mark", "browser channel close call")
		if err := page.CloseChannel("dc"); err != nil {
			return fail(err)
		}
		run.Browser.CloseTook = time.Since(start) - closeAt
	case sc.Closer == "pion":
		if sc.StopFirst {
			for _, t := range pion.pc.GetTransceivers() {
				pion.rec("transceiver stop", errText(t.Stop()))
			}
		}
		before := pion.state()
		run.Pion.Before = &before
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
		pion.rec("mark", "browser close call")
		if sc.Mode == "tab" {
			st, err := page.State()
			if err != nil {
				return fail(err)
			}
			before := pageState(st)
			run.Browser.Before = &before
			closeAt = time.Since(start)
			page.Close()
			tabOpen = false
		} else {
			if sc.StopFirst {
				if err := page.StopTransceivers(); err != nil {
					return fail(err)
				}
			}
			if err := page.ClosePC(); err != nil {
				return fail(err)
			}
		}
		run.Browser.CloseTook = time.Since(start) - closeAt
	}
	time.Sleep(window)

	switch {
	case sc.Mode == "channel":
	case sc.Closer == "pion":
		run.Pion.Probes = pion.probe()
	case sc.Mode != "tab":
		if run.Browser.Probes, err = page.Probe(); err != nil {
			return fail(err)
		}
	}
	final := pion.state()
	run.Pion.Final = &final
	run.Window = time.Since(start) - closeAt
	pion.mu.Lock()
	for _, e := range pion.events {
		e.At -= closeAt
		run.Pion.Events = append(run.Pion.Events, e)
	}
	pion.mu.Unlock()
	if tabOpen {
		rec, err := page.Record()
		if err != nil {
			return fail(err)
		}
		for _, e := range rec.Events {
			kind := e.Kind
			if e.Transport != 0 && e.Transport != rec.State.Transport {
				kind = "replaced " + kind // a transport the answer replaced: not the connection's
			}
			run.Browser.Events = append(run.Browser.Events, facts.BrowserEvent{At: pageToPion(e.T) - closeAt, Kind: kind, Detail: e.Detail})
		}
		fs := pageState(rec.State)
		run.Browser.Final = &fs
		for _, st := range rec.Stats {
			run.Browser.Stats = append(run.Browser.Stats, fmt.Sprintf("%s: %s/%s", st.ID, st.DTLSState, st.ICEState))
		}
		if rec.BeforeClose != nil {
			bs := pageState(*rec.BeforeClose)
			run.Browser.Before = &bs
		}
		if rec.AfterClose != nil {
			as := pageState(*rec.AfterClose)
			run.Browser.AtReturn = &as
		}
	}
	if sc.Closer == "pion" {
		run.Browser.Noticed, run.Browser.NoticedBy = noticed(run.Browser.Events, skew)
	} else {
		run.Pion.Noticed, run.Pion.NoticedBy = noticed(run.Pion.Events, skew)
	}
	return run
}

// wedgedBefore holds the goroutines earlier wedges of this process saw
// (they stay blocked), keyed by goroutine ID.
var (
	wedgedMu     sync.Mutex
	wedgedBefore = map[int64]bool{}
)

// processWedge diagnoses a Close that did not return: the mutex waits of
// every goroutine of the process (a browser run has no bubble of its own;
// a wedge of an earlier run of the same process, which stays blocked, is
// among them), as the simulated world's wedges are diagnosed, so that the
// same known issues name it.
func processWedge(why string) *facts.Wedge {
	// Goroutines an earlier wedge of this process left blocked are that
	// wedge's, not this one's.
	wedgedMu.Lock()
	var gs []gstack.Goroutine
	for _, g := range gstack.All() {
		if !wedgedBefore[g.ID] {
			gs = append(gs, g)
		}
	}
	for _, g := range gs {
		if strings.Contains(g.State, "Mutex") { // blocked for good on a lock
			wedgedBefore[g.ID] = true
		}
	}
	wedgedMu.Unlock()
	d := gstack.Diagnose(gs)
	summary := d.Summary
	if len(d.Blocked) == 0 {
		summary = why + "; no goroutine is blocked on a mutex"
	}
	return &facts.Wedge{Diagnosis: why + "\n" + summary, Headline: gstack.Headline(summary), Goroutines: toGoroutines(gs),
		By: facts.WedgeByDeadline, Blocked: blockedWaits(d)}
}

// stepTimeout bounds each wait of a browser run: a data channel opening, a
// close armed in a handler, the harness's own final Close.
const stepTimeout = 10 * time.Second

// closeWithin closes pc, and reports a Close that did not return within d
// (a wedge, left running: the process's other runs go on).
func closeWithin(pc *webrtc.PeerConnection, d time.Duration) error {
	done := make(chan struct{})
	go func() {
		pc.Close()
		close(done)
	}()
	select {
	case <-done:
		return nil
	case <-time.After(d):
		return fmt.Errorf("pion: the harness's Close did not return within %s", d)
	}
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
		if sc.Audio {
			if _, err := pion.pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio); err != nil {
				return fmt.Errorf("pion: add transceiver: %w", err)
			}
		}
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
		if sc.Audio {
			if err := page.AddTransceiver("audio"); err != nil {
				return err
			}
		}
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
	// A close armed in the page's handlers fires at the latest when its
	// channel opens; WaitOpen returns once the page closed.
	if sc.Mode == "callback" && sc.Closer == "browser" {
		return page.WaitOpen("dc", stepTimeout)
	}
	// A service's own OnDataChannel replaces closesim's: then the channel
	// the browser opened is the service's alone, and only the page's side
	// of it is waited for (and sent on).
	if !pion.user || sc.Offerer == "pion" {
		select {
		case <-pion.open:
		case <-pion.closed: // a close armed in a handler fired
			return nil
		case <-time.After(stepTimeout):
			return fmt.Errorf("pion: data channel not open within %s", stepTimeout)
		}
	}
	if err := page.WaitOpen("dc", stepTimeout); err != nil {
		return err
	}
	if sc.Phase == "mid_transfer" {
		if dc := pion.channel(); dc != nil {
			msg := make([]byte, 1024)
			for range sc.Messages {
				if err := dc.Send(msg); err != nil {
					return fmt.Errorf("pion send: %w", err)
				}
			}
		}
		if err := page.Send("dc", sc.Messages, 1024); err != nil {
			return err
		}
	}
	return nil
}

// noticed is the first event after the close call by which the side that
// did not close reported it: its data channel closing, or its connection,
// ICE or DTLS leaving connected. The other side's clock is aligned to
// within skew, so an event up to skew before the call counts (at 0).
func noticed(evs []facts.BrowserEvent, skew time.Duration) (time.Duration, string) {
	for _, e := range evs {
		if e.At < -skew {
			continue
		}
		switch {
		case e.Kind == "dc close", e.Kind == "sctp close",
			slices.Contains([]string{"pc", "ice", "dtls"}, e.Kind) && slices.Contains([]string{"disconnected", "failed", "closed"}, e.Detail):
			return max(e.At, 0), strings.TrimSpace(e.Kind + " " + e.Detail)
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
	for _, t := range s.Transceivers {
		st.Transceivers = append(st.Transceivers, facts.TransceiverState{Mid: t.Mid, Kind: t.Kind, Direction: t.Direction})
	}
	return st
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}
