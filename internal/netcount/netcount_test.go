package netcount

import (
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

// newVNets builds a started vnet router on 10.0.0.0/24 with one *vnet.Net per
// IP. The router is stopped on cleanup. No real socket is ever opened.
func newVNets(t testing.TB, ips ...string) []*vnet.Net {
	t.Helper()

	router, err := vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "10.0.0.0/24",
		LoggerFactory: logging.NewDefaultLoggerFactory(),
	})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	nets := make([]*vnet.Net, 0, len(ips))
	for _, ip := range ips {
		vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatalf("NewNet(%s): %v", ip, err)
		}
		if err := router.AddNet(vn); err != nil {
			t.Fatalf("AddNet(%s): %v", ip, err)
		}
		nets = append(nets, vn)
	}
	if err := router.Start(); err != nil {
		t.Fatalf("router.Start: %v", err)
	}
	t.Cleanup(func() {
		if err := router.Stop(); err != nil {
			t.Errorf("router.Stop: %v", err)
		}
	})

	return nets
}

// recorder collects events from WithOnEvent.
type recorder struct {
	mu     sync.Mutex
	events []Event
}

func (r *recorder) record(ev Event) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.events = append(r.events, ev)
}

func (r *recorder) snapshot() []Event {
	r.mu.Lock()
	defer r.mu.Unlock()

	return append([]Event(nil), r.events...)
}

func (r *recorder) count(op string, seq int) int {
	c := 0
	for _, ev := range r.snapshot() {
		if ev.Op == op && ev.Socket.Seq == seq {
			c++
		}
	}

	return c
}

func localOf(t *testing.T, c io.Closer) net.Addr {
	t.Helper()
	switch c := c.(type) {
	case net.Conn:
		return c.LocalAddr()
	case net.PacketConn:
		return c.LocalAddr()
	case net.Listener:
		return c.Addr()
	}
	t.Fatalf("unexpected socket type %T", c)

	return nil
}

func remoteOf(c io.Closer) net.Addr {
	if c, ok := c.(interface{ RemoteAddr() net.Addr }); ok {
		return c.RemoteAddr()
	}

	return nil
}

// Interface names used by the table tests.
const (
	ifUDPConn     = "transport.UDPConn"
	ifTCPConn     = "transport.TCPConn"
	ifTCPListener = "transport.TCPListener"
	ifPacketConn  = "net.PacketConn"
	ifConn        = "net.Conn"
	ifListener    = "net.Listener"
)

func implements(c any, iface string) bool {
	var ok bool
	switch iface {
	case ifUDPConn:
		_, ok = c.(transport.UDPConn)
	case ifTCPConn:
		_, ok = c.(transport.TCPConn)
	case ifTCPListener:
		_, ok = c.(transport.TCPListener)
	case ifPacketConn:
		_, ok = c.(net.PacketConn)
	case ifConn:
		_, ok = c.(net.Conn)
	case ifListener:
		_, ok = c.(net.Listener)
	}

	return ok
}

var (
	ip1 = net.ParseIP("10.0.0.1")
	ip2 = net.ParseIP("10.0.0.2")
)

// fixture is one wrapped Net over a vnet node (10.0.0.1) that also has the
// in-memory TCP stack, plus a second plain vnet node (10.0.0.2).
type fixture struct {
	inner *tcpNet
	n     *Net
	rec   *recorder
}

func newFixture(t *testing.T) *fixture {
	t.Helper()

	return newFixtureWith(t, func(tn *tcpNet) transport.Net { return tn })
}

// newFixtureWith is newFixture with the Net handed to New built from the
// in-memory TCP net by wrap.
func newFixtureWith(t *testing.T, wrap func(*tcpNet) transport.Net) *fixture {
	t.Helper()
	nets := newVNets(t, "10.0.0.1", "10.0.0.2")
	inner := newTCPNet(nets[0], "10.0.0.1")
	rec := &recorder{}

	return &fixture{inner: inner, n: New(wrap(inner), WithOnEvent(rec.record)), rec: rec}
}

// innerTCPListener opens an untracked TCP listener on the inner net (so it
// does not take a Seq) and closes it on cleanup.
func (f *fixture) innerTCPListener(t *testing.T) transport.TCPListener {
	t.Helper()
	l, err := f.inner.ListenTCP("tcp4", &net.TCPAddr{IP: ip1})
	if err != nil {
		t.Fatalf("inner ListenTCP: %v", err)
	}
	t.Cleanup(func() { _ = l.Close() })

	return l
}

// innerDial opens an untracked TCP connection to addr on the inner net.
func (f *fixture) innerDial(t *testing.T, addr net.Addr) transport.TCPConn {
	t.Helper()
	tcpAddr, ok := addr.(*net.TCPAddr)
	if !ok {
		t.Fatalf("not a TCP address: %T", addr)
	}
	c, err := f.inner.DialTCP("tcp4", nil, tcpAddr)
	if err != nil {
		t.Fatalf("inner DialTCP: %v", err)
	}
	t.Cleanup(func() { _ = c.Close() })

	return c
}

// trackRow is one row of the constructor tables.
type trackRow struct {
	name string
	// open opens the socket under test through f.n. It may open and close
	// other tracked sockets first; seq is the Seq the socket under test
	// must get.
	open        func(t *testing.T, f *fixture) (io.Closer, error)
	seq         int
	kind        string
	network     string
	localPrefix string
	remote      string   // exact; "*" means "whatever RemoteAddr says"
	ifaces      []string // interfaces the wrapper must keep
	notIfaces   []string // interfaces the wrapper must not invent
}

func TestConstructorsAreTracked(t *testing.T) {
	type row = trackRow

	udpIfaces := []string{ifUDPConn, ifPacketConn, ifConn}
	tcpIfaces := []string{ifTCPConn, ifConn}
	listenerIfaces := []string{ifTCPListener, ifListener}

	rows := []row{
		{
			name: "ListenPacket",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.ListenPacket("udp4", "0.0.0.0:0")
			},
			seq: 1, kind: KindListenPacket, network: "udp4", localPrefix: "0.0.0.0:", ifaces: udpIfaces,
		},
		{
			name: "ListenUDP",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.ListenUDP("udp4", &net.UDPAddr{IP: ip1})
			},
			seq: 1, kind: KindListenUDP, network: "udp4", localPrefix: "10.0.0.1:", ifaces: udpIfaces,
		},
		{
			name: "DialUDP",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.DialUDP("udp4", &net.UDPAddr{IP: ip1}, &net.UDPAddr{IP: ip2, Port: 5555})
			},
			seq: 1, kind: KindDialUDP, network: "udp4", localPrefix: "10.0.0.1:", remote: "10.0.0.2:5555",
			ifaces: udpIfaces,
		},
		{
			name: "Dial udp",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.Dial("udp4", "10.0.0.2:5555")
			},
			seq: 1, kind: KindDial, network: "udp4", localPrefix: "10.0.0.1:", remote: "10.0.0.2:5555",
			ifaces: udpIfaces,
		},
		{
			name: "Dial tcp",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l := f.innerTCPListener(t)

				return f.n.Dial("tcp4", l.Addr().String())
			},
			seq: 1, kind: KindDial, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
		{
			name: "ListenTCP",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.ListenTCP("tcp4", &net.TCPAddr{IP: ip1})
			},
			seq: 1, kind: KindListenTCP, network: "tcp4", localPrefix: "10.0.0.1:", ifaces: listenerIfaces,
		},
		{
			name: "DialTCP",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l := f.innerTCPListener(t)

				return f.n.DialTCP("tcp4", nil, l.Addr().(*net.TCPAddr))
			},
			seq: 1, kind: KindDialTCP, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
		{
			name: "CreateDialer Dial udp",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.CreateDialer(&net.Dialer{}).Dial("udp4", "10.0.0.2:5555")
			},
			seq: 1, kind: KindDialerDial, network: "udp4", localPrefix: "10.0.0.1:", remote: "10.0.0.2:5555",
			ifaces: udpIfaces,
		},
		{
			name: "CreateDialer Dial tcp",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l := f.innerTCPListener(t)

				return f.n.CreateDialer(&net.Dialer{}).Dial("tcp4", l.Addr().String())
			},
			seq: 1, kind: KindDialerDial, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
		{
			name: "CreateListenConfig Listen",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				return f.n.CreateListenConfig(&net.ListenConfig{}).Listen(t.Context(), "tcp4", "10.0.0.1:0")
			},
			seq: 1, kind: KindListenConfigListen, network: "tcp4", localPrefix: "10.0.0.1:", ifaces: listenerIfaces,
		},
		{
			name: "CreateListenConfig ListenPacket",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				return f.n.CreateListenConfig(&net.ListenConfig{}).ListenPacket(t.Context(), "udp4", "10.0.0.1:0")
			},
			seq: 1, kind: KindListenConfigListenPacket, network: "udp4", localPrefix: "10.0.0.1:", ifaces: udpIfaces,
		},
		{
			name: "ListenTCP Accept",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l, err := f.n.ListenTCP("tcp4", &net.TCPAddr{IP: ip1})
				if err != nil {
					return nil, err
				}
				defer func() { _ = l.Close() }()
				f.innerDial(t, l.Addr())

				return l.Accept()
			},
			seq: 2, kind: KindAccept, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
		{
			name: "ListenTCP AcceptTCP",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l, err := f.n.ListenTCP("tcp4", &net.TCPAddr{IP: ip1})
				if err != nil {
					return nil, err
				}
				defer func() { _ = l.Close() }()
				f.innerDial(t, l.Addr())

				return l.AcceptTCP()
			},
			seq: 2, kind: KindAcceptTCP, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
		{
			name: "CreateListenConfig Listen Accept",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l, err := f.n.CreateListenConfig(&net.ListenConfig{}).Listen(t.Context(), "tcp4", "10.0.0.1:0")
				if err != nil {
					return nil, err
				}
				defer func() { _ = l.Close() }()
				f.innerDial(t, l.Addr())

				return l.Accept()
			},
			seq: 2, kind: KindAccept, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*", ifaces: tcpIfaces,
		},
	}

	for i := range rows {
		switch {
		case slices.Contains(rows[i].ifaces, ifUDPConn):
			rows[i].notIfaces = []string{ifTCPConn, ifListener}
		case slices.Contains(rows[i].ifaces, ifTCPConn):
			rows[i].notIfaces = []string{ifUDPConn, ifPacketConn, ifListener}
		case slices.Contains(rows[i].ifaces, ifTCPListener):
			rows[i].notIfaces = []string{ifConn, ifPacketConn}
		}
	}

	runTrackRows(t, rows, newFixture)
}

// TestPlainInnerTypesKeepTheirShape checks the wrapper's fallbacks: when the
// inner socket is only a net.Conn, a net.PacketConn, both, or a plain
// net.Listener, it is still tracked and the wrapper neither loses nor
// invents interfaces.
func TestPlainInnerTypesKeepTheirShape(t *testing.T) {
	rows := []trackRow{
		{
			name: "ListenPacket plain PacketConn",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.ListenPacket("udp4", "10.0.0.1:0")
			},
			seq: 1, kind: KindListenPacket, network: "udp4", localPrefix: "10.0.0.1:",
			ifaces: []string{ifPacketConn}, notIfaces: []string{ifConn, ifUDPConn},
		},
		{
			name: "Dial PacketConn and Conn",
			open: func(_ *testing.T, f *fixture) (io.Closer, error) {
				return f.n.Dial("udp4", "10.0.0.2:5555")
			},
			seq: 1, kind: KindDial, network: "udp4", localPrefix: "10.0.0.1:", remote: "10.0.0.2:5555",
			ifaces: []string{ifPacketConn, ifConn}, notIfaces: []string{ifUDPConn},
		},
		{
			name: "Dialer Dial plain Conn",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				return f.n.CreateDialer(nil).Dial("tcp4", f.innerTCPListener(t).Addr().String())
			},
			seq: 1, kind: KindDialerDial, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*",
			ifaces: []string{ifConn}, notIfaces: []string{ifTCPConn, ifPacketConn},
		},
		{
			name: "ListenConfig Listen plain Listener",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				return f.n.CreateListenConfig(nil).Listen(t.Context(), "tcp4", "10.0.0.1:0")
			},
			seq: 1, kind: KindListenConfigListen, network: "tcp4", localPrefix: "10.0.0.1:",
			ifaces: []string{ifListener}, notIfaces: []string{ifTCPListener},
		},
		{
			name: "Accept from plain Listener",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				l, err := f.n.CreateListenConfig(nil).Listen(t.Context(), "tcp4", "10.0.0.1:0")
				if err != nil {
					return nil, err
				}
				defer func() { _ = l.Close() }()
				f.innerDial(t, l.Addr())

				return l.Accept()
			},
			seq: 2, kind: KindAccept, network: "tcp4", localPrefix: "10.0.0.1:", remote: "*",
			ifaces: []string{ifConn}, notIfaces: []string{ifTCPConn},
		},
	}

	runTrackRows(t, rows, func(t *testing.T) *fixture {
		return newFixtureWith(t, func(tn *tcpNet) transport.Net { return plainNet{tn} })
	})
}

// runTrackRows opens each row's socket on a fresh fixture, checks it is
// listed and counted, closes it and checks it is gone.
func runTrackRows(t *testing.T, rows []trackRow, newFixture func(*testing.T) *fixture) {
	t.Helper()
	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)

			sock, err := tc.open(t, f)
			if err != nil {
				t.Fatalf("open: %v", err)
			}

			for _, iface := range tc.ifaces {
				if !implements(sock, iface) {
					t.Errorf("wrapped %T does not implement %s", sock, iface)
				}
			}
			for _, iface := range tc.notIfaces {
				if implements(sock, iface) {
					t.Errorf("wrapped %T implements %s, which the inner socket does not", sock, iface)
				}
			}

			local := localOf(t, sock)
			wantRemote := tc.remote
			if wantRemote == "*" {
				wantRemote = remoteOf(sock).String()
			}
			want := Socket{
				Network: tc.network,
				Local:   local.String(),
				Remote:  wantRemote,
				Kind:    tc.kind,
				Seq:     tc.seq,
			}
			if !strings.HasPrefix(want.Local, tc.localPrefix) || strings.HasSuffix(want.Local, ":0") {
				t.Errorf("LocalAddr = %q, want %q plus a bound port", want.Local, tc.localPrefix)
			}

			got := f.n.Open()
			if len(got) != 1 || got[0] != want {
				t.Fatalf("Open() = %v, want [%v]", got, want)
			}
			if st := f.n.Stats(); st != (Stats{Opened: tc.seq, Closed: tc.seq - 1}) {
				t.Errorf("Stats() before close = %+v, want {Opened:%d Closed:%d}", st, tc.seq, tc.seq-1)
			}
			if c := f.rec.count(OpOpen, tc.seq); c != 1 {
				t.Errorf("got %d open events for seq %d, want 1", c, tc.seq)
			}

			if err := sock.Close(); err != nil {
				t.Fatalf("Close: %v", err)
			}

			if got := f.n.Open(); len(got) != 0 {
				t.Errorf("Open() after close = %v, want empty", got)
			}
			if st := f.n.Stats(); st != (Stats{Opened: tc.seq, Closed: tc.seq}) {
				t.Errorf("Stats() after close = %+v, want {Opened:%d Closed:%d}", st, tc.seq, tc.seq)
			}
			evs := f.rec.snapshot()
			last := evs[len(evs)-1]
			if last.Op != OpClose || last.Socket != want || last.Err != nil {
				t.Errorf("last event = %+v, want close of %v with nil error", last, want)
			}
		})
	}
}

// TestVNetErrorsPassThrough checks that errors of the real vnet (including
// its unsupported TCP constructors) come back unchanged, that the returned
// socket is an untyped nil, and that nothing is tracked.
func TestVNetErrorsPassThrough(t *testing.T) {
	type row struct {
		name     string
		call     func(tn transport.Net) (any, error)
		sentinel error // if non-nil, errors.Is must hold
	}
	rows := []row{
		{
			name:     "ListenTCP not supported",
			call:     func(tn transport.Net) (any, error) { return tn.ListenTCP("tcp4", &net.TCPAddr{IP: ip1}) },
			sentinel: transport.ErrNotSupported,
		},
		{
			name: "DialTCP not supported",
			call: func(tn transport.Net) (any, error) {
				return tn.DialTCP("tcp4", nil, &net.TCPAddr{IP: ip2, Port: 80})
			},
			sentinel: transport.ErrNotSupported,
		},
		{
			name: "Dial tcp unknown network",
			call: func(tn transport.Net) (any, error) { return tn.Dial("tcp4", "10.0.0.2:80") },
		},
		{
			name: "CreateDialer Dial tcp unknown network",
			call: func(tn transport.Net) (any, error) {
				return tn.CreateDialer(&net.Dialer{}).Dial("tcp", "10.0.0.2:80")
			},
		},
		{
			name: "ListenUDP foreign IP",
			call: func(tn transport.Net) (any, error) {
				return tn.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("10.0.0.99")})
			},
		},
		{
			name: "ListenPacket bad address",
			call: func(tn transport.Net) (any, error) { return tn.ListenPacket("udp4", "no-port") },
		},
		{
			name: "DialUDP bad network",
			call: func(tn transport.Net) (any, error) {
				return tn.DialUDP("ip4", nil, &net.UDPAddr{IP: ip2, Port: 1})
			},
		},
		{
			name: "ListenConfig ListenPacket bad network",
			call: func(tn transport.Net) (any, error) {
				return tn.CreateListenConfig(&net.ListenConfig{}).ListenPacket(context.Background(), "tcp", "10.0.0.1:0")
			},
		},
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			vn := newVNets(t, "10.0.0.1")[0]
			n := New(vn)

			wantSock, wantErr := tc.call(vn)
			if wantErr == nil {
				t.Fatalf("inner vnet unexpectedly succeeded (%T); test row is wrong", wantSock)
			}

			sock, err := tc.call(n)
			if err == nil || err.Error() != wantErr.Error() {
				t.Errorf("err = %v, want the inner error %v", err, wantErr)
			}
			if tc.sentinel != nil && !errors.Is(err, tc.sentinel) {
				t.Errorf("errors.Is(%v, %v) = false", err, tc.sentinel)
			}
			if fmt.Sprintf("%T", err) != fmt.Sprintf("%T", wantErr) {
				t.Errorf("err type = %T, want %T", err, wantErr)
			}
			if sock != nil {
				// A typed nil in an interface would make callers' nil checks fail.
				t.Errorf("socket = %#v, want untyped nil", sock)
			}
			if st := n.Stats(); st != (Stats{}) {
				t.Errorf("Stats() = %+v, want zero", st)
			}
			if got := n.Open(); len(got) != 0 {
				t.Errorf("Open() = %v, want empty", got)
			}
		})
	}
}

// nilNet returns (nil, nil) from ListenUDP, which the wrapper must turn into
// an error rather than track.
type nilNet struct{ *vnet.Net }

func (nilNet) ListenUDP(string, *net.UDPAddr) (transport.UDPConn, error) { return nil, nil }

func TestNilSocketFromInner(t *testing.T) {
	n := New(nilNet{newVNets(t, "10.0.0.1")[0]})
	c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: ip1, Port: 5000})
	if !errors.Is(err, ErrNilSocket) {
		t.Fatalf("err = %v, want ErrNilSocket", err)
	}
	if !strings.Contains(err.Error(), "ListenUDP") || !strings.Contains(err.Error(), "10.0.0.1:5000") {
		t.Errorf("err = %q, want context naming ListenUDP and the address", err)
	}
	if c != nil {
		t.Errorf("conn = %#v, want nil", c)
	}
	if st := n.Stats(); st != (Stats{}) {
		t.Errorf("Stats() = %+v, want zero", st)
	}
}

func TestDoubleCloseCountsOnce(t *testing.T) {
	rows := []struct {
		name string
		open func(t *testing.T, f *fixture) (io.Closer, error)
		// second reports whether the error of the second Close is the
		// inner object's "already closed" error.
		second func(err error) bool
	}{
		{
			name:   "vnet ListenUDP",
			open:   func(_ *testing.T, f *fixture) (io.Closer, error) { return f.n.ListenUDP("udp4", nil) },
			second: func(err error) bool { return err != nil && err.Error() == "already closed" },
		},
		{
			name:   "vnet ListenPacket",
			open:   func(_ *testing.T, f *fixture) (io.Closer, error) { return f.n.ListenPacket("udp4", "10.0.0.1:0") },
			second: func(err error) bool { return err != nil && err.Error() == "already closed" },
		},
		{
			name:   "vnet Dial",
			open:   func(_ *testing.T, f *fixture) (io.Closer, error) { return f.n.Dial("udp", "10.0.0.2:9") },
			second: func(err error) bool { return err != nil && err.Error() == "already closed" },
		},
		{
			name:   "ListenTCP",
			open:   func(_ *testing.T, f *fixture) (io.Closer, error) { return f.n.ListenTCP("tcp", nil) },
			second: func(err error) bool { return errors.Is(err, errFakeAlreadyClosed) },
		},
		{
			name: "DialTCP",
			open: func(t *testing.T, f *fixture) (io.Closer, error) {
				return f.n.DialTCP("tcp", nil, f.innerTCPListener(t).Addr().(*net.TCPAddr))
			},
			second: func(err error) bool { return errors.Is(err, errFakeAlreadyClosed) },
		},
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sock, err := tc.open(t, f)
			if err != nil {
				t.Fatalf("open: %v", err)
			}

			if err := sock.Close(); err != nil {
				t.Fatalf("first Close: %v", err)
			}
			if err := sock.Close(); !tc.second(err) {
				t.Errorf("second Close = %v, want the inner already-closed error", err)
			}

			if st := f.n.Stats(); st != (Stats{Opened: 1, Closed: 1}) {
				t.Errorf("Stats() = %+v, want {Opened:1 Closed:1}", st)
			}
			if c := f.rec.count(OpClose, 1); c != 1 {
				t.Errorf("got %d close events, want 1", c)
			}
		})
	}
}

func TestConcurrentCloseCountsOnce(t *testing.T) {
	const closers = 16
	rows := []struct {
		name string
		open func(t *testing.T, f *fixture) (io.Closer, error)
	}{
		{"vnet ListenUDP", func(_ *testing.T, f *fixture) (io.Closer, error) {
			return f.n.ListenUDP("udp4", &net.UDPAddr{IP: ip1})
		}},
		{"vnet DialUDP", func(_ *testing.T, f *fixture) (io.Closer, error) {
			return f.n.DialUDP("udp4", nil, &net.UDPAddr{IP: ip2, Port: 9})
		}},
		{"ListenTCP", func(_ *testing.T, f *fixture) (io.Closer, error) {
			return f.n.ListenTCP("tcp4", nil)
		}},
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			f := newFixture(t)
			sock, err := tc.open(t, f)
			if err != nil {
				t.Fatalf("open: %v", err)
			}

			start := make(chan struct{})
			errs := make(chan error, closers)
			var wg sync.WaitGroup
			for range closers {
				wg.Go(func() {
					<-start
					errs <- sock.Close()
				})
			}
			// Readers race with the closers too.
			wg.Go(func() {
				<-start
				_ = f.n.Open()
				_ = f.n.Stats()
			})
			close(start)
			wg.Wait()
			close(errs)

			nilErrs := 0
			for err := range errs {
				if err == nil {
					nilErrs++
				}
			}
			if nilErrs != 1 {
				t.Errorf("%d Close calls returned nil, want exactly 1 (the inner's)", nilErrs)
			}
			if st := f.n.Stats(); st != (Stats{Opened: 1, Closed: 1}) {
				t.Errorf("Stats() = %+v, want {Opened:1 Closed:1}", st)
			}
			if c := f.rec.count(OpClose, 1); c != 1 {
				t.Errorf("got %d close events, want 1", c)
			}
		})
	}
}

// TestConcurrentOpenClose opens and closes many sockets from many goroutines
// and checks the ledger balances and the events are delivered in Seq order.
func TestConcurrentOpenClose(t *testing.T) {
	const workers, perWorker = 8, 25

	vn := newVNets(t, "10.0.0.1")[0]
	rec := &recorder{}
	var n *Net
	n = New(vn, WithOnEvent(func(ev Event) {
		// The callback may query the Net without deadlocking.
		_ = n.Stats()
		rec.record(ev)
	}))

	var wg sync.WaitGroup
	for range workers {
		wg.Go(func() {
			for range perWorker {
				c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: ip1})
				if err != nil {
					t.Errorf("ListenUDP: %v", err)

					return
				}
				_ = n.Open()
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
		})
	}
	wg.Wait()

	const total = workers * perWorker
	if st := n.Stats(); st != (Stats{Opened: total, Closed: total}) {
		t.Errorf("Stats() = %+v, want {Opened:%d Closed:%d}", st, total, total)
	}
	if got := n.Open(); len(got) != 0 {
		t.Errorf("Open() = %v, want empty", got)
	}

	lastOpen := 0
	closed := map[int]bool{}
	for _, ev := range rec.snapshot() {
		switch ev.Op {
		case OpOpen:
			if ev.Socket.Seq != lastOpen+1 {
				t.Fatalf("open event for seq %d after seq %d: events out of order", ev.Socket.Seq, lastOpen)
			}
			lastOpen = ev.Socket.Seq
		case OpClose:
			if ev.Socket.Seq > lastOpen || closed[ev.Socket.Seq] {
				t.Fatalf("close event for seq %d is before its open or repeated", ev.Socket.Seq)
			}
			closed[ev.Socket.Seq] = true
		}
	}
	if lastOpen != total || len(closed) != total {
		t.Errorf("saw %d opens and %d closes, want %d each", lastOpen, len(closed), total)
	}
}

func TestOpenIsSortedAndEventsOrdered(t *testing.T) {
	vn := newVNets(t, "10.0.0.1")[0]
	rec := &recorder{}
	var n *Net
	n = New(vn, WithOnEvent(func(ev Event) {
		// Open must be callable from the callback and already reflect ev.
		open := n.Open()
		listed := false
		for _, s := range open {
			listed = listed || s.Seq == ev.Socket.Seq
		}
		if listed != (ev.Op == OpOpen) {
			t.Errorf("during %s of #%d, Open() = %v", ev.Op, ev.Socket.Seq, open)
		}
		rec.record(ev)
	}))

	var socks []io.Closer
	for range 5 {
		c, err := n.ListenUDP("udp4", &net.UDPAddr{IP: ip1})
		if err != nil {
			t.Fatalf("ListenUDP: %v", err)
		}
		socks = append(socks, c)
	}
	// Close 2 and 4 (Seq), leaving 1, 3, 5.
	for _, i := range []int{3, 1} {
		if err := socks[i].Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}

	var seqs []int
	for _, s := range n.Open() {
		seqs = append(seqs, s.Seq)
	}
	if fmt.Sprint(seqs) != "[1 3 5]" {
		t.Errorf("Open() seqs = %v, want [1 3 5]", seqs)
	}

	var trace []string
	for _, ev := range rec.snapshot() {
		trace = append(trace, fmt.Sprintf("%s#%d", ev.Op, ev.Socket.Seq))
	}
	want := "open#1 open#2 open#3 open#4 open#5 close#4 close#2"
	if got := strings.Join(trace, " "); got != want {
		t.Errorf("events = %s, want %s", got, want)
	}

	s := n.Open()[0]
	if str := s.String(); !strings.HasPrefix(str, "#1 ListenUDP udp4 10.0.0.1:") || !strings.HasSuffix(str, "->-") {
		t.Errorf("Socket.String() = %q", str)
	}

	for _, i := range []int{0, 2, 4} {
		if err := socks[i].Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	}
	if st := n.Stats(); st != (Stats{Opened: 5, Closed: 5}) {
		t.Errorf("Stats() = %+v", st)
	}
}

func TestPassThrough(t *testing.T) {
	rows := []struct {
		name string
		call func(tn transport.Net) (any, error)
	}{
		{"ResolveIPAddr", func(tn transport.Net) (any, error) { return tn.ResolveIPAddr("ip4", "10.0.0.1") }},
		{"ResolveIPAddr error", func(tn transport.Net) (any, error) { return tn.ResolveIPAddr("bogus", "10.0.0.1") }},
		{"ResolveUDPAddr", func(tn transport.Net) (any, error) { return tn.ResolveUDPAddr("udp4", "10.0.0.2:1234") }},
		{"ResolveUDPAddr error", func(tn transport.Net) (any, error) { return tn.ResolveUDPAddr("tcp", "10.0.0.2:1234") }},
		{"ResolveTCPAddr", func(tn transport.Net) (any, error) { return tn.ResolveTCPAddr("tcp4", "10.0.0.2:80") }},
		{"Interfaces", func(tn transport.Net) (any, error) { return tn.Interfaces() }},
		{"InterfaceByIndex", func(tn transport.Net) (any, error) { return tn.InterfaceByIndex(2) }},
		{"InterfaceByIndex error", func(tn transport.Net) (any, error) { return tn.InterfaceByIndex(42) }},
		{"InterfaceByName", func(tn transport.Net) (any, error) { return tn.InterfaceByName("eth0") }},
		{"InterfaceByName error", func(tn transport.Net) (any, error) { return tn.InterfaceByName("nope0") }},
	}

	vn := newVNets(t, "10.0.0.1")[0]
	n := New(vn)
	if n.Inner() != transport.Net(vn) {
		t.Errorf("Inner() = %v, want the wrapped vnet", n.Inner())
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			want, wantErr := tc.call(vn)
			got, err := tc.call(n)
			if fmt.Sprintf("%v|%v", got, err) != fmt.Sprintf("%v|%v", want, wantErr) {
				t.Errorf("got %v, %v; want %v, %v", got, err, want, wantErr)
			}
			if (wantErr == nil) != (err == nil) {
				t.Errorf("err = %v, want %v", err, wantErr)
			}
		})
	}
	if st := n.Stats(); st != (Stats{}) {
		t.Errorf("pass-through calls changed Stats: %+v", st)
	}
}

// TestPacketFlows sends real packets through the vnet router between two
// wrapped Nets, using wrapped sockets on both ends.
func TestPacketFlows(t *testing.T) {
	rows := []struct {
		name string
		// open returns sender (on a, 10.0.0.1) and receiver (on b, 10.0.0.2).
		open func(a, b *Net) (send, recv transport.UDPConn, err error)
		// connected senders use Write instead of WriteTo.
		connected bool
	}{
		{
			name: "ListenUDP to ListenUDP",
			open: func(a, b *Net) (transport.UDPConn, transport.UDPConn, error) {
				recv, err := b.ListenUDP("udp4", &net.UDPAddr{IP: ip2})
				if err != nil {
					return nil, nil, err
				}
				send, err := a.ListenUDP("udp4", &net.UDPAddr{IP: ip1})

				return send, recv, err
			},
		},
		{
			name: "DialUDP to ListenUDP",
			open: func(a, b *Net) (transport.UDPConn, transport.UDPConn, error) {
				recv, err := b.ListenUDP("udp4", &net.UDPAddr{IP: ip2})
				if err != nil {
					return nil, nil, err
				}
				send, err := a.DialUDP("udp4", &net.UDPAddr{IP: ip1}, recv.LocalAddr().(*net.UDPAddr))

				return send, recv, err
			},
			connected: true,
		},
		{
			name: "Dial to ListenPacket",
			open: func(a, b *Net) (transport.UDPConn, transport.UDPConn, error) {
				pc, err := b.ListenPacket("udp4", "10.0.0.2:0")
				if err != nil {
					return nil, nil, err
				}
				recv, ok := pc.(transport.UDPConn)
				if !ok {
					return nil, nil, fmt.Errorf("ListenPacket result %T is not a transport.UDPConn", pc)
				}
				c, err := a.Dial("udp4", pc.LocalAddr().String())
				if err != nil {
					return nil, nil, err
				}
				send, ok := c.(transport.UDPConn)
				if !ok {
					return nil, nil, fmt.Errorf("Dial result %T is not a transport.UDPConn", c)
				}

				return send, recv, nil
			},
			connected: true,
		},
	}

	for _, tc := range rows {
		t.Run(tc.name, func(t *testing.T) {
			nets := newVNets(t, "10.0.0.1", "10.0.0.2")
			a, b := New(nets[0]), New(nets[1])

			send, recv, err := tc.open(a, b)
			if err != nil {
				t.Fatalf("open: %v", err)
			}
			exchange(t, send, recv, tc.connected, time.Now().Add(5*time.Second))

			for _, c := range []io.Closer{send, recv} {
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			}
			for name, n := range map[string]*Net{"a": a, "b": b} {
				if st := n.Stats(); st != (Stats{Opened: 1, Closed: 1}) || len(n.Open()) != 0 {
					t.Errorf("%s: Stats() = %+v, Open() = %v", name, st, n.Open())
				}
			}
		})
	}
}

// exchange sends "ping" from send to recv and "pong" back, through the
// wrapped sockets.
func exchange(t *testing.T, send, recv transport.UDPConn, connected bool, deadline time.Time) {
	t.Helper()

	ping := []byte("ping")
	var err error
	if connected {
		_, err = send.Write(ping)
	} else {
		_, err = send.WriteTo(ping, recv.LocalAddr())
	}
	if err != nil {
		t.Fatalf("send ping: %v", err)
	}

	buf := make([]byte, 64)
	if err := recv.SetReadDeadline(deadline); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	nr, from, err := recv.ReadFrom(buf)
	if err != nil {
		t.Fatalf("ReadFrom: %v", err)
	}
	if string(buf[:nr]) != "ping" || from.String() != send.LocalAddr().String() {
		t.Fatalf("got %q from %v, want %q from %v", buf[:nr], from, ping, send.LocalAddr())
	}

	if _, err := recv.WriteToUDP([]byte("pong"), from.(*net.UDPAddr)); err != nil {
		t.Fatalf("send pong: %v", err)
	}
	if err := send.SetReadDeadline(deadline); err != nil {
		t.Fatalf("SetReadDeadline: %v", err)
	}
	nr, from2, err := send.ReadFromUDP(buf)
	if err != nil {
		t.Fatalf("ReadFromUDP: %v", err)
	}
	if string(buf[:nr]) != "pong" || from2.String() != recv.LocalAddr().String() {
		t.Fatalf("got %q from %v, want pong from %v", buf[:nr], from2, recv.LocalAddr())
	}
}
