package pktclass

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/fnv"
	"net"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/pion/transport/v5/vnet"
)

// Fault actions, the values of Fault.Action.
const (
	// ActionDrop discards the packet.
	ActionDrop = "drop"
	// ActionDelay holds the packet back for Fault.Delay; packets sent after
	// it may overtake it. Needs an [Injector].
	ActionDelay = "delay"
	// ActionDuplicate lets the packet through and delivers a copy of it
	// Fault.Delay later (0: at once, right behind it). Needs an
	// [Injector].
	ActionDuplicate = "duplicate"
)

// Fault is one packet fault: what to match and what to do with the
// matching packets.
type Fault struct {
	// Class selects the packets by class; "" matches every UDP packet.
	// For a DTLS class, a datagram matches if any of its records has that
	// content type (see [Has]), so a ChangeCipherSpec coalesced behind a
	// handshake record is found.
	Class Class `json:"class,omitempty"`
	// From is the source IP as the router sees it, or several separated
	// by commas (the addresses of one host); "" = any.
	From string `json:"from,omitempty"`
	// To is the destination IP, or several separated by commas; "" = any.
	To string `json:"to,omitempty"`
	// Action is ActionDrop, ActionDelay or ActionDuplicate.
	Action string `json:"action"`
	// FirstN limits the fault to the first N packets it acts on; 0 = all.
	FirstN int `json:"first_n,omitempty"`
	// After limits the fault to packets routed at or after this virtual
	// time, measured from the start time given to Filter or NewInjector.
	After time.Duration `json:"after,omitempty"`
	// Until, if not zero, ends the fault: packets routed at or after this
	// virtual time pass. With After it bounds a window, e.g. a partition
	// that heals.
	Until time.Duration `json:"until,omitempty"`
	// Delay is how long ActionDelay holds a packet back, and how long after
	// the original ActionDuplicate delivers the copy. Ignored for drops.
	Delay time.Duration `json:"delay,omitempty"`
	// Probability, if in (0, 1), makes the fault act on each matching
	// packet with that probability (seeded loss, for instance); 0 and 1
	// act on every matching packet. A packet's draw is a hash of Seed, the
	// fault's index, the packet's class and direction, and how many packets
	// of that class and direction the fault drew for before it: the n-th
	// STUN packet from A to B meets the same fate in every run, however the
	// router interleaves it with other classes and the other direction.
	Probability float64 `json:"probability,omitempty"`
	Seed        uint64  `json:"seed,omitempty"`
}

// String describes the fault for traces, e.g.
// "delay 50ms dtls-alert 10.0.0.1->* after 1s first 1".
func (f Fault) String() string {
	var b strings.Builder
	b.WriteString(f.Action)
	if f.Action == ActionDelay || (f.Action == ActionDuplicate && f.Delay > 0) {
		fmt.Fprintf(&b, " %v", f.Delay)
	}
	class := string(f.Class)
	if class == "" {
		class = "any"
	}
	from, to := f.From, f.To
	if from == "" {
		from = "*"
	}
	if to == "" {
		to = "*"
	}
	fmt.Fprintf(&b, " %s %s->%s", class, from, to)
	if f.After > 0 {
		fmt.Fprintf(&b, " after %v", f.After)
	}
	if f.Until > 0 {
		fmt.Fprintf(&b, " until %v", f.Until)
	}
	if f.Probability > 0 && f.Probability < 1 {
		fmt.Fprintf(&b, " p=%g", f.Probability)
	}
	if f.FirstN > 0 {
		fmt.Fprintf(&b, " first %d", f.FirstN)
	}

	return b.String()
}

// Validate reports whether the fault is well formed: a known action and
// class, From and To empty or IP literals, and no negative numbers.
func (f Fault) Validate() error {
	var errs []error
	switch f.Action {
	case ActionDrop, ActionDelay, ActionDuplicate:
	default:
		errs = append(errs, fmt.Errorf("unknown action %q", f.Action))
	}
	if f.Class != "" && !f.Class.Valid() {
		errs = append(errs, fmt.Errorf("unknown class %q", f.Class))
	}
	for _, ip := range []struct{ name, v string }{{"from", f.From}, {"to", f.To}} {
		if ip.v == "" {
			continue
		}
		for a := range strings.SplitSeq(ip.v, ",") {
			if net.ParseIP(a) == nil {
				errs = append(errs, fmt.Errorf("%s %q is not an IP or a list of IPs", ip.name, ip.v))
				break
			}
		}
	}
	if f.FirstN < 0 {
		errs = append(errs, fmt.Errorf("negative first_n %d", f.FirstN))
	}
	if f.After < 0 {
		errs = append(errs, fmt.Errorf("negative after %v", f.After))
	}
	if f.Delay < 0 {
		errs = append(errs, fmt.Errorf("negative delay %v", f.Delay))
	}
	if f.Until < 0 || (f.Until > 0 && f.Until <= f.After) {
		errs = append(errs, fmt.Errorf("until %v must be after after %v", f.Until, f.After))
	}
	if !(f.Probability >= 0 && f.Probability <= 1) { // also rejects NaN
		errs = append(errs, fmt.Errorf("probability %v outside [0, 1]", f.Probability))
	}
	if err := errors.Join(errs...); err != nil {
		return fmt.Errorf("pktclass: fault %q: %w", f.String(), err)
	}

	return nil
}

// ValidateFaults validates every fault (see [Fault.Validate]).
func ValidateFaults(faults []Fault) error {
	var errs []error
	for i, f := range faults {
		if err := f.Validate(); err != nil {
			errs = append(errs, fmt.Errorf("fault %d: %w", i, err))
		}
	}

	return errors.Join(errs...)
}

// Filter returns a vnet.ChunkFilter (for Router.AddChunkFilter) that drops
// the packets matched by faults; every other packet passes. Faults are
// tried in order and the first one that matches and has not used up its
// FirstN acts; only acting uses up FirstN. Only UDP chunks are looked at.
//
// A ChunkFilter can only pass or drop a chunk and vnet gives it no way to
// put one back later, so Filter handles ActionDrop only. It panics if a
// fault is invalid or has another action: use [NewInjector] for delays and
// duplicates (it works for drops too), or [ValidateFaults] first.
//
// onHit, if not nil, is called for every packet a fault acts on, with the
// fault and the packet's class by [Classify]. It runs on the router's
// goroutine while the router holds its lock: it must return quickly and
// must not send on the vnet (that would deadlock on the router's lock).
//
// The filter reads the clock when the router routes a packet (time.Now, so
// the fake clock in a synctest bubble); start is the origin of Fault.After.
func Filter(start time.Time, faults []Fault, onHit func(Hit)) vnet.ChunkFilter {
	if err := ValidateFaults(faults); err != nil {
		panic(err)
	}
	for _, f := range faults {
		if f.Action != ActionDrop {
			panic(fmt.Sprintf("pktclass.Filter: fault %q: a ChunkFilter can only drop; use pktclass.NewInjector", f.String()))
		}
	}

	return newEngine(start, faults, onHit).filter
}

// Injector applies faults of every action to the chunks crossing one vnet
// router. Register its ChunkFilter with that router's AddChunkFilter and
// Close it when done.
//
// How delay and duplicate work: vnet's NIC, Discipline and Router.push are
// unexported, so code outside vnet cannot wrap a NIC or put a chunk back on
// a router; the only exported re-injection is vnet.DuplicationFilter, which
// schedules a clone of a chunk and pushes it into its router after a fixed
// extra delay. The Injector keeps one DuplicationFilter (probability 1)
// per distinct Fault.Delay and hands it a clone of each matching chunk; for
// ActionDelay it then drops the original. The copy re-enters the router's
// queue (and its chunk filters) later with the same Tag, which is how the
// Injector recognises it and lets it through untouched.
//
// Consequences: a delayed or duplicated copy is delivered Delay after the
// router routed the original, rounded up to the next whole millisecond of
// the clock (DuplicationFilter schedules on a 1 ms grid), plus the router's
// MinDelay once more; it may be overtaken by later packets (reordering);
// filters added before the Injector see the copy again. Copies still
// pending when the Injector is closed are never delivered (a delayed packet
// is then lost). One Injector serves one router.
type Injector struct {
	e       *engine
	filters []*vnet.DuplicationFilter
}

// NewInjector validates faults and returns an Injector for router (which
// must be the router whose AddChunkFilter receives ChunkFilter). start and
// onHit are as for [Filter]; onHit is called once per acted-on packet, not
// again for the copy.
func NewInjector(router *vnet.Router, start time.Time, faults []Fault, onHit func(Hit)) (*Injector, error) {
	if router == nil {
		return nil, errors.New("pktclass: NewInjector needs the router")
	}
	if err := ValidateFaults(faults); err != nil {
		return nil, err
	}

	in := &Injector{e: newEngine(start, faults, onHit)}
	in.e.reinject = make(map[time.Duration]vnet.ChunkFilter)
	for _, f := range faults {
		if f.Action == ActionDrop {
			continue
		}
		if _, ok := in.e.reinject[f.Delay]; ok {
			continue
		}
		df, err := vnet.NewDuplicationFilter(router,
			vnet.WithDuplicationProbability(1),
			vnet.WithDuplicationExtraDelay(f.Delay, f.Delay),
			vnet.WithDuplicationSeed(1),
		)
		if err != nil {
			_ = in.Close()

			return nil, fmt.Errorf("pktclass: %w", err)
		}
		in.filters = append(in.filters, df)
		in.e.reinject[f.Delay] = df.ChunkFilter()
	}

	return in, nil
}

// ChunkFilter returns the filter to register with Router.AddChunkFilter.
// After Close it lets every chunk through.
func (in *Injector) ChunkFilter() vnet.ChunkFilter {
	return in.e.filter
}

// Hits returns how many packets each fault has acted on so far, indexed
// like the faults given to NewInjector.
func (in *Injector) Hits() []int {
	return in.e.hits()
}

// Close stops the Injector: pending delayed and duplicated copies are
// cancelled and the filter passes everything from now on. Safe to call
// more than once.
func (in *Injector) Close() error {
	in.e.close()
	var errs []error
	for _, df := range in.filters {
		errs = append(errs, df.Close())
	}

	return errors.Join(errs...)
}

// Hit is one packet a fault acted on: the fault, the packet's class by
// [Classify] and its source and destination IPs as the router saw them.
type Hit struct {
	Fault    Fault
	Class    Class
	Src, Dst net.IP
}

// compiledFault is a validated Fault with its IPs parsed.
type compiledFault struct {
	Fault
	from, to []net.IP // nil: any
	random   bool     // 0 < Probability < 1
}

// engine is the matching state shared by Filter and Injector.
type engine struct {
	start  time.Time
	onHit  func(Hit)
	faults []compiledFault
	// reinject maps a delay to the ChunkFilter of a DuplicationFilter with
	// that extra delay; nil for Filter. Read-only after construction.
	reinject map[time.Duration]vnet.ChunkFilter

	mu      sync.Mutex // guards the fields below; never held while blocking
	used    []int
	pending map[string]int  // chunk tag -> copies scheduled and not yet seen
	drawn   map[drawKey]int // packets drawn for, per probabilistic fault and stream
	closed  bool
}

func newEngine(start time.Time, faults []Fault, onHit func(Hit)) *engine {
	e := &engine{
		start:   start,
		onHit:   onHit,
		faults:  make([]compiledFault, len(faults)),
		used:    make([]int, len(faults)),
		pending: make(map[string]int),
		drawn:   make(map[drawKey]int),
	}
	for i, f := range faults {
		e.faults[i] = compiledFault{Fault: f, from: parseIPs(f.From), to: parseIPs(f.To)}
		if f.Probability > 0 && f.Probability < 1 {
			e.faults[i].random = true
		}
	}

	return e
}

// parseIPs parses a comma-separated list of IPs; "" is nil (any).
func parseIPs(s string) []net.IP {
	if s == "" {
		return nil
	}
	var out []net.IP
	for a := range strings.SplitSeq(s, ",") {
		out = append(out, net.ParseIP(a))
	}

	return out
}

// anyEqual reports whether ip is one of ips.
func anyEqual(ips []net.IP, ip net.IP) bool {
	return slices.ContainsFunc(ips, ip.Equal)
}

// matches reports whether f selects a packet, ignoring FirstN.
func (f *compiledFault) matches(payload []byte, src, dst net.IP, elapsed time.Duration) bool {
	if f.from != nil && !anyEqual(f.from, src) {
		return false
	}
	if f.to != nil && !anyEqual(f.to, dst) {
		return false
	}
	if elapsed < f.After || (f.Until > 0 && elapsed >= f.Until) {
		return false
	}

	return f.Class == "" || Has(payload, f.Class)
}

// filter is the vnet.ChunkFilter.
func (e *engine) filter(c vnet.Chunk) bool {
	if c.Network() != "udp" {
		return true
	}

	e.mu.Lock()
	if e.closed {
		e.mu.Unlock()

		return true
	}
	if tag := c.Tag(); e.pending[tag] > 0 {
		// A copy we scheduled is coming back: let it through as is.
		if e.pending[tag]--; e.pending[tag] == 0 {
			delete(e.pending, tag)
		}
		e.mu.Unlock()

		return true
	}

	payload := c.UserData()
	src, dst := chunkIP(c.SourceAddr()), chunkIP(c.DestinationAddr())
	elapsed := time.Since(e.start)
	hit := -1
	for i := range e.faults {
		f := &e.faults[i]
		if (f.FirstN == 0 || e.used[i] < f.FirstN) && f.matches(payload, src, dst, elapsed) &&
			(!f.random || e.draw(i, Classify(payload), src, dst) < f.Probability) {
			hit = i

			break
		}
	}
	if hit < 0 {
		e.mu.Unlock()

		return true
	}
	e.used[hit]++
	f := e.faults[hit].Fault
	pass := false
	if f.Action != ActionDrop {
		e.pending[c.Tag()]++
		// Clone first: the DuplicationFilter ignores chunks already marked
		// as duplicates, and Clone clears that mark on UDP chunks.
		e.reinject[f.Delay](c.Clone())
		pass = f.Action == ActionDuplicate
	}
	e.mu.Unlock()

	if e.onHit != nil {
		e.onHit(Hit{Fault: f, Class: Classify(payload), Src: src, Dst: dst})
	}

	return pass
}

// draw returns the uniform [0, 1) draw of fault i for the n-th packet of
// one class from src to dst (n counted per fault, class and direction);
// e.mu must be held. Keying on the packet's place in its own stream
// rather than in the router's queue makes the fate of each packet
// independent of how packets of other classes or of the other direction
// interleave with it within one instant. (Not on the packet's bytes: STUN
// requests carry ICE tie-breakers that Pion draws from a per-process
// math/rand generator, so the bytes differ between runs.)
func (e *engine) draw(i int, c Class, src, dst net.IP) float64 {
	key := drawKey{fault: i, class: c, src: src.String(), dst: dst.String()}
	n := e.drawn[key]
	e.drawn[key] = n + 1
	h := fnv.New64a()
	var b [16]byte
	binary.LittleEndian.PutUint64(b[0:], e.faults[i].Seed)
	binary.LittleEndian.PutUint64(b[8:], uint64(n))
	_, _ = h.Write(b[:])
	fmt.Fprintf(h, "|%d|%s|%s|%s", i, c, key.src, key.dst)
	return float64(h.Sum64()>>11) / (1 << 53)
}

// drawKey names one stream of packets for a probabilistic fault.
type drawKey struct {
	fault    int
	class    Class
	src, dst string
}

func (e *engine) hits() []int {
	e.mu.Lock()
	defer e.mu.Unlock()

	out := make([]int, len(e.used))
	copy(out, e.used)

	return out
}

func (e *engine) close() {
	e.mu.Lock()
	defer e.mu.Unlock()

	e.closed = true
	clear(e.pending)
}
