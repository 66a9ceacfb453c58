// Package echo is a small Pion service of the kind closesim's users test:
// it echoes every data channel message back to the client that sent it,
// reflects the client's audio and video back to it (Pion's reflect example,
// as a service), pings every open channel on an interval, and keeps its
// clients in a map until they go away.
//
// Signaling is the caller's: an HTTP handler (or closesim, in the tests)
// creates a PeerConnection from NewAPI, hands it to Server.Accept before
// applying the client's offer, and then runs the offer/answer exchange.
package echo

import (
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/pion/interceptor"
	"github.com/pion/interceptor/pkg/intervalpli"
	"github.com/pion/webrtc/v4"
)

// DefaultPingInterval is how often the server pings an open data channel.
const DefaultPingInterval = 5 * time.Second

// NewAPI returns the API the server's PeerConnections are made with: the
// default codecs and interceptors plus a PLI every 3 s for received video
// (so the client sends keyframes), on the network and settings of se.
func NewAPI(se webrtc.SettingEngine) (*webrtc.API, error) {
	m := &webrtc.MediaEngine{}
	if err := m.RegisterDefaultCodecs(); err != nil {
		return nil, fmt.Errorf("echo: register codecs: %w", err)
	}
	reg := &interceptor.Registry{}
	if err := webrtc.RegisterDefaultInterceptors(m, reg); err != nil {
		return nil, fmt.Errorf("echo: register interceptors: %w", err)
	}
	pli, err := intervalpli.NewReceiverInterceptor()
	if err != nil {
		return nil, fmt.Errorf("echo: PLI interceptor: %w", err)
	}
	reg.Add(pli)
	return webrtc.NewAPI(webrtc.WithSettingEngine(se), webrtc.WithMediaEngine(m), webrtc.WithInterceptorRegistry(reg)), nil
}

// Server echoes data and reflects media for any number of clients.
type Server struct {
	// PingInterval is how often an open data channel gets a "ping"
	// (0: DefaultPingInterval).
	PingInterval time.Duration

	mu      sync.Mutex
	clients map[uint64]*client
	nextID  uint64
	// pinger runs for each open data channel; tests replace it.
	pinger func(s *Server, c *client, dc *webrtc.DataChannel)
}

// client is the server's state for one PeerConnection.
type client struct {
	id   uint64
	pc   *webrtc.PeerConnection
	out  map[webrtc.RTPCodecType]*webrtc.TrackLocalStaticRTP // reflected tracks, by kind
	gone chan struct{}                                       // closed when the client is removed
}

// NewServer returns a server with no clients.
func NewServer() *Server {
	return &Server{clients: map[uint64]*client{}, pinger: (*Server).ping}
}

// Clients returns how many clients the server holds.
func (s *Server) Clients() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.clients)
}

// Accept takes a new client's PeerConnection, before its offer is applied:
// it adds the tracks that reflect the client's audio and video, wires the
// echo and reflect handlers, and keeps the client until its connection
// fails or closes. Accept closes pc when its connection fails.
func (s *Server) Accept(pc *webrtc.PeerConnection) error {
	c := &client{pc: pc, out: map[webrtc.RTPCodecType]*webrtc.TrackLocalStaticRTP{}, gone: make(chan struct{})}
	for _, codec := range []webrtc.RTPCodecCapability{
		{MimeType: webrtc.MimeTypeOpus, ClockRate: 48000, Channels: 2},
		{MimeType: webrtc.MimeTypeVP8, ClockRate: 90000},
	} {
		kind := webrtc.RTPCodecTypeAudio
		if codec.MimeType == webrtc.MimeTypeVP8 {
			kind = webrtc.RTPCodecTypeVideo
		}
		track, err := webrtc.NewTrackLocalStaticRTP(codec, kind.String(), "echo")
		if err != nil {
			return fmt.Errorf("echo: new %s track: %w", kind, err)
		}
		sender, err := pc.AddTrack(track)
		if err != nil {
			return fmt.Errorf("echo: add %s track: %w", kind, err)
		}
		c.out[kind] = track
		// Read RTCP so that the interceptors (NACK, reports) run; the
		// read fails once the sender stops, when pc closes.
		go func() {
			buf := make([]byte, 1500)
			for {
				if _, _, err := sender.Read(buf); err != nil {
					return
				}
			}
		}()
	}

	s.mu.Lock()
	c.id = s.nextID
	s.nextID++
	s.clients[c.id] = c
	s.mu.Unlock()

	pc.OnTrack(func(remote *webrtc.TrackRemote, _ *webrtc.RTPReceiver) {
		out := c.out[remote.Kind()]
		for {
			pkt, _, err := remote.ReadRTP()
			if err != nil {
				return // the receiver stopped: the client or the server closed
			}
			if err := out.WriteRTP(pkt); err != nil && !errors.Is(err, io.ErrClosedPipe) {
				return
			}
		}
	})
	pc.OnDataChannel(func(dc *webrtc.DataChannel) {
		dc.OnOpen(func() { s.pinger(s, c, dc) })
		dc.OnMessage(func(msg webrtc.DataChannelMessage) {
			if msg.IsString {
				_ = dc.SendText(string(msg.Data))
				return
			}
			_ = dc.Send(msg.Data)
		})
	})
	pc.OnConnectionStateChange(func(state webrtc.PeerConnectionState) {
		switch state {
		case webrtc.PeerConnectionStateFailed:
			// ICE consent expired: the client is gone. Closing fires
			// "closed", which removes it.
			_ = pc.Close()
		case webrtc.PeerConnectionStateClosed:
			s.remove(c)
		}
	})
	return nil
}

// remove forgets c and stops its goroutines.
func (s *Server) remove(c *client) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if _, ok := s.clients[c.id]; ok {
		delete(s.clients, c.id)
		close(c.gone)
	}
}

// ping sends "ping" on dc every PingInterval until the client is removed.
// OnOpen handlers run on their own goroutine, so ping loops in it.
func (s *Server) ping(c *client, dc *webrtc.DataChannel) {
	interval := s.PingInterval
	if interval <= 0 {
		interval = DefaultPingInterval
	}
	ticker := time.NewTicker(interval)
	defer ticker.Stop()
	for {
		select {
		case <-c.gone:
			return
		case <-ticker.C:
			if err := dc.SendText("ping"); err != nil {
				return
			}
		}
	}
}
