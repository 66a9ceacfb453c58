package report

import (
	"bufio"
	"encoding/xml"
	"fmt"
	"io"
	"strconv"
	"strings"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/scenarios"
)

// JUnit XML, in the shape gotestsum writes, so CI systems that read
// gotestsum's files read these too.

// JUnitSuites is the root element of junit.xml.
type JUnitSuites struct {
	XMLName  xml.Name     `xml:"testsuites"`
	Tests    int          `xml:"tests,attr"`    // results, then invariants
	Failures int          `xml:"failures,attr"` // <failure> elements
	Errors   int          `xml:"errors,attr"`   // <error> elements
	Time     string       `xml:"time,attr"`     // sweep wall time, seconds
	Suites   []JUnitSuite `xml:"testsuite"`     // "closesim" (results), then "closesim.invariants"
}

// JUnitSuite is the one test suite of junit.xml, named "closesim".
type JUnitSuite struct {
	XMLName    xml.Name        `xml:"testsuite"`
	Name       string          `xml:"name,attr"`                     // "closesim"
	Tests      int             `xml:"tests,attr"`                    // results
	Failures   int             `xml:"failures,attr"`                 // failed results but errors
	Errors     int             `xml:"errors,attr"`                   // results with outcome "error"
	Skipped    int             `xml:"skipped,attr"`                  // known results
	Time       string          `xml:"time,attr"`                     // sweep wall time, seconds
	Timestamp  string          `xml:"timestamp,attr"`                // sweep start, RFC 3339
	Properties []JUnitProperty `xml:"properties>property,omitempty"` // closesim.* header fields
	Cases      []JUnitCase     `xml:"testcase"`                      // one per result
}

// JUnitProperty is one name/value property of the suite.
type JUnitProperty struct {
	Name  string `xml:"name,attr"`  // e.g. "closesim.profile"
	Value string `xml:"value,attr"` // its value
}

// JUnitCase is one result.
type JUnitCase struct {
	Classname string        `xml:"classname,attr"`       // "closesim/<phase or name prefix>"
	Name      string        `xml:"name,attr"`            // "seed-<N> <scenario name>"
	Time      string        `xml:"time,attr"`            // the run's wall time, seconds
	Skipped   *JUnitSkipped `xml:"skipped,omitempty"`    // set for a known result
	Failure   *JUnitFailure `xml:"failure,omitempty"`    // set for a failed result
	Error     *JUnitFailure `xml:"error,omitempty"`      // set instead for outcome "error"
	SystemOut string        `xml:"system-out,omitempty"` // a known result's violations
}

// JUnitSkipped marks a result whose violations are all known issues.
type JUnitSkipped struct {
	Message string `xml:"message,attr"` // "known: <issue id> <violation>; ..."
}

// JUnitFailure is a failure (or error): message, type and body.
type JUnitFailure struct {
	Message string `xml:"message,attr"` // Result.Message, clipped
	Type    string `xml:"type,attr"`    // the first failed invariant ID
	Body    string `xml:",chardata"`    // violations, evidence, repro line
}

// maxAttr bounds a message attribute; the body has everything.
const maxAttr = 500

// JUnit builds the JUnit document of a sweep: one testsuite "closesim"
// with one testcase per result, classname "closesim/<phase>" (the close
// phase of a generated scenario, else the scenario name's prefix) and name
// "seed-<N> <scenario name>".
//
// A failed result gets a <failure> whose type is its first failed
// invariant ID (or "outcome.<outcome>"), whose message is Result.Message
// and whose body lists every failed violation with its evidence, the
// diagnosis' headline and the repro line. A result with outcome "error"
// (the harness could not build the world: closesim's fault, not Pion's)
// gets an <error> of the same form instead, counted in errors. A known
// result is not a failure: it gets <skipped message="known: <issue id>
// [invariant] message; ..."/> and its violations in <system-out>, and is
// counted in the suite's skipped attribute.
func JUnit(s Sweep) JUnitSuites {
	suite := JUnitSuite{
		Name: "closesim", Tests: len(s.Results), Time: seconds(s.Wall),
		Properties: []JUnitProperty{
			{"closesim.sweep", s.Name},
			{"closesim.profile", s.Profile},
			{"closesim.pion", s.PionVersion},
			{"closesim.workers", strconv.Itoa(s.Workers)},
			{"closesim.shard", s.Shard},
		},
	}
	if s.Interrupted {
		suite.Properties = append(suite.Properties, JUnitProperty{"closesim.interrupted", fmt.Sprintf("after %d of %d scenarios", len(s.Results), s.Planned)})
	}
	if !s.Started.IsZero() {
		suite.Timestamp = s.Started.Format(time.RFC3339)
	}
	for i := range s.Results {
		r := &s.Results[i]
		c := JUnitCase{
			Classname: "closesim/" + classOf(r.Scenario),
			Name:      fmt.Sprintf("seed-%d %s", r.Seed, r.Scenario.Name),
			Time:      seconds(r.Wall),
		}
		switch r.Status() {
		case StatusFail:
			f := &JUnitFailure{Message: clip(r.Message(), maxAttr), Type: r.FailedIDs()[0], Body: failureBody(r)}
			if r.Outcome == string(facts.OutcomeError) && len(r.Verdict.Fail) == 0 {
				c.Error = f
				suite.Errors++
			} else {
				c.Failure = f
				suite.Failures++
			}
		case StatusKnown:
			var parts []string
			for _, l := range r.Verdict.Known {
				parts = append(parts, l.Issue.ID+" "+l.Violation.String())
			}
			c.Skipped = &JUnitSkipped{Message: clip("known: "+strings.Join(parts, "; "), maxAttr)}
			c.SystemOut = knownBody(r)
			suite.Skipped++
		}
		suite.Cases = append(suite.Cases, c)
	}
	invs := invariantSuite(s)
	return JUnitSuites{
		Tests: suite.Tests + invs.Tests, Failures: suite.Failures + invs.Failures, Errors: suite.Errors, Time: suite.Time,
		Suites: []JUnitSuite{suite, invs},
	}
}

// invariantSuite is the testsuite "closesim.invariants": one testcase per
// invariant judged in the sweep, classname "closesim.invariants", name its
// ID. An invariant with a failed violation in some run gets a <failure>
// (type its ID, naming the first failing seed); one no run gave anything
// to judge is n/a: <skipped message="n/a: ...">, counted in skipped; one
// whose violations were all known passes, with the known issues in
// <system-out>.
func invariantSuite(s Sweep) JUnitSuite {
	sum := Summarize(s)
	suite := JUnitSuite{Name: "closesim.invariants", Time: "0"}
	for _, c := range sum.Invariants {
		tc := JUnitCase{Classname: "closesim.invariants", Name: c.ID, Time: "0"}
		switch {
		case c.Fail > 0:
			msg := fmt.Sprintf("failed in %d of %d runs (first: seed %d)", c.Fail, sum.Total, *c.FirstFail)
			tc.Failure = &JUnitFailure{Message: msg, Type: c.ID, Body: msg}
			suite.Failures++
		case c.Judged == 0:
			tc.Skipped = &JUnitSkipped{Message: fmt.Sprintf("n/a: none of the %d runs gave it anything to judge", sum.Total)}
			suite.Skipped++
		case c.Known > 0:
			tc.SystemOut = fmt.Sprintf("known in %d of %d runs: %s", c.Known, c.Judged, strings.Join(c.KnownIDs, ", "))
		}
		suite.Cases = append(suite.Cases, tc)
	}
	suite.Tests = len(suite.Cases)
	return suite
}

// WriteJUnit writes JUnit(s) as an XML document.
func WriteJUnit(w io.Writer, s Sweep) error {
	bw := bufio.NewWriter(w)
	bw.WriteString(xml.Header)
	enc := xml.NewEncoder(bw)
	enc.Indent("", "\t")
	if err := enc.Encode(JUnit(s)); err != nil {
		return err
	}
	bw.WriteString("\n")
	return bw.Flush()
}

// seconds formats a duration as gotestsum does: seconds with 6 decimals.
func seconds(d time.Duration) string {
	return fmt.Sprintf("%f", d.Seconds())
}

// classOf is the JUnit class of a scenario: the close phase it was built
// around (Scenario.Phase), else
// the part of the name before the first "/", without a trailing
// "-<number>" ("fuzz-123" is "fuzz"), else "unnamed".
func classOf(sc scenarios.Scenario) string {
	if sc.Phase != "" {
		return string(sc.Phase)
	}
	name := sc.Name
	prefix, _, _ := strings.Cut(name, "/")
	if i := strings.LastIndexByte(prefix, '-'); i > 0 {
		if _, err := strconv.ParseUint(prefix[i+1:], 10, 64); err == nil {
			prefix = prefix[:i]
		}
	}
	if prefix == "" {
		return "unnamed"
	}
	return prefix
}

// failureBody is the text of a failure: each failed violation with its
// evidence, the outcome and diagnosis headline, and the repro line.
func failureBody(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d %s: outcome %s\n", r.Seed, r.Scenario.Name, r.Outcome)
	for _, v := range r.Verdict.Fail {
		writeViolation(&b, v.String(), v.Evidence)
	}
	if h := r.headline(); h != "" {
		fmt.Fprintf(&b, "diagnosis: %s\n", h)
	}
	if len(r.Verdict.Known) > 0 {
		fmt.Fprintf(&b, "also %d known violation(s):\n", len(r.Verdict.Known))
		for _, l := range r.Verdict.Known {
			fmt.Fprintf(&b, "  known %s: %s\n", l.Issue.ID, l.Violation.String())
		}
	}
	fmt.Fprintf(&b, "repro: %s\n", r.Repro)
	return b.String()
}

// knownBody is the system-out note of a known result.
func knownBody(r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "seed %d %s: outcome %s, every violation is a known issue\n", r.Seed, r.Scenario.Name, r.Outcome)
	for _, l := range r.Verdict.Known {
		fmt.Fprintf(&b, "known issue %s", l.Issue.ID)
		if l.Issue.Link != "" {
			fmt.Fprintf(&b, " (%s)", l.Issue.Link)
		}
		b.WriteString(":\n")
		writeViolation(&b, l.Violation.String(), l.Violation.Evidence)
	}
	fmt.Fprintf(&b, "repro: %s\n", r.Repro)
	return b.String()
}

func writeViolation(b *strings.Builder, head string, evidence []string) {
	fmt.Fprintf(b, "%s\n", head)
	for _, e := range evidence {
		for _, line := range strings.Split(strings.TrimRight(e, "\n"), "\n") {
			fmt.Fprintf(b, "    %s\n", line)
		}
	}
}
