package sim

import (
	"encoding/binary"
	"errors"
	"fmt"
	"slices"
	"sync"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/webrtc/v4"

	"github.com/closesim/closesim/scenarios"
)

// StepFunc is the handler of a custom step (scenarios.KindCustom), registered
// with WithStep. It runs on the harness goroutine inside the bubble; the
// error it returns is recorded as the step's result, not as a failure.
type StepFunc func(ctx *StepContext) error

// StepContext is what a custom step can reach.
type StepContext struct {
	w    *world
	step scenarios.Step
}

// Step is the step being executed.
func (c *StepContext) Step() scenarios.Step { return c.step }

// PeerConnection returns the PeerConnection of peer A or B (nil otherwise).
func (c *StepContext) PeerConnection(p scenarios.Peer) *webrtc.PeerConnection {
	if pr, ok := c.w.peers[p]; ok {
		return pr.pc
	}
	return nil
}

// Logf adds a "custom" event to the trace.
func (c *StepContext) Logf(format string, args ...any) {
	c.w.trace.Add(string(c.step.Peer), facts.KindCustom, format, args...)
}

var errNoDescription = errors.New("no description arrived over signaling")

// runStep executes one step; the error is the step's result.
func (w *world) runStep(i int, s scenarios.Step) error {
	switch s.Kind {
	case scenarios.KindCreateDataChannel:
		p := w.peers[s.Peer]
		dc, err := p.pc.CreateDataChannel(s.Label, channelInit(s.Channel))
		if err != nil {
			return err
		}
		p.addDataChannel(dc)
		if o := s.Channel; o != nil && o.BufferedAmountLowThreshold > 0 {
			name, label := string(p.name), s.Label
			dc.SetBufferedAmountLowThreshold(o.BufferedAmountLowThreshold)
			dc.OnBufferedAmountLow(func() {
				w.trace.op(name, facts.KindDC, facts.OpBufferedLow, label, "buffered amount low %q", label)
				p.fire(scenarios.OnBufferedAmountLow, label)
			})
		}
		return nil
	case scenarios.KindOffer, scenarios.KindAnswer:
		return w.describe(s)
	case scenarios.KindApplyOffer, scenarios.KindApplyAnswer:
		return w.apply(s)
	case scenarios.KindAwait:
		return w.await(s)
	case scenarios.KindSend:
		return w.sendMessages(s)
	case scenarios.KindSleep:
		w.sleep(time.Duration(s.Duration))
		return nil
	case scenarios.KindClose:
		w.closeStep(i, s)
		return nil
	case scenarios.KindCloseOn:
		p := w.peers[s.Peer]
		p.mu.Lock()
		p.armed = append(p.armed, armedClose{step: i, on: s.On, state: string(s.State)})
		p.mu.Unlock()
		return nil
	case scenarios.KindCloseDataChannel:
		dc, err := w.peers[s.Peer].dataChannel(s.Label)
		if err != nil {
			return err
		}
		if s.Mode == scenarios.ModeGraceful {
			return dc.GracefulClose()
		}
		return dc.Close()
	case scenarios.KindRollback:
		return w.peers[s.Peer].pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeRollback})
	case scenarios.KindCustom:
		return w.cfg.steps[s.Name](&StepContext{w: w, step: s})
	case scenarios.KindAddTrack:
		return w.addTrack(s)
	case scenarios.KindWriteMedia:
		return w.writeMedia(s)
	case scenarios.KindRemoveTrack:
		return w.removeTrack(s)
	case scenarios.KindStopTransceiver:
		return w.stopTransceiver(s)
	}
	return fmt.Errorf("unknown step kind %q", s.Kind)
}

// describe creates an offer or answer, sets it locally and sends it (after
// gathering completes when trickle is off).
func (w *world) describe(s scenarios.Step) error {
	p := w.peers[s.Peer]
	var (
		desc webrtc.SessionDescription
		err  error
	)
	if s.Kind == scenarios.KindOffer {
		var opts *webrtc.OfferOptions
		if s.ICERestart {
			opts = &webrtc.OfferOptions{ICERestart: true}
		}
		desc, err = p.pc.CreateOffer(opts)
	} else {
		desc, err = p.pc.CreateAnswer(nil)
	}
	if err != nil {
		return fmt.Errorf("create %s: %w", s.Kind, err)
	}
	var gathered <-chan struct{}
	if !w.trickles(s.Peer) {
		gathered = webrtc.GatheringCompletePromise(p.pc)
	}
	if err := p.pc.SetLocalDescription(desc); err != nil {
		return fmt.Errorf("set local %s: %w", s.Kind, err)
	}
	if gathered != nil {
		select {
		case <-gathered:
		case <-time.After(time.Duration(scenarios.DefaultAwaitTimeout)):
			return errors.New("gathering did not complete")
		}
		if ld := p.pc.LocalDescription(); ld != nil {
			desc = *ld
		}
	}
	w.signalSDP(s.Peer.Other(), desc)
	return nil
}

// apply waits for the next description over signaling and sets it as remote.
func (w *world) apply(s scenarios.Step) error {
	p := w.peers[s.Peer]
	var desc webrtc.SessionDescription
	ok := p.await(time.Duration(scenarios.DefaultAwaitTimeout), func() bool {
		if len(p.inbox) == 0 {
			return false
		}
		desc, p.inbox = p.inbox[0], p.inbox[1:]
		return true
	})
	if !ok {
		return errNoDescription
	}
	if err := p.pc.SetRemoteDescription(desc); err != nil {
		return fmt.Errorf("set remote %s: %w", desc.Type, err)
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

func (w *world) await(s scenarios.Step) error {
	p := w.peers[s.Peer]
	timeout := time.Duration(s.Timeout)
	if timeout == 0 {
		timeout = time.Duration(scenarios.DefaultAwaitTimeout)
	}
	key := s.State
	if s.State == scenarios.StateDCOpen {
		key += scenarios.State("/" + s.Label)
	}
	if p.user {
		// Handlers the service replaced do not notify: ask the getters too
		// (outside p.mu: a Pion handler may hold a Pion lock and want p.mu).
		if !p.awaitUser(timeout, key) {
			return fmt.Errorf("%s not reached within %s", s.State, timeout)
		}
		return nil
	}
	if !p.await(timeout, func() bool { return p.seen[key] }) {
		return fmt.Errorf("%s not reached within %s", s.State, timeout)
	}
	return nil
}

func (w *world) sendMessages(s scenarios.Step) error {
	p := w.peers[s.Peer]
	dc, err := p.dataChannel(s.Label)
	if err != nil {
		return err
	}
	p.mu.Lock()
	base := p.sent[s.Label] // indices continue across send steps on a channel
	send := dc.Send
	if raw := p.detached[s.Label]; raw != nil && w.sc.Settings.DetachedWrites {
		// The application writes what it detached (blocking, with
		// Settings.DataChannelBlockWrite, while the buffer is full).
		send = func(b []byte) error { _, err := raw.Write(b); return err }
	}
	p.mu.Unlock()
	for i := range s.Count {
		msg := encodeMessage(base+i, s.Size)
		if err := send(msg); err != nil {
			return fmt.Errorf("send %d of %d: %w", i+1, s.Count, err)
		}
		p.mu.Lock()
		p.sent[s.Label]++
		p.mu.Unlock()
	}
	return nil
}

// dataChannel returns p's data channel label.
func (p *peer) dataChannel(label string) (*webrtc.DataChannel, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if dc := p.dcs[label]; dc != nil {
		return dc, nil
	}
	return nil, fmt.Errorf("peer %s has no data channel %q", p.name, label)
}

// closeStep closes one peer, or both concurrently, recording the state tuple
// at the close and how long the call took.
func (w *world) closeStep(i int, s scenarios.Step) {
	targets := []scenarios.Peer{s.Peer}
	if s.Peer == scenarios.PeerBoth {
		targets = []scenarios.Peer{scenarios.PeerA, scenarios.PeerB}
	}
	if w.sc.Settings.CloseMuxFirst {
		// The application stops its shared socket before the
		// PeerConnection that still uses it (Settings.CloseMuxFirst).
		for _, name := range targets {
			if p := w.peers[name]; p.mux != nil {
				w.trace.Add(string(name), facts.KindHarness, "close udp mux before the PeerConnection: %v", p.mux.Close())
			}
		}
	}
	snaps := make([]facts.CloseSnapshot, len(targets))
	for k, name := range targets {
		p := w.peers[name]
		snaps[k] = facts.CloseSnapshot{Step: i, Peer: string(name), Mode: string(s.Mode), By: facts.CloseByStep, At: w.now(), Before: p.state()}
		p.mu.Lock()
		p.closed = true
		p.mu.Unlock()
	}
	// Concurrency > 1: more goroutines close the same peer at once, each
	// with a snapshot of its own.
	perPeer := max(s.Concurrency-1, 0)
	extra := make([]facts.CloseSnapshot, len(targets)*perPeer)
	for k := range targets {
		for j := range perPeer {
			extra[k*perPeer+j] = snaps[k]
			extra[k*perPeer+j].By = facts.CloseByExtra
		}
	}
	var wg sync.WaitGroup
	if w.sc.Topology.SFUCloseAll && slices.Contains(targets, scenarios.PeerA) {
		// The SFU closes all its connections at once (Topology.SFUCloseAll).
		wg.Go(func() { w.closeSFU(i, s.Mode) })
	}
	for k, name := range targets {
		wg.Go(func() { w.peers[name].closeSnap(&snaps[k]) })
		for j := range perPeer {
			wg.Go(func() { w.peers[name].closeSnap(&extra[k*perPeer+j]) })
		}
	}
	wg.Wait()
	w.mu.Lock()
	w.closes = append(w.closes, snaps...)
	w.closes = append(w.closes, extra...)
	w.mu.Unlock()
}

// closeSnap runs the close snap describes (Mode, By, Callback) and fills in
// what it did: the states at its return, how long it took, its error.
func (p *peer) closeSnap(snap *facts.CloseSnapshot) {
	start := time.Now()
	after, err := p.close(scenarios.CloseMode(snap.Mode), snap.By, snap.Callback)
	snap.Took = time.Since(start)
	snap.After = &after
	if err != nil {
		snap.Err = err.Error()
	}
}

// close closes p's PeerConnection, traces the call and its return, and
// returns the state tuple read the moment the close returned (a partial
// one inside a callback, see stateInCallback); cb names the callback a
// CloseByCallback close runs inside.
func (p *peer) close(mode scenarios.CloseMode, by facts.CloseBy, cb string) (facts.PeerState, error) {
	tr, name, kind := p.w.trace, string(p.name), by.Kind()
	fact := facts.CloseFact{Mode: string(mode), By: by, Callback: cb}
	call := fact
	tr.record(facts.Event{Peer: name, Kind: kind, Close: &call}, "call %s", mode)
	var err error
	if mode == scenarios.ModeGraceful {
		err = p.pc.GracefulClose()
	} else {
		err = p.pc.Close()
	}
	var after facts.PeerState
	if by == facts.CloseByCallback {
		after = p.stateInCallback()
	} else {
		after = p.state()
	}
	ret := fact
	ret.Return = true
	if err != nil {
		ret.Err = err.Error()
	}
	tr.record(facts.Event{Peer: name, Kind: kind, Close: &ret}, "return %s err=%v", mode, err)
	return after, err
}

func (w *world) now() time.Duration { return time.Since(w.trace.start) }

// encodeMessage builds message i of a send step: a 4-byte big-endian index
// followed by bytes derived from it, so the receiver can tell order, loss,
// duplication and corruption. Messages under 4 bytes carry only the pattern.
func encodeMessage(i, size int) []byte {
	msg := make([]byte, size)
	start := 0
	if size >= 4 {
		binary.BigEndian.PutUint32(msg, uint32(i))
		start = 4
	}
	for j := start; j < size; j++ {
		msg[j] = byte(i + j)
	}
	return msg
}

// decodeMessage returns the index of an indexed message (-1 for messages
// under 4 bytes) and whether its payload matches the index.
func decodeMessage(msg []byte) (int, bool) {
	if len(msg) < 4 {
		return -1, true
	}
	i := int(binary.BigEndian.Uint32(msg))
	for j := 4; j < len(msg); j++ {
		if msg[j] != byte(i+j) {
			return i, false
		}
	}
	return i, true
}

// channelInit turns scenario channel options into Pion's DataChannelInit.
func channelInit(o *scenarios.ChannelOptions) *webrtc.DataChannelInit {
	if o == nil {
		return nil
	}
	ordered := !o.Unordered
	init := &webrtc.DataChannelInit{Ordered: &ordered, MaxRetransmits: o.MaxRetransmits, MaxPacketLifeTime: o.MaxPacketLifeTime}
	if o.Negotiated {
		init.Negotiated = &o.Negotiated
		init.ID = o.ID
	}
	return init
}
