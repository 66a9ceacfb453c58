package report

import (
	"fmt"
	"io"
	"strings"
)

// MaxMarkdown is the hard cap on the size of summary.md in bytes: GitHub
// rejects a step summary over 1 MiB.
const MaxMarkdown = 1 << 20

// maxCoverageRows bounds the coverage table of summary.md; summary.json has
// every key.
const maxCoverageRows = 100

// maxMDMessage bounds a failure's message in summary.md, in runes.
const maxMDMessage = 300

// WriteMarkdown writes the Markdown summary of s, fit for a GitHub step
// summary ($GITHUB_STEP_SUMMARY): a totals table, the outcomes, a
// per-invariant table, the known issues, a coverage table (the most hit
// keys) and the failures, each with its repro command in a code span. The
// output never exceeds MaxMarkdown bytes: what does not fit is cut at an
// entry boundary and replaced by a note saying how much was left out.
func WriteMarkdown(w io.Writer, s Sweep) error {
	return writeMarkdown(w, Summarize(s))
}

func writeMarkdown(w io.Writer, sum Summary) error {
	_, err := io.WriteString(w, markdown(sum, MaxMarkdown))
	return err
}

// markdown renders sum in at most limit bytes.
func markdown(sum Summary, limit int) string {
	// The note that replaces what did not fit is at most this long.
	const reserve = 512
	var b strings.Builder
	truncated := false
	// add appends s when it fits below the limit, less the reserve.
	add := func(s string) bool {
		if truncated || b.Len()+len(s) > limit-reserve {
			truncated = true
			return false
		}
		b.WriteString(s)
		return true
	}
	h := sum.Sweep
	title := "closesim sweep"
	if h.Name != "" {
		title += " " + mdCode(h.Name)
	}
	status := "✅ no failures"
	if sum.Verdicts.Fail > 0 {
		status = fmt.Sprintf("❌ %d failing scenario(s)", sum.Verdicts.Fail)
	}
	if h.Interrupted {
		of := ""
		if h.Planned > 0 {
			of = fmt.Sprintf(" of %d", h.Planned)
		}
		status = fmt.Sprintf("⏸ interrupted after %d%s scenarios (resume with `closesim run -resume DIR`); %s", h.Results, of, status)
	}
	add(fmt.Sprintf("## %s: %s\n\n", title, status))
	var meta []string
	if h.Profile != "" {
		meta = append(meta, "profile "+mdCode(h.Profile))
	}
	if h.PionVersion != "" {
		meta = append(meta, mdCode(h.PionVersion))
	}
	if h.Shard != "" {
		meta = append(meta, "shard "+mdCode(h.Shard))
	}
	if h.Workers > 0 {
		meta = append(meta, fmt.Sprintf("%d worker(s)", h.Workers))
	}
	if !h.Started.IsZero() {
		meta = append(meta, "started "+h.Started.UTC().Format("2006-01-02 15:04:05Z"))
	}
	if len(meta) > 0 {
		add(strings.Join(meta, " · ") + "\n\n")
	}

	add("| scenarios | pass | known | fail | wall | scenarios/s | virtual time | virtual/wall |\n")
	add("|---:|---:|---:|---:|---:|---:|---:|---:|\n")
	add(fmt.Sprintf("| %d | %d | %d | %d | %.1fs | %.1f | %.0fs | %.0fx |\n\n",
		sum.Total, sum.Verdicts.Pass, sum.Verdicts.Known, sum.Verdicts.Fail,
		h.WallSeconds, sum.Rates.ScenariosPerSecond, sum.Rates.VirtualSeconds, sum.Rates.VirtualPerWall))

	ts := sum.Time
	add("### Where the time went\n\n| running runs | wedged runs | median wedge | longest wedge | worker starts | shrinking |\n|---:|---:|---:|---:|---:|---:|\n")
	add(fmt.Sprintf("| %.2fs (%d) | %.2fs (%d, %.0f%%) | %.1f ms | %.1f ms | %.2fs (%d) | %.2fs (%d) |\n\n",
		ts.RunningSeconds, ts.Runs, ts.WedgedSeconds, ts.Wedged, 100*ts.WedgedShare, ts.WedgedMedianMillis, ts.WedgedMaxMillis,
		ts.WorkerStartSeconds, ts.WorkerStarts, ts.ShrinkingSeconds, ts.Shrinks))
	if ts.AfterWedgeRuns > 0 {
		add(fmt.Sprintf("Median run right after a wedge: %.1f ms (%d runs); other runs: %.1f ms.\n\n", ts.AfterWedgeMedianMillis, ts.AfterWedgeRuns, ts.OtherMedianMillis))
	}

	var head, sep, row strings.Builder
	head.WriteString("| outcome |")
	sep.WriteString("|---|")
	row.WriteString("| runs |")
	for _, o := range sum.Outcomes {
		head.WriteString(" " + mdText(o.Outcome) + " |")
		sep.WriteString("---:|")
		row.WriteString(fmt.Sprintf(" %d |", o.Count))
	}
	add(head.String() + "\n" + sep.String() + "\n" + row.String() + "\n\n")

	if len(sum.Invariants) > 0 {
		add("### Invariants\n\nn/a: the run gave the invariant nothing to judge (never counted as a pass); judged: the share of runs that did.\n\n| invariant | pass | n/a | known | fail | judged |\n|---|---:|---:|---:|---:|---:|\n")
		for _, c := range sum.Invariants {
			mark := ""
			if c.Fail > 0 {
				mark = " ❌"
			}
			share := 0.0
			if sum.Total > 0 {
				share = 100 * float64(c.Judged) / float64(sum.Total)
			}
			if !add(fmt.Sprintf("| %s%s | %d | %d | %d | %d | %.0f%% |\n", mdCode(c.ID), mark, c.Pass, c.NA, c.Known, c.Fail, share)) {
				break
			}
		}
		add("\n")
	}

	if len(sum.Teardown) > 0 {
		add("### Teardown coverage of Pion (" + TeardownMDFile + ")\n\n" + moduleTable(sum.Teardown) + "\n")
	}

	if len(sum.Conformance) > 0 {
		add("### W3C conformance (" + ConformanceFile + ")\n\n| row | step | pass | n/a | known | fail | label |\n|---|---|---:|---:|---:|---:|---|\n")
		for _, c := range sum.Conformance {
			if !add(fmt.Sprintf("| %s | %s | %d | %d | %d | %d | %s |\n", mdCode(c.ID), mdText(c.Title), c.Pass, c.NA, c.Known, c.Fail, mdText(c.Label()))) {
				break
			}
		}
		add("\n")
	}

	if len(sum.KnownIssues) > 0 {
		add("### Known issues\n\n| issue | invariant | runs | note |\n|---|---|---:|---|\n")
		for _, k := range sum.KnownIssues {
			id := mdCode(k.ID)
			if k.Link != "" && (strings.HasPrefix(k.Link, "https://") || strings.HasPrefix(k.Link, "http://")) {
				id = fmt.Sprintf("[%s](%s)", id, strings.NewReplacer("(", "%28", ")", "%29", " ", "%20").Replace(k.Link))
			}
			if !add(fmt.Sprintf("| %s | %s | %d | %s |\n", id, mdCode(k.Invariant), k.Count, mdText(k.Note))) {
				break
			}
		}
		add("\n")
	}

	add(fmt.Sprintf("### Coverage\n\n%d distinct close point(s) hit.\n\n", sum.Coverage.Distinct))
	if c := sum.Coverage; c.Reachable > 0 {
		add(fmt.Sprintf("Documented close points ([docs/coverage.md](docs/coverage.md)): **%d/%d (%.1f%%)** hit; %d close point(s) beyond the documented space.\n\n",
			c.Hit, c.Reachable, c.Percent, c.Beyond))
		if len(c.Missing) > 0 {
			add("Missed:\n\n")
			for _, k := range c.Missing {
				add(fmt.Sprintf("- %s\n", mdCode(k)))
			}
			add("\n")
		}
	}
	if len(sum.Coverage.Keys) > 0 {
		add("| close point | runs |\n|---|---:|\n")
		for i, k := range sum.Coverage.Keys {
			if i == maxCoverageRows {
				add(fmt.Sprintf("\n… %d less-hit key(s) not shown; summary.json has them all.\n", len(sum.Coverage.Keys)-i))
				break
			}
			if !add(fmt.Sprintf("| %s | %d |\n", mdCode(k.Key), k.Count)) {
				break
			}
		}
		add("\n")
	}

	shown := 0
	if len(sum.Failures) > 0 {
		add(fmt.Sprintf("### Failures (%d)\n\n", len(sum.Failures)))
		for _, f := range sum.Failures {
			var e strings.Builder
			fmt.Fprintf(&e, "- **seed %d** %s %s: %s (%s)\n", f.Seed, mdCode(f.Outcome), mdCode(f.Scenario),
				mdText(clip(f.Message, maxMDMessage)), mdCode(f.Dir+"/"))
			fmt.Fprintf(&e, "  repro: %s\n", mdCode(f.Repro))
			if !add(e.String()) {
				break
			}
			shown++
		}
	}
	if truncated {
		b.WriteString(fmt.Sprintf("\n> [!WARNING]\n> summary.md is capped at %d bytes: the rest was cut", limit))
		if n := len(sum.Failures) - shown; n > 0 {
			b.WriteString(fmt.Sprintf(", including %d of %d failures", n, len(sum.Failures)))
		}
		b.WriteString(". summary.json, junit.xml and failures/ have everything.\n")
	}
	return b.String()
}

// mdCode renders s as a Markdown code span (safe for table cells): the
// fence is longer than any run of backticks in s, and "|" and newlines are
// replaced so the span cannot break a table row.
func mdCode(s string) string {
	s = strings.NewReplacer("\r\n", " ⏎ ", "\n", " ⏎ ", "\r", " ⏎ ", "|", "¦").Replace(s)
	if s == "" {
		return "` `"
	}
	longest, run := 0, 0
	for _, c := range s {
		if c == '`' {
			run++
			longest = max(longest, run)
		} else {
			run = 0
		}
	}
	fence := strings.Repeat("`", longest+1)
	if longest > 0 || strings.HasPrefix(s, " ") || strings.HasSuffix(s, " ") {
		return fence + " " + s + " " + fence
	}
	return fence + s + fence
}

// mdText escapes s for Markdown text in a list item or table cell: HTML
// (GitHub renders some tags), Markdown punctuation that could start a link,
// emphasis or code, and line breaks.
func mdText(s string) string {
	var b strings.Builder
	for _, c := range s {
		switch c {
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '&':
			b.WriteString("&amp;")
		case '\n', '\r':
			b.WriteString(" ")
		case '\\', '`', '*', '_', '[', ']', '|', '#', '!', '~':
			b.WriteByte('\\')
			b.WriteRune(c)
		default:
			b.WriteRune(c)
		}
	}
	return b.String()
}
