package backpressure

import (
	"net"
	"os"
	"slices"
	"sync"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/deadline"
)

// packet is one accepted datagram.
type packet struct {
	b    []byte   // a copy of the caller's buffer
	addr net.Addr // nil: Write on a connected socket
}

// waiter is a parked writer. The drain (or whoever frees room) grants it by
// queueing its packet on its behalf and closing ready.
type waiter struct {
	p       packet
	granted bool // set under sender.mu before ready is closed
	ready   chan struct{}
}

// sender is the send queue of one socket.
type sender struct {
	n      *Net
	send   func(p packet) error // writes to the inner socket
	local  net.Addr
	remote net.Addr

	wdl      *deadline.Deadline
	closedCh chan struct{} // closed by close

	// mu guards the fields below. It is held only for bookkeeping and for
	// the (non-blocking) write to the inner socket; nobody waits while
	// holding it, and nobody waits for it except for such short sections.
	mu       sync.Mutex
	closed   bool
	queue    []packet // accepted, not yet handed to the inner socket
	queued   int      // bytes charged: queue plus the datagram on the link
	waiters  []*waiter
	draining bool          // a drain goroutine is running
	drained  chan struct{} // closed when that goroutine exits
}

func (n *Net) newSender(local, remote net.Addr, send func(packet) error) *sender {
	return &sender{
		n:        n,
		send:     send,
		local:    local,
		remote:   remote,
		wdl:      deadline.New(),
		closedCh: make(chan struct{}),
	}
}

// opError builds the error a net.Conn would return.
func (s *sender) opError(op string, addr net.Addr, err error) error {
	network := "udp"
	if s.local != nil {
		network = s.local.Network()
	}
	if addr == nil {
		addr = s.remote
	}

	return &net.OpError{Op: op, Net: network, Source: s.local, Addr: addr, Err: err}
}

// fits reports whether size more bytes may be accepted now. The caller holds
// s.mu.
func (s *sender) fits(size int) bool {
	limit := s.n.cfg.QueueBytes

	return limit <= 0 || s.queued == 0 || s.queued+size <= limit
}

// pushLocked accepts p and starts the drain if needed. The caller holds
// s.mu and has checked fits.
func (s *sender) pushLocked(p packet) {
	s.queue = append(s.queue, p)
	s.queued += len(p.b)
	s.n.update(func(st *Stats) {
		st.QueuedBytes += len(p.b)
		st.QueuedPackets++
	})
	if !s.draining {
		s.draining = true
		s.drained = make(chan struct{})
		go s.drain(s.drained)
	}
}

// admitLocked accepts parked writers, first come first served, while the
// first one fits. Once the write deadline has passed nobody is admitted:
// the parked writers are about to fail. The caller holds s.mu.
func (s *sender) admitLocked() {
	if s.wdl.Err() != nil {
		return
	}
	for len(s.waiters) > 0 && s.fits(len(s.waiters[0].p.b)) {
		w := s.waiters[0]
		s.waiters[0] = nil
		s.waiters = s.waiters[1:]
		s.pushLocked(w.p)
		w.granted = true
		close(w.ready)
	}
}

// write queues a copy of b for addr (nil: the connected peer), blocking
// while the queue is full.
func (s *sender) write(b []byte, addr net.Addr) (int, error) {
	p := packet{b: slices.Clone(b), addr: addr}
	if p.b == nil {
		p.b = []byte{}
	}

	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()

		return 0, s.opError("write", addr, net.ErrClosed)
	}
	if s.wdl.Err() != nil {
		s.mu.Unlock()
		s.n.update(func(st *Stats) { st.Timeouts++ })

		return 0, s.opError("write", addr, os.ErrDeadlineExceeded)
	}
	if s.n.cfg.Rate <= 0 {
		// No pacing: no queue either; write through.
		err := s.send(p)
		s.n.update(func(st *Stats) {
			st.Sent++
			st.SentBytes += len(p.b)
			if err != nil {
				st.SendErrors++
			}
		})
		s.mu.Unlock()
		if err != nil {
			return 0, err
		}

		return len(b), nil
	}
	if len(s.waiters) == 0 && s.fits(len(p.b)) {
		s.pushLocked(p)
		s.mu.Unlock()

		return len(b), nil
	}
	w := &waiter{p: p, ready: make(chan struct{})}
	s.waiters = append(s.waiters, w)
	s.n.update(func(st *Stats) {
		st.Parked++
		st.Parks++
	})
	s.mu.Unlock()

	defer s.n.update(func(st *Stats) { st.Parked-- })
	for {
		select {
		case <-w.ready:
			return len(b), nil
		case <-s.closedCh:
			s.mu.Lock()
			granted := w.granted
			s.mu.Unlock()
			if granted {
				return len(b), nil
			}

			return 0, s.opError("write", addr, net.ErrClosed)
		case <-s.wdl.Done():
			s.mu.Lock()
			if w.granted {
				s.mu.Unlock()

				return len(b), nil
			}
			if s.wdl.Err() == nil {
				// The deadline was moved after it fired. Room may have
				// freed meanwhile (admitLocked refused while it had
				// passed), so admit whoever fits, then wait again.
				s.admitLocked()
				granted := w.granted
				s.mu.Unlock()
				if granted {
					return len(b), nil
				}

				continue
			}
			if i := slices.Index(s.waiters, w); i >= 0 {
				s.waiters = slices.Delete(s.waiters, i, i+1)
			}
			s.mu.Unlock()
			s.n.update(func(st *Stats) { st.Timeouts++ })

			return 0, s.opError("write", addr, os.ErrDeadlineExceeded)
		}
	}
}

// drain hands queued datagrams to the inner socket, one per link slot,
// until the queue is empty or the socket is closed.
func (s *sender) drain(done chan struct{}) {
	defer close(done)

	for {
		s.mu.Lock()
		if s.closed || len(s.queue) == 0 {
			s.draining = false
			s.mu.Unlock()

			return
		}
		if d := s.n.stalled(); d > 0 {
			// The link is down: nothing leaves until the stall ends.
			s.mu.Unlock()
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.closedCh:
				t.Stop()

				return
			}

			continue
		}
		p := s.queue[0]
		s.queue[0] = packet{}
		s.queue = s.queue[1:]
		// Written under mu so that nothing is sent after Close returns. The
		// inner write does not block (vnet only queues the chunk).
		err := s.send(p)
		s.n.update(func(st *Stats) {
			st.QueuedPackets--
			st.Sent++
			st.SentBytes += len(p.b)
			if err != nil {
				st.SendErrors++
			}
		})
		s.mu.Unlock()

		if d := s.n.txTime(len(p.b)); d > 0 {
			t := time.NewTimer(d)
			select {
			case <-t.C:
			case <-s.closedCh:
				t.Stop()

				return // close has released the bytes
			}
		}

		s.mu.Lock()
		if s.closed {
			s.mu.Unlock()

			return
		}
		s.queued -= len(p.b)
		s.n.update(func(st *Stats) { st.QueuedBytes -= len(p.b) })
		s.admitLocked()
		s.mu.Unlock()
	}
}

// close fails parked writers, waits for the drain goroutine, then flushes
// the datagrams already accepted into the queue to the inner socket (a
// kernel sends what is in a UDP socket's buffer after close; a writer that
// was still parked never had its datagram accepted) and reports whether
// this was the first close.
func (s *sender) close() bool {
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()

		return false
	}
	s.closed = true
	pending, queuedBytes := s.queue, s.queued
	s.queue, s.queued, s.waiters = nil, 0, nil
	var drained chan struct{}
	if s.draining {
		drained = s.drained
	}
	s.n.update(func(st *Stats) {
		st.QueuedBytes -= queuedBytes
		st.QueuedPackets -= len(pending)
	})
	s.mu.Unlock()

	close(s.closedCh)
	if drained != nil {
		<-drained
	}
	for _, p := range pending {
		err := s.send(p)
		s.n.update(func(st *Stats) {
			st.Flushed++
			if err != nil {
				st.SendErrors++
				return
			}
			st.Sent++
			st.SentBytes += len(p.b)
		})
	}

	return true
}

// setWriteDeadline sets the deadline for queued writes; the inner socket's
// write deadline is left alone so the drain is never cut short.
func (s *sender) setWriteDeadline(t time.Time) {
	s.wdl.Set(t)
}

// udpConn is a wrapped transport.UDPConn. Reads and everything else go to
// the inner socket.
type udpConn struct {
	transport.UDPConn
	s *sender
}

func (n *Net) wrapUDPConn(c transport.UDPConn) *udpConn {
	send := func(p packet) error {
		var err error
		if p.addr == nil {
			_, err = c.Write(p.b)
		} else {
			_, err = c.WriteTo(p.b, p.addr)
		}

		return err
	}

	return &udpConn{UDPConn: c, s: n.newSender(c.LocalAddr(), c.RemoteAddr(), send)}
}

// Write queues b for the connected peer, blocking while the queue is full.
func (c *udpConn) Write(b []byte) (int, error) {
	if c.s.remote == nil {
		// Not connected: let the inner socket report its error.
		return c.UDPConn.Write(b)
	}

	return c.s.write(b, nil)
}

// WriteTo queues b for addr, blocking while the queue is full.
func (c *udpConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if ua, ok := addr.(*net.UDPAddr); !ok || ua == nil {
		return 0, c.s.opError("write", addr, transport.ErrNotUDPAddress)
	}

	return c.s.write(b, addr)
}

// WriteToUDP is WriteTo with a *net.UDPAddr.
func (c *udpConn) WriteToUDP(b []byte, addr *net.UDPAddr) (int, error) {
	if addr == nil {
		return 0, c.s.opError("write", nil, transport.ErrNotUDPAddress)
	}

	return c.WriteTo(b, addr)
}

// SetDeadline sets the inner read deadline and the queue's write deadline.
func (c *udpConn) SetDeadline(t time.Time) error {
	c.s.setWriteDeadline(t)

	return c.UDPConn.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for queued writes, including writers
// parked now.
func (c *udpConn) SetWriteDeadline(t time.Time) error {
	c.s.setWriteDeadline(t)

	return nil
}

// Close fails parked writers, stops the drain, flushes the datagrams
// already queued and closes the inner socket.
func (c *udpConn) Close() error {
	if !c.s.close() {
		return c.s.opError("close", nil, net.ErrClosed)
	}

	return c.UDPConn.Close()
}

// packetConn is a wrapped net.PacketConn that is not a transport.UDPConn.
type packetConn struct {
	net.PacketConn
	s *sender
}

func (n *Net) wrapPacketConn(pc net.PacketConn) *packetConn {
	send := func(p packet) error {
		_, err := pc.WriteTo(p.b, p.addr)

		return err
	}

	return &packetConn{PacketConn: pc, s: n.newSender(pc.LocalAddr(), nil, send)}
}

// WriteTo queues b for addr, blocking while the queue is full.
func (c *packetConn) WriteTo(b []byte, addr net.Addr) (int, error) {
	if addr == nil {
		return 0, c.s.opError("write", nil, transport.ErrNotUDPAddress)
	}

	return c.s.write(b, addr)
}

// SetDeadline sets the inner read deadline and the queue's write deadline.
func (c *packetConn) SetDeadline(t time.Time) error {
	c.s.setWriteDeadline(t)

	return c.PacketConn.SetReadDeadline(t)
}

// SetWriteDeadline sets the deadline for queued writes, including writers
// parked now.
func (c *packetConn) SetWriteDeadline(t time.Time) error {
	c.s.setWriteDeadline(t)

	return nil
}

// Close fails parked writers, stops the drain, flushes the datagrams
// already queued and closes the inner socket.
func (c *packetConn) Close() error {
	if !c.s.close() {
		return c.s.opError("close", nil, net.ErrClosed)
	}

	return c.PacketConn.Close()
}
