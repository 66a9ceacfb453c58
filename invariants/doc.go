// Package invariants judges closesim runs: it checks a facts.Observation
// against rules about how WebRTC teardown must behave and reports every
// breach as a Violation with evidence (trace lines in facts.Event.String()
// form, state tuples, stack excerpts).
//
// Each Invariant has an ID, a one-line rule, a reference (a step of the W3C
// webrtc-pc close algorithm, an RFC section, or Pion's own documentation)
// and the profiles that expect it. A Profile is a reading of the
// specifications: W3C expects the W3C close algorithm to the letter; Pion,
// the default, expects what Pion documents and intends. Check runs the
// invariants a profile expects. Judge also sorts the violations against a
// list of known issues (LoadKnown), so that an understood, tracked
// behaviour is labeled "known" instead of failing every run: a Verdict
// always shows pass, n/a, known and fail.
//
// Judges only read the Observation's typed facts, never the trace's
// wording. An invariant with nothing to judge in a run (no close of the
// kind it is about, no final states because the run wedged or panicked, a
// settle too short for ICE consent to expire) is n/a for that run
// (Invariant.Applies, Verdict.NA), never a pass; harness.no-wedge and
// harness.no-panic report the runs that ended without final states. Every
// close is judged however it started (a close step, each of its
// concurrent Close calls, a Close from inside a callback, the harness's),
// at its start and the moment it returned. docs/invariants.md has the same
// list as a table; ConformanceTable maps the W3C close algorithm's steps
// to the invariants that judge them (docs/conformance.md).
//
// # Invariants
//
//   - harness.no-panic (w3c, pion): No step, Pion call or callback panics.
//     Ref: Pion behaviour (a panic in a library goroutine kills the process).
//
//   - harness.no-wedge (w3c, pion): The run never freezes: its outcome is neither a wedge (no progress in wall time) nor a deadlock (every goroutine blocked for good).
//     Ref: Pion behaviour: Close and GracefulClose return, and no lock is held across a timed wait.
//
//   - leak.goroutines (w3c, pion): No goroutine is left in the bubble after the harness closed both peers and let 5 s of virtual time pass.
//     Ref: Pion behaviour: PeerConnection.GracefulClose "waits for any goroutines it started to complete" (pion/webrtc#2847).
//
//   - leak.sockets (w3c, pion): No vnet socket is still bound after the harness closed both peers and let 5 s of virtual time pass.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 8 (destroy the ICE Agent, releasing its resources).
//
//   - close.returns-bounded (w3c, pion): Every Close or GracefulClose returns within 5s of virtual time (not judged when the run wedged).
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" runs synchronously; Pion behaviour: PeerConnection.GracefulClose "waits for any goroutines it started to complete", all of which stop when closed.
//
//   - local.closed-states (w3c, pion): A peer closed by a close step ends with signaling, connection, ICE connection, ICE transport and DTLS "closed", SCTP "closed" once an answer was applied, and every data channel "closed".
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" steps 3, 5, 6, 7, 9, 10, 11 (Pion's close() cites the same steps).
//
//   - close.states-at-return (w3c): The moment a close returns (a close step's Close or GracefulClose, each of its concurrent Close calls, a Close from inside a callback, the harness's GracefulClose), the peer's signaling, connection, ICE connection, ICE transport and DTLS read "closed", SCTP too once an answer was applied, and every data channel; a state that cannot be read inside a callback is not judged.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" steps 3, 5, 6, 7, 9, 10, 11: the algorithm runs synchronously inside close(), so every state it sets is "closed" when close() returns.
//
//   - local.gathering-unchanged (w3c): Closing a peer leaves its ICE gathering state as it was when the close step started.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection": no step changes [[IceGatheringState]].
//
//   - events.none-after-close (w3c): No callback (pc, ice, gather, signaling, dtls, sctp, dc, candidate, negotiation-needed) fires for a peer after its first close returned.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" steps 3, 5, 10, 11 ("This does not fire any event"; data channels close without the closing procedure) and every queued task aborts once [[IsClosed]] is true.
//
//   - events.none-during-close (w3c): No state-change callback (pc, ice, gather, signaling, dtls, sctp, dc open/close) fires for a peer between the call and the return of its first close.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" steps 3, 10, 11 ("This does not fire any event") and step 5 (the data channel closing procedure is not invoked).
//
//   - events.no-activity-after-close (pion): After a peer's first close returned, its only callbacks are notices that an object reached "closed" (pc/ice/signaling/dtls closed, sctp close, dc close) or late notices of the signaling or connection state it already had at the close: no message, open, candidate, gathering or other state change.
//     Ref: Pion behaviour: Close stops every transport before it returns; only handlers it already dispatched on their own goroutines ("go handler(...)") may run later.
//
//   - events.graceful-close-waits (pion): After a peer's first close, when it was GracefulClose, returned, not even the late notices events.no-activity-after-close allows fire for that peer (no callback at all).
//     Ref: Pion behaviour: PeerConnection.GracefulClose "waits for any goroutines it started to complete".
//
//   - remote.not-left-connected (w3c, pion): A peer that no close step closed, whose remote was closed at least 35s before the final states (counted from the end of the remote's uplink stall, if it was stalled at its close), does not end with connection or ICE connection "connected"/"completed".
//     Ref: RFC 7675 §5.1 (consent expires 30 s after the last response); W3C webrtc-pc RTCIceTransportState "failed" (pairs lost consent).
//
//   - remote.closed-by-dtls (w3c, pion): When the remote closed with DTLS connected on both sides and both peers' ICE connected (a path for the close_notify), no packet fault dropped both its close_notify and its SCTP ABORT (if SCTP was up), its uplink was not stalled at the close (Backpressure.StallAfter..StallUntil), the application had not closed its socket first (Settings.CloseMuxFirst), and DisableCloseByDTLS is false, the surviving peer ends with DTLS, SCTP and every data channel "closed".
//     Ref: RFC 5246 §7.2.1 (close_notify); W3C webrtc-pc RTCDtlsTransportState "closed" (close_notify received) and W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 6 (remote sends SCTP ABORT); Pion SettingEngine.DisableCloseByDTLS(false) closes the PeerConnection.
//
//   - remote.sctp-closed-after-abort (w3c, pion): A peer that no close step closed, whose SCTP close callback fired after the remote closed (the remote's ABORT ended the association), ends with SCTP "closed".
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 6 (the closing side sends an SCTP ABORT) and RTCSctpTransportState "closed"; RFC 4960 §9.1; Pion SCTPTransport.OnClose ("invoked when the SCTP Association closes").
//
//   - remote.consent-failure (w3c, pion): With DisableCloseByDTLS, a surviving full (not ICE-lite) ICE agent whose ICE was connected when the remote closed (and that does not restart ICE afterwards) goes ICE "disconnected" and then "failed" within 35s (counted from the end of the remote's uplink stall, if it was stalled at its close: its last packets leave then).
//     Ref: RFC 7675 §5.1 (consent freshness); Pion SettingEngine.DisableCloseByDTLS ("relies on the ice failed state").
//
//   - leak.turn-allocations (w3c, pion): No TURN allocation is left on the relay after the harness closed both peers and let 5 s of virtual time pass.
//     Ref: RFC 8656 §7 (a client deletes its allocation with a Refresh of lifetime 0) and W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 8 (destroy the ICE Agent, "releasing any relevant resources (e.g. TURN permissions)").
//
//   - leak.timers (w3c, pion): Nothing happens in 10 idle virtual minutes after the harness closed both peers and counted leaks: no timer or ticker is still pending and acting.
//     Ref: Pion behaviour: PeerConnection.GracefulClose "waits for any goroutines it started to complete"; W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 8 (destroy the ICE Agent).
//
//   - api.rejected-after-close (w3c, pion): After a close, CreateOffer, CreateAnswer, SetLocalDescription, SetRemoteDescription, AddICECandidate, CreateDataChannel, AddTransceiverFromKind, SetConfiguration, AddTrack, RemoveTrack each fail with an InvalidStateError (rtcerr.InvalidStateError).
//     Ref: W3C webrtc-pc: each of these methods first checks [[IsClosed]] and rejects (throws) with an InvalidStateError (createOffer, createAnswer, setLocalDescription, setRemoteDescription, addIceCandidate, createDataChannel, addTransceiver, setConfiguration, addTrack, removeTrack).
//
//   - api.close-idempotent (w3c, pion): Close and GracefulClose called again after a close return no error.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 1 (if [[IsClosed]] is true, abort these steps); Pion PeerConnection.Close doc.
//
//   - api.getstats-after-close (w3c, pion): GetStats still works after a close (returns a report, does not panic).
//     Ref: W3C webrtc-pc getStats() has no [[IsClosed]] check; W3C webrtc-stats.
//
//   - api.send-fails-after-close (w3c, pion): DataChannel.Send on a channel of a closed peer returns an error.
//     Ref: W3C webrtc-pc RTCDataChannel.send() step 2 (readyState not "open": throw); RFC 8831 §6.7 (a closed stream carries no data).
//
//   - api.send-invalid-state (w3c): DataChannel.Send on a channel of a closed peer fails with an InvalidStateError.
//     Ref: W3C webrtc-pc RTCDataChannel.send() step 2 ("throw an InvalidStateError").
//
//   - data.reliable-ordered-prefix (w3c, pion): On a reliable ordered channel, the messages a peer received are a prefix of those the other peer sent, in order, without duplicates or corruption.
//     Ref: RFC 8831 §6.1 (reliable, ordered delivery) and §6.6; RFC 8832 (DCEP channel types).
//
//   - data.reliable-unordered-subset (w3c, pion): On a reliable unordered channel, the messages a peer received are a subset of those sent, without duplicates or corruption.
//     Ref: RFC 8831 §6.1 (unordered delivery) and §6.6.
//
//   - data.partial-subset (w3c, pion): On a partially reliable channel, the messages a peer received are a subset of those sent, without corruption.
//     Ref: RFC 8831 §6.1 (partial reliability, RFC 3758).
//
//   - transceiver.rejected-after-close (w3c): After a close, RTPTransceiver.Stop and RTPSender.ReplaceTrack each fail with an InvalidStateError.
//     Ref: W3C webrtc-pc RTCRtpTransceiver.stop() step 3 ("If connection.[[IsClosed]] is true, throw an InvalidStateError") and RTCRtpSender.replaceTrack() (rejected through the operations chain).
//
//   - transceiver.stopped-at-return (w3c): The moment a close returns, every transceiver of the peer is stopped: its direction is "inactive".
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 4 (stop every RTCRtpTransceiver: "stop the RTCRtpTransceiver", "stop sending and receiving"); "stop sending and receiving" step 6 sets [[Direction]] to "inactive".
//
//   - transceiver.sender-track-kept (w3c): Closing leaves every sender's track as it was (RTPSender.Track() the moment the close returns is the track it had when the close started).
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 4 (stop every RTCRtpTransceiver: "stop the RTCRtpTransceiver", "stop sending and receiving"): no step of "stop the RTCRtpTransceiver" changes [[SenderTrack]].
//
//   - transceiver.receiver-track-ended (w3c, pion): Every track a peer received ends once the scenario closed the peer: its ReadRTP returns an error before the final states are taken.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 4 (stop every RTCRtpTransceiver: "stop the RTCRtpTransceiver", "stop sending and receiving"); "stop sending and receiving" step 5 ("execute the steps for receiver.[[ReceiverTrack]] to be ended").
//
//   - data.detached-reader-released (w3c, pion): Every detached data channel of a peer the scenario closed releases its reader: ReadDataChannel returns (an error or EOF) before the final states are taken.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 5 (every data channel "closed"); Pion DataChannel.Detach (the application reads the ReadWriteCloser until it fails).
//
//   - transceiver.rtcp-bye (w3c): A peer the scenario closed has sent, by the final states, an RTCP BYE for each RTP stream it was sending when the close started.
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" step 4 (stop every RTCRtpTransceiver: "stop the RTCRtpTransceiver", "stop sending and receiving"); "stop sending and receiving" step 3 ("send an RTCP BYE for each RTP stream that was being sent by sender", RFC 3550 §6.6).
//
//   - sfu.others-unaffected (pion): When A serves more clients (topology.sfu_clients), every connection of theirs that was up before the steps and that the scenario did not close is still up when Final is taken (A's side connected, its channel open) and carries a message its client sends after the steps; not judged when the network could cut them too (a packet fault on every peer's traffic, A's uplink stalled, or A's UDPMux closed by the application).
//     Ref: Pion behaviour: PeerConnections made from one webrtc.API are independent (each closes its own transports; SettingEngine.SetICEUDPMux shares one socket among them); W3C webrtc-pc close() acts on "connection" alone.
//
//   - sfu.closed-all (pion): When a close step on A closes all the SFU's connections at once (topology.sfu_close_all), each of A's Close calls returns without error within 5s, leaves its connection, DTLS, SCTP and channel "closed", and its client is no longer "connected" when Final is taken (it noticed the close); the client is not judged when the network could have kept the news from it (as for sfu.others-unaffected, and a settle under 35s once its close_notify could not leave).
//     Ref: W3C webrtc-pc RTCPeerConnection.close(), "close the connection" (each connection's algorithm runs to its end whatever the others do); RFC 5246 §7.2.1 (close_notify) and RFC 7675 (consent) for the client.
//
// # Events during and after close: which profile expects what
//
// The W3C close algorithm fires no event: it sets the signaling, ICE
// connection and connection states to "closed" with "This does not fire any
// event", closes data channels without their closing procedure, and every
// task queued afterwards aborts because [[IsClosed]] is true. Hence
// events.none-during-close and events.none-after-close, in profile w3c.
//
// Pion departs from this knowingly, and neither rule is in profile pion.
// Its Close moves each object to "closed" through the setters that notify
// handlers, so "dtls closed", "ice closed", "pc closed", "sctp close" and
// "dc close" fire while Close runs. And it calls the signaling,
// connection-state, data channel close and SCTP close handlers with
// "go handler(...)", so such a notice, or one of a change made just before
// the close, can run after Close returned; Close does not wait for them.
// What Pion does promise is narrower, and profile pion holds it to that:
//
//   - Close stops every transport before it returns, so nothing new can
//     happen afterwards: no message, open, candidate, gathering or state
//     other than "closed"; only late notices of "closed", or of the
//     signaling or connection state the peer had at the close, may still
//     arrive (events.no-activity-after-close).
//   - GracefulClose "waits for any goroutines it started to complete"
//     (pion/webrtc#2847), handler goroutines included, so after it returns
//     not even those late notices should arrive
//     (events.graceful-close-waits).
//
// ICE gathering: the W3C close steps leave [[IceGatheringState]] alone;
// Pion's ICEGatherer.Close moves the gatherer to its "closed" state, which
// PeerConnection.ICEGatheringState reports as "complete". That is a
// deliberate mapping, so local.gathering-unchanged is in profile w3c only.
//
// Closed states are different: Pion's close() cites W3C steps 3 to 11 one
// by one, so local.closed-states is in both profiles and a peer left "new",
// "connecting" or "failed" after Close is a Pion deviation to triage.
//
// # Close spans
//
// The events.* invariants look at each peer's first close in the trace: the
// "close" events of a close step ("call close|graceful", then
// "return close|graceful err=...") or, for a peer the scenario left open,
// the "harness-close" events of the harness's GracefulClose, made after the
// final states were taken.
//
// # Known issues
//
// A known-issues file is a JSON array of KnownIssue objects ([] for none).
// A violation is known when an entry names its invariant and the entry's
// signature matches its Message and Evidence joined by newlines: a plain
// substring, or after the prefix "re:" a Go regular expression. For example
// (not a real entry):
//
//	[{"id": "example", "invariant": "leak.sockets",
//	  "signature": "re:UDP4 socket 10\\.0\\.0\\.1:\\d+ still bound",
//	  "link": "https://example.invalid/issue/1",
//	  "note": "why this is accepted, and until when"}]
//
// A wedge (harness.no-wedge) is matched on its typed facts, never on text:
// "waiter" names frames that must all be on one goroutine blocked on a
// mutex (facts.Wedge.Blocked), "holder" frames of its likely holder, and
// "stuck" frames of the harness's own goroutine for a wedge with no mutex
// wait (facts.Wedge.Stuck). Every other mutex wait of the wedge must match
// as well or wait on the same lock, so a second, different wait leaves the
// wedge failed:
//
//	{"id": "F1", "invariant": "harness.no-wedge",
//	  "waiter": ["(*SCTPTransport).onClose"], "holder": ["sctp.(*Association).Abort"],
//	  "note": "..."}
package invariants
