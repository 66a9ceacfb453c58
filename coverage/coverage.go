// Package coverage names the close points a run reached and measures a
// sweep against the documented space of reachable ones.
//
// A close point is the state tuple of the closing peer when a close action
// starts (signaling, ICE connection, ICE gathering, DTLS, SCTP and the first
// data channel's state, as Pion's getters report them) plus the operation
// in flight: the step the close followed, and whether the world had gone
// quiet first ("after") or not ("during": an immediate close, inside the
// same virtual instant), or the callback a close_on close ran inside. A
// close from inside a callback cannot read the transports' states without
// taking Pion's locks, so those fields read "?" there.
//
// The reachable space is the set of close points that exploration sweeps
// have reached (reachable.txt, embedded; see docs/coverage.md for how it was
// made). The K dimension of sub-instant closes (scheduler yields) is
// counted apart, in buckets, so that it does not multiply the tuple space.
package coverage

import (
	_ "embed"
	"fmt"
	"slices"
	"strings"

	"github.com/closesim/closesim/facts"
)

// Point is one close point.
type Point struct {
	Signaling, ICE, Gathering, DTLS, SCTP, DataChannel string
	// Op is the operation in flight: "after <kind>", "during <kind>" or
	// "callback <name>".
	Op string
	// K is the bucket of scheduler yields before an immediate close:
	// "quiet" (not immediate), "K=0", "K=1-8", "K=9-64" or "K>64".
	K string
}

// Key renders the tuple without K, the unit of the reachable space, e.g.
// "sig=stable ice=checking gather=complete dtls=new sctp=connecting dc=connecting op=after await".
func (p Point) Key() string {
	return fmt.Sprintf("sig=%s ice=%s gather=%s dtls=%s sctp=%s dc=%s op=%s",
		p.Signaling, p.ICE, p.Gathering, p.DTLS, p.SCTP, p.DataChannel, p.Op)
}

// KBuckets lists the K buckets in order.
var allKBuckets = []string{"quiet", "K=0", "K=1-8", "K=9-64", "K>64"}

// KPrefix marks the K-bucket keys that Keys appends.
const KPrefix = "yields "

func kBucket(immediate bool, k int) string {
	switch {
	case !immediate:
		return allKBuckets[0]
	case k == 0:
		return allKBuckets[1]
	case k <= 8:
		return allKBuckets[2]
	case k <= 64:
		return allKBuckets[3]
	}
	return allKBuckets[4]
}

// Points returns the close points of a run, one per closed peer per close
// action, in the order the closes started.
func Points(obs *facts.Observation) []Point {
	var out []Point
	steps := obs.Scenario.Steps
	for _, c := range obs.Closes {
		if c.By == facts.CloseByExtra {
			continue // the same close action as its step's first Close
		}
		b := c.Before
		dc := "none"
		if len(b.DataChannels) > 0 {
			dc = b.DataChannels[0].State
		}
		p := Point{Signaling: b.Signaling, ICE: b.ICEConnection, Gathering: b.ICEGathering, DTLS: b.DTLS,
			SCTP: b.SCTP, DataChannel: dc, K: allKBuckets[0]}
		switch {
		case c.Callback != "":
			p.Op = "callback " + c.Callback
		case c.Step < len(steps):
			s := steps[c.Step]
			prev := "start"
			if c.Step > 0 {
				prev = string(steps[c.Step-1].Kind)
			}
			p.Op = "after " + prev
			if s.Immediate {
				p.Op = "during " + prev
			}
			p.K = kBucket(s.Immediate, s.Yields)
		default:
			p.Op = "?"
		}
		out = append(out, p)
	}
	return out
}

// Keys returns a run's coverage keys: each close point's Key, then each
// point's K bucket prefixed by KPrefix (report.Result.Coverage holds them).
func Keys(obs *facts.Observation) []string {
	pts := Points(obs)
	out := make([]string, 0, 2*len(pts))
	for _, p := range pts {
		out = append(out, p.Key())
	}
	for _, p := range pts {
		out = append(out, KPrefix+p.K)
	}
	return out
}

//go:embed reachable.txt
var reachableText string

// Reachable returns the documented reachable close points (Point.Key
// form), sorted.
func Reachable() []string { return ParseReachable(reachableText) }

// ParseReachable reads a reachable-space file: one key per line; blank
// lines and lines starting with "#" are skipped; a line may end in a tab
// and a count, which is ignored.
func ParseReachable(text string) []string {
	var out []string
	for line := range strings.Lines(text) {
		line = strings.TrimSpace(line)
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		key, _, _ := strings.Cut(line, "\t")
		out = append(out, key)
	}
	slices.Sort(out)
	return slices.Compact(out)
}

// Measurement is how much of the reachable space a set of keys covers.
type Measurement struct {
	Hit, Total int
	// Missing are the reachable keys not hit, sorted.
	Missing []string
	// New are keys hit that the reachable space does not list (the space
	// should then be updated), sorted.
	New []string
}

// Percent is Hit as a percentage of Total (0 for an empty space).
func (m Measurement) Percent() float64 {
	if m.Total == 0 {
		return 0
	}
	return 100 * float64(m.Hit) / float64(m.Total)
}

// Measure compares hit keys (K-bucket keys are ignored) with reachable.
func Measure(reachable, hit []string) Measurement {
	in := map[string]bool{}
	for _, k := range hit {
		if !strings.HasPrefix(k, KPrefix) {
			in[k] = true
		}
	}
	m := Measurement{Total: len(reachable)}
	listed := map[string]bool{}
	for _, k := range reachable {
		listed[k] = true
		if in[k] {
			m.Hit++
		} else {
			m.Missing = append(m.Missing, k)
		}
	}
	for k := range in {
		if !listed[k] {
			m.New = append(m.New, k)
		}
	}
	slices.Sort(m.New)
	return m
}
