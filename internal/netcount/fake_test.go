package netcount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"sync"
	"syscall"
	"time"

	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

// Pion's vnet does not implement TCP (ListenTCP/DialTCP return
// transport.ErrNotSupported, Dial("tcp") fails to resolve, and
// ListenConfig.Listen opens a real OS socket). To exercise the TCP paths of
// the wrapper without ever touching a real socket, tcpNet embeds a *vnet.Net
// for everything UDP and adds an in-memory TCP stack built on net.Pipe.
type tcpNet struct {
	*vnet.Net

	mu        sync.Mutex
	ip        net.IP
	nextPort  int
	listeners map[string]*fakeTCPListener
}

var _ transport.Net = (*tcpNet)(nil)

var errFakeAlreadyClosed = errors.New("fake: already closed")

func newTCPNet(inner *vnet.Net, ip string) *tcpNet {
	return &tcpNet{
		Net:       inner,
		ip:        net.ParseIP(ip),
		nextPort:  7000,
		listeners: map[string]*fakeTCPListener{},
	}
}

func isTCP(network string) bool {
	switch network {
	case "tcp", "tcp4", "tcp6":
		return true
	}

	return false
}

func (f *tcpNet) ListenTCP(network string, laddr *net.TCPAddr) (transport.TCPListener, error) {
	if !isTCP(network) {
		return nil, &net.OpError{Op: "listen", Net: network, Err: net.UnknownNetworkError(network)}
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	addr := &net.TCPAddr{IP: f.ip, Port: 0}
	if laddr != nil {
		addr.Port = laddr.Port
		if laddr.IP != nil && !laddr.IP.IsUnspecified() {
			addr.IP = laddr.IP
		}
	}
	if addr.Port == 0 {
		addr.Port = f.nextPort
		f.nextPort++
	}
	if _, busy := f.listeners[addr.String()]; busy {
		return nil, &net.OpError{Op: "listen", Net: network, Addr: addr, Err: syscall.EADDRINUSE}
	}
	l := &fakeTCPListener{net: f, addr: addr, backlog: make(chan *fakeTCPConn, 8), done: make(chan struct{})}
	f.listeners[addr.String()] = l

	return l, nil
}

func (f *tcpNet) DialTCP(network string, _, raddr *net.TCPAddr) (transport.TCPConn, error) {
	if !isTCP(network) {
		return nil, &net.OpError{Op: "dial", Net: network, Err: net.UnknownNetworkError(network)}
	}
	f.mu.Lock()
	defer f.mu.Unlock()

	l, ok := f.listeners[raddr.String()]
	if !ok {
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: syscall.ECONNREFUSED}
	}
	local := &net.TCPAddr{IP: f.ip, Port: f.nextPort}
	f.nextPort++
	client, server := net.Pipe()
	select {
	case l.backlog <- &fakeTCPConn{Conn: server, laddr: raddr, raddr: local}:
	default:
		return nil, &net.OpError{Op: "dial", Net: network, Addr: raddr, Err: syscall.ECONNREFUSED}
	}

	return &fakeTCPConn{Conn: client, laddr: local, raddr: raddr}, nil
}

func (f *tcpNet) Dial(network, address string) (net.Conn, error) {
	if !isTCP(network) {
		return f.Net.Dial(network, address)
	}
	raddr, err := f.ResolveTCPAddr(network, address)
	if err != nil {
		return nil, err
	}

	return f.DialTCP(network, nil, raddr)
}

func (f *tcpNet) CreateDialer(*net.Dialer) transport.Dialer {
	return fakeDialer{f}
}

func (f *tcpNet) CreateListenConfig(*net.ListenConfig) transport.ListenConfig {
	return fakeListenConfig{f}
}

type fakeDialer struct{ f *tcpNet }

func (d fakeDialer) Dial(network, address string) (net.Conn, error) {
	return d.f.Dial(network, address)
}

type fakeListenConfig struct{ f *tcpNet }

func (lc fakeListenConfig) Listen(_ context.Context, network, address string) (net.Listener, error) {
	laddr, err := lc.f.ResolveTCPAddr(network, address)
	if err != nil {
		return nil, err
	}

	return lc.f.ListenTCP(network, laddr)
}

func (lc fakeListenConfig) ListenPacket(_ context.Context, network, address string) (net.PacketConn, error) {
	return lc.f.ListenPacket(network, address)
}

type fakeTCPListener struct {
	net       *tcpNet
	addr      *net.TCPAddr
	backlog   chan *fakeTCPConn
	done      chan struct{}
	closeOnce sync.Once
}

func (l *fakeTCPListener) Accept() (net.Conn, error) { return l.AcceptTCP() }

func (l *fakeTCPListener) AcceptTCP() (transport.TCPConn, error) {
	select {
	case c := <-l.backlog:
		return c, nil
	case <-l.done:
		return nil, &net.OpError{Op: "accept", Net: "tcp", Addr: l.addr, Err: net.ErrClosed}
	}
}

func (l *fakeTCPListener) Close() error {
	err := errFakeAlreadyClosed
	l.closeOnce.Do(func() {
		err = nil
		l.net.mu.Lock()
		delete(l.net.listeners, l.addr.String())
		l.net.mu.Unlock()
		close(l.done)
	})

	return err
}

func (l *fakeTCPListener) Addr() net.Addr              { return l.addr }
func (l *fakeTCPListener) SetDeadline(time.Time) error { return nil }

// fakeTCPConn is one end of a net.Pipe dressed up as a transport.TCPConn.
type fakeTCPConn struct {
	net.Conn
	laddr, raddr *net.TCPAddr
	closeOnce    sync.Once
}

func (c *fakeTCPConn) LocalAddr() net.Addr  { return c.laddr }
func (c *fakeTCPConn) RemoteAddr() net.Addr { return c.raddr }

func (c *fakeTCPConn) Close() error {
	err := errFakeAlreadyClosed
	c.closeOnce.Do(func() { err = c.Conn.Close() })

	return err
}

func (c *fakeTCPConn) CloseRead() error                       { return nil }
func (c *fakeTCPConn) CloseWrite() error                      { return nil }
func (c *fakeTCPConn) SetLinger(int) error                    { return nil }
func (c *fakeTCPConn) SetKeepAlive(bool) error                { return nil }
func (c *fakeTCPConn) SetKeepAlivePeriod(time.Duration) error { return nil }
func (c *fakeTCPConn) SetNoDelay(bool) error                  { return nil }
func (c *fakeTCPConn) SetReadBuffer(int) error                { return nil }
func (c *fakeTCPConn) SetWriteBuffer(int) error               { return nil }

func (c *fakeTCPConn) ReadFrom(r io.Reader) (int64, error) {
	n, err := io.Copy(struct{ io.Writer }{c.Conn}, r)
	if err != nil {
		return n, fmt.Errorf("fake ReadFrom: %w", err)
	}

	return n, nil
}

// plainNet hides the richer interfaces of tcpNet's sockets, so the wrapper's
// fallbacks for plain net.Conn, net.PacketConn, PacketConn+Conn and
// net.Listener are exercised.
type plainNet struct{ *tcpNet }

type (
	plainConn       struct{ net.Conn }
	plainPacketConn struct{ net.PacketConn }
	plainListener   struct{ net.Listener }
	packetConnConn  struct{ packetAndConn }
)

func (l plainListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}

	return plainConn{c}, nil
}

func (p plainNet) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := p.tcpNet.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}

	return plainPacketConn{pc}, nil
}

func (p plainNet) Dial(network, address string) (net.Conn, error) {
	c, err := p.tcpNet.Dial(network, address)
	if err != nil {
		return nil, err
	}
	if pc, ok := c.(packetAndConn); ok {
		return packetConnConn{pc}, nil
	}

	return plainConn{c}, nil
}

func (p plainNet) CreateDialer(*net.Dialer) transport.Dialer { return plainDialer(p) }

func (p plainNet) CreateListenConfig(*net.ListenConfig) transport.ListenConfig {
	return plainListenConfig(p)
}

type plainDialer plainNet

func (d plainDialer) Dial(network, address string) (net.Conn, error) {
	return plainNet(d).Dial(network, address)
}

type plainListenConfig plainNet

func (lc plainListenConfig) Listen(ctx context.Context, network, address string) (net.Listener, error) {
	l, err := fakeListenConfig{lc.tcpNet}.Listen(ctx, network, address)
	if err != nil {
		return nil, err
	}

	return plainListener{l}, nil
}

func (lc plainListenConfig) ListenPacket(_ context.Context, network, address string) (net.PacketConn, error) {
	return plainNet(lc).ListenPacket(network, address)
}
