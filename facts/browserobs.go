package facts

import (
	"cmp"
	"slices"
	"strings"
	"time"
)

// The peers of a browser run's Observation: Pion is A, the browser B.
const (
	BrowserPionPeer = "A"
	BrowserPagePeer = "B"
)

// Observation is the browser run as the judges read a run of closesim's
// own world: Pion is peer A, the browser peer B, both sides' events merged
// into one trace by time (real time, from the earliest event: the clocks
// are the two processes' own, aligned at the close call), the close as a
// close step with its states before and at return, the closer's probes,
// and both sides' final states at FinalAt. What a real-time run against a
// browser cannot record is in Unobserved (leaks, sockets, timers, wedge and
// panic detection, message delivery; the closer's side once its tab is
// closed), so the invariants that need it are n/a. A closed tab is not a
// close: the page goes away without running the close algorithm (no
// close_notify, no SCTP ABORT is promised), so the trace has no close of
// the browser and the remote-side rules, which judge a survivor against
// its remote's close, have nothing to judge; how soon Pion notices a
// closed tab is the notice table's (BrowserSide.Noticed).
func (r BrowserRun) Observation() Observation {
	obs := Observation{Outcome: OutcomeOK, Unobserved: []Fact{FactPanics, FactWedge, FactGoroutines, FactSockets, FactTimers, FactTURN, FactDelivery}}
	obs.Scenario.Seed = r.Seed
	switch {
	case r.Err != "":
		obs.Outcome, obs.Error = OutcomeError, r.Err
	case r.Wedge != nil:
		// Wedge detection stays unobserved (a browser run bounds only its
		// closes); the wedge it did find is judged all the same.
		obs.Outcome, obs.Wedge = OutcomeWedge, r.Wedge
	}
	if r.Mode == "tab" {
		obs.Unobserved = append(obs.Unobserved, FactCloserSide)
	}
	if r.PionUser {
		obs.UserPeers = []string{BrowserPionPeer}
	}
	sides := []struct {
		peer, name string
		side       BrowserSide
	}{{BrowserPionPeer, "pion", r.Pion}, {BrowserPagePeer, "browser", r.Browser}}
	// Events are relative to the close call; the trace starts at 0.
	var shift time.Duration
	for _, sd := range sides {
		for _, e := range sd.side.Events {
			shift = max(shift, -e.At)
		}
	}
	by, callback := CloseByStep, ""
	if r.Mode == "callback" {
		by = CloseByCallback
		callback, _, _ = strings.Cut(r.On, ":")
	}
	mode := "close"
	if r.Mode == "graceful" {
		mode = "graceful"
	}
	type timed struct {
		ev   Event
		side int
	}
	var evs []timed
	for i, sd := range sides {
		closer := sd.name == r.Closer && r.Mode != "channel" && r.Mode != "tab"
		for _, be := range sd.side.Events {
			e, ok := browserEvent(be, closer, mode, by, callback)
			if !ok {
				continue
			}
			e.At, e.Peer = be.At+shift, sd.peer
			evs = append(evs, timed{e, i})
		}
		if closer && sd.side.Before != nil {
			snap := CloseSnapshot{Step: 0, Peer: sd.peer, Mode: mode, By: by, At: shift, Before: asPeer(*sd.side.Before, sd.peer), Took: sd.side.CloseTook, Callback: callback}
			if sd.side.AtReturn != nil {
				after := asPeer(*sd.side.AtReturn, sd.peer)
				snap.After = &after
			}
			obs.Closes = append(obs.Closes, snap)
			obs.Probes = append(obs.Probes, browserProbes(sd.peer, sd.side.Probes)...)
		}
		if sd.side.Final != nil {
			obs.Final = append(obs.Final, asPeer(*sd.side.Final, sd.peer))
		}
	}
	slices.SortStableFunc(evs, func(a, b timed) int { return cmp.Compare(a.ev.At, b.ev.At) })
	for i, t := range evs {
		t.ev.Seq = i
		obs.Events = append(obs.Events, t.ev)
	}
	obs.TraceHash = OrderHash(obs.Events)
	if len(obs.Final) > 0 {
		obs.FinalAt = shift + r.Window
	}
	return obs
}

// browserEvent is one side's event in the trace's typed form; false for a
// mark (the harness's own note).
func browserEvent(be BrowserEvent, closer bool, mode string, by CloseBy, callback string) (Event, bool) {
	e := Event{Detail: strings.TrimSpace(be.Kind + " " + be.Detail)}
	state := func(k Kind) (Event, bool) { e.Kind, e.State, e.Detail = k, be.Detail, be.Detail; return e, true }
	switch be.Kind {
	case "signaling":
		return state(KindSignaling)
	case "ice":
		return state(KindICE)
	case "pc":
		return state(KindPC)
	case "gathering":
		return state(KindGather)
	case "dtls":
		return state(KindDTLS)
	case "sctp close":
		e.Kind, e.Op = KindSCTP, OpClose
		return e, true
	case "sctp":
		e.Kind, e.State = KindSCTP, be.Detail
		if be.Detail == StateClosed {
			e.Op = OpClose
		}
		return e, true
	case "candidate":
		e.Kind, e.Op = KindCandidate, OpHost
		if be.Detail == "end" {
			e.Op = OpEndOfCandidates
		}
		return e, true
	case "track":
		e.Kind, e.Op = KindTrack, OpRemote
		return e, true
	case "track ended":
		e.Kind, e.Op = KindTrack, OpEnded
		return e, true
	case "datachannel":
		e.Kind, e.Op, e.Label = KindDC, OpRemote, be.Detail
		return e, true
	case "close call", "close return":
		if !closer {
			return e, false
		}
		ret := be.Kind == "close return"
		e.Kind = by.Kind()
		e.Close = &CloseFact{Mode: mode, By: by, Callback: callback, Return: ret}
		if ret {
			e.Close.Err = be.Detail
		}
		return e, true
	}
	if op, ok := strings.CutPrefix(be.Kind, "dc "); ok {
		e.Kind, e.Label = KindDC, be.Detail
		switch op {
		case "open":
			e.Op = OpOpen
		case "close":
			e.Op = OpClose
		case "closing":
			e.Op = OpClosing
		case "error":
			e.Op = OpError
		case "message":
			e.Op = OpMessage
		case "bufferedamountlow":
			e.Op = OpBufferedLow
		default:
			return e, false
		}
		return e, true
	}
	return e, false
}

// asPeer is s as peer's state in the Observation. The browser's
// transceivers are left out: the page reads the spec's directions, where a
// stopped transceiver is "stopped", a value Pion's model (and so the
// transceiver invariants, which want "inactive") does not have; they stay
// in the BrowserRun for the report.
func asPeer(s PeerState, peer string) PeerState {
	s.Peer = peer
	if peer == BrowserPagePeer {
		s.Transceivers = nil
	}
	return s
}

// browserCalls maps the JavaScript names of the probed methods to the
// names closesim's own probes give the same Pion calls (APIProbe.Call).
var browserCalls = []struct{ js, call string }{
	{"createOffer", "CreateOffer"}, {"createAnswer", "CreateAnswer"},
	{"setLocalDescription", "SetLocalDescription"}, {"setRemoteDescription", "SetRemoteDescription"},
	{"addIceCandidate", "AddICECandidate"}, {"createDataChannel", "CreateDataChannel"},
	{"addTransceiver", "AddTransceiverFromKind"}, {"setConfiguration", "SetConfiguration"},
}

// browserProbes turns a side's probes ("no error", an error's name such
// as "InvalidStateError", or "error: text" for a plain Go error) into
// APIProbes.
func browserProbes(peer string, probes map[string]string) []APIProbe {
	var out []APIProbe
	for _, c := range browserCalls {
		got, ok := probes[c.js]
		if !ok {
			continue
		}
		p := APIProbe{Peer: peer, Call: c.call}
		switch {
		case got == "no error":
		case strings.HasPrefix(got, "error: "):
			p.Err, p.ErrType = strings.TrimPrefix(got, "error: "), "error"
		default: // a DOMException's or an rtcerr type's name
			p.Err, p.ErrType = got, got
		}
		out = append(out, p)
	}
	return out
}
