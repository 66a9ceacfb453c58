package sim

import (
	"errors"
	"fmt"
	"strings"

	"github.com/closesim/closesim/facts"

	"github.com/pion/rtcp"
	"github.com/pion/webrtc/v4"
)

// probe calls every PeerConnection method that the W3C close steps make
// fail afterwards, plus those that must keep working, and records what each
// returned. It runs after the settle period, on peers a close step closed.
func (p *peer) probe() []facts.APIProbe {
	pc, name := p.pc, string(p.name)
	var out []facts.APIProbe
	call := func(what string, fn func() error) {
		pr := facts.APIProbe{Peer: name, Call: what}
		func() {
			defer func() {
				if v := recover(); v != nil {
					pr.Panic = fmt.Sprint(v)
				}
			}()
			if err := fn(); err != nil {
				pr.Err, pr.ErrType = err.Error(), errType(err)
			}
		}()
		p.w.trace.Add(name, facts.KindProbe, "%s -> %s%s", what, orNil(pr.Err), pr.Panic)
		out = append(out, pr)
	}
	call("CreateOffer", func() error { _, err := pc.CreateOffer(nil); return err })
	call("CreateAnswer", func() error { _, err := pc.CreateAnswer(nil); return err })
	call("SetLocalDescription", func() error {
		return pc.SetLocalDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer})
	})
	call("SetRemoteDescription", func() error {
		return pc.SetRemoteDescription(webrtc.SessionDescription{Type: webrtc.SDPTypeOffer, SDP: "v=0\r\n"})
	})
	call("AddICECandidate", func() error {
		return pc.AddICECandidate(webrtc.ICECandidateInit{Candidate: "candidate:1 1 udp 2130706431 10.0.0.9 9 typ host"})
	})
	call("CreateDataChannel", func() error { _, err := pc.CreateDataChannel("after-close", nil); return err })
	call("AddTransceiverFromKind", func() error {
		_, err := pc.AddTransceiverFromKind(webrtc.RTPCodecTypeAudio)
		return err
	})
	call("SetConfiguration", func() error { return pc.SetConfiguration(webrtc.Configuration{}) })
	call("WriteRTCP", func() error {
		return pc.WriteRTCP([]rtcp.Packet{&rtcp.PictureLossIndication{MediaSSRC: 1}})
	})
	call("GetStats", func() error {
		if pc.GetStats() == nil {
			return errors.New("GetStats returned nil")
		}
		return nil
	})
	call("Close (again)", pc.Close)
	call("GracefulClose (again)", pc.GracefulClose)
	p.mu.Lock()
	dcs := p.sortedDataChannels()
	p.mu.Unlock()
	for _, dc := range dcs {
		call(fmt.Sprintf("DataChannel(%s).Send", dc.Label()), func() error { return dc.Send([]byte("after close")) })
	}
	// Step 4 of the close algorithm: transceivers and tracks.
	for i, t := range pc.GetTransceivers() {
		call(fmt.Sprintf("RTPTransceiver(%d).Stop", i), t.Stop)
		if s := t.Sender(); s != nil {
			call(fmt.Sprintf("RTPSender(%d).ReplaceTrack", i), func() error { return s.ReplaceTrack(nil) })
			call("RemoveTrack", func() error { return pc.RemoveTrack(s) })
		}
	}
	call("AddTrack", func() error {
		tr, err := webrtc.NewTrackLocalStaticSample(webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}, "after-close", "closesim")
		if err != nil {
			return fmt.Errorf("new track: %w", err)
		}
		_, err = pc.AddTrack(tr)
		return err
	})
	return out
}

func orNil(s string) string {
	if s == "" {
		return "nil"
	}
	return s
}

// errType names the rtcerr type of err or of an error it wraps (the Go form
// of the W3C DOMException names, e.g. "InvalidStateError"), or "error".
func errType(err error) string {
	for e := err; e != nil; e = errors.Unwrap(e) {
		if name, ok := strings.CutPrefix(fmt.Sprintf("%T", e), "*rtcerr."); ok {
			return name
		}
	}
	return "error"
}
