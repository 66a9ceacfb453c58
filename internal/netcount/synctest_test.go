package netcount

import (
	"errors"
	"fmt"
	"net"
	"os"
	"strings"
	"testing"
	"testing/synctest"
	"time"
)

// TestInSynctestBubble runs the wrapper over a vnet inside a synctest bubble:
// the router goroutine, the packets and the read deadlines all live on the
// bubble's fake clock, and the events make a deterministic trace.
func TestInSynctestBubble(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		nets := newVNets(t, "10.0.0.1", "10.0.0.2")
		var trace []string
		onEvent := func(peer string) Option {
			return WithOnEvent(func(ev Event) {
				trace = append(trace, fmt.Sprintf("%s %s %s #%d", peer, ev.Op, ev.Socket.Kind, ev.Socket.Seq))
			})
		}
		a, b := New(nets[0], onEvent("a")), New(nets[1], onEvent("b"))

		start := time.Now()
		recv, err := b.ListenUDP("udp4", &net.UDPAddr{IP: ip2, Port: 5000})
		if err != nil {
			t.Fatalf("ListenUDP: %v", err)
		}
		send, err := a.DialUDP("udp4", &net.UDPAddr{IP: ip1, Port: 5000}, &net.UDPAddr{IP: ip2, Port: 5000})
		if err != nil {
			t.Fatalf("DialUDP: %v", err)
		}

		exchange(t, send, recv, true, start.Add(time.Minute))
		if elapsed := time.Since(start); elapsed != 0 {
			t.Errorf("exchange took %v of fake time, want 0 (no router delay configured)", elapsed)
		}

		// A read with nothing to read times out after exactly the deadline
		// on the bubble's clock.
		if err := recv.SetReadDeadline(time.Now().Add(3 * time.Second)); err != nil {
			t.Fatalf("SetReadDeadline: %v", err)
		}
		before := time.Now()
		_, _, err = recv.ReadFrom(make([]byte, 8))
		var netErr net.Error
		if !errors.As(err, &netErr) || !netErr.Timeout() {
			t.Fatalf("ReadFrom err = %v, want a timeout", err)
		}
		if waited := time.Since(before); waited != 3*time.Second {
			t.Errorf("read deadline fired after %v, want exactly 3s", waited)
		}

		if got := a.Open(); len(got) != 1 || got[0].Local != "10.0.0.1:5000" || got[0].Remote != "10.0.0.2:5000" {
			t.Errorf("a.Open() = %v", got)
		}

		if err := send.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		if err := recv.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
		synctest.Wait()

		for name, n := range map[string]*Net{"a": a, "b": b} {
			if st := n.Stats(); st != (Stats{Opened: 1, Closed: 1}) || len(n.Open()) != 0 {
				t.Errorf("%s: Stats() = %+v, Open() = %v", name, st, n.Open())
			}
		}
		want := strings.Join([]string{
			"b open ListenUDP #1",
			"a open DialUDP #1",
			"a close DialUDP #1",
			"b close ListenUDP #1",
		}, "\n")
		if got := strings.Join(trace, "\n"); got != want {
			t.Errorf("trace:\n%s\nwant:\n%s", got, want)
		}

		// Reading a closed wrapped socket fails like the inner one does.
		if _, _, err := recv.ReadFrom(make([]byte, 8)); err == nil || errors.Is(err, os.ErrDeadlineExceeded) {
			t.Errorf("ReadFrom after Close = %v, want a closed-connection error", err)
		}
	})
}
