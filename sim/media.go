package sim

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/pion/rtp"
	"github.com/pion/sdp/v3"
	"github.com/pion/webrtc/v4"
	"github.com/pion/webrtc/v4/pkg/media"

	"github.com/closesim/closesim/scenarios"
)

// localTrack is a track (or a receive-only transceiver) a step added.
type localTrack struct {
	media       scenarios.Media
	track       *webrtc.TrackLocalStaticSample // nil for recvonly and simulcast
	layers      []*webrtc.TrackLocalStaticRTP  // simulcast layers, by simulcastRIDs (Step.Simulcast)
	seq         uint16                         // simulcast: the next RTP sequence number
	sender      *webrtc.RTPSender
	transceiver *webrtc.RTPTransceiver
	written     int
}

// remoteTrack counts what arrived on a track the peer received.
type remoteTrack struct {
	kind    string
	packets int
}

// addTrack runs an add_track step.
func (w *world) addTrack(s scenarios.Step) error {
	p := w.peers[s.Peer]
	kind := webrtc.RTPCodecTypeAudio
	codec := webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2}
	if s.Media == scenarios.MediaVideo {
		kind = webrtc.RTPCodecTypeVideo
		codec = webrtc.RTPCodecCapability{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000}
	}
	lt := &localTrack{media: s.Media}
	var err error
	switch s.Direction {
	case "recvonly":
		lt.transceiver, err = p.pc.AddTransceiverFromKind(kind, webrtc.RTPTransceiverInit{Direction: webrtc.RTPTransceiverDirectionRecvonly})
		if err != nil {
			return fmt.Errorf("add recvonly transceiver: %w", err)
		}
	default:
		var first webrtc.TrackLocal
		if s.Simulcast {
			// An SFU forwards simulcast as RTP with the MID and RID
			// header extensions set (Pion's sender does not set them).
			for _, rid := range simulcastRIDs {
				t, err := webrtc.NewTrackLocalStaticRTP(codec, s.Label, "closesim-"+string(s.Peer), webrtc.WithRTPStreamID(rid))
				if err != nil {
					return fmt.Errorf("new simulcast layer %s: %w", rid, err)
				}
				lt.layers = append(lt.layers, t)
			}
			first = lt.layers[0]
		} else {
			if lt.track, err = webrtc.NewTrackLocalStaticSample(codec, s.Label, "closesim-"+string(s.Peer)); err != nil {
				return fmt.Errorf("new track: %w", err)
			}
			first = lt.track
		}
		if s.Direction == "" {
			if lt.sender, err = p.pc.AddTrack(first); err != nil {
				return fmt.Errorf("add track: %w", err)
			}
			for _, layer := range lt.layers[min(1, len(lt.layers)):] {
				if err := lt.sender.AddEncoding(layer); err != nil {
					return fmt.Errorf("add simulcast encoding %s: %w", layer.RID(), err)
				}
			}
			for _, tr := range p.pc.GetTransceivers() {
				if tr.Sender() == lt.sender {
					lt.transceiver = tr
				}
			}
		} else {
			dir := webrtc.NewRTPTransceiverDirection(string(s.Direction))
			if lt.transceiver, err = p.pc.AddTransceiverFromTrack(first, webrtc.RTPTransceiverInit{Direction: dir}); err != nil {
				return fmt.Errorf("add transceiver: %w", err)
			}
			lt.sender = lt.transceiver.Sender()
		}
		// Read RTCP, as Pion asks of every sender: interceptors (NACK,
		// reports) only run when someone reads.
		go p.readRTCP(s.Label, lt.sender)
	}
	p.mu.Lock()
	p.tracks[s.Label] = lt
	p.mu.Unlock()
	return nil
}

// simulcastRIDs are the RIDs of a simulcast track's layers (Step.Simulcast).
var simulcastRIDs = []string{"q", "h", "f"}

// readRTCP drains sender's RTCP until the sender is closed.
func (p *peer) readRTCP(label string, sender *webrtc.RTPSender) {
	n := 0
	for {
		if _, _, err := sender.ReadRTCP(); err != nil {
			p.w.trace.op(string(p.name), facts.KindTrack, facts.OpRTCPDone, label, "rtcp reader %q done after %d err=%v", label, n, err)
			return
		}
		n++
	}
}

// onTrack traces a received track and reads its RTP until it ends.
func (p *peer) onTrack(t *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
	name, id := string(p.name), t.ID()
	if rid := t.RID(); rid != "" {
		id += "/" + rid // a simulcast layer: one OnTrack per RID, one track id
	}
	p.w.trace.op(name, facts.KindTrack, facts.OpRemote, id, "remote %s %q", t.Kind(), id)
	p.mu.Lock()
	rt := &remoteTrack{kind: t.Kind().String()}
	p.remote[id] = rt
	p.mu.Unlock()
	p.fire(scenarios.OnTrack, id)
	go func() {
		for {
			if _, _, err := t.ReadRTP(); err != nil {
				p.mu.Lock()
				n := rt.packets
				p.mu.Unlock()
				p.w.trace.op(name, facts.KindTrack, facts.OpEnded, id, "remote %q ended after %d rtp err=%v", id, n, err)
				return
			}
			p.mu.Lock()
			rt.packets++
			first := rt.packets == 1
			p.mu.Unlock()
			if first {
				p.w.trace.op(name, facts.KindTrack, facts.OpFirstPacket, id, "remote %q first rtp", id)
			}
		}
	}()
}

var errNoTrack = errors.New("no such track")

// track returns p's track label.
func (p *peer) track(label string) (*localTrack, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if lt := p.tracks[label]; lt != nil {
		return lt, nil
	}
	return nil, fmt.Errorf("peer %s: %w %q", p.name, errNoTrack, label)
}

// writeMedia runs a write_media step.
func (w *world) writeMedia(s scenarios.Step) error {
	p := w.peers[s.Peer]
	lt, err := p.track(s.Label)
	if err != nil {
		return err
	}
	dur := 20 * time.Millisecond
	if lt.media == scenarios.MediaVideo {
		dur = 33 * time.Millisecond
	}
	for i := range s.Count {
		data := make([]byte, s.Size)
		for j := range data {
			data[j] = byte(i + j)
		}
		if err := lt.write(data, dur); err != nil {
			return fmt.Errorf("write sample %d of %d: %w", i+1, s.Count, err)
		}
		p.mu.Lock()
		lt.written++
		p.mu.Unlock()
		if s.Duration > 0 {
			w.sleep(time.Duration(s.Duration))
		}
	}
	return nil
}

// write writes one sample: through the sample track, or, simulcast, as
// one RTP packet per layer carrying the MID and RID header extensions
// with the IDs the sender negotiated.
func (lt *localTrack) write(data []byte, dur time.Duration) error {
	if len(lt.layers) == 0 {
		return lt.track.WriteSample(media.Sample{Data: data, Duration: dur})
	}
	var midID, ridID uint8
	for _, ext := range lt.sender.GetParameters().HeaderExtensions {
		switch ext.URI {
		case sdp.SDESMidURI:
			midID = uint8(ext.ID)
		case sdp.SDESRTPStreamIDURI:
			ridID = uint8(ext.ID)
		}
	}
	lt.seq++
	for _, layer := range lt.layers {
		pkt := &rtp.Packet{Header: rtp.Header{Version: 2, SequenceNumber: lt.seq, Timestamp: uint32(lt.seq) * uint32(dur.Seconds()*90000)}, Payload: data}
		if midID != 0 && ridID != 0 {
			if err := pkt.Header.SetExtension(midID, []byte(lt.transceiver.Mid())); err != nil {
				return fmt.Errorf("mid extension: %w", err)
			}
			if err := pkt.Header.SetExtension(ridID, []byte(layer.RID())); err != nil {
				return fmt.Errorf("rid extension: %w", err)
			}
		}
		if err := layer.WriteRTP(pkt); err != nil {
			return fmt.Errorf("layer %s: %w", layer.RID(), err)
		}
	}
	return nil
}

// removeTrack runs a remove_track step.
func (w *world) removeTrack(s scenarios.Step) error {
	p := w.peers[s.Peer]
	lt, err := p.track(s.Label)
	if err != nil {
		return err
	}
	return p.pc.RemoveTrack(lt.sender)
}

// stopTransceiver runs a stop_transceiver step.
func (w *world) stopTransceiver(s scenarios.Step) error {
	p := w.peers[s.Peer]
	lt, err := p.track(s.Label)
	if err != nil {
		return err
	}
	if lt.transceiver == nil {
		return fmt.Errorf("track %q has no transceiver", s.Label)
	}
	return lt.transceiver.Stop()
}

// transceiverStates reads p's transceivers through Pion's getters (not
// inside a callback: GetTransceivers takes the PeerConnection's lock).
func (p *peer) transceiverStates() []facts.TransceiverState {
	trs := p.pc.GetTransceivers()
	if len(trs) == 0 {
		return nil
	}
	p.mu.Lock()
	written := map[*webrtc.RTPSender]int{}
	for _, lt := range p.tracks {
		if lt.sender != nil {
			written[lt.sender] += lt.written
		}
	}
	p.mu.Unlock()
	out := make([]facts.TransceiverState, 0, len(trs))
	for _, t := range trs {
		ts := facts.TransceiverState{Mid: t.Mid(), Kind: t.Kind().String(), Direction: t.Direction().String()}
		if s := t.Sender(); s != nil {
			if tr := s.Track(); tr != nil {
				ts.SenderTrack = tr.ID()
			}
			ts.Sent = written[s]
		}
		out = append(out, ts)
	}
	return out
}

// trackStates lists p's tracks, local then remote, by label; p.mu held.
func (p *peer) trackStates() []facts.TrackState {
	var out []facts.TrackState
	for _, l := range sortedKeys(p.tracks) {
		lt := p.tracks[l]
		out = append(out, facts.TrackState{Label: l, Local: true, Kind: string(lt.media), Packets: lt.written})
	}
	for _, l := range sortedKeys(p.remote) {
		rt := p.remote[l]
		out = append(out, facts.TrackState{Label: l, Kind: rt.kind, Packets: rt.packets})
	}
	return out
}

func sortedKeys[V any](m map[string]V) []string { return slices.Sorted(maps.Keys(m)) }
