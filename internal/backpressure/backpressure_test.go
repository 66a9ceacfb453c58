package backpressure

import (
	"errors"
	"fmt"
	"net"
	"os"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"github.com/pion/logging"
	"github.com/pion/transport/v5"
	"github.com/pion/transport/v5/vnet"
)

const ms = time.Millisecond

var (
	addrA = &net.UDPAddr{IP: net.ParseIP("10.0.0.1"), Port: 5000}
	addrB = &net.UDPAddr{IP: net.ParseIP("10.0.0.2"), Port: 5000}
)

// arrival is one datagram read by the receiver.
type arrival struct {
	at      time.Duration
	payload []byte
}

// world is a vnet router with peer A behind a backpressure Net and peer B
// (plain vnet) receiving on addrB. Build it inside a synctest bubble.
type world struct {
	t      *testing.T
	start  time.Time
	router *vnet.Router
	vnA    *vnet.Net
	a      *Net
	rx     transport.UDPConn
	rxDone chan struct{}

	mu  sync.Mutex
	got []arrival
}

func newWorld(t *testing.T, cfg Config) *world {
	t.Helper()
	router, err := vnet.NewRouter(&vnet.RouterConfig{CIDR: "10.0.0.0/24", LoggerFactory: logging.NewDefaultLoggerFactory()})
	if err != nil {
		t.Fatalf("NewRouter: %v", err)
	}
	mk := func(ip string) *vnet.Net {
		vn, err := vnet.NewNet(&vnet.NetConfig{StaticIPs: []string{ip}})
		if err != nil {
			t.Fatalf("NewNet: %v", err)
		}
		if err := router.AddNet(vn); err != nil {
			t.Fatalf("AddNet: %v", err)
		}

		return vn
	}
	w := &world{t: t, start: time.Now(), router: router, vnA: mk("10.0.0.1"), rxDone: make(chan struct{})}
	vnB := mk("10.0.0.2")
	w.a = New(w.vnA, cfg)
	if err := router.Start(); err != nil {
		t.Fatalf("router.Start: %v", err)
	}
	if w.rx, err = vnB.ListenUDP("udp4", addrB); err != nil {
		t.Fatalf("ListenUDP: %v", err)
	}
	go func() {
		defer close(w.rxDone)
		buf := make([]byte, 2048)
		for {
			n, _, err := w.rx.ReadFrom(buf)
			if err != nil {
				return
			}
			w.mu.Lock()
			w.got = append(w.got, arrival{at: w.now(), payload: slices.Clone(buf[:n])})
			w.mu.Unlock()
		}
	}()
	t.Cleanup(func() {
		_ = w.rx.Close()
		<-w.rxDone
		if err := router.Stop(); err != nil {
			t.Errorf("router.Stop: %v", err)
		}
	})

	return w
}

func (w *world) now() time.Duration {
	return time.Since(w.start)
}

func (w *world) arrivals() []arrival {
	w.mu.Lock()
	defer w.mu.Unlock()

	return slices.Clone(w.got)
}

// listen opens A's wrapped socket.
func (w *world) listen() transport.UDPConn {
	w.t.Helper()
	c, err := w.a.ListenUDP("udp4", addrA)
	if err != nil {
		w.t.Fatalf("ListenUDP: %v", err)
	}

	return c
}

// payload builds a datagram of size bytes whose first byte is id (and the
// second seq, if it fits).
func payload(size int, id, seq byte) []byte {
	p := make([]byte, size)
	if size > 0 {
		p[0] = id
	}
	if size > 1 {
		p[1] = seq
	}

	return p
}

// writeAll writes one datagram per size to addrB and returns when each
// write returned, in virtual time.
func (w *world) writeAll(c transport.UDPConn, id byte, sizes []int) []time.Duration {
	var out []time.Duration
	for i, size := range sizes {
		if _, err := c.WriteTo(payload(size, id, byte(i)), addrB); err != nil {
			w.t.Errorf("write %d: %v", i, err)
		}
		out = append(out, w.now())
	}

	return out
}

func durations(ds ...time.Duration) []time.Duration { return ds }

func repeat(n, size int) []int { return slices.Repeat([]int{size}, n) }

func TestPacedWrites(t *testing.T) {
	tests := []struct {
		name        string
		cfg         Config
		sizes       []int
		wantAt0     Stats // Stats once every goroutine is blocked at t=0
		wantWrites  []time.Duration
		wantArrived []time.Duration
		wantParks   int
	}{
		{
			name:        "queue of three packets",
			cfg:         Config{QueueBytes: 300, Rate: 1000},
			sizes:       repeat(6, 100),
			wantAt0:     Stats{QueuedBytes: 300, QueuedPackets: 2, Parked: 1, MaxParked: 1, Parks: 1, Sent: 1, SentBytes: 100},
			wantWrites:  durations(0, 0, 0, 100*ms, 200*ms, 300*ms),
			wantArrived: durations(0, 100*ms, 200*ms, 300*ms, 400*ms, 500*ms),
			wantParks:   3,
		},
		{
			name:        "queue not a multiple of the packet",
			cfg:         Config{QueueBytes: 250, Rate: 1000},
			sizes:       repeat(5, 100),
			wantAt0:     Stats{QueuedBytes: 200, QueuedPackets: 1, Parked: 1, MaxParked: 1, Parks: 1, Sent: 1, SentBytes: 100},
			wantWrites:  durations(0, 0, 100*ms, 200*ms, 300*ms),
			wantArrived: durations(0, 100*ms, 200*ms, 300*ms, 400*ms),
			wantParks:   3,
		},
		{
			name:        "unbounded queue is paced but never blocks",
			cfg:         Config{Rate: 2000},
			sizes:       repeat(4, 100),
			wantAt0:     Stats{QueuedBytes: 400, QueuedPackets: 3, Sent: 1, SentBytes: 100},
			wantWrites:  durations(0, 0, 0, 0),
			wantArrived: durations(0, 50*ms, 100*ms, 150*ms),
		},
		{
			name:        "no rate writes through",
			cfg:         Config{QueueBytes: 100},
			sizes:       repeat(4, 100),
			wantAt0:     Stats{Sent: 4, SentBytes: 400},
			wantWrites:  durations(0, 0, 0, 0),
			wantArrived: durations(0, 0, 0, 0),
		},
		{
			name:        "oversized packet fits an empty queue",
			cfg:         Config{QueueBytes: 300, Rate: 1000},
			sizes:       []int{500, 100},
			wantAt0:     Stats{QueuedBytes: 500, Parked: 1, MaxParked: 1, Parks: 1, Sent: 1, SentBytes: 500},
			wantWrites:  durations(0, 500*ms),
			wantArrived: durations(0, 500*ms),
			wantParks:   1,
		},
		{
			name:        "mixed sizes",
			cfg:         Config{QueueBytes: 300, Rate: 1000},
			sizes:       []int{200, 200, 50},
			wantAt0:     Stats{QueuedBytes: 200, Parked: 1, MaxParked: 1, Parks: 1, Sent: 1, SentBytes: 200},
			wantWrites:  durations(0, 200*ms, 200*ms),
			wantArrived: durations(0, 200*ms, 400*ms),
			wantParks:   1,
		},
		{
			name:        "rate rounds the link time up to a nanosecond",
			cfg:         Config{QueueBytes: 10, Rate: 3},
			sizes:       []int{1, 1, 1},
			wantAt0:     Stats{QueuedBytes: 3, QueuedPackets: 2, Sent: 1, SentBytes: 1},
			wantWrites:  durations(0, 0, 0),
			wantArrived: durations(0, 333333334, 666666668),
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, tt.cfg)
				c := w.listen()

				var writes []time.Duration
				done := make(chan struct{})
				go func() {
					defer close(done)
					writes = w.writeAll(c, 1, tt.sizes)
				}()
				synctest.Wait()
				if got := w.a.Stats(); got != tt.wantAt0 {
					t.Errorf("Stats() at t=0 = %+v, want %+v", got, tt.wantAt0)
				}
				<-done
				time.Sleep(10 * time.Second)

				if !slices.Equal(writes, tt.wantWrites) {
					t.Errorf("writes returned at %v, want %v", writes, tt.wantWrites)
				}
				var arrived []time.Duration
				for i, a := range w.arrivals() {
					arrived = append(arrived, a.at)
					if len(a.payload) != tt.sizes[i] || (len(a.payload) > 1 && a.payload[1] != byte(i)) {
						t.Errorf("arrival %d: % x, want %d bytes with seq %d", i, a.payload, tt.sizes[i], i)
					}
				}
				if !slices.Equal(arrived, tt.wantArrived) {
					t.Errorf("arrived at %v, want %v", arrived, tt.wantArrived)
				}
				sum := 0
				for _, s := range tt.sizes {
					sum += s
				}
				want := Stats{
					MaxParked: tt.wantAt0.MaxParked,
					Parks:     tt.wantParks,
					Sent:      len(tt.sizes),
					SentBytes: sum,
				}
				if got := w.a.Stats(); got != want {
					t.Errorf("final Stats() = %+v, want %+v", got, want)
				}
				if err := c.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
			})
		})
	}
}

// TestParkedWritersFIFO parks three writers in turn and checks they are
// admitted in that order, a small one not overtaking a big one.
func TestParkedWritersFIFO(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, Config{QueueBytes: 300, Rate: 1000})
		c := w.listen()
		w.writeAll(c, 0, repeat(3, 100))

		type result struct {
			id byte
			at time.Duration
		}
		results := make(chan result, 3)
		for i, size := range []int{300, 10, 100} {
			id := byte(i + 1)
			go func() {
				if _, err := c.WriteTo(payload(size, id, 0), addrB); err != nil {
					t.Errorf("writer %d: %v", id, err)
				}
				results <- result{id, w.now()}
			}()
			synctest.Wait() // parked before the next one starts
		}
		if st := w.a.Stats(); st.Parked != 3 || st.MaxParked != 3 || st.QueuedBytes != 300 {
			t.Errorf("Stats() with three parked writers = %+v", st)
		}

		var got []result
		for range 3 {
			got = append(got, <-results)
		}
		slices.SortFunc(got, func(a, b result) int { return int(a.id) - int(b.id) })
		want := []result{{1, 300 * ms}, {2, 600 * ms}, {3, 600 * ms}}
		if !slices.Equal(got, want) {
			t.Errorf("writers returned %v, want %v", got, want)
		}

		time.Sleep(time.Second)
		var order []string
		for _, a := range w.arrivals() {
			order = append(order, fmt.Sprintf("%v id%d", a.at, a.payload[0]))
		}
		wantOrder := []string{"0s id0", "100ms id0", "200ms id0", "300ms id1", "600ms id2", "610ms id3"}
		if !slices.Equal(order, wantOrder) {
			t.Errorf("arrivals %q, want %q", order, wantOrder)
		}
		if st := w.a.Stats(); st.Parked != 0 || st.MaxParked != 3 || st.Parks != 3 || st.QueuedBytes != 0 {
			t.Errorf("final Stats() = %+v", st)
		}
		_ = c.Close()
	})
}

func TestWriteDeadline(t *testing.T) {
	type change struct {
		at       time.Duration
		deadline time.Duration // relative to start; -1 = clear
		both     bool          // SetDeadline instead of SetWriteDeadline
	}
	tests := []struct {
		name      string
		prefill   bool // fill the 100-byte queue (free again at 100ms)
		changes   []change
		wantErr   bool
		wantAt    time.Duration
		wantSent  int
		wantParks int
	}{
		{name: "no deadline", prefill: true, wantAt: 100 * ms, wantSent: 2, wantParks: 1},
		{name: "deadline before room frees", prefill: true, changes: []change{{0, 40 * ms, false}}, wantErr: true, wantAt: 40 * ms, wantSent: 1, wantParks: 1},
		{name: "SetDeadline too", prefill: true, changes: []change{{0, 40 * ms, true}}, wantErr: true, wantAt: 40 * ms, wantSent: 1, wantParks: 1},
		{name: "deadline after room frees", prefill: true, changes: []change{{0, 150 * ms, false}}, wantAt: 100 * ms, wantSent: 2, wantParks: 1},
		{name: "deadline set to now while parked", prefill: true, changes: []change{{30 * ms, 30 * ms, false}}, wantErr: true, wantAt: 30 * ms, wantSent: 1, wantParks: 1},
		{name: "deadline set to the past while parked", prefill: true, changes: []change{{30 * ms, 10 * ms, false}}, wantErr: true, wantAt: 30 * ms, wantSent: 1, wantParks: 1},
		{name: "deadline set while parked", prefill: true, changes: []change{{30 * ms, 70 * ms, false}}, wantErr: true, wantAt: 70 * ms, wantSent: 1, wantParks: 1},
		{name: "deadline extended while parked", prefill: true, changes: []change{{0, 40 * ms, false}, {20 * ms, 200 * ms, false}}, wantAt: 100 * ms, wantSent: 2, wantParks: 1},
		{name: "deadline shortened while parked", prefill: true, changes: []change{{0, 90 * ms, false}, {20 * ms, 50 * ms, false}}, wantErr: true, wantAt: 50 * ms, wantSent: 1, wantParks: 1},
		{name: "deadline cleared while parked", prefill: true, changes: []change{{0, 40 * ms, false}, {20 * ms, -1, false}}, wantAt: 100 * ms, wantSent: 2, wantParks: 1},
		{name: "deadline passed with room", changes: []change{{0, 0, false}}, wantErr: true, wantAt: 0, wantSent: 0},
		{name: "deadline in the future with room", changes: []change{{0, 10 * ms, false}}, wantAt: 0, wantSent: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, Config{QueueBytes: 100, Rate: 1000})
				c := w.listen()
				if tt.prefill {
					w.writeAll(c, 0, []int{100})
				}
				apply := func(ch change) {
					d := time.Time{}
					if ch.deadline >= 0 {
						d = w.start.Add(ch.deadline)
					}
					set := c.SetWriteDeadline
					if ch.both {
						set = c.SetDeadline
					}
					if err := set(d); err != nil {
						t.Errorf("set deadline: %v", err)
					}
				}
				var later []change
				for _, ch := range tt.changes {
					if ch.at == 0 {
						apply(ch)
					} else {
						later = append(later, ch)
					}
				}
				go func() {
					for _, ch := range later {
						time.Sleep(time.Until(w.start.Add(ch.at)))
						apply(ch)
					}
				}()

				_, err := c.WriteTo(payload(100, 1, 0), addrB)
				at := w.now()
				if tt.wantErr {
					var ne net.Error
					if !errors.Is(err, os.ErrDeadlineExceeded) || !errors.As(err, &ne) || !ne.Timeout() {
						t.Errorf("WriteTo err = %v, want a timeout wrapping os.ErrDeadlineExceeded", err)
					}
				} else if err != nil {
					t.Errorf("WriteTo err = %v", err)
				}
				if at != tt.wantAt {
					t.Errorf("WriteTo returned at %v, want %v", at, tt.wantAt)
				}

				time.Sleep(time.Second)
				st := w.a.Stats()
				if len(w.arrivals()) != tt.wantSent || st.Sent != tt.wantSent || st.Parks != tt.wantParks || st.Parked != 0 || st.QueuedBytes != 0 {
					t.Errorf("%d arrivals, Stats() = %+v; want %d sent, %d parks", len(w.arrivals()), st, tt.wantSent, tt.wantParks)
				}
				if wantTimeouts := map[bool]int{true: 1}[tt.wantErr]; st.Timeouts != wantTimeouts {
					t.Errorf("Timeouts = %d, want %d", st.Timeouts, wantTimeouts)
				}
				_ = c.Close()
			})
		})
	}
}

// TestDeadlineFailsAllParkedWriters parks three writers and lets the
// deadline fail all of them at once, then writes again after clearing it.
func TestDeadlineFailsAllParkedWriters(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, Config{QueueBytes: 100, Rate: 1000})
		c := w.listen()
		w.writeAll(c, 0, []int{100})
		if err := c.SetWriteDeadline(w.start.Add(60 * ms)); err != nil {
			t.Fatal(err)
		}

		errs := make(chan error, 3)
		for i := range 3 {
			go func() {
				_, err := c.WriteTo(payload(10, byte(i+1), 0), addrB)
				errs <- err
			}()
		}
		synctest.Wait()
		if st := w.a.Stats(); st.Parked != 3 {
			t.Fatalf("Parked = %d, want 3", st.Parked)
		}
		for range 3 {
			if err := <-errs; !errors.Is(err, os.ErrDeadlineExceeded) {
				t.Errorf("parked writer: %v, want a deadline error", err)
			}
		}
		if w.now() != 60*ms {
			t.Errorf("writers failed at %v, want 60ms", w.now())
		}

		// Cleared, a new writer parks until the link frees at 100ms.
		if err := c.SetWriteDeadline(time.Time{}); err != nil {
			t.Fatal(err)
		}
		if got := w.writeAll(c, 9, []int{10}); !slices.Equal(got, durations(100*ms)) {
			t.Errorf("write after clearing returned at %v, want 100ms", got)
		}
		time.Sleep(time.Second)
		var ids []string
		for _, a := range w.arrivals() {
			ids = append(ids, fmt.Sprintf("%v id%d", a.at, a.payload[0]))
		}
		if want := []string{"0s id0", "100ms id9"}; !slices.Equal(ids, want) {
			t.Errorf("arrivals %q, want %q", ids, want)
		}
		if st := w.a.Stats(); st.Timeouts != 3 || st.Parked != 0 || st.MaxParked != 3 || st.Parks != 4 {
			t.Errorf("Stats() = %+v", st)
		}
		_ = c.Close()
	})
}

func TestClose(t *testing.T) {
	tests := []struct {
		name        string
		prefill     int // 100-byte datagrams written first (queue 300, 100ms each)
		parked      int // writers parked behind them
		closeAt     time.Duration
		wantArrived int
		wantFlushed int
	}{
		{name: "idle", closeAt: 50 * ms},
		{name: "idle after draining", prefill: 2, closeAt: 500 * ms, wantArrived: 2},
		{name: "on the link", prefill: 1, closeAt: 50 * ms, wantArrived: 1},
		{name: "queued", prefill: 3, closeAt: 150 * ms, wantArrived: 2, wantFlushed: 1},
		{name: "parked writers", prefill: 3, parked: 2, closeAt: 50 * ms, wantArrived: 1, wantFlushed: 2},
		{name: "parked writers at once", prefill: 3, parked: 3, closeAt: 0, wantArrived: 1, wantFlushed: 2},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, Config{QueueBytes: 300, Rate: 1000})
				c := w.listen()
				w.writeAll(c, 0, repeat(tt.prefill, 100))

				type result struct {
					err error
					at  time.Duration
				}
				results := make(chan result, tt.parked)
				for i := range tt.parked {
					go func() {
						_, err := c.WriteTo(payload(100, byte(i+1), 0), addrB)
						results <- result{err, w.now()}
					}()
				}
				synctest.Wait()
				if st := w.a.Stats(); st.Parked != tt.parked {
					t.Fatalf("Parked = %d, want %d", st.Parked, tt.parked)
				}

				time.Sleep(tt.closeAt)
				if err := c.Close(); err != nil {
					t.Fatalf("Close: %v", err)
				}
				if w.now() != tt.closeAt {
					t.Errorf("Close returned at %v, want %v (it must not wait for the link)", w.now(), tt.closeAt)
				}
				for range tt.parked {
					r := <-results
					if !errors.Is(r.err, net.ErrClosed) || r.at != tt.closeAt {
						t.Errorf("parked writer returned %v at %v, want net.ErrClosed at %v", r.err, r.at, tt.closeAt)
					}
				}

				if _, err := c.WriteTo(payload(10, 9, 0), addrB); !errors.Is(err, net.ErrClosed) {
					t.Errorf("WriteTo after Close = %v, want net.ErrClosed", err)
				}
				if err := c.Close(); !errors.Is(err, net.ErrClosed) {
					t.Errorf("second Close = %v, want net.ErrClosed", err)
				}
				if _, _, err := c.ReadFrom(make([]byte, 10)); err == nil {
					t.Error("ReadFrom after Close succeeded")
				}

				time.Sleep(time.Second)
				if got := len(w.arrivals()); got != tt.wantArrived+tt.wantFlushed {
					t.Errorf("%d datagrams arrived, want %d (%d sent on the link, %d flushed by Close)", got, tt.wantArrived+tt.wantFlushed, tt.wantArrived, tt.wantFlushed)
				}
				st := w.a.Stats()
				want := Stats{
					MaxParked: tt.parked,
					Parks:     tt.parked,
					Sent:      tt.wantArrived + tt.wantFlushed,
					SentBytes: 100 * (tt.wantArrived + tt.wantFlushed),
					Flushed:   tt.wantFlushed,
				}
				if st != want {
					t.Errorf("Stats() = %+v, want %+v", st, want)
				}
				// Returning from the bubble checks that no goroutine (drain,
				// parked writer) is left behind.
			})
		})
	}
}

// TestOrder runs concurrent writers with random sizes and checks every
// datagram arrives, each writer's in order, and the queue never exceeds
// its capacity.
func TestOrder(t *testing.T) {
	const (
		writers   = 4
		perWriter = 100
		queue     = 1000
	)
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, Config{QueueBytes: queue, Rate: 20000})
		c := w.listen()

		stop := make(chan struct{})
		monitorDone := make(chan struct{})
		go func() {
			defer close(monitorDone)
			for {
				if st := w.a.Stats(); st.QueuedBytes > queue || st.QueuedBytes < 0 {
					t.Errorf("QueuedBytes = %d", st.QueuedBytes)
				}
				select {
				case <-stop:
					return
				case <-time.After(ms):
				}
			}
		}()

		var wg sync.WaitGroup
		for id := range writers {
			wg.Go(func() {
				for seq := range perWriter {
					size := 2 + (seq*37+id*11)%300
					if _, err := c.WriteTo(payload(size, byte(id), byte(seq)), addrB); err != nil {
						t.Errorf("writer %d: %v", id, err)
					}
				}
			})
		}
		wg.Wait()
		time.Sleep(10 * time.Second)
		close(stop)
		<-monitorDone

		next := make([]int, writers)
		got := w.arrivals()
		for _, a := range got {
			id, seq := int(a.payload[0]), int(a.payload[1])
			if seq != next[id] {
				t.Fatalf("writer %d: got seq %d, want %d", id, seq, next[id])
			}
			next[id]++
		}
		if len(got) != writers*perWriter {
			t.Errorf("%d arrivals, want %d", len(got), writers*perWriter)
		}
		if st := w.a.Stats(); st.MaxParked < 2 || st.Parked != 0 || st.QueuedBytes != 0 || st.Sent != writers*perWriter {
			t.Errorf("Stats() = %+v", st)
		}
		_ = c.Close()
	})
}

// plainNet is a vnet whose ListenPacket returns a bare net.PacketConn, to
// reach the wrapper for sockets that are not a transport.UDPConn.
type plainNet struct{ *vnet.Net }

type barePacketConn struct{ net.PacketConn }

func (p plainNet) ListenPacket(network, address string) (net.PacketConn, error) {
	pc, err := p.Net.ListenPacket(network, address)
	if err != nil {
		return nil, err
	}

	return barePacketConn{pc}, nil
}

func TestSocketKinds(t *testing.T) {
	tests := []struct {
		name   string
		open   func(w *world) (net.PacketConn, error)
		write  func(pc net.PacketConn, b []byte) (int, error)
		isUDP  bool
		plain  bool
		closer bool
	}{
		{
			name:  "ListenUDP",
			open:  func(w *world) (net.PacketConn, error) { return w.a.ListenUDP("udp4", addrA) },
			write: func(pc net.PacketConn, b []byte) (int, error) { return pc.WriteTo(b, addrB) },
			isUDP: true,
		},
		{
			name: "ListenUDP WriteToUDP",
			open: func(w *world) (net.PacketConn, error) { return w.a.ListenUDP("udp4", addrA) },
			write: func(pc net.PacketConn, b []byte) (int, error) {
				return pc.(transport.UDPConn).WriteToUDP(b, addrB)
			},
			isUDP: true,
		},
		{
			name:  "ListenPacket",
			open:  func(w *world) (net.PacketConn, error) { return w.a.ListenPacket("udp4", addrA.String()) },
			write: func(pc net.PacketConn, b []byte) (int, error) { return pc.WriteTo(b, addrB) },
			isUDP: true,
		},
		{
			name: "DialUDP Write",
			open: func(w *world) (net.PacketConn, error) { return w.a.DialUDP("udp4", addrA, addrB) },
			write: func(pc net.PacketConn, b []byte) (int, error) {
				return pc.(transport.UDPConn).Write(b)
			},
			isUDP: true,
		},
		{
			name:  "bare PacketConn",
			open:  func(w *world) (net.PacketConn, error) { return w.a.ListenPacket("udp4", addrA.String()) },
			write: func(pc net.PacketConn, b []byte) (int, error) { return pc.WriteTo(b, addrB) },
			plain: true,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				w := newWorld(t, Config{QueueBytes: 100, Rate: 1000})
				if tt.plain {
					w.a = New(plainNet{w.vnA}, w.a.Config())
				}
				pc, err := tt.open(w)
				if err != nil {
					t.Fatalf("open: %v", err)
				}
				if _, ok := pc.(transport.UDPConn); ok != tt.isUDP {
					t.Errorf("socket %T is a transport.UDPConn: %v, want %v", pc, ok, tt.isUDP)
				}
				if _, ok := pc.(*vnet.UDPConn); ok {
					t.Errorf("socket was not wrapped")
				}

				var returned []time.Duration
				for i := range 3 {
					if _, err := tt.write(pc, payload(100, 0, byte(i))); err != nil {
						t.Fatalf("write %d: %v", i, err)
					}
					returned = append(returned, w.now())
				}
				if want := durations(0, 100*ms, 200*ms); !slices.Equal(returned, want) {
					t.Errorf("writes returned at %v, want %v", returned, want)
				}

				// SetDeadline reaches both the queue and the inner read.
				if err := pc.SetDeadline(w.start.Add(250 * ms)); err != nil {
					t.Fatal(err)
				}
				if _, err := tt.write(pc, payload(100, 0, 3)); !errors.Is(err, os.ErrDeadlineExceeded) || w.now() != 250*ms {
					t.Errorf("write past the deadline: %v at %v", err, w.now())
				}
				if _, _, err := pc.ReadFrom(make([]byte, 10)); err == nil || w.now() != 250*ms {
					t.Errorf("read past the deadline: %v at %v", err, w.now())
				}
				if err := pc.Close(); err != nil {
					t.Errorf("Close: %v", err)
				}
				if err := pc.Close(); !errors.Is(err, net.ErrClosed) {
					t.Errorf("second Close: %v", err)
				}
				time.Sleep(time.Second)
				if got := len(w.arrivals()); got != 3 {
					t.Errorf("%d arrivals, want 3", got)
				}
			})
		})
	}
}

func TestWriteErrors(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, Config{QueueBytes: 100, Rate: 1000})
		c := w.listen()
		defer c.Close()

		tests := []struct {
			name  string
			write func() (int, error)
			want  error
		}{
			{"WriteTo a non-UDP address", func() (int, error) { return c.WriteTo([]byte{1}, &net.TCPAddr{}) }, transport.ErrNotUDPAddress},
			{"WriteTo nil", func() (int, error) { return c.WriteTo([]byte{1}, nil) }, transport.ErrNotUDPAddress},
			{"WriteTo a nil *UDPAddr", func() (int, error) { return c.WriteTo([]byte{1}, (*net.UDPAddr)(nil)) }, transport.ErrNotUDPAddress},
			{"WriteToUDP nil", func() (int, error) { return c.WriteToUDP([]byte{1}, nil) }, transport.ErrNotUDPAddress},
			{"Write unconnected", func() (int, error) { return c.Write([]byte{1}) }, nil},
		}
		for _, tt := range tests {
			n, err := tt.write()
			if err == nil || n != 0 || (tt.want != nil && !errors.Is(err, tt.want)) {
				t.Errorf("%s: %d, %v; want an error wrapping %v", tt.name, n, err, tt.want)
			}
		}
		if _, _, err := c.WriteMsgUDP([]byte{1}, nil, addrB); !errors.Is(err, transport.ErrNotSupported) {
			t.Errorf("WriteMsgUDP: %v, want vnet's ErrNotSupported", err)
		}
		// Rejected writes never reach the queue.
		if st := w.a.Stats(); st != (Stats{}) {
			t.Errorf("Stats() = %+v, want zero", st)
		}

		// A vnet with no router rejects every send: with a queue the writer
		// has already been told it succeeded, without one it gets the error.
		lone, err := vnet.NewNet(&vnet.NetConfig{})
		if err != nil {
			t.Fatal(err)
		}
		for _, cfg := range []Config{{QueueBytes: 100, Rate: 1000}, {}} {
			n := New(lone, cfg)
			lc, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.IPv4zero, Port: 6000})
			if err != nil {
				t.Fatalf("ListenUDP on a lone vnet: %v", err)
			}
			_, err = lc.WriteTo([]byte{1}, addrB)
			synctest.Wait()
			st := n.Stats()
			if queued := cfg.Rate > 0; (err == nil) != queued || st.SendErrors != 1 || st.Sent != 1 {
				t.Errorf("%+v: WriteTo = %v, Stats() = %+v", cfg, err, st)
			}
			_ = lc.Close()
		}
	})
}

func TestPassThrough(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorld(t, Config{QueueBytes: 100, Rate: 1000})
		n := w.a
		if n.Inner() != transport.Net(w.vnA) || n.Config() != (Config{QueueBytes: 100, Rate: 1000}) {
			t.Errorf("Inner/Config = %v, %+v", n.Inner(), n.Config())
		}
		if a, err := n.ResolveUDPAddr("udp4", "10.0.0.2:5000"); err != nil || a.String() != addrB.String() {
			t.Errorf("ResolveUDPAddr = %v, %v", a, err)
		}
		if a, err := n.ResolveIPAddr("ip4", "10.0.0.2"); err != nil || a.String() != "10.0.0.2" {
			t.Errorf("ResolveIPAddr = %v, %v", a, err)
		}
		if _, err := n.ResolveTCPAddr("tcp4", "10.0.0.2:80"); err != nil {
			t.Errorf("ResolveTCPAddr: %v", err)
		}
		ifs, err := n.Interfaces()
		if err != nil || len(ifs) == 0 {
			t.Fatalf("Interfaces = %v, %v", ifs, err)
		}
		if _, err := n.InterfaceByName(ifs[0].Name); err != nil {
			t.Errorf("InterfaceByName: %v", err)
		}
		if _, err := n.InterfaceByIndex(ifs[0].Index); err != nil {
			t.Errorf("InterfaceByIndex: %v", err)
		}
		if _, err := n.ListenTCP("tcp", nil); !errors.Is(err, transport.ErrNotSupported) {
			t.Errorf("ListenTCP: %v", err)
		}
		if _, err := n.DialTCP("tcp", nil, &net.TCPAddr{}); !errors.Is(err, transport.ErrNotSupported) {
			t.Errorf("DialTCP: %v", err)
		}
		if n.CreateDialer(&net.Dialer{}) == nil || n.CreateListenConfig(&net.ListenConfig{}) == nil {
			t.Error("CreateDialer/CreateListenConfig returned nil")
		}
		// Dial is passed through: the socket is vnet's own.
		c, err := n.Dial("udp4", addrB.String())
		if err != nil {
			t.Fatalf("Dial: %v", err)
		}
		if _, ok := c.(*vnet.UDPConn); !ok {
			t.Errorf("Dial returned %T, want *vnet.UDPConn", c)
		}
		_ = c.Close()
		// Errors from the inner Net come back unchanged.
		if _, err := n.ListenUDP("udp4", &net.UDPAddr{IP: net.ParseIP("10.9.9.9"), Port: 1}); err == nil {
			t.Error("ListenUDP on a foreign IP succeeded")
		}
		if _, err := n.DialUDP("udp4", &net.UDPAddr{IP: net.ParseIP("10.9.9.9"), Port: 1}, addrB); err == nil {
			t.Error("DialUDP from a foreign IP succeeded")
		}
		if _, err := n.ListenPacket("udp4", "10.9.9.9:1"); err == nil {
			t.Error("ListenPacket on a foreign IP succeeded")
		}
	})
}

// TestStall checks that nothing leaves during a stall: the drain resumes
// where it stopped when the stall ends, and writers that do not fit the
// queue stay parked until then.
func TestStall(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		start := time.Now()
		w := newWorld(t, Config{QueueBytes: 300, Rate: 1000, StallFrom: start.Add(150 * ms), StallUntil: start.Add(time.Second)})
		c := w.listen()
		writes := w.writeAll(c, 1, repeat(6, 100))
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if want := durations(0, 0, 0, 100*ms, 200*ms, 1100*ms); !slices.Equal(writes, want) {
			t.Errorf("writes returned at %v, want %v", writes, want)
		}
		var got []time.Duration
		for _, a := range w.arrivals() {
			got = append(got, a.at)
		}
		if want := durations(0, 100*ms, time.Second, 1100*ms, 1200*ms, 1300*ms); !slices.Equal(got, want) {
			t.Errorf("arrivals at %v, want %v", got, want)
		}
		_ = c.Close()
	})
}
