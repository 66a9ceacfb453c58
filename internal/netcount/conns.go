package netcount

import (
	"context"
	"net"

	"github.com/pion/transport/v5"
)

// packetAndConn is a socket that is both a net.PacketConn and a net.Conn
// (for example a UDP socket that is not a transport.UDPConn).
type packetAndConn interface {
	net.PacketConn
	net.Conn
}

// Compile-time checks that the wrappers keep the interfaces they embed.
var (
	_ transport.UDPConn      = (*udpConn)(nil)
	_ net.PacketConn         = (*udpConn)(nil)
	_ net.Conn               = (*udpConn)(nil)
	_ transport.TCPConn      = (*tcpConn)(nil)
	_ net.PacketConn         = (*packetConn)(nil)
	_ packetAndConn          = (*packetNetConn)(nil)
	_ net.Conn               = (*conn)(nil)
	_ net.Listener           = (*listener)(nil)
	_ transport.TCPListener  = (*tcpListener)(nil)
	_ transport.Dialer       = (*trackedDialer)(nil)
	_ transport.ListenConfig = (*trackedListenConfig)(nil)
)

// udpConn wraps a transport.UDPConn (which is also a net.Conn and a
// net.PacketConn).
type udpConn struct {
	transport.UDPConn
	t *tracker
}

func (c *udpConn) Close() error {
	err := c.UDPConn.Close()
	c.t.onClose(err)

	return err
}

// tcpConn wraps a transport.TCPConn.
type tcpConn struct {
	transport.TCPConn
	t *tracker
}

func (c *tcpConn) Close() error {
	err := c.TCPConn.Close()
	c.t.onClose(err)

	return err
}

// packetConn wraps a plain net.PacketConn.
type packetConn struct {
	net.PacketConn
	t *tracker
}

func (c *packetConn) Close() error {
	err := c.PacketConn.Close()
	c.t.onClose(err)

	return err
}

// packetNetConn wraps a socket that is both a net.PacketConn and a net.Conn.
type packetNetConn struct {
	packetAndConn
	t *tracker
}

func (c *packetNetConn) Close() error {
	err := c.packetAndConn.Close()
	c.t.onClose(err)

	return err
}

// conn wraps a plain net.Conn.
type conn struct {
	net.Conn
	t *tracker
}

func (c *conn) Close() error {
	err := c.Conn.Close()
	c.t.onClose(err)

	return err
}

// listener wraps a plain net.Listener and tracks accepted connections.
type listener struct {
	net.Listener
	t       *tracker
	network string
}

func (l *listener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindAccept, l.network, l.t.sock.Local)
	}

	return l.t.n.wrapConn(c, KindAccept, l.network), nil
}

func (l *listener) Close() error {
	err := l.Listener.Close()
	l.t.onClose(err)

	return err
}

// tcpListener wraps a transport.TCPListener and tracks accepted connections.
type tcpListener struct {
	transport.TCPListener
	t       *tracker
	network string
}

func (l *tcpListener) Accept() (net.Conn, error) {
	c, err := l.TCPListener.Accept()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindAccept, l.network, l.t.sock.Local)
	}

	return l.t.n.wrapConn(c, KindAccept, l.network), nil
}

func (l *tcpListener) AcceptTCP() (transport.TCPConn, error) {
	c, err := l.TCPListener.AcceptTCP()
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindAcceptTCP, l.network, l.t.sock.Local)
	}

	return l.t.n.wrapTCPConn(c, KindAcceptTCP, l.network), nil
}

func (l *tcpListener) Close() error {
	err := l.TCPListener.Close()
	l.t.onClose(err)

	return err
}

// trackedDialer wraps the inner Net's transport.Dialer.
type trackedDialer struct {
	inner transport.Dialer
	n     *Net
}

func (d *trackedDialer) Dial(network, address string) (net.Conn, error) {
	c, err := d.inner.Dial(network, address)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindDialerDial, network, address)
	}

	return d.n.wrapConn(c, KindDialerDial, network), nil
}

// trackedListenConfig wraps the inner Net's transport.ListenConfig.
type trackedListenConfig struct {
	inner transport.ListenConfig
	n     *Net
}

func (lc *trackedListenConfig) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	l, err := lc.inner.Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, nilSocketError(KindListenConfigListen, network, address)
	}

	return lc.n.wrapListener(l, KindListenConfigListen, network), nil
}

func (lc *trackedListenConfig) ListenPacket(ctx context.Context, network, address string) (net.PacketConn, error) {
	pc, err := lc.inner.ListenPacket(ctx, network, address)
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, nilSocketError(KindListenConfigListenPacket, network, address)
	}

	return lc.n.wrapPacketConn(pc, KindListenConfigListenPacket, network), nil
}

// wrapUDPConn tracks c and returns a wrapper that is still a transport.UDPConn.
func (n *Net) wrapUDPConn(c transport.UDPConn, kind, network string) *udpConn {
	return &udpConn{UDPConn: c, t: n.track(kind, network, c.LocalAddr(), c.RemoteAddr())}
}

// wrapTCPConn tracks c and returns a wrapper that is still a transport.TCPConn.
func (n *Net) wrapTCPConn(c transport.TCPConn, kind, network string) *tcpConn {
	return &tcpConn{TCPConn: c, t: n.track(kind, network, c.LocalAddr(), c.RemoteAddr())}
}

// wrapConn tracks c and returns a wrapper with the richest of the interfaces
// c implements (transport.UDPConn, transport.TCPConn, net.PacketConn).
func (n *Net) wrapConn(c net.Conn, kind, network string) net.Conn {
	switch c := c.(type) {
	case transport.UDPConn:
		return n.wrapUDPConn(c, kind, network)
	case transport.TCPConn:
		return n.wrapTCPConn(c, kind, network)
	case packetAndConn:
		return &packetNetConn{packetAndConn: c, t: n.track(kind, network, c.LocalAddr(), c.RemoteAddr())}
	default:
		return &conn{Conn: c, t: n.track(kind, network, c.LocalAddr(), c.RemoteAddr())}
	}
}

// wrapPacketConn tracks pc and returns a wrapper with the richest of the
// interfaces pc implements (transport.UDPConn, net.Conn).
func (n *Net) wrapPacketConn(pc net.PacketConn, kind, network string) net.PacketConn {
	switch pc := pc.(type) {
	case transport.UDPConn:
		return n.wrapUDPConn(pc, kind, network)
	case packetAndConn:
		return &packetNetConn{packetAndConn: pc, t: n.track(kind, network, pc.LocalAddr(), pc.RemoteAddr())}
	default:
		return &packetConn{PacketConn: pc, t: n.track(kind, network, pc.LocalAddr(), nil)}
	}
}

// wrapListener tracks l and returns a wrapper that is still a
// transport.TCPListener if l is one.
func (n *Net) wrapListener(l net.Listener, kind, network string) net.Listener {
	if tl, ok := l.(transport.TCPListener); ok {
		return n.wrapTCPListener(tl, kind, network)
	}

	return &listener{Listener: l, t: n.track(kind, network, l.Addr(), nil), network: network}
}

// wrapTCPListener tracks l and returns a wrapper that is still a
// transport.TCPListener.
func (n *Net) wrapTCPListener(l transport.TCPListener, kind, network string) *tcpListener {
	return &tcpListener{TCPListener: l, t: n.track(kind, network, l.Addr(), nil), network: network}
}
