package pktclass

import (
	"fmt"
	"net"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

const (
	ipA  = "10.0.0.1"
	ipB  = "10.0.0.2"
	port = 5000
)

// arrival is one datagram read by a peer.
type arrival struct {
	at    time.Duration // virtual time since the world's start
	label string
}

func (a arrival) String() string {
	return fmt.Sprintf("%v %s", a.at, a.label)
}

// peer is one end of the ping-pong: it records every datagram it reads
// and, if echo is set, sends it back to its sender.
type peer struct {
	conn transport.UDPConn
	echo bool
	done chan struct{}

	mu  sync.Mutex
	got []arrival
}

func (p *peer) arrivals() []arrival {
	p.mu.Lock()
	defer p.mu.Unlock()

	return slices.Clone(p.got)
}

// world is a vnet router with two peers, A (10.0.0.1) and B (10.0.0.2),
// B echoing. It must be built inside a synctest bubble.
type world struct {
	t      *testing.T
	router *vnet.Router
	start  time.Time
	a, b   *peer
}

func newWorld(t *testing.T) *world {
	t.Helper()

	router, err := vnet.NewRouter(&vnet.RouterConfig{
		CIDR:          "10.0.0.0/24",
		LoggerFactory: logging.NewDefaultLoggerFactory(),
	})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	w := &world{t: t, router: router, start: time.Now()}
	mk := func(ip string, echo bool) *peer {
		vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatalf("NewNet(%s): %v", ip, err)
		}
		if err := router.AddNet(vn); err != nil {
			t.Fatalf("AddNet(%s): %v", ip, err)
		}
		conn, err := vn.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP(ip), Port: port})
		if err != nil {
			t.Fatalf("ListenUDP(%s): %v", ip, err)
		}
		p := &peer{conn: conn, echo: echo, done: make(chan struct{})}
		go w.read(p)

		return p
	}
	w.a, w.b = mk(ipA, false), mk(ipB, true)
	if err := router.Start(); err != nil {
		t.Fatalf("router.Start: %v", err)
	}

	return w
}

// read records what p receives until its conn is closed.
func (w *world) read(p *peer) {
	defer close(p.done)
	buf := make([]byte, 1500)
	for {
		n, from, err := p.conn.ReadFrom(buf)
		if err != nil {
			return
		}
		p.mu.Lock()
		p.got = append(p.got, arrival{at: time.Since(w.start), label: label(buf[:n])})
		p.mu.Unlock()
		if p.echo {
			if _, err := p.conn.WriteTo(buf[:n], from); err != nil {
				w.t.Errorf("echo: %v", err)
			}
		}
	}
}

// finish lets the fake clock run out every timer, then closes the peers and
// the router and waits for the readers.
func (w *world) finish() {
	time.Sleep(10 * time.Second)
	for _, p := range []*peer{w.a, w.b} {
		if err := p.conn.Close(); err != nil {
			w.t.Errorf("Close: %v", err)
		}
		<-p.done
	}
	if err := w.router.Stop(); err != nil {
		w.t.Errorf("router.Stop: %v", err)
	}
}

// send is one datagram A sends to B at a virtual time.
type send struct {
	at      time.Duration
	class   Class  // payload: samples[class] plus the tag byte
	tag     byte   // distinguishes repeated sends of a class
	payload []byte // if set, sent as is and labelled "raw#tag"
}

// label names a received payload: "class#tag" for the samples, where the
// tag is the last byte, "raw#tag" for raw payloads (tagged by their last
// byte too).
func label(p []byte) string {
	if len(p) == 0 {
		return "empty"
	}
	tag := p[len(p)-1]
	for _, c := range Classes() {
		if s := samples[c]; len(p) == len(s)+1 && string(p[:len(s)]) == string(s) {
			return fmt.Sprintf("%s#%d", c, tag)
		}
	}

	return fmt.Sprintf("raw#%d", tag)
}

func (s send) bytes() []byte {
	if s.payload != nil {
		return append(slices.Clone(s.payload), s.tag)
	}

	return append(slices.Clone(samples[s.class]), s.tag)
}

// run sends the datagrams from A to B, each at its virtual time.
func (w *world) run(sends []send) {
	dst := &net.UDPAddr{IP: net.ParseIP(ipB), Port: port}
	for _, s := range sends {
		if d := time.Until(w.start.Add(s.at)); d > 0 {
			time.Sleep(d)
		}
		if _, err := w.a.conn.WriteTo(s.bytes(), dst); err != nil {
			w.t.Fatalf("WriteTo: %v", err)
		}
	}
}

// at builds an expected arrival.
func at(d time.Duration, labels ...string) []arrival {
	out := make([]arrival, len(labels))
	for i, l := range labels {
		out[i] = arrival{at: d, label: l}
	}

	return out
}

// sameArrivals compares arrivals by time, and as a multiset within one
// virtual instant (the order inside an instant can depend on when a timer
// goroutine runs relative to the sender).
func sameArrivals(got, want []arrival) bool {
	norm := func(as []arrival) []string {
		out := make([]string, len(as))
		for i, a := range as {
			out[i] = fmt.Sprintf("%020d %s", a.at, a.label)
		}
		slices.Sort(out)

		return out
	}
	if !slices.Equal(norm(got), norm(want)) {
		return false
	}
	for i := 1; i < len(got); i++ {
		if got[i].at < got[i-1].at {
			return false
		}
	}

	return true
}

// everyClass sends one sample of each class at time d, tagged with tag.
func everyClass(d time.Duration, tag byte) []send {
	var out []send
	for _, c := range Classes() {
		out = append(out, send{at: d, class: c, tag: tag})
	}

	return out
}

// labels returns "class#tag" for every class except the skipped ones.
func labels(tag byte, skip ...Class) []string {
	var out []string
	for _, c := range Classes() {
		if !slices.Contains(skip, c) {
			out = append(out, fmt.Sprintf("%s#%d", c, tag))
		}
	}

	return out
}

func cat(parts ...[]arrival) []arrival {
	return slices.Concat(parts...)
}

// TestInjectorPingPong sends crafted payloads of every class from A to B
// over a vnet router, B echoes them, and checks what each side got and
// when, in virtual time.
func TestInjectorPingPong(t *testing.T) {
	ms := time.Millisecond
	coalescedFlight := concat(dtlsRecord(22, 1, 2), dtlsRecord(20, 1), dtlsRecord(22, 3, 4))
	tests := []struct {
		name     string
		faults   []Fault
		sends    []send
		wantB    []arrival // at B, from A
		wantA    []arrival // at A, the echoes
		wantHits []int
		wantOn   []string // onHit calls: "fault index/class"
	}{
		{
			name:  "no faults",
			sends: everyClass(0, 0),
			wantB: at(0, labels(0)...),
			wantA: at(0, labels(0)...),
		},
		{
			name:     "drop one class both ways",
			faults:   []Fault{{Class: DTLSAlert, Action: ActionDrop}},
			sends:    everyClass(0, 0),
			wantB:    at(0, labels(0, DTLSAlert)...),
			wantA:    at(0, labels(0, DTLSAlert)...),
			wantHits: []int{1},
			wantOn:   []string{"0/dtls-alert"},
		},
		{
			name:     "drop B to A only",
			faults:   []Fault{{Class: SRTCP, From: ipB, To: ipA, Action: ActionDrop}},
			sends:    everyClass(0, 0),
			wantB:    at(0, labels(0)...),
			wantA:    at(0, labels(0, SRTCP)...),
			wantHits: []int{1},
			wantOn:   []string{"0/srtcp"},
		},
		{
			name:     "drop by destination only",
			faults:   []Fault{{Class: STUN, To: ipA, Action: ActionDrop}},
			sends:    everyClass(0, 0),
			wantB:    at(0, labels(0)...),
			wantA:    at(0, labels(0, STUN)...),
			wantHits: []int{1},
			wantOn:   []string{"0/stun"},
		},
		{
			name:     "drop every class from A",
			faults:   []Fault{{From: ipA, Action: ActionDrop}},
			sends:    everyClass(0, 0),
			wantHits: []int{11},
			wantOn: func() []string {
				var out []string
				for _, c := range Classes() {
					out = append(out, "0/"+string(c))
				}

				return out
			}(),
		},
		{
			name:     "delay A to B",
			faults:   []Fault{{Class: DTLSHandshake, From: ipA, Action: ActionDelay, Delay: 50 * ms}},
			sends:    everyClass(0, 0),
			wantB:    cat(at(0, labels(0, DTLSHandshake)...), at(50*ms, "dtls-handshake#0")),
			wantA:    cat(at(0, labels(0, DTLSHandshake)...), at(50*ms, "dtls-handshake#0")),
			wantHits: []int{1},
			wantOn:   []string{"0/dtls-handshake"},
		},
		{
			name:     "delay both ways adds up",
			faults:   []Fault{{Class: SRTP, Action: ActionDelay, Delay: 40 * ms}},
			sends:    everyClass(0, 0),
			wantB:    cat(at(0, labels(0, SRTP)...), at(40*ms, "srtp#0")),
			wantA:    cat(at(0, labels(0, SRTP)...), at(80*ms, "srtp#0")),
			wantHits: []int{2},
			wantOn:   []string{"0/srtp", "0/srtp"},
		},
		{
			name:   "delayed packet is overtaken",
			faults: []Fault{{Class: STUN, From: ipA, Action: ActionDelay, Delay: 30 * ms}},
			sends: []send{
				{at: 0, class: STUN, tag: 1},
				{at: 10 * ms, class: SRTP, tag: 2},
				{at: 20 * ms, class: STUN, tag: 3},
			},
			wantB:    cat(at(10*ms, "srtp#2"), at(30*ms, "stun#1"), at(50*ms, "stun#3")),
			wantA:    cat(at(10*ms, "srtp#2"), at(30*ms, "stun#1"), at(50*ms, "stun#3")),
			wantHits: []int{2},
			wantOn:   []string{"0/stun", "0/stun"},
		},
		{
			name:   "delay rounds up to the 1ms grid",
			faults: []Fault{{Class: SRTCP, From: ipA, Action: ActionDelay, Delay: 10 * ms}},
			sends: []send{
				{at: 500 * time.Microsecond, class: SRTCP, tag: 1},
			},
			wantB:    at(11*ms, "srtcp#1"),
			wantA:    at(11*ms, "srtcp#1"),
			wantHits: []int{1},
			wantOn:   []string{"0/srtcp"},
		},
		{
			name:     "duplicate immediately",
			faults:   []Fault{{Class: DTLSApplicationData, From: ipA, Action: ActionDuplicate}},
			sends:    everyClass(0, 0),
			wantB:    cat(at(0, labels(0)...), at(0, "dtls-application-data#0")),
			wantA:    cat(at(0, labels(0)...), at(0, "dtls-application-data#0")),
			wantHits: []int{1},
			wantOn:   []string{"0/dtls-application-data"},
		},
		{
			name:     "duplicate later",
			faults:   []Fault{{Class: ZRTP, From: ipA, Action: ActionDuplicate, Delay: 20 * ms}},
			sends:    everyClass(0, 0),
			wantB:    cat(at(0, labels(0)...), at(20*ms, "zrtp#0")),
			wantA:    cat(at(0, labels(0)...), at(20*ms, "zrtp#0")),
			wantHits: []int{1},
			wantOn:   []string{"0/zrtp"},
		},
		{
			name:     "duplicate both ways",
			faults:   []Fault{{Class: TURNChannel, Action: ActionDuplicate, Delay: 5 * ms}},
			sends:    []send{{at: 0, class: TURNChannel, tag: 7}},
			wantB:    cat(at(0, "turn-channel#7"), at(5*ms, "turn-channel#7")),
			wantA:    cat(at(0, "turn-channel#7"), at(5*ms, "turn-channel#7", "turn-channel#7"), at(10*ms, "turn-channel#7")),
			wantHits: []int{3},
			wantOn:   []string{"0/turn-channel", "0/turn-channel", "0/turn-channel"},
		},
		{
			name:   "first N",
			faults: []Fault{{Class: STUN, From: ipA, Action: ActionDrop, FirstN: 2}},
			sends: []send{
				{at: 0, class: STUN, tag: 1},
				{at: 0, class: SRTP, tag: 2},
				{at: 0, class: STUN, tag: 3},
				{at: 0, class: STUN, tag: 4},
				{at: ms, class: STUN, tag: 5},
			},
			wantB:    cat(at(0, "srtp#2", "stun#4"), at(ms, "stun#5")),
			wantA:    cat(at(0, "srtp#2", "stun#4"), at(ms, "stun#5")),
			wantHits: []int{2},
			wantOn:   []string{"0/stun", "0/stun"},
		},
		{
			name:   "after",
			faults: []Fault{{Class: DTLSAlert, From: ipA, Action: ActionDrop, After: time.Second}},
			sends: []send{
				{at: 0, class: DTLSAlert, tag: 1},
				{at: time.Second - time.Nanosecond, class: DTLSAlert, tag: 2},
				{at: time.Second, class: DTLSAlert, tag: 3},
				{at: 2 * time.Second, class: DTLSAlert, tag: 4},
			},
			wantB:    cat(at(0, "dtls-alert#1"), at(time.Second-time.Nanosecond, "dtls-alert#2")),
			wantA:    cat(at(0, "dtls-alert#1"), at(time.Second-time.Nanosecond, "dtls-alert#2")),
			wantHits: []int{2},
			wantOn:   []string{"0/dtls-alert", "0/dtls-alert"},
		},
		{
			name:   "delay after a time for the first packet only",
			faults: []Fault{{Class: SRTP, From: ipA, Action: ActionDelay, Delay: 30 * ms, FirstN: 1, After: time.Second}},
			sends: []send{
				{at: 0, class: SRTP, tag: 0},
				{at: time.Second, class: SRTP, tag: 1},
				{at: time.Second, class: SRTP, tag: 2},
			},
			wantB:    cat(at(0, "srtp#0"), at(time.Second, "srtp#2"), at(time.Second+30*ms, "srtp#1")),
			wantA:    cat(at(0, "srtp#0"), at(time.Second, "srtp#2"), at(time.Second+30*ms, "srtp#1")),
			wantHits: []int{1},
			wantOn:   []string{"0/srtp"},
		},
		{
			name: "first matching fault with budget acts",
			faults: []Fault{
				{Class: STUN, From: ipA, Action: ActionDrop, FirstN: 1},
				{Class: STUN, From: ipA, Action: ActionDelay, Delay: 10 * ms, FirstN: 1},
				{From: ipA, Action: ActionDuplicate},
			},
			sends: []send{
				{at: 0, class: STUN, tag: 1},
				{at: ms, class: STUN, tag: 2},
				{at: 2 * ms, class: STUN, tag: 3},
			},
			wantB:    cat(at(2*ms, "stun#3", "stun#3"), at(11*ms, "stun#2")),
			wantA:    cat(at(2*ms, "stun#3", "stun#3"), at(11*ms, "stun#2")),
			wantHits: []int{1, 1, 1},
			wantOn:   []string{"0/stun", "1/stun", "2/stun"},
		},
		{
			name:   "coalesced change cipher spec is matched",
			faults: []Fault{{Class: DTLSChangeCipherSpec, From: ipA, Action: ActionDrop}},
			sends: []send{
				{at: 0, payload: coalescedFlight, tag: 1},
				{at: 0, class: DTLSHandshake, tag: 2},
				{at: 0, class: DTLSChangeCipherSpec, tag: 3},
			},
			wantB:    at(0, "dtls-handshake#2"),
			wantA:    at(0, "dtls-handshake#2"),
			wantHits: []int{2},
			wantOn:   []string{"0/dtls-handshake", "0/dtls-change-cipher-spec"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t)
				var (
					mu sync.Mutex
					on []string
				)
				onHit := func(h Hit) {
					f, c := h.Fault, h.Class
					mu.Lock()
					defer mu.Unlock()
					on = append(on, fmt.Sprintf("%d/%s", slices.IndexFunc(tt.faults, func(g Fault) bool { return g == f }), c))
				}
				in, err := NewInjector(w.router, w.start, tt.faults, onHit)
				if err != nil {
					t.Fatalf("NewInjector: %v", err)
				}
				w.router.AddChunkFilter(in.ChunkFilter())

				w.run(tt.sends)
				w.finish()
				if err := in.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}

				if got := w.b.arrivals(); !sameArrivals(got, tt.wantB) {
					t.Errorf("B got\n%v\nwant\n%v", got, tt.wantB)
				}
				if got := w.a.arrivals(); !sameArrivals(got, tt.wantA) {
					t.Errorf("A got\n%v\nwant\n%v", got, tt.wantA)
				}
				wantHits := tt.wantHits
				if wantHits == nil {
					wantHits = make([]int, len(tt.faults))
				}
				if got := in.Hits(); !slices.Equal(got, wantHits) {
					t.Errorf("Hits() = %v, want %v", got, wantHits)
				}
				mu.Lock()
				defer mu.Unlock()
				// Hits from A's sends and from B's echoes can interleave.
				slices.Sort(on)
				wantOn := slices.Sorted(slices.Values(tt.wantOn))
				if !slices.Equal(on, wantOn) {
					t.Errorf("onHit calls %v, want %v", on, tt.wantOn)
				}
			})
		})
	}
}

// TestInjectorWithCounter counts what A sent (before the Injector) and what
// got through (after it).
func TestInjectorWithCounter(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var before, after Counter
		in, err := NewInjector(w.router, w.start, []Fault{
			{Class: DTLSAlert, From: ipA, Action: ActionDrop},
			{Class: SRTP, From: ipA, Action: ActionDuplicate, Delay: time.Millisecond},
		}, nil)
		if err != nil {
			t.Fatalf("NewInjector: %v", err)
		}
		w.router.AddChunkFilter(before.ChunkFilter())
		w.router.AddChunkFilter(in.ChunkFilter())
		w.router.AddChunkFilter(after.ChunkFilter())

		w.run([]send{{class: DTLSAlert}, {class: SRTP}, {class: STUN}})
		w.finish()
		_ = in.Close()

		rows := func(c *Counter) []string {
			var out []string
			for _, e := range c.Snapshot() {
				out = append(out, fmt.Sprintf("%s>%s %s %d", e.From, e.To, e.Class, e.Packets))
			}

			return out
		}
		// The duplicate re-enters the router, so "before" sees it too.
		wantBefore := []string{
			"10.0.0.1>10.0.0.2 stun 1", "10.0.0.1>10.0.0.2 dtls-alert 1", "10.0.0.1>10.0.0.2 srtp 2",
			"10.0.0.2>10.0.0.1 stun 1", "10.0.0.2>10.0.0.1 srtp 2",
		}
		wantAfter := []string{
			"10.0.0.1>10.0.0.2 stun 1", "10.0.0.1>10.0.0.2 srtp 2",
			"10.0.0.2>10.0.0.1 stun 1", "10.0.0.2>10.0.0.1 srtp 2",
		}
		if got := rows(&before); !slices.Equal(got, wantBefore) {
			t.Errorf("before = %q, want %q", got, wantBefore)
		}
		if got := rows(&after); !slices.Equal(got, wantAfter) {
			t.Errorf("after = %q, want %q", got, wantAfter)
		}
	})
}

// TestInjectorClose checks that closing the Injector cancels a pending
// delayed packet and lets later packets through untouched.
func TestInjectorClose(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		in, err := NewInjector(w.router, w.start, []Fault{{Class: STUN, From: ipA, Action: ActionDelay, Delay: time.Second}}, nil)
		if err != nil {
			t.Fatalf("NewInjector: %v", err)
		}
		w.router.AddChunkFilter(in.ChunkFilter())

		w.run([]send{{at: 0, class: STUN, tag: 1}})
		time.Sleep(500 * time.Millisecond)
		if err := in.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := in.Close(); err != nil {
			t.Fatalf("second Close: %v", err)
		}
		w.run([]send{{at: 600 * time.Millisecond, class: STUN, tag: 2}})
		w.finish()

		want := at(600*time.Millisecond, "stun#2")
		if got := w.b.arrivals(); !sameArrivals(got, want) {
			t.Errorf("B got %v, want %v", got, want)
		}
		if got := in.Hits(); !slices.Equal(got, []int{1}) {
			t.Errorf("Hits() = %v", got)
		}
	})
}

// TestFilterDrop runs the drop-only Filter over the vnet.
func TestFilterDrop(t *testing.T) {
	// From names B by its address, or by a list of addresses one of which
	// is B's (a host with two addresses).
	for _, from := range []string{ipB, "10.0.0.9," + ipB} {
		t.Run(from, func(t *testing.T) { testFilterDrop(t, from) })
	}
}

func testFilterDrop(t *testing.T, from string) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		var hits []string
		w.router.AddChunkFilter(Filter(w.start, []Fault{
			{Class: DTLSAlert, From: from, Action: ActionDrop},
			{Class: SRTP, Action: ActionDrop, After: time.Second, FirstN: 1},
		}, func(h Hit) { hits = append(hits, h.Fault.String()+" / "+string(h.Class)) }))

		w.run(slices.Concat(everyClass(0, 0), everyClass(time.Second, 1)))
		w.finish()

		wantB := cat(at(0, labels(0)...), at(time.Second, labels(1, SRTP)...))
		wantA := cat(at(0, labels(0, DTLSAlert)...), at(time.Second, labels(1, SRTP, DTLSAlert)...))
		if got := w.b.arrivals(); !sameArrivals(got, wantB) {
			t.Errorf("B got\n%v\nwant\n%v", got, wantB)
		}
		if got := w.a.arrivals(); !sameArrivals(got, wantA) {
			t.Errorf("A got\n%v\nwant\n%v", got, wantA)
		}
		wantHits := []string{
			"drop dtls-alert " + from + "->* / dtls-alert",
			"drop srtp *->* after 1s first 1 / srtp",
			"drop dtls-alert " + from + "->* / dtls-alert",
		}
		slices.Sort(hits) // A's sends and B's echoes can interleave
		slices.Sort(wantHits)
		if !slices.Equal(hits, wantHits) {
			t.Errorf("hits = %q, want %q", hits, wantHits)
		}
	})
}

func TestFilterPanics(t *testing.T) {
	tests := []struct {
		name   string
		faults []Fault
		want   string
	}{
		{"delay", []Fault{{Class: STUN, Action: ActionDelay, Delay: time.Millisecond}}, "NewInjector"},
		{"duplicate", []Fault{{Action: ActionDrop}, {Action: ActionDuplicate}}, "NewInjector"},
		{"invalid", []Fault{{Action: "reorder"}}, "unknown action"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			defer func() {
				r := recover()
				if r == nil || !strings.Contains(fmt.Sprint(r), tt.want) {
					t.Errorf("recover() = %v, want a panic mentioning %q", r, tt.want)
				}
			}()
			Filter(time.Time{}, tt.faults, nil)
		})
	}
}

func TestFaultValidate(t *testing.T) {
	tests := []struct {
		name  string
		fault Fault
		want  []string // substrings of the error; nil = valid
	}{
		{"drop any", Fault{Action: ActionDrop}, nil},
		{"full delay", Fault{Class: DTLSAlert, From: ipA, To: "::1", Action: ActionDelay, FirstN: 3, After: time.Second, Delay: time.Millisecond}, nil},
		{"duplicate", Fault{Class: SRTP, Action: ActionDuplicate}, nil},
		{"no action", Fault{}, []string{`unknown action ""`}},
		{"bad class", Fault{Class: "rtp", Action: ActionDrop}, []string{`unknown class "rtp"`}},
		{"bad ips", Fault{From: "peer-a", To: "10.0.0.300", Action: ActionDrop}, []string{`from "peer-a"`, `to "10.0.0.300"`}},
		{"ip lists", Fault{From: ipA + "," + ipB, To: "10.0.0.3,10.0.0.4", Action: ActionDrop}, nil},
		{"bad ip in a list", Fault{From: ipA + ",b", Action: ActionDrop}, []string{`from "10.0.0.1,b"`}},
		{"negatives", Fault{Action: ActionDelay, FirstN: -1, After: -1, Delay: -1}, []string{"negative first_n", "negative after", "negative delay"}},
		{"window", Fault{Action: ActionDrop, After: time.Second, Until: 2 * time.Second}, nil},
		{"empty window", Fault{Action: ActionDrop, After: time.Second, Until: time.Second}, []string{"until 1s must be after"}},
		{"probability", Fault{Action: ActionDrop, Probability: 1.5}, []string{"probability 1.5 outside"}},
		{"loss", Fault{Action: ActionDrop, Probability: 0.1, Seed: 3}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := tt.fault.Validate()
			if (err == nil) != (tt.want == nil) {
				t.Fatalf("Validate() = %v", err)
			}
			for _, w := range tt.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("Validate() = %v, want it to mention %q", err, w)
				}
			}
		})
	}

	err := ValidateFaults([]Fault{{Action: ActionDrop}, {Action: "x"}})
	if err == nil || !strings.Contains(err.Error(), "fault 1:") {
		t.Errorf("ValidateFaults = %v", err)
	}
	if _, err := NewInjector(nil, time.Time{}, nil, nil); err == nil {
		t.Error("NewInjector(nil router) succeeded")
	}
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := NewInjector(router, time.Time{}, []Fault{{Action: "x"}}, nil); err == nil {
		t.Error("NewInjector with an invalid fault succeeded")
	}
}

func TestFaultString(t *testing.T) {
	tests := []struct {
		fault Fault
		want  string
	}{
		{Fault{Action: ActionDrop}, "drop any *->*"},
		{Fault{Class: DTLSAlert, From: ipA, Action: ActionDelay, Delay: 50 * time.Millisecond, After: time.Second, FirstN: 1}, "delay 50ms dtls-alert 10.0.0.1->* after 1s first 1"},
		{Fault{Class: SRTP, To: ipB, Action: ActionDuplicate}, "duplicate srtp *->10.0.0.2"},
		{Fault{Class: SRTP, Action: ActionDuplicate, Delay: time.Millisecond}, "duplicate 1ms srtp *->*"},
		{Fault{Class: STUN, Action: ActionDrop, Delay: time.Second}, "drop stun *->*"},
		{Fault{From: ipA, Action: ActionDrop, After: time.Second, Until: 3 * time.Second, Probability: 0.25}, "drop any 10.0.0.1->* after 1s until 3s p=0.25"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.fault.String(); got != tt.want {
				t.Errorf("String() = %q, want %q", got, tt.want)
			}
		})
	}
}

// TestFilterWindow drops every packet from A in [1s, 2s): a one-way
// partition that heals.
func TestFilterWindow(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t)
		w.router.AddChunkFilter(Filter(w.start, []Fault{{From: ipA, Action: ActionDrop, After: time.Second, Until: 2 * time.Second}}, nil))
		w.run(slices.Concat(everyClass(0, 0), everyClass(time.Second, 1), everyClass(2*time.Second, 2)))
		w.finish()
		wantB := cat(at(0, labels(0)...), at(2*time.Second, labels(2)...))
		if got := w.b.arrivals(); !sameArrivals(got, wantB) {
			t.Errorf("B got\n%v\nwant\n%v", got, wantB)
		}
	})
}

// TestFilterProbability: seeded loss drops some packets, the same ones for
// the same seed, and a share near the probability.
func TestFilterProbability(t *testing.T) {
	lost := func(seed uint64) []string {
		var got []arrival
		synctest.Test(t, func(t *testing.T) {
			w := newWorld(t)
			w.router.AddChunkFilter(Filter(w.start, []Fault{{From: ipA, Action: ActionDrop, Probability: 0.5, Seed: seed}}, nil))
			var sends []send
			for i := range 20 {
				sends = append(sends, everyClass(time.Duration(i)*time.Second, byte(i))...)
			}
			w.run(sends)
			w.finish()
			got = w.b.arrivals()
		})
		out := make([]string, len(got))
		for i, a := range got {
			out[i] = a.label
		}
		slices.Sort(out)
		return out
	}
	a, b, c := lost(1), lost(1), lost(2)
	total := 20 * len(Classes())
	if !slices.Equal(a, b) {
		t.Errorf("same seed, different losses:\n%v\n%v", a, b)
	}
	if slices.Equal(a, c) {
		t.Errorf("seeds 1 and 2 lost the same packets")
	}
	if n := len(a); n < total*3/10 || n > total*7/10 {
		t.Errorf("%d of %d packets arrived with p=0.5", n, total)
	}
}

// TestDrawIgnoresOrder: a packet's draw depends on its class, direction
// and place in that stream, not on how streams interleave.
func TestDrawIgnoresOrder(t *testing.T) {
	faults := []Fault{{Action: ActionDrop, Probability: 0.5, Seed: 7}}
	a, b := net.ParseIP(ipA), net.ParseIP(ipB)
	e1, e2 := newEngine(time.Time{}, faults, nil), newEngine(time.Time{}, faults, nil)
	x1, y1 := e1.draw(0, STUN, a, b), e1.draw(0, STUN, b, a)
	y2, x2 := e2.draw(0, STUN, b, a), e2.draw(0, STUN, a, b)
	if x1 != x2 || y1 != y2 {
		t.Errorf("draws depend on order: A->B %v/%v, B->A %v/%v", x1, x2, y1, y2)
	}
	if again := e1.draw(0, STUN, a, b); again == x1 {
		t.Errorf("the next packet of the stream got the same draw %v", again)
	}
	other := newEngine(time.Time{}, []Fault{{Action: ActionDrop, Probability: 0.5, Seed: 8}}, nil)
	if other.draw(0, STUN, a, b) == x1 {
		t.Errorf("seeds 7 and 8 drew the same")
	}
}
