package pktclass

import (
	"cmp"
	"net"
	"slices"
	"sync"

	"github.com/pion/transport/v5/vnet"
)

// Entry is one row of a [Counter] snapshot: the datagrams of one class sent
// in one direction.
type Entry struct {
	// From is the sender, as passed to Count (an IP for ChunkFilter).
	From string
	// To is the receiver, as passed to Count (an IP for ChunkFilter).
	To string
	// Class is the class of the datagrams (by Classify, i.e. the first
	// DTLS record).
	Class Class
	// Packets is the number of datagrams counted.
	Packets int
	// Bytes is the sum of their payload lengths.
	Bytes int
}

// counterKey identifies one row of a Counter.
type counterKey struct {
	from, to string
	class    Class
}

// tally is the value of one row of a Counter.
type tally struct {
	packets, bytes int
}

// Counter counts datagrams per direction and class. The zero value is ready
// to use; it is safe for concurrent use.
type Counter struct {
	mu   sync.Mutex
	rows map[counterKey]tally
}

// Count classifies payload, counts it for the direction from -> to and
// returns its class.
func (c *Counter) Count(from, to string, payload []byte) Class {
	class := Classify(payload)
	k := counterKey{from: from, to: to, class: class}

	c.mu.Lock()
	defer c.mu.Unlock()
	if c.rows == nil {
		c.rows = make(map[counterKey]tally)
	}
	t := c.rows[k]
	t.packets++
	t.bytes += len(payload)
	c.rows[k] = t

	return class
}

// Snapshot returns every non-empty row, sorted by From, then To, then the
// order of [Classes]. The slice is the caller's.
func (c *Counter) Snapshot() []Entry {
	c.mu.Lock()
	out := make([]Entry, 0, len(c.rows))
	for k, t := range c.rows {
		out = append(out, Entry{From: k.from, To: k.to, Class: k.class, Packets: t.packets, Bytes: t.bytes})
	}
	c.mu.Unlock()

	slices.SortFunc(out, func(a, b Entry) int {
		return cmp.Or(
			cmp.Compare(a.From, b.From),
			cmp.Compare(a.To, b.To),
			cmp.Compare(classIndex(a.Class), classIndex(b.Class)),
		)
	})

	return out
}

// Total returns how many datagrams of class have been counted, in all
// directions.
func (c *Counter) Total(class Class) int {
	c.mu.Lock()
	defer c.mu.Unlock()

	n := 0
	for k, t := range c.rows {
		if k.class == class {
			n += t.packets
		}
	}

	return n
}

// ChunkFilter returns a vnet.ChunkFilter that counts every UDP chunk
// crossing the router, by source and destination IP as the router sees them
// (after NAT on a parent router), and lets it pass. Filters run in the order
// they were added: add it before an [Injector] to count what was sent, after
// it to count what got through (a delayed or duplicated copy re-enters the
// router and is counted when it does).
func (c *Counter) ChunkFilter() vnet.ChunkFilter {
	return func(ch vnet.Chunk) bool {
		if ch.Network() == "udp" {
			c.Count(chunkIP(ch.SourceAddr()).String(), chunkIP(ch.DestinationAddr()).String(), ch.UserData())
		}

		return true
	}
}

// chunkIP returns the IP of a chunk address, nil if it has none.
func chunkIP(a net.Addr) net.IP {
	switch a := a.(type) {
	case *net.UDPAddr:
		return a.IP
	case *net.TCPAddr:
		return a.IP
	}

	return nil
}
