// Package backpressure wraps a transport.Net (typically a Pion *vnet.Net,
// whose writes never block) so that UDP sockets behave like sockets with a
// full kernel send buffer: each socket has a bounded send queue drained at a
// fixed rate, and a write that does not fit blocks until the queue has room,
// the write deadline passes or the socket is closed.
//
// Only the sockets from ListenUDP, ListenPacket and DialUDP are wrapped;
// every other method is passed to the inner Net unchanged (so sockets from
// Dial, CreateDialer and CreateListenConfig are not rate limited).
//
// # The model
//
// A socket's queue holds the bytes it has accepted and not yet finished
// transmitting. A write of n bytes is accepted at once if no earlier writer
// is waiting and the queue has room for it (or is empty: a datagram larger
// than the queue is accepted into an empty queue, so it cannot block for
// ever); otherwise the writer parks, in FIFO order. A drain goroutine hands
// each accepted datagram to the inner socket as soon as the link is free,
// then keeps the link busy for n/Rate seconds before it frees the n bytes
// and admits parked writers. So an idle socket adds no latency, a burst
// leaves the socket at Rate, and whether a write blocks depends only on the
// virtual clock, not on goroutine scheduling.
//
// Blocking is built from channels and timers only (no sync.Cond, no waiting
// on a mutex), so in a testing/synctest bubble a parked writer and an idle
// drain goroutine are durably blocked and the fake clock moves on. The drain
// goroutine only runs while the queue is non-empty, and Close waits for it
// to exit.
//
// Close sends the datagrams already accepted into the queue at once
// (counted in Stats.Flushed), as a kernel still transmits what is in a
// closed UDP socket's buffer; writers still parked fail with net.ErrClosed,
// their datagrams never having been accepted.
package backpressure

import (
	"net"
	"sync"
	"time"

	"github.com/pion/transport/v5"
)

// Config sets the send queue of every wrapped socket.
type Config struct {
	// QueueBytes is the capacity of each socket's send queue in payload
	// bytes; writes that do not fit block. 0 or less means unbounded:
	// writes never block, and are still paced at Rate.
	QueueBytes int
	// Rate is the drain rate of each socket in payload bytes per second of
	// (virtual) time. 0 or less turns the queue off: writes go straight to
	// the inner socket (write deadlines and Close still apply) and never
	// block.
	Rate int
	// StallFrom and StallUntil, when StallUntil is not zero, stop every
	// queue draining in [StallFrom, StallUntil) (clock times: in a
	// synctest bubble, the fake clock's), as a link that stops sending
	// does: accepted datagrams wait, and writers that do not fit block
	// until the stall ends, their write deadline passes or the socket
	// closes.
	StallFrom, StallUntil time.Time
}

// Stats describes the sockets of a Net, summed over all of them.
type Stats struct {
	// QueuedBytes is the number of bytes charged against the queues now:
	// accepted and not yet transmitted (waiting, or on the link).
	QueuedBytes int
	// QueuedPackets is the number of accepted datagrams not yet handed to
	// the inner socket.
	QueuedPackets int
	// Parked is the number of writers blocked in a write now.
	Parked int
	// MaxParked is the highest Parked has been.
	MaxParked int
	// Parks is how many writes have blocked.
	Parks int
	// Timeouts is how many writes failed because the write deadline
	// passed (before or while they were parked).
	Timeouts int
	// Sent is the number of datagrams handed to the inner sockets.
	Sent int
	// SentBytes is the sum of their lengths.
	SentBytes int
	// SendErrors is how many of them the inner socket rejected. With a
	// queue the writer has already been told the write succeeded (as with
	// UDP); with Rate <= 0 the writer gets the error.
	SendErrors int
	// Flushed is the number of queued datagrams Close sent at once (without
	// waiting for the link), as a kernel sends a closed UDP socket's buffer.
	Flushed int
}

// Net is a transport.Net whose UDP sockets have a bounded, rate-limited
// send queue. It is safe for concurrent use.
type Net struct {
	// The embedded inner Net serves every method not overridden here
	// (TCP, Dial, resolvers, interfaces, dialers, listen configs), so
	// those sockets are not wrapped.
	transport.Net
	cfg Config

	mu    sync.Mutex // guards stats; innermost lock, never held while blocking
	stats Stats
}

var _ transport.Net = (*Net)(nil)

// New returns a Net that forwards to inner and gives every UDP socket it
// opens a send queue as set by cfg.
func New(inner transport.Net, cfg Config) *Net {
	return &Net{Net: inner, cfg: cfg}
}

// Inner returns the wrapped transport.Net.
func (n *Net) Inner() transport.Net {
	return n.Net
}

// Config returns the configuration given to New.
func (n *Net) Config() Config {
	return n.cfg
}

// Stats returns the current counters, summed over all sockets.
func (n *Net) Stats() Stats {
	n.mu.Lock()
	defer n.mu.Unlock()

	return n.stats
}

// update changes the counters under the stats lock.
func (n *Net) update(fn func(s *Stats)) {
	n.mu.Lock()
	defer n.mu.Unlock()

	fn(&n.stats)
	n.stats.MaxParked = max(n.stats.MaxParked, n.stats.Parked)
}

// txTime is how long the link is busy with a datagram of size bytes.
// stalled returns how long the link stays stalled from now (0: not).
func (n *Net) stalled() time.Duration {
	if n.cfg.StallUntil.IsZero() {
		return 0
	}
	now := time.Now()
	if now.Before(n.cfg.StallFrom) || !now.Before(n.cfg.StallUntil) {
		return 0
	}

	return n.cfg.StallUntil.Sub(now)
}

func (n *Net) txTime(size int) time.Duration {
	if n.cfg.Rate <= 0 || size <= 0 {
		return 0
	}
	ns := (int64(size)*int64(time.Second) + int64(n.cfg.Rate) - 1) / int64(n.cfg.Rate)

	return time.Duration(ns)
}

// ListenPacket opens a socket on the inner Net and wraps it. A
// transport.UDPConn (what vnet returns) stays a transport.UDPConn.
func (n *Net) ListenPacket(network string, address string) (net.PacketConn, error) {
	pc, err := n.Net.ListenPacket(network, address)
	if err != nil || pc == nil {
		return pc, err
	}
	if uc, ok := pc.(transport.UDPConn); ok {
		return n.wrapUDPConn(uc), nil
	}

	return n.wrapPacketConn(pc), nil
}

// ListenUDP opens a UDP socket on the inner Net and wraps it.
func (n *Net) ListenUDP(network string, locAddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.ListenUDP(network, locAddr)
	if err != nil || c == nil {
		return c, err
	}

	return n.wrapUDPConn(c), nil
}

// DialUDP opens a connected UDP socket on the inner Net and wraps it.
func (n *Net) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.Net.DialUDP(network, laddr, raddr)
	if err != nil || c == nil {
		return c, err
	}

	return n.wrapUDPConn(c), nil
}

// Compile-time checks.
var (
	_ transport.UDPConn = (*udpConn)(nil)
	_ net.PacketConn    = (*udpConn)(nil)
	_ net.Conn          = (*udpConn)(nil)
	_ net.PacketConn    = (*packetConn)(nil)
)
