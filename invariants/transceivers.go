package invariants

import (
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/closesim/closesim/facts"
)

// IDs of the step-4 (transceivers) invariants.
const (
	idTrRejected       = "transceiver.rejected-after-close"
	idTrStopped        = "transceiver.stopped-at-return"
	idTrSenderTrack    = "transceiver.sender-track-kept"
	idTrReceiverEnds   = "transceiver.receiver-track-ended"
	idTrRTCPBye        = "transceiver.rtcp-bye"
	idDetachedReleased = "data.detached-reader-released"
	refStep4           = refCloseTheConnection + " step 4 (stop every RTCRtpTransceiver: \"stop the RTCRtpTransceiver\", \"stop sending and receiving\")"
)

// transceiverCalls are the probed calls step 4 makes fail: RTPTransceiver.Stop
// and RTPSender.ReplaceTrack on a closed connection.
var transceiverCalls = regexp.MustCompile(`^(RTPTransceiver\(\d+\)\.Stop|RTPSender\(\d+\)\.ReplaceTrack)$`)

func transceiverInvariants() []Invariant {
	isTrCall := func(p facts.APIProbe) bool { return transceiverCalls.MatchString(p.Call) }
	return []Invariant{
		{
			ID:       idTrRejected,
			Rule:     "After a close, RTPTransceiver.Stop and RTPSender.ReplaceTrack each fail with an InvalidStateError.",
			Ref:      "W3C webrtc-pc RTCRtpTransceiver.stop() step 3 (\"If connection.[[IsClosed]] is true, throw an InvalidStateError\") and RTCRtpSender.replaceTrack() (rejected through the operations chain)",
			Profiles: w3cOnly,
			Check: func(obs *facts.Observation) []Violation {
				var vs []Violation
				for _, p := range probesOf(obs, isTrCall) {
					if p.ErrType != "InvalidStateError" || p.Panic != "" {
						vs = append(vs, Violation{Invariant: idTrRejected, Peer: p.Peer, Call: p.Call, Object: ObjectTransceiver,
							Message: fmt.Sprintf("%s after close returned %s, want InvalidStateError", p.Call, probeGot(p)), Evidence: probeEvidence(p)})
					}
				}
				return vs
			},
			Applies:  hasProbe(isTrCall),
			Subjects: probeSubjects(isTrCall),
		},
		{
			ID:       idTrStopped,
			Rule:     "The moment a close returns, every transceiver of the peer is stopped: its direction is \"inactive\".",
			Ref:      refStep4 + "; \"stop sending and receiving\" step 6 sets [[Direction]] to \"inactive\"",
			Profiles: w3cOnly,
			Check:    checkTransceiversStopped,
			Applies:  some(transceiverSubjects),
			Subjects: objects(ObjectTransceiver),
		},
		{
			ID:       idTrSenderTrack,
			Rule:     "Closing leaves every sender's track as it was (RTPSender.Track() the moment the close returns is the track it had when the close started).",
			Ref:      refStep4 + ": no step of \"stop the RTCRtpTransceiver\" changes [[SenderTrack]]",
			Profiles: w3cOnly,
			Check:    checkSenderTrackKept,
			Applies:  some(senderTrackSubjects),
			Subjects: objects(ObjectTransceiver),
		},
		{
			ID:       idTrReceiverEnds,
			Rule:     "Every track a peer received ends once the scenario closed the peer: its ReadRTP returns an error before the final states are taken.",
			Ref:      refStep4 + "; \"stop sending and receiving\" step 5 (\"execute the steps for receiver.[[ReceiverTrack]] to be ended\")",
			Profiles: both,
			Check:    checkReceiverTracksEnded,
			Applies:  some(receivedTracks),
			Subjects: objects(ObjectTrack),
		},
		{
			ID:       idDetachedReleased,
			Rule:     "Every detached data channel of a peer the scenario closed releases its reader: ReadDataChannel returns (an error or EOF) before the final states are taken.",
			Ref:      refCloseTheConnection + " step 5 (every data channel \"closed\"); Pion DataChannel.Detach (the application reads the ReadWriteCloser until it fails)",
			Profiles: both,
			Check:    checkDetachedReleased,
			Applies:  some(detachedReaders),
			Subjects: objects(ObjectDataChannel),
		},
		{
			ID:       idTrRTCPBye,
			Rule:     "A peer the scenario closed has sent, by the final states, an RTCP BYE for each RTP stream it was sending when the close started.",
			Ref:      refStep4 + "; \"stop sending and receiving\" step 3 (\"send an RTCP BYE for each RTP stream that was being sent by sender\", RFC 3550 §6.6)",
			Profiles: w3cOnly,
			Check:    checkRTCPBye,
			Applies:  some(byeSubjects),
			Subjects: objects(ObjectTransceiver),
		},
	}
}

// probeGot says what a probe returned, for a message.
func probeGot(p facts.APIProbe) string {
	switch {
	case p.Panic != "":
		return "a panic"
	case p.Err != "":
		return fmt.Sprintf("%s %q", p.ErrType, p.Err)
	}
	return "no error"
}

// transceiverSubjects are the closes whose return read the peer's
// transceivers.
func transceiverSubjects(obs *facts.Observation) []facts.CloseSnapshot {
	var out []facts.CloseSnapshot
	for _, c := range allCloses(obs) {
		if c.After != nil && len(c.After.Transceivers) > 0 {
			out = append(out, c)
		}
	}
	return out
}

// allCloses are the scenario's closes, then the harness's.
func allCloses(obs *facts.Observation) []facts.CloseSnapshot {
	return append(obs.Closes[:len(obs.Closes):len(obs.Closes)], obs.HarnessCloses...)
}

func checkTransceiversStopped(obs *facts.Observation) []Violation {
	var out []Violation
	for _, c := range transceiverSubjects(obs) {
		for i, t := range c.After.Transceivers {
			if t.Direction == facts.StateInactive {
				continue
			}
			out = append(out, Violation{
				Invariant: idTrStopped,
				Object:    ObjectTransceiver,
				Peer:      c.Peer,
				Message:   fmt.Sprintf("transceiver %d (%s) is %q when %s returned, want \"inactive\" (stopped)", i, t.Kind, t.Direction, describeSnapshot(c)),
				Evidence:  []string{"at return: " + formatTransceivers(c.After.Transceivers), "at the call: " + formatTransceivers(c.Before.Transceivers)},
			})
		}
	}
	return out
}

// senderTrackSubjects are the closes whose start saw a sender with a track
// and whose return read the transceivers.
func senderTrackSubjects(obs *facts.Observation) []facts.CloseSnapshot {
	var out []facts.CloseSnapshot
	for _, c := range transceiverSubjects(obs) {
		for _, t := range c.Before.Transceivers {
			if t.SenderTrack != "" {
				out = append(out, c)
				break
			}
		}
	}
	return out
}

func checkSenderTrackKept(obs *facts.Observation) []Violation {
	var out []Violation
	for _, c := range senderTrackSubjects(obs) {
		for i, before := range c.Before.Transceivers {
			if i >= len(c.After.Transceivers) || before.SenderTrack == "" {
				continue
			}
			if got := c.After.Transceivers[i].SenderTrack; got != before.SenderTrack {
				if got == "" {
					got = "none"
				}
				out = append(out, Violation{
					Invariant: idTrSenderTrack,
					Object:    ObjectTransceiver,
					Peer:      c.Peer,
					Message:   fmt.Sprintf("transceiver %d's sender track is %s when %s returned, want %q as before", i, got, describeSnapshot(c), before.SenderTrack),
					Evidence:  []string{"at the call: " + formatTransceivers(c.Before.Transceivers), "at return: " + formatTransceivers(c.After.Transceivers)},
				})
			}
		}
	}
	return out
}

// receivedTrack is a track a peer the scenario closed received.
type receivedTrack struct {
	peer, id string
	at       int // index of its OnTrack event
}

// receivedTracks lists the tracks received by peers the scenario closed,
// when the final states were taken.
func receivedTracks(obs *facts.Observation) []receivedTrack {
	if len(obs.Final) == 0 {
		return nil
	}
	var out []receivedTrack
	for i, e := range obs.Events[:firstHarnessClose(obs.Events)] {
		if e.Kind == facts.KindTrack && e.Op == facts.OpRemote && closedByScenario(obs, e.Peer) {
			out = append(out, receivedTrack{e.Peer, e.Label, i})
		}
	}
	return out
}

// firstHarnessClose is the index of the harness's first close, len(evs) if
// none: events before it happened before the final states were taken.
func firstHarnessClose(evs []facts.Event) int {
	for i, e := range evs {
		if e.Close != nil && e.Close.By == facts.CloseByHarness {
			return i
		}
	}
	return len(evs)
}

func checkReceiverTracksEnded(obs *facts.Observation) []Violation {
	var out []Violation
	end := firstHarnessClose(obs.Events)
	for _, rt := range receivedTracks(obs) {
		ended := false
		for _, e := range obs.Events[rt.at:end] {
			if e.Peer == rt.peer && e.Kind == facts.KindTrack && e.Op == facts.OpEnded && e.Label == rt.id {
				ended = true
				break
			}
		}
		if ended {
			continue
		}
		ev := []string{obs.Events[rt.at].String()}
		ev = append(ev, kindEvents(obs.Events, rt.peer, maxEvidence, withCloses(facts.KindTrack)...)...)
		out = append(out, Violation{
			Invariant: idTrReceiverEnds,
			Object:    ObjectTrack,
			Peer:      rt.peer,
			Message:   fmt.Sprintf("received track %q never ended after the peer was closed", rt.id),
			Evidence:  ev,
		})
	}
	return out
}

// detachedReader is a detached channel of a peer the scenario closed.
type detachedReader struct{ peer, label string }

// detachedReaders lists the detached channels of the peers the scenario
// closed, at the final states.
func detachedReaders(obs *facts.Observation) []detachedReader {
	var out []detachedReader
	for _, ps := range obs.Final {
		if !closedByScenario(obs, ps.Peer) {
			continue
		}
		for _, dc := range ps.DataChannels {
			if dc.Detached {
				out = append(out, detachedReader{ps.Peer, dc.Label})
			}
		}
	}
	return out
}

func checkDetachedReleased(obs *facts.Observation) []Violation {
	var out []Violation
	end := firstHarnessClose(obs.Events)
	for _, d := range detachedReaders(obs) {
		released := slices.ContainsFunc(obs.Events[:end], func(e facts.Event) bool {
			return e.Peer == d.peer && e.Kind == facts.KindDC && e.Op == facts.OpDetachedDone && e.Label == d.label
		})
		if released {
			continue
		}
		out = append(out, Violation{
			Invariant: idDetachedReleased, Peer: d.peer, Object: ObjectDataChannel,
			Message:  fmt.Sprintf("detached data channel %q's reader still blocked in ReadDataChannel at the final states, after the peer was closed", d.label),
			Evidence: kindEvents(obs.Events[:end], d.peer, maxEvidence, withCloses(facts.KindDC)...),
		})
	}
	return out
}

// byeSubject is a peer the scenario closed while it was sending streams.
type byeSubject struct {
	snap    facts.CloseSnapshot
	final   facts.PeerState
	sending int
}

// byeSubjects are the closesim-built peers the scenario closed while they
// were sending media, with their final states.
func byeSubjects(obs *facts.Observation) []byeSubject {
	var out []byeSubject
	for _, p := range peers {
		snap, ok := firstSnapshot(obs, p)
		if !ok || userPeer(obs, p) {
			continue
		}
		final, ok := finalState(obs, p)
		if !ok {
			continue
		}
		sending := 0
		for _, t := range snap.Before.Transceivers {
			if t.SenderTrack != "" && t.Sent > 0 && t.Direction != facts.StateInactive && t.Direction != facts.StateRecvOnly {
				sending++
			}
		}
		if sending > 0 {
			out = append(out, byeSubject{snap, final, sending})
		}
	}
	return out
}

// userPeer reports whether a user's factory built peer (its RTCP is not
// counted).
func userPeer(obs *facts.Observation, peer string) bool {
	for _, u := range obs.UserPeers {
		if u == peer {
			return true
		}
	}
	return false
}

func checkRTCPBye(obs *facts.Observation) []Violation {
	var out []Violation
	for _, b := range byeSubjects(obs) {
		if b.final.RTCPByes >= b.sending {
			continue
		}
		out = append(out, Violation{
			Invariant: idTrRTCPBye,
			Object:    ObjectTransceiver,
			Peer:      b.snap.Peer,
			Message:   fmt.Sprintf("sent an RTCP BYE for %d of the %d RTP streams it was sending when closed", b.final.RTCPByes, b.sending),
			Evidence:  []string{"at the call: " + formatTransceivers(b.snap.Before.Transceivers), fmt.Sprintf("final: %d SSRCs said goodbye to", b.final.RTCPByes)},
		})
	}
	return out
}

// formatTransceivers renders transceiver states on one line.
func formatTransceivers(ts []facts.TransceiverState) string {
	if len(ts) == 0 {
		return "no transceivers"
	}
	parts := make([]string, len(ts))
	for i, t := range ts {
		track := t.SenderTrack
		if track == "" {
			track = "-"
		}
		parts[i] = fmt.Sprintf("%d:%s mid=%s dir=%s track=%s sent=%d", i, t.Kind, t.Mid, t.Direction, track, t.Sent)
	}
	return strings.Join(parts, " ")
}
