package report

import (
	"fmt"
	"io"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"
	"github.com/closesim/closesim/invariants"
)

// BrowserSweep is a closesim browser sweep: runs of browser scenarios
// between a Pion peer and headless Chromium, in real time.
type BrowserSweep struct {
	// Command is the command line that ran it.
	Command string `json:"command"`
	// Rerun is the closesim browser command, with its -pkg and -test for a
	// user's test, that a repro line completes with -n 1 -seed S -repeat 3
	// ("" is closesim browser).
	Rerun string `json:"rerun,omitempty"`
	// File is the scenario file the sweep ran (-file), "" for generated
	// scenarios; repro lines then name it instead of a seed.
	File string `json:"file,omitempty"`
	// Chromium and PionVersion name the two implementations.
	Chromium    string `json:"chromium"`
	PionVersion string `json:"pion_version"`
	// Window is how long each run observed both sides after the close.
	Window time.Duration `json:"window_ns"`
	// Wall is the sweep's wall time.
	Wall time.Duration `json:"wall_ns"`
	// Runs are the runs, in order.
	Runs []facts.BrowserRun `json:"runs"`
	// Interrupted reports that SIGINT or SIGTERM stopped the sweep after
	// len(Runs) of Planned runs.
	Interrupted bool `json:"interrupted,omitempty"`
	Planned     int  `json:"planned,omitempty"`
	// Known are the known issues that label Pion's violations in the
	// judges' sections (the pinned release's known issues and the W3C
	// deviations); nil labels none.
	Known []invariants.KnownIssue `json:"-"`
}

// browserSide names an implementation closing: "Pion Close()",
// "Pion GracefulClose()", "Chromium close()", "Chromium tab closed".
func browserCloser(r facts.BrowserRun) string {
	switch {
	case r.Closer == "pion" && r.Mode == "graceful":
		return "Pion GracefulClose()"
	case r.Closer == "pion" && r.Mode == "callback":
		return "Pion Close() in a handler"
	case r.Closer == "pion" && r.Mode == "channel":
		return "Pion DataChannel.Close()"
	case r.Closer == "pion":
		return "Pion Close()"
	case r.Mode == "tab":
		return "Chromium tab closed"
	case r.Mode == "callback":
		return "Chromium close() in a handler"
	case r.Mode == "channel":
		return "Chromium RTCDataChannel.close()"
	}
	return "Chromium close()"
}

// w3cStateRows are the W3C close algorithm's steps that set a state the
// closer reads "closed" when close() returns, with the field they judge.
var w3cStateRows = []struct {
	id, title string
	get       func(facts.PeerState) string
}{
	{"close.step3", "signalingState closed", func(s facts.PeerState) string { return s.Signaling }},
	{"close.step5", "data channels closed", func(s facts.PeerState) string { return dcStates(s) }},
	{"close.step6", "SctpTransport closed", func(s facts.PeerState) string { return s.SCTP }},
	{"close.step7", "DtlsTransport closed", func(s facts.PeerState) string { return s.DTLS }},
	{"close.step9", "IceTransport closed", func(s facts.PeerState) string { return s.ICETransport }},
	{"close.step10", "iceConnectionState closed", func(s facts.PeerState) string { return s.ICEConnection }},
	{"close.step11", "connectionState closed", func(s facts.PeerState) string { return s.Connection }},
}

// dcStates is the channels' states, "closed" when all are, "" without
// channels.
func dcStates(s facts.PeerState) string {
	var out []string
	for _, dc := range s.DataChannels {
		if !slices.Contains(out, dc.State) {
			out = append(out, dc.State)
		}
	}
	slices.Sort(out)
	return strings.Join(out, "+")
}

// w3cMethods are the methods the page and the Pion side probe after close
// (facts.BrowserSide.Probes), by their conformance row.
var w3cMethods = []string{"createOffer", "createAnswer", "setLocalDescription", "setRemoteDescription", "addIceCandidate", "createDataChannel", "addTransceiver", "setConfiguration"}

// knownPion names the finding or documented deviation (docs/findings.md)
// that explains a Pion value on a row: F2 and W1 the ICE and connection
// states the ICE agent's callback sets late, F3 the SCTP transport Stop
// leaves connecting, F4 and F32 the DTLS state an interrupted or
// completing handshake writes over "closed", F11 detached channels, F7
// AddICECandidate after close. "" if none does.
func knownPion(row, got string) string {
	switch row {
	case "close.step10", "close.step9":
		if got == "new" {
			return "F2"
		}
		return "W1"
	case "close.step11":
		return "W1"
	case "close.step6":
		if got == "connecting" {
			return "F3"
		}
	case "close.step7":
		switch got {
		case "failed":
			return "F4"
		case "connected":
			return "F32"
		}
	case "close.step5":
		if got == "open" || got == "closing" {
			return "F11"
		}
	case "method.RTCPeerConnection.addIceCandidate":
		return "F7"
	}
	return ""
}

// tally counts values.
type tally map[string]int

func (t tally) String() string {
	if len(t) == 0 {
		return "n/a"
	}
	n := 0
	for _, c := range t {
		n += c
	}
	var parts []string
	for _, k := range sortedByCount(t) {
		if t[k] == n {
			return k
		}
		parts = append(parts, fmt.Sprintf("%s %d/%d", k, t[k], n))
	}
	return strings.Join(parts, ", ")
}

// WriteBrowserMarkdown writes browser.md: what each side observed at the
// return of each close, whether and how soon the other side noticed, the
// W3C close algorithm evaluated on each implementation's own close, and
// every difference between the two, triaged.
func WriteBrowserMarkdown(w io.Writer, s BrowserSweep) error {
	p := func(format string, args ...any) { fmt.Fprintf(w, format, args...) }
	scen := map[uint64]bool{}
	reps := 0
	var errs []facts.BrowserRun
	for _, r := range s.Runs {
		scen[r.Seed] = true
		reps = max(reps, r.Rep+1)
		if r.Err != "" {
			errs = append(errs, r)
		}
	}
	p("# Browser differential: Pion against headless Chromium\n\n")
	if s.Interrupted {
		p("**Interrupted** after %d of %d runs: the tables hold the runs that finished.\n\n", len(s.Runs), s.Planned)
	}
	p("**Real time, not deterministic**: a Pion peer on loopback UDP and a real browser, each scenario run %d times;\n", reps)
	p("the tables give how often each outcome occurred. %d scenarios, %d runs (%d with a harness error), observed for %s after\n", len(scen), len(s.Runs), len(errs), s.Window)
	p("each close; %s against %s; %s in all.\n\n", s.PionVersion, s.Chromium, s.Wall.Round(time.Second))
	if s.Command != "" {
		p("```sh\n%s\n```\n\n", s.Command)
	}
	ok := slices.DeleteFunc(slices.Clone(s.Runs), func(r facts.BrowserRun) bool { return r.Err != "" })

	// The closer's own states when close() returned.
	p("## At the return of close(): the closer's own states\n\n")
	p("W3C's close algorithm is synchronous: when `close()` returns, every state below reads `closed`.\n\n")
	p("| closer | phase | runs |")
	for _, row := range w3cStateRows {
		p(" %s |", strings.TrimSuffix(row.title, " closed"))
	}
	p("\n|---|---|---:|%s\n", strings.Repeat("---|", len(w3cStateRows)))
	type key struct{ closer, phase string }
	groups := map[key][]facts.BrowserRun{}
	var keys []key
	for _, r := range ok {
		k := key{browserCloser(r), r.Phase}
		if groups[k] == nil {
			keys = append(keys, k)
		}
		groups[k] = append(groups[k], r)
	}
	phaseOrder := map[string]int{"before_answer": 0, "after_answer": 1, "connected": 2, "mid_transfer": 3} // then the handlers, on_*
	sort.Slice(keys, func(i, j int) bool {
		if keys[i].closer != keys[j].closer {
			return keys[i].closer < keys[j].closer
		}
		order := func(phase string) int {
			if o, ok := phaseOrder[phase]; ok {
				return o
			}
			return len(phaseOrder)
		}
		if oi, oj := order(keys[i].phase), order(keys[j].phase); oi != oj {
			return oi < oj
		}
		return keys[i].phase < keys[j].phase
	})
	for _, k := range keys {
		rs := groups[k]
		if m := rs[0].Mode; m == "tab" || m == "channel" {
			continue // no close() whose return to read
		}
		p("| %s | %s | %d |", k.closer, k.phase, len(rs))
		for _, row := range w3cStateRows {
			t := tally{}
			for _, r := range rs {
				if at := closerSide(r).AtReturn; at != nil {
					if v := row.get(*at); v != "" {
						t[v]++
					}
				}
			}
			p(" %s |", t)
		}
		p("\n")
	}

	// Does the other side notice?
	p("\n## Does the other side notice, and how soon?\n\n")
	p("Time from the close call to the other side's first report of it (its data channel closing, or its connection, ICE or\nDTLS leaving connected), within the %s window.\n\n", s.Window)
	p("| closer | phase | runs | noticed | median | max | first by |\n|---|---|---:|---:|---:|---:|---|\n")
	for _, k := range keys {
		rs := groups[k]
		var times []time.Duration
		by := tally{}
		for _, r := range rs {
			o := otherSide(r)
			if o.Noticed >= 0 {
				times = append(times, o.Noticed)
				by[o.NoticedBy]++
			}
		}
		if k.phase == "before_answer" {
			p("| %s | %s | %d | n/a: no connection yet | | | |\n", k.closer, k.phase, len(rs))
			continue
		}
		med, mx := "—", "—"
		if len(times) > 0 {
			slices.Sort(times)
			med, mx = fmtDur(times[len(times)/2]), fmtDur(times[len(times)-1])
		}
		p("| %s | %s | %d | %d/%d | %s | %s | %s |\n", k.closer, k.phase, len(rs), len(times), len(rs), med, mx, by)
	}

	// What a page monitoring its connection reads from getStats once Pion
	// closed.
	stats := tally{}
	for _, r := range ok {
		if r.Closer == "pion" && r.Mode != "channel" {
			for _, st := range r.Browser.Stats {
				_, states, _ := strings.Cut(st, ": ")
				stats[states]++
			}
		}
	}
	if len(stats) > 0 {
		p("\nChromium's `getStats()` transport entries (dtlsState/iceState) at the end of the window after Pion closed: %s.\n", stats)
	}

	// W3C rows on each implementation's own close.
	p("\n## The W3C close algorithm on each implementation's own close\n\n")
	p("Each row counts the runs that judged it: the closer's states at the return of `close()` (Pion's `Close()` and\n`GracefulClose()`, Chromium's `close()`; a closed tab has no return), its methods called after the close, and the\nother side's final states after a close that started with the connection established. n/a: nothing to judge.\n\n")
	p("| row | rule | Pion | Chromium |\n|---|---|---|---|\n")
	rows := w3cRows(ok)
	for _, row := range rows {
		p("| `%s` | %s | %s | %s |\n", row.id, row.title, row.pion.verdict(), row.chromium.verdict())
	}

	// Differences, triaged.
	p("\n## Differences, triaged\n\n")
	n := 0
	for _, row := range rows {
		pf, cf := row.pion.failing(), row.chromium.failing()
		if row.pion.judged == 0 || row.chromium.judged == 0 || (pf == "") == (cf == "") && pf == cf {
			continue
		}
		n++
		var labels []string
		if pf != "" {
			var parts []string
			for _, v := range sortedByCount(row.pion.bad) {
				lab := "new Pion deviation"
				if id := knownPion(row.id, v); id != "" {
					lab = "known Pion deviation " + id + ", docs/findings.md"
				}
				parts = append(parts, fmt.Sprintf("%s %d (%s)", v, row.pion.bad[v], lab))
			}
			labels = append(labels, fmt.Sprintf("Pion fails %d of %d runs: %s", row.pion.judged-row.pion.pass, row.pion.judged, strings.Join(parts, ", ")))
		}
		if cf != "" {
			labels = append(labels, fmt.Sprintf("Chromium fails %s (browser deviation from the spec as the w3c profile reads it)", cf))
		}
		p("- `%s` %s: %s\n", row.id, row.title, strings.Join(labels, "; "))
	}
	if n == 0 {
		p("None: on every row both implementations pass or fail alike.\n")
	}
	writeBrowserJudges(w, s)
	var wedged []facts.BrowserRun
	for _, r := range s.Runs {
		if r.Wedge != nil && r.Err == "" {
			wedged = append(wedged, r)
		}
	}
	if len(wedged) > 0 {
		p("\n## Wedges\n\n")
		p("Runs where a Pion Close did not return within its bound (the run stops there; its goroutines stay blocked\nin the sweep's process). `harness.no-wedge` above names the known issue that matches each.\n\n")
		for _, r := range wedged {
			p("- seed %d %s rep %d: %s  \n  repro: `%s`\n", r.Seed, r.Name, r.Rep, r.Wedge.Headline, s.repro(r.Seed))
		}
	}
	if len(errs) > 0 {
		p("\n## Harness errors\n\n")
		for _, r := range errs {
			p("- seed %d %s rep %d: %s  \n  repro: `%s`\n", r.Seed, r.Name, r.Rep, r.Err, s.repro(r.Seed))
		}
	}
	return nil
}

func closerSide(r facts.BrowserRun) facts.BrowserSide {
	if r.Closer == "pion" {
		return r.Pion
	}
	return r.Browser
}

func otherSide(r facts.BrowserRun) facts.BrowserSide {
	if r.Closer == "pion" {
		return r.Browser
	}
	return r.Pion
}

func fmtDur(d time.Duration) string {
	if d < time.Millisecond {
		return d.Round(time.Microsecond).String()
	}
	return d.Round(100 * time.Microsecond).String()
}

// rowCount is one conformance row's tally for one implementation.
type rowCount struct {
	judged, pass int
	bad          tally
	firstBad     string
}

func (c *rowCount) add(ok bool, got string) {
	c.judged++
	if ok {
		c.pass++
		return
	}
	if c.bad == nil {
		c.bad = tally{}
		c.firstBad = got
	}
	c.bad[got]++
}

func (c rowCount) verdict() string {
	if c.judged == 0 {
		return "n/a"
	}
	if c.pass == c.judged {
		return fmt.Sprintf("pass %d/%d", c.pass, c.judged)
	}
	return fmt.Sprintf("**fail** %d/%d (%s)", c.judged-c.pass, c.judged, c.bad)
}

func (c rowCount) failing() string {
	if c.pass == c.judged {
		return ""
	}
	return fmt.Sprintf("%d of %d runs: %s", c.judged-c.pass, c.judged, c.bad)
}

type w3cRow struct {
	id, title      string
	pion, chromium rowCount
}

// w3cRows evaluates the W3C rows on each implementation's own close.
func w3cRows(runs []facts.BrowserRun) []w3cRow {
	var rows []w3cRow
	for _, sr := range w3cStateRows {
		row := w3cRow{id: sr.id, title: sr.title}
		for _, r := range runs {
			at := closerSide(r).AtReturn
			if at == nil {
				continue
			}
			v := sr.get(*at)
			if v == "" || !facts.Known(v) {
				continue // no such object (no channel, no SctpTransport yet), or not readable (inside a Pion callback)
			}
			c := &row.chromium
			if r.Closer == "pion" {
				c = &row.pion
			}
			c.add(v == "closed", v)
		}
		rows = append(rows, row)
	}
	for _, m := range w3cMethods {
		row := w3cRow{id: "method.RTCPeerConnection." + m, title: m + " after close: InvalidStateError"}
		for _, r := range runs {
			got, ok := closerSide(r).Probes[m]
			if !ok {
				continue
			}
			c := &row.chromium
			if r.Closer == "pion" {
				c = &row.pion
			}
			c.add(got == "InvalidStateError", got)
		}
		rows = append(rows, row)
	}
	// The remote's view: after a close() that started with the channel
	// open on the other side, its channels and SCTP end closed.
	remote := []struct {
		id, title string
		get       func(facts.PeerState) string
	}{
		{"remote.datachannel_closed", "the other side's data channels closed", dcStates},
		{"remote.sctp_closed", "the other side's SctpTransport closed", func(s facts.PeerState) string { return s.SCTP }},
	}
	for _, rr := range remote {
		row := w3cRow{id: rr.id, title: rr.title}
		for _, r := range runs {
			o := otherSide(r)
			if r.Mode == "tab" || r.Mode == "channel" || o.Final == nil || !openedBefore(o.Events) {
				continue
			}
			v := rr.get(*o.Final)
			if v == "" {
				continue
			}
			// The row judges the other implementation: Pion when Chromium
			// closed.
			c := &row.pion
			if r.Closer == "pion" {
				c = &row.chromium
			}
			c.add(v == "closed", v)
		}
		rows = append(rows, row)
	}
	return rows
}

// openedBefore reports whether a data channel was open before the close.
func openedBefore(evs []facts.BrowserEvent) bool {
	return slices.ContainsFunc(evs, func(e facts.BrowserEvent) bool { return e.Kind == "dc open" && e.At < 0 })
}

// sortedByCount is t's keys, most frequent first.
func sortedByCount(t tally) []string {
	keys := make([]string, 0, len(t))
	for k := range t {
		keys = append(keys, k)
	}
	sort.Slice(keys, func(i, j int) bool { return t[keys[i]] > t[keys[j]] || t[keys[i]] == t[keys[j]] && keys[i] < keys[j] })
	return keys
}

// repro is the command that reruns the scenario of seed three times.
func (s BrowserSweep) repro(seed uint64) string {
	rerun := s.Rerun
	if rerun == "" {
		rerun = "closesim browser"
	}
	if s.File != "" {
		return rerun + " -file " + s.File + " -repeat 3"
	}
	return fmt.Sprintf("%s -n 1 -seed %d -repeat 3", rerun, seed)
}
