package report

import (
	"fmt"
	"html/template"
	"io"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
)

// Timeline geometry, in SVG user units (pixels).
const (
	tlWidth   = 1150
	tlLaneA   = 500 // x of lane A
	tlLaneB   = 700 // x of lane B
	tlTop     = 8   // y of the first row's top
	tlRowH    = 18
	tlCharW   = 7  // approximate width of one character of the label font
	tlAChars  = 52 // label room left of lane A, in characters
	tlBChars  = 60 // label room right of lane B
	tlMidChar = 70 // label room of a world event, centred between the lanes
	// tlMaxRows bounds the rows drawn; trace.txt has every event.
	tlMaxRows = 4000
	// tlMinRun is the shortest run of similar events drawn as one row.
	tlMinRun = 3
)

// WriteTimeline writes the HTML timeline of one result: a self-contained
// page (inline CSS and SVG, no script, no external asset) with the
// violations at the top (each evidence line that names a trace event links
// to it), the diagnosis, the close snapshots and final states, then the
// trace drawn as two vertical lanes, A and B, one row per event on an
// ordinal time axis (the virtual time is printed where it changes, with the
// gap since the previous instant), signaling messages as arrows from the
// sender's "signal send" row to the receiver's "signal recv" row, close
// calls marked by a red band and a bar on the lane from call to return,
// and the events named in evidence highlighted. Runs of three or more
// similar events of one peer (data channel messages, log lines) are drawn
// as one row. Every string from the result is HTML-escaped.
func WriteTimeline(w io.Writer, r Result) error {
	return timelineTmpl.Execute(w, buildTimeline(r))
}

type tlPage struct {
	Title    string
	Seed     uint64
	Scenario string
	Outcome  string
	Status   string
	Repro    string
	Fail     []tlViolation
	Known    []tlViolation
	Diag     string
	Settings string
	Steps    []string
	JSON     string
	Shrunk   string
	Closes   []tlClose
	Final    []facts.PeerState
	Events   int
	Virtual  string
	Note     string
	SVG      tlSVG
}

type tlViolation struct {
	Head     string
	Issue    string
	Link     string
	Note     string
	Evidence []tlEvidence
}

type tlEvidence struct {
	Text   string
	Anchor string // "" when the line names no drawn event
}

type tlClose struct {
	Peer, Mode, By, At, Took, Err string
	Before                        facts.PeerState
	After                         *facts.PeerState // nil: the close never returned
}

type tlSVG struct {
	Width, Height int
	LaneA, LaneB  int
	LaneTop       int
	LaneBottom    int
	MidX          int
	Rows          []tlRow
	Arrows        []tlArrow
	Bars          []tlBar
}

type tlRow struct {
	ID       string
	Y        int // top of the row
	TextY    int // baseline of the row's text
	Mid      int // vertical centre
	Time     string
	Gap      string
	Sep      bool
	Mark     string // "fail", "known" or ""
	Close    bool
	Lane     string // "a", "b" or "w"
	DotX     int
	TextX    int
	Anchor   string
	BoxX     int
	BoxW     int
	Class    string
	Kind     string
	Detail   string
	Title    string
	Emphasis bool
	FlagX    int // x of the highlight flag
}

type tlArrow struct {
	X1, Y1, X2, Y2 int
	LX, LY         int
	Label          string
	Title          string
	Lost           bool
}

type tlBar struct {
	X, Y1, Y2 int
	Open      bool
	Title     string
	LX, LY    int
}

// kindClass maps an event kind to its CSS class.
func kindClass(kind string) string {
	switch kind {
	case "pc", "ice", "gather", "signaling", "dtls", "sctp", "dc", "candidate", "signal", "socket",
		"log", "probe", "step", "harness", "custom", "fault", "track":
		return "k-" + kind
	case "close", "harness-close", "extra-close", "callback-close":
		return "k-close"
	}
	return "k-other"
}

func laneOf(peer string) string {
	switch peer {
	case "A":
		return "a"
	case "B":
		return "b"
	}
	return "w"
}

// fmtVirtual prints a virtual time: milliseconds when exact, else
// microseconds.
func fmtVirtual(d time.Duration) string {
	if d%time.Millisecond == 0 {
		return fmt.Sprintf("%.3fs", d.Seconds())
	}
	return fmt.Sprintf("%.6fs", d.Seconds())
}

// collapseKey is the key under which consecutive events of one peer are
// drawn as one row, or "" for events always drawn alone.
func collapseKey(e facts.Event) string {
	switch e.Kind {
	case facts.KindStep, facts.KindSignal, facts.KindHarness, facts.KindPC, facts.KindICE, facts.KindDTLS,
		facts.KindSCTP, facts.KindSignaling, facts.KindGather:
		return ""
	}
	if e.Kind.IsClose() || strings.Contains(e.Detail, "CORRUPT") {
		return ""
	}
	w, _, _ := strings.Cut(e.Detail, " ")
	if e.Kind == "log" { // "WARN ice: ..." -> "log WARN ice:"
		f := strings.Fields(e.Detail)
		if len(f) > 1 {
			w = f[0] + " " + f[1]
		}
	}
	return e.Peer + "\x00" + string(e.Kind) + "\x00" + w
}

func buildTimeline(r Result) tlPage {
	p := tlPage{
		Title:    fmt.Sprintf("closesim seed %d %s: %s", r.Seed, r.Scenario.Name, r.Outcome),
		Seed:     r.Seed,
		Scenario: r.Scenario.Name,
		Outcome:  r.Outcome,
		Status:   string(r.Status()),
		Repro:    r.Repro,
		Diag:     r.Diagnosis,
		Final:    r.Final,
		Events:   len(r.Events),
		Virtual:  fmtVirtual(r.Virtual),
	}
	sc := r.Scenario
	p.Settings = fmt.Sprintf("trickle=%t disable_close_by_dtls=%t link_delay=%s ports=%d/%d",
		sc.Settings.Trickle, sc.Settings.DisableCloseByDTLS, time.Duration(sc.Topology.LinkDelay),
		sc.Topology.PortA, sc.Topology.PortB)
	if len(sc.Faults.SignalDelays) > 0 {
		var ds []string
		for _, d := range sc.Faults.SignalDelays {
			ds = append(ds, time.Duration(d).String())
		}
		p.Settings += " signal_delays=" + strings.Join(ds, ",")
	}
	for _, st := range sc.Steps {
		s := st.String()
		if st.Immediate {
			s += fmt.Sprintf(" (immediate, %d yields)", st.Yields)
		}
		p.Steps = append(p.Steps, s)
	}
	if b, err := scenarios.Marshal(sc); err == nil {
		p.JSON = string(b)
	}
	if r.Shrunk != nil {
		if b, err := scenarios.Marshal(*r.Shrunk); err == nil {
			p.Shrunk = string(b)
		}
	}
	for _, c := range r.Closes {
		p.Closes = append(p.Closes, tlClose{Peer: c.Peer, Mode: c.Mode, By: string(c.By), At: fmtVirtual(c.At), Took: c.Took.String(), Err: c.Err, Before: c.Before, After: c.After})
	}

	// Which events the evidence names: fail wins over known.
	byText := map[string][]int{}
	for i, e := range r.Events {
		s := e.String()
		byText[s] = append(byText[s], i)
	}
	mark := map[int]string{}
	evidence := func(lines []string, kind string) []tlEvidence {
		var out []tlEvidence
		for _, l := range lines {
			ev := tlEvidence{Text: l}
			if idx, ok := byText[strings.TrimSpace(l)]; ok {
				for _, i := range idx {
					if mark[i] != "fail" {
						mark[i] = kind
					}
				}
				ev.Anchor = fmt.Sprintf("e%d", idx[0])
			}
			out = append(out, ev)
		}
		return out
	}
	for _, v := range r.Verdict.Fail {
		p.Fail = append(p.Fail, tlViolation{Head: v.String(), Evidence: evidence(v.Evidence, "fail")})
	}
	for _, l := range r.Verdict.Known {
		p.Known = append(p.Known, tlViolation{Head: l.Violation.String(), Issue: l.Issue.ID, Link: l.Issue.Link,
			Note: l.Issue.Note, Evidence: evidence(l.Violation.Evidence, "known")})
	}
	if r.Failed() && len(r.Verdict.Fail) == 0 {
		p.Fail = append(p.Fail, tlViolation{Head: r.Message()})
	}
	p.SVG, p.Note = layout(r.Events, mark)
	if len(r.Events) == 0 {
		p.Note = "This result carries no trace events (the worker kept none, or the run recorded none)."
	}
	return p
}

// layout draws the events. It returns the SVG model and a note about
// anything left out.
func layout(events []facts.Event, mark map[int]string) (tlSVG, string) {
	svg := tlSVG{Width: tlWidth, LaneA: tlLaneA, LaneB: tlLaneB, MidX: (tlLaneA + tlLaneB) / 2, LaneTop: 0}
	var note string
	// Group events into rows: runs of similar events collapse.
	type group struct{ first, last int }
	var groups []group
	for i := 0; i < len(events); {
		j := i + 1
		if k := collapseKey(events[i]); k != "" && mark[i] == "" {
			for j < len(events) && collapseKey(events[j]) == k && mark[j] == "" {
				j++
			}
			if j-i < tlMinRun {
				j = i + 1
			}
		}
		groups = append(groups, group{i, j - 1})
		i = j
	}
	if len(groups) > tlMaxRows {
		note = fmt.Sprintf("Only the first %d of %d rows are drawn (events %d to %d are left out); trace.txt has every event.",
			tlMaxRows, len(groups), groups[tlMaxRows].first, len(events)-1)
		groups = groups[:tlMaxRows]
	}
	rowOf := map[int]int{} // event index -> row index
	prevAt := time.Duration(-1)
	for ri, g := range groups {
		e := events[g.first]
		y := tlTop + ri*tlRowH
		row := tlRow{
			ID: fmt.Sprintf("e%d", g.first), Y: y, TextY: y + 13, Mid: y + tlRowH/2,
			Lane: laneOf(e.Peer), Class: kindClass(string(e.Kind)), Kind: string(e.Kind), Mark: mark[g.first],
		}
		for k := g.first; k <= g.last; k++ {
			rowOf[k] = ri
		}
		if e.At != prevAt {
			row.Time = fmtVirtual(e.At)
			row.Sep = ri > 0
			if prevAt >= 0 {
				row.Gap = "+" + (e.At - prevAt).String()
			}
			prevAt = e.At
		}
		detail := e.Detail
		title := e.String()
		if n := g.last - g.first + 1; n > 1 {
			last := events[g.last]
			detail = fmt.Sprintf("%s … ×%d", e.Detail, n)
			if lf := strings.Fields(last.Detail); e.Kind == "dc" && len(lf) > 2 {
				detail = fmt.Sprintf("%s … %s (×%d)", e.Detail, lf[2], n) // "message "dc" #1 1471B … #46"
			}
			var t strings.Builder
			for k := g.first; k <= g.last && k < g.first+20; k++ {
				t.WriteString(events[k].String() + "\n")
			}
			if n > 20 {
				fmt.Fprintf(&t, "… and %d more", n-20)
			}
			title = t.String()
			if last.At != e.At {
				prevAt = last.At
			}
		}
		switch {
		case e.Close != nil && e.Close.By != facts.CloseByExtra:
			row.Close = true
			row.Emphasis = true
		case e.Step != nil:
			row.Emphasis = true
			if !e.Step.End && (e.Step.Kind == scenarios.KindClose || e.Step.Kind == scenarios.KindCloseOn) {
				row.Close = true
			}
			if e.Step.Err != "" {
				row.Class = "k-error"
			}
		}
		if e.Kind == "step" {
			// "#11 both close(close)": the peer is in the detail already.
			detail = strings.Replace(detail, " "+e.Peer+" ", " ", 1)
		}
		row.Title = title
		label := string(e.Kind) + " " + detail
		switch row.Lane {
		case "a":
			row.DotX, row.TextX, row.Anchor, row.FlagX = tlLaneA, tlLaneA-12, "end", tlLaneA+9
			label = clip(label, tlAChars)
		case "b":
			row.DotX, row.TextX, row.Anchor, row.FlagX = tlLaneB, tlLaneB+12, "start", tlLaneB-20
			label = clip(label, tlBChars)
		default:
			row.TextX, row.Anchor = svg.MidX, "middle"
			if e.Peer != "" && e.Peer != "-" {
				label = e.Peer + " " + label
			}
			label = clip(label, tlMidChar)
			row.BoxW = len([]rune(label))*tlCharW + 12
			row.BoxX = svg.MidX - row.BoxW/2
			row.FlagX = row.BoxX - 14
		}
		// Split the label back into kind and detail for styling.
		if k, d, ok := strings.Cut(label, string(e.Kind)+" "); ok {
			row.Kind, row.Detail = k+string(e.Kind), d
		} else {
			row.Kind, row.Detail = "", label
		}
		svg.Rows = append(svg.Rows, row)
	}
	n := len(svg.Rows)
	svg.LaneBottom = tlTop + n*tlRowH + 6
	svg.Height = svg.LaneBottom + 10

	laneX := func(peer string) int {
		if peer == "B" {
			return tlLaneB
		}
		return tlLaneA
	}
	// Signaling arrows: send #n on one lane to recv #n on the other.
	type sent struct {
		row  int
		peer string
		what string
	}
	sends := map[int]sent{}
	recvd := map[int]bool{}
	for i, e := range events {
		ri, drawn := rowOf[i]
		if !drawn || e.Signal == nil || (e.Peer != "A" && e.Peer != "B") {
			continue
		}
		what, seq := e.Signal.What, e.Signal.Seq
		if !e.Signal.Recv {
			sends[seq] = sent{ri, e.Peer, what}
			continue
		}
		s, ok := sends[seq]
		if !ok || s.peer == e.Peer {
			continue
		}
		recvd[seq] = true
		a := tlArrow{
			X1: laneX(s.peer), Y1: svg.Rows[s.row].Mid, X2: laneX(e.Peer), Y2: svg.Rows[ri].Mid,
			Label: fmt.Sprintf("%s #%d", what, seq),
			Title: fmt.Sprintf("%s #%d: %s → %s", what, seq, s.peer, e.Peer),
		}
		a.X1 += sign(a.X2-a.X1) * 5
		a.X2 -= sign(a.X2-a.X1) * 7
		a.LX, a.LY = (a.X1+a.X2)/2, (a.Y1+a.Y2)/2-3
		svg.Arrows = append(svg.Arrows, a)
	}
	for seq, s := range sends {
		if recvd[seq] {
			continue
		}
		x1 := laneX(s.peer)
		x2 := svg.MidX + (svg.MidX-x1)/3
		y := svg.Rows[s.row].Mid
		svg.Arrows = append(svg.Arrows, tlArrow{
			X1: x1 + sign(x2-x1)*5, Y1: y, X2: x2, Y2: y + tlRowH, Lost: true,
			LX: x2, LY: y + tlRowH + 12, Label: fmt.Sprintf("%s #%d ✕", s.what, seq),
			Title: fmt.Sprintf("%s #%d sent by %s, never received", s.what, seq, s.peer),
		})
	}
	// Close bars: from "call" to "return" on the closer's lane.
	type open struct {
		row    int
		detail string
	}
	calls := map[string]open{}
	for i, e := range events {
		ri, drawn := rowOf[i]
		if !drawn || e.Close == nil || (e.Peer != "A" && e.Peer != "B") {
			continue
		}
		key := e.Peer + string(e.Kind)
		switch {
		case !e.Close.Return:
			calls[key] = open{ri, e.Detail}
		default:
			if c, ok := calls[key]; ok {
				delete(calls, key)
				svg.Bars = append(svg.Bars, tlBar{X: laneX(e.Peer), Y1: svg.Rows[c.row].Mid, Y2: svg.Rows[ri].Mid,
					Title: fmt.Sprintf("%s %s: %s → %s", e.Peer, e.Kind, c.detail, e.Detail)})
			}
		}
	}
	if len(calls) > 0 {
		svg.LaneBottom += tlRowH
		svg.Height += tlRowH
	}
	for key, c := range calls {
		peer := key[:1]
		x := laneX(peer)
		b := tlBar{X: x, Y1: svg.Rows[c.row].Mid, Y2: svg.LaneBottom, Open: true,
			Title: peer + " " + key[1:] + ": " + c.detail + " never returned", LY: svg.LaneBottom - 2}
		if peer == "A" {
			b.LX = x - 8
		} else {
			b.LX = x + 8
		}
		svg.Bars = append(svg.Bars, b)
	}
	return svg, note
}

func sign(x int) int {
	switch {
	case x < 0:
		return -1
	case x > 0:
		return 1
	}
	return 0
}

var timelineTmpl = template.Must(template.New("timeline").Parse(`<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<title>{{.Title}}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;margin:0;color:#1f2328;background:#fff}
main{max-width:1200px;margin:0 auto;padding:16px 10px}
h1{font-size:20px;margin:0 0 4px}
h2{font-size:16px;margin:18px 0 6px}
code,pre,.mono{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:12.5px}
pre{background:#f6f8fa;padding:8px;overflow:auto;max-height:320px;white-space:pre-wrap;word-break:break-all}
.badge{display:inline-block;padding:1px 8px;border-radius:10px;font-weight:600;font-size:12px;color:#fff}
.s-fail{background:#cf222e}.s-known{background:#9a6700}.s-pass{background:#1a7f37}
.repro{background:#f6f8fa;border:1px solid #d0d7de;padding:4px 8px;border-radius:6px;display:block;overflow-x:auto;white-space:nowrap}
.viol{border-left:4px solid #cf222e;background:#fff5f5;padding:6px 10px;margin:6px 0}
.viol.known{border-color:#9a6700;background:#fff8e6}
.viol .head{font-weight:600}
.viol ul{margin:4px 0 0;padding-left:18px}
.viol li{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,monospace;font-size:12px}
table{border-collapse:collapse;font-size:12.5px}
td,th{border:1px solid #d0d7de;padding:2px 6px;text-align:left}
th{background:#f6f8fa}
.legend span{margin-right:12px;white-space:nowrap}
.note{color:#9a6700}
svg{display:block;background:#fff}
svg text{font-family:ui-monospace,"DejaVu Sans Mono",Menlo,Consolas,monospace;font-size:11.5px;fill:#1f2328}
svg .time{fill:#57606a;font-size:11px}
svg .gap{fill:#8c959f;font-size:10px}
svg g[id]{scroll-margin-top:64px}
svg g:target text{text-decoration:underline}
svg g:target circle{stroke:#bc4c00;stroke-width:3}
svg text.flag{fill:#bc4c00;font-size:12px}
.lanes{position:sticky;top:0;z-index:1;height:24px;width:{{.SVG.Width}}px;background:rgba(255,255,255,.94);border-bottom:1px solid #d8dee4}
.lanes span{position:absolute;top:2px;font:bold 15px system-ui,sans-serif;transform:translateX(-50%)}
.lanes span.t{transform:none;font:11px ui-monospace,"DejaVu Sans Mono",monospace;color:#57606a;top:6px}
svg .sep{stroke:#d8dee4;stroke-width:1}
svg .lane{stroke:#8c959f;stroke-width:2}
svg .hl-fail{fill:#fff1a8}
svg .hl-known{fill:#fdf0d5}
svg .hl-bar-fail{fill:#d4a72c}
svg .hl-bar-known{fill:#bf8700}
svg .closeband{fill:#ffebe9}
svg .closebar{stroke:#cf222e;stroke-width:6;stroke-linecap:round;opacity:.85}
svg .closebar.open{stroke-dasharray:6 4}
svg text.closetext{fill:#cf222e;font-weight:bold}
svg .wbox{fill:#f6f8fa;stroke:#d0d7de}
svg .wbox.close{fill:#ffebe9;stroke:#cf222e}
svg .arrow{stroke:#0969da;stroke-width:1.5;fill:none}
svg .arrow.lost{stroke:#cf222e;stroke-dasharray:4 3}
svg .alabel{fill:#0969da;font-size:10.5px;paint-order:stroke;stroke:#fff;stroke-width:3px}
svg .alabel.lost{fill:#cf222e}
svg .emph{font-weight:bold}
svg .k-pc{fill:#0550ae}svg .k-ice{fill:#1b7c83}svg .k-dtls{fill:#8250df}svg .k-sctp{fill:#953800}
svg .k-dc{fill:#1a7f37}svg .k-signaling{fill:#0a3069}svg .k-gather{fill:#6e7781}svg .k-candidate{fill:#6e7781}
svg .k-signal{fill:#0969da}svg .k-socket{fill:#6e7781}svg .k-log{fill:#9a6700}svg .k-probe{fill:#6e7781}
svg .k-step{fill:#24292f}svg .k-harness{fill:#57606a}svg .k-custom{fill:#24292f}svg .k-other{fill:#57606a}
svg .k-close{fill:#cf222e}svg .k-error{fill:#cf222e}svg .k-fault{fill:#bc4c00;font-weight:bold}svg .k-track{fill:#8250df}
svg tspan.d{fill:#1f2328;font-weight:normal}
svg .k-log tspan.d,svg .k-probe tspan.d,svg .k-socket tspan.d,svg .k-candidate tspan.d{fill:#6e7781}
svg text.k-close tspan.d{fill:#cf222e;font-weight:bold}
</style>
</head>
<body>
<main>
<h1>seed {{.Seed}} · {{.Scenario}}</h1>
<div>outcome <b>{{.Outcome}}</b> · <span class="badge s-{{.Status}}">{{.Status}}</span> · {{.Events}} events · virtual time {{.Virtual}}</div>
<h2>Repro</h2>
<code class="repro">{{.Repro}}</code>
{{if .Fail}}<h2>Violations ({{len .Fail}})</h2>
{{range .Fail}}<div class="viol"><div class="head">{{.Head}}</div>{{if .Evidence}}<ul>{{range .Evidence}}<li>{{if .Anchor}}<a href="#{{.Anchor}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</li>{{end}}</ul>{{end}}</div>
{{end}}{{end}}
{{if .Known}}<h2>Known issues ({{len .Known}})</h2>
{{range .Known}}<div class="viol known"><div class="head">{{.Head}}</div><div>known issue <b>{{.Issue}}</b>{{if .Link}} · <a href="{{.Link}}">{{.Link}}</a>{{end}}{{if .Note}} — {{.Note}}{{end}}</div>{{if .Evidence}}<ul>{{range .Evidence}}<li>{{if .Anchor}}<a href="#{{.Anchor}}">{{.Text}}</a>{{else}}{{.Text}}{{end}}</li>{{end}}</ul>{{end}}</div>
{{end}}{{end}}
{{if .Diag}}<h2>Diagnosis</h2>
<pre>{{.Diag}}</pre>{{end}}
<p><a href="#timeline">timeline</a> · <a href="#scenario">scenario</a>{{if .Closes}} · <a href="#closes">state at each close</a>{{end}}{{if .Final}} · <a href="#final">final states</a>{{end}}</p>
<h2 id="timeline">Timeline</h2>
<div class="legend"><span>one row per event; virtual time at left where it changes (+gap)</span>
<span style="color:#0969da">→ signaling message</span>
<span style="color:#cf222e">▮ close call … return</span>
<span style="background:#fff1a8">&nbsp;named in a violation&nbsp;</span>
<span style="background:#fdf0d5">&nbsp;named in a known issue&nbsp;</span></div>
{{if .Note}}<p class="note">{{.Note}}</p>{{end}}
<div class="lanes"><span class="t" style="left:6px">virtual time</span><span style="left:{{.SVG.LaneA}}px">A</span><span style="left:{{.SVG.LaneB}}px">B</span></div>
{{with .SVG}}<svg xmlns="http://www.w3.org/2000/svg" width="{{.Width}}" height="{{.Height}}" viewBox="0 0 {{.Width}} {{.Height}}" role="img" aria-label="timeline">
<defs><marker id="ah" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#0969da"/></marker>
<marker id="ahl" viewBox="0 0 10 10" refX="9" refY="5" markerWidth="7" markerHeight="7" orient="auto-start-reverse"><path d="M0,0 L10,5 L0,10 z" fill="#cf222e"/></marker></defs>
{{range .Rows}}{{if .Mark}}<rect class="hl-{{.Mark}}" x="0" y="{{.Y}}" width="{{$.SVG.Width}}" height="18"/><rect class="hl-bar-{{.Mark}}" x="0" y="{{.Y}}" width="4" height="18"/>{{else if .Close}}<rect class="closeband" x="0" y="{{.Y}}" width="{{$.SVG.Width}}" height="18"/>{{end}}{{if .Sep}}<line class="sep" x1="0" x2="{{$.SVG.Width}}" y1="{{.Y}}" y2="{{.Y}}"/>{{end}}
{{end}}
<line class="lane" x1="{{.LaneA}}" x2="{{.LaneA}}" y1="{{.LaneTop}}" y2="{{.LaneBottom}}"/>
<line class="lane" x1="{{.LaneB}}" x2="{{.LaneB}}" y1="{{.LaneTop}}" y2="{{.LaneBottom}}"/>
{{range .Bars}}<line class="closebar{{if .Open}} open{{end}}" x1="{{.X}}" x2="{{.X}}" y1="{{.Y1}}" y2="{{.Y2}}"><title>{{.Title}}</title></line>{{if .Open}}<text class="closetext" x="{{.LX}}" y="{{.LY}}" text-anchor="{{if lt .LX .X}}end{{else}}start{{end}}">close never returned</text>{{end}}
{{end}}
{{range .Arrows}}<g><title>{{.Title}}</title><line class="arrow{{if .Lost}} lost{{end}}" x1="{{.X1}}" y1="{{.Y1}}" x2="{{.X2}}" y2="{{.Y2}}" marker-end="url(#{{if .Lost}}ahl{{else}}ah{{end}})"/><text class="alabel{{if .Lost}} lost{{end}}" x="{{.LX}}" y="{{.LY}}" text-anchor="middle">{{.Label}}</text></g>
{{end}}
{{range .Rows}}<g id="{{.ID}}"><title>{{.Title}}</title>{{if .Time}}<text class="time" x="6" y="{{.TextY}}">{{.Time}}</text>{{if .Gap}}<text class="gap" x="84" y="{{.TextY}}">{{.Gap}}</text>{{end}}{{end}}{{if .Mark}}<text x="{{.FlagX}}" y="{{.TextY}}" class="flag">⚑</text>{{end}}{{if eq .Lane "w"}}<rect class="wbox{{if .Close}} close{{end}}" x="{{.BoxX}}" y="{{.Y}}" width="{{.BoxW}}" height="17" rx="4"/>{{else}}<circle class="{{.Class}}" cx="{{.DotX}}" cy="{{.Mid}}" r="{{if .Close}}5{{else}}3.5{{end}}"/>{{end}}<text class="{{.Class}}{{if .Emphasis}} emph{{end}}" x="{{.TextX}}" y="{{.TextY}}" text-anchor="{{.Anchor}}"><tspan class="kd">{{.Kind}}</tspan> <tspan class="d">{{.Detail}}</tspan></text></g>
{{end}}
</svg>{{end}}
<h2 id="scenario">Scenario</h2>
<div class="mono">{{.Settings}}</div>
<ol start="0" class="mono">{{range .Steps}}<li>{{.}}</li>{{end}}</ol>
<details><summary>scenario JSON</summary><pre>{{.JSON}}</pre></details>
{{if .Shrunk}}<details><summary>shrunk scenario JSON</summary><pre>{{.Shrunk}}</pre></details>{{end}}
{{if .Closes}}<h2 id="closes">State at each close</h2>
<p>Each close's states when it was called and the moment it returned (<code>?</code>: not readable inside a callback).</p>
<table><tr><th>peer</th><th>mode</th><th>by</th><th>at</th><th>took</th><th>err</th><th>when</th><th>signaling</th><th>connection</th><th>ICE</th><th>gathering</th><th>ICE transport</th><th>DTLS</th><th>SCTP</th><th>data channels</th></tr>
{{range .Closes}}<tr><td>{{.Peer}}</td><td>{{.Mode}}</td><td>{{.By}}</td><td>{{.At}}</td><td>{{.Took}}</td><td>{{.Err}}</td><td>call</td>{{with .Before}}<td>{{.Signaling}}</td><td>{{.Connection}}</td><td>{{.ICEConnection}}</td><td>{{.ICEGathering}}</td><td>{{.ICETransport}}</td><td>{{.DTLS}}</td><td>{{.SCTP}}</td><td>{{range .DataChannels}}{{.Label}}:{{.State}} {{end}}</td>{{end}}</tr>
<tr><td></td><td></td><td></td><td></td><td></td><td></td><td>return</td>{{with .After}}<td>{{.Signaling}}</td><td>{{.Connection}}</td><td>{{.ICEConnection}}</td><td>{{.ICEGathering}}</td><td>{{.ICETransport}}</td><td>{{.DTLS}}</td><td>{{.SCTP}}</td><td>{{range .DataChannels}}{{.Label}}:{{.State}} {{end}}</td>{{else}}<td colspan="8">never returned</td>{{end}}</tr>
{{end}}</table>{{end}}
{{if .Final}}<h2 id="final">Final states</h2>
<table><tr><th>peer</th><th>signaling</th><th>connection</th><th>ICE</th><th>gathering</th><th>ICE transport</th><th>DTLS</th><th>SCTP</th><th>data channels (state, sent/received)</th></tr>
{{range .Final}}<tr><td>{{.Peer}}</td><td>{{.Signaling}}</td><td>{{.Connection}}</td><td>{{.ICEConnection}}</td><td>{{.ICEGathering}}</td><td>{{.ICETransport}}</td><td>{{.DTLS}}</td><td>{{.SCTP}}</td><td>{{range .DataChannels}}{{.Label}}:{{.State}} {{.Sent}}/{{.Received}} {{end}}</td></tr>
{{end}}</table>{{end}}
</main>
</body>
</html>
`))
