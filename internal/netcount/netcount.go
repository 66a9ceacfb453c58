// Package netcount wraps a transport.Net (typically a Pion *vnet.Net) and
// keeps an exact ledger of every socket it hands out, so a test can prove
// that after a PeerConnection is closed nothing is left bound.
//
// Every socket constructor of transport.Net is wrapped: ListenPacket,
// ListenUDP, DialUDP, Dial, ListenTCP, DialTCP, the Dialer returned by
// CreateDialer and the ListenConfig returned by CreateListenConfig.
// Connections accepted from a wrapped listener are tracked as well. The
// returned objects embed the inner object and only override Close (and
// Accept for listeners), so they keep the inner object's interfaces: a
// transport.UDPConn stays a transport.UDPConn, a transport.TCPConn stays a
// transport.TCPConn, and so on.
//
// Errors from the inner Net and from the inner sockets are passed through
// unchanged, so errors.Is checks against Pion's sentinels keep working.
package netcount

import (
	"errors"
	"fmt"
	"net"
	"slices"
	"sync"
	"sync/atomic"

	"github.com/pion/transport/v5"
)

// Kinds of socket constructors, as recorded in Socket.Kind.
const (
	// KindListenPacket is a socket from Net.ListenPacket.
	KindListenPacket = "ListenPacket"
	// KindListenUDP is a socket from Net.ListenUDP.
	KindListenUDP = "ListenUDP"
	// KindDialUDP is a socket from Net.DialUDP.
	KindDialUDP = "DialUDP"
	// KindDial is a socket from Net.Dial.
	KindDial = "Dial"
	// KindListenTCP is a listener from Net.ListenTCP.
	KindListenTCP = "ListenTCP"
	// KindDialTCP is a socket from Net.DialTCP.
	KindDialTCP = "DialTCP"
	// KindDialerDial is a socket from the Dial method of the Dialer
	// returned by Net.CreateDialer.
	KindDialerDial = "Dialer.Dial"
	// KindListenConfigListen is a listener from the Listen method of the
	// ListenConfig returned by Net.CreateListenConfig.
	KindListenConfigListen = "ListenConfig.Listen"
	// KindListenConfigListenPacket is a socket from the ListenPacket method
	// of the ListenConfig returned by Net.CreateListenConfig.
	KindListenConfigListenPacket = "ListenConfig.ListenPacket"
	// KindAccept is a connection returned by Accept on a tracked listener.
	KindAccept = "Accept"
	// KindAcceptTCP is a connection returned by AcceptTCP on a tracked
	// transport.TCPListener.
	KindAcceptTCP = "AcceptTCP"
)

// Event operations, as recorded in Event.Op.
const (
	// OpOpen is reported when a socket has been handed out.
	OpOpen = "open"
	// OpClose is reported the first time a socket's Close is called,
	// after the inner Close has returned.
	OpClose = "close"
)

// ErrNilSocket is returned (wrapped with the constructor name) when the
// inner Net returns neither a socket nor an error.
var ErrNilSocket = errors.New("netcount: inner net returned a nil socket and a nil error")

// Socket describes one socket handed out by a Net.
type Socket struct {
	// Network is the network name the caller asked for ("udp4", "tcp", ...).
	// For accepted connections it is the listener's network.
	Network string
	// Local is the socket's local address (LocalAddr, or Addr for
	// listeners) as a string, captured when the socket was opened.
	Local string
	// Remote is the socket's remote address as a string, or "" if the
	// socket is unconnected or a listener.
	Remote string
	// Kind is the constructor that created the socket; see the Kind*
	// constants.
	Kind string
	// Seq is the 1-based order in which the socket was opened on its Net.
	Seq int
}

// String formats the socket for logs and traces.
func (s Socket) String() string {
	remote := s.Remote
	if remote == "" {
		remote = "-"
	}

	return fmt.Sprintf("#%d %s %s %s->%s", s.Seq, s.Kind, s.Network, s.Local, remote)
}

// Stats counts the sockets a Net has opened and closed. When every socket has
// been closed, Opened == Closed.
type Stats struct {
	// Opened is the number of sockets handed out.
	Opened int
	// Closed is the number of those sockets whose Close has been called;
	// each socket counts at most once.
	Closed int
}

// Event is passed to the WithOnEvent callback on every open and close.
type Event struct {
	// Op is OpOpen or OpClose.
	Op string
	// Socket is the socket the event is about.
	Socket Socket
	// Err is the error returned by the inner Close for an OpClose event
	// (the socket counts as closed either way); it is nil for OpOpen.
	Err error
}

type config struct {
	onEvent func(Event)
}

// Option configures a Net created by New.
type Option func(*config)

// WithOnEvent registers fn to be called on every open and close of a socket.
//
// fn is called synchronously by the goroutine that opened or closed the
// socket, before that call returns, one event at a time and in the order the
// opens and closes are recorded, so the events can go straight into a
// deterministic trace. When fn runs, Open and Stats already reflect the
// event, and fn may call them. fn must not open or close sockets through the
// same Net: that would deadlock.
func WithOnEvent(fn func(ev Event)) Option {
	return func(c *config) {
		c.onEvent = fn
	}
}

// Net wraps a transport.Net and tracks every socket it hands out until that
// socket is closed. It is safe for concurrent use.
type Net struct {
	inner   transport.Net
	onEvent func(Event)

	// mu serializes writers (opens, closes and the event callback). Readers
	// use the immutable snapshot in state without locking, which is what
	// lets the callback call Open and Stats.
	mu    sync.Mutex
	seq   int
	state atomic.Pointer[ledger]
}

// ledger is an immutable snapshot of a Net's bookkeeping.
type ledger struct {
	open  []Socket // sorted by Seq; never modified after publication
	stats Stats
}

var _ transport.Net = (*Net)(nil)

// New returns a Net that forwards to inner and tracks every socket that
// inner hands out through it.
func New(inner transport.Net, opts ...Option) *Net {
	var cfg config
	for _, opt := range opts {
		opt(&cfg)
	}

	n := &Net{
		inner:   inner,
		onEvent: cfg.onEvent,
	}
	n.state.Store(&ledger{})

	return n
}

// Inner returns the wrapped transport.Net.
func (n *Net) Inner() transport.Net {
	return n.inner
}

// Open returns the sockets that have been opened and not yet closed, sorted
// by Seq. The result is a fresh slice owned by the caller.
func (n *Net) Open() []Socket {
	return slices.Clone(n.state.Load().open)
}

// Stats returns how many sockets have been opened and closed so far.
func (n *Net) Stats() Stats {
	return n.state.Load().stats
}

// tracker is the per-socket bookkeeping shared by all wrapper types.
type tracker struct {
	n      *Net
	sock   Socket
	closed atomic.Bool
}

// track records a newly opened socket and returns its tracker.
func (n *Net) track(kind, network string, local, remote net.Addr) *tracker {
	n.mu.Lock()
	defer n.mu.Unlock()

	n.seq++
	s := Socket{
		Network: network,
		Local:   addrString(local),
		Remote:  addrString(remote),
		Kind:    kind,
		Seq:     n.seq,
	}
	old := n.state.Load()
	// Seq only grows, so appending keeps open sorted. Clip forces a copy so
	// the published snapshot is never written to.
	next := &ledger{open: append(slices.Clip(old.open), s), stats: old.stats}
	next.stats.Opened++
	n.state.Store(next)
	n.emit(Event{Op: OpOpen, Socket: s})

	return &tracker{n: n, sock: s}
}

// onClose records the first Close of the socket; later calls do nothing.
func (t *tracker) onClose(err error) {
	if !t.closed.CompareAndSwap(false, true) {
		return
	}

	n := t.n
	n.mu.Lock()
	defer n.mu.Unlock()

	old := n.state.Load()
	next := &ledger{
		open:  slices.DeleteFunc(slices.Clone(old.open), func(s Socket) bool { return s.Seq == t.sock.Seq }),
		stats: old.stats,
	}
	next.stats.Closed++
	n.state.Store(next)
	n.emit(Event{Op: OpClose, Socket: t.sock, Err: err})
}

// emit calls the event callback, if any. The caller holds n.mu.
func (n *Net) emit(ev Event) {
	if n.onEvent != nil {
		n.onEvent(ev)
	}
}

// addrString formats addr, mapping nil (including typed nil pointers, whose
// String methods return "<nil>") to "".
func addrString(addr net.Addr) string {
	if addr == nil {
		return ""
	}
	s := addr.String()
	if s == "<nil>" {
		return ""
	}

	return s
}

func nilSocketError(kind, network, address string) error {
	return fmt.Errorf("%s(%q, %q): %w", kind, network, address, ErrNilSocket)
}

func udpAddrString(addr *net.UDPAddr) string {
	if addr == nil {
		return ""
	}

	return addr.String()
}

func tcpAddrString(addr *net.TCPAddr) string {
	if addr == nil {
		return ""
	}

	return addr.String()
}

// ListenPacket calls the inner ListenPacket and tracks the returned socket.
func (n *Net) ListenPacket(network string, address string) (net.PacketConn, error) {
	pc, err := n.inner.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}
	if pc == nil {
		return nil, nilSocketError(KindListenPacket, network, address)
	}

	return n.wrapPacketConn(pc, KindListenPacket, network), nil
}

// ListenUDP calls the inner ListenUDP and tracks the returned socket.
func (n *Net) ListenUDP(network string, locAddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.inner.ListenUDP(network, locAddr)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindListenUDP, network, udpAddrString(locAddr))
	}

	return n.wrapUDPConn(c, KindListenUDP, network), nil
}

// ListenTCP calls the inner ListenTCP and tracks the returned listener and
// every connection accepted from it.
func (n *Net) ListenTCP(network string, laddr *net.TCPAddr) (transport.TCPListener, error) {
	l, err := n.inner.ListenTCP(network, laddr)
	if err != nil {
		return nil, err
	}
	if l == nil {
		return nil, nilSocketError(KindListenTCP, network, tcpAddrString(laddr))
	}

	return n.wrapTCPListener(l, KindListenTCP, network), nil
}

// Dial calls the inner Dial and tracks the returned connection.
func (n *Net) Dial(network, address string) (net.Conn, error) {
	c, err := n.inner.Dial(network, address)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindDial, network, address)
	}

	return n.wrapConn(c, KindDial, network), nil
}

// DialUDP calls the inner DialUDP and tracks the returned socket.
func (n *Net) DialUDP(network string, laddr, raddr *net.UDPAddr) (transport.UDPConn, error) {
	c, err := n.inner.DialUDP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindDialUDP, network, udpAddrString(raddr))
	}

	return n.wrapUDPConn(c, KindDialUDP, network), nil
}

// DialTCP calls the inner DialTCP and tracks the returned connection.
func (n *Net) DialTCP(network string, laddr, raddr *net.TCPAddr) (transport.TCPConn, error) {
	c, err := n.inner.DialTCP(network, laddr, raddr)
	if err != nil {
		return nil, err
	}
	if c == nil {
		return nil, nilSocketError(KindDialTCP, network, tcpAddrString(raddr))
	}

	return n.wrapTCPConn(c, KindDialTCP, network), nil
}

// ResolveIPAddr passes through to the inner Net.
func (n *Net) ResolveIPAddr(network, address string) (*net.IPAddr, error) {
	return n.inner.ResolveIPAddr(network, address)
}

// ResolveUDPAddr passes through to the inner Net.
func (n *Net) ResolveUDPAddr(network, address string) (*net.UDPAddr, error) {
	return n.inner.ResolveUDPAddr(network, address)
}

// ResolveTCPAddr passes through to the inner Net.
func (n *Net) ResolveTCPAddr(network, address string) (*net.TCPAddr, error) {
	return n.inner.ResolveTCPAddr(network, address)
}

// Interfaces passes through to the inner Net.
func (n *Net) Interfaces() ([]*transport.Interface, error) {
	return n.inner.Interfaces()
}

// InterfaceByIndex passes through to the inner Net.
func (n *Net) InterfaceByIndex(index int) (*transport.Interface, error) {
	return n.inner.InterfaceByIndex(index)
}

// InterfaceByName passes through to the inner Net.
func (n *Net) InterfaceByName(name string) (*transport.Interface, error) {
	return n.inner.InterfaceByName(name)
}

// CreateDialer returns a Dialer whose Dial tracks the connections made by
// the inner Net's Dialer. It returns nil if the inner Net does.
func (n *Net) CreateDialer(dialer *net.Dialer) transport.Dialer {
	d := n.inner.CreateDialer(dialer)
	if d == nil {
		return nil
	}

	return &trackedDialer{inner: d, n: n}
}

// CreateListenConfig returns a ListenConfig whose Listen and ListenPacket
// track the sockets made by the inner Net's ListenConfig. It returns nil if
// the inner Net does.
//
// Note that Pion's vnet implements ListenConfig.Listen by calling the real
// net.ListenConfig, i.e. it opens an OS socket; the wrapper tracks it like
// any other.
func (n *Net) CreateListenConfig(listenerConfig *net.ListenConfig) transport.ListenConfig {
	lc := n.inner.CreateListenConfig(listenerConfig)
	if lc == nil {
		return nil
	}

	return &trackedListenConfig{inner: lc, n: n}
}
