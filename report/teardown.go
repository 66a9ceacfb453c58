package report

import (
	"fmt"
	"io"
	"strings"

	"github.com/closesim/closesim/coverage"
)

// Teardown coverage files a -cover sweep writes beside summary.json.
const (
	TeardownJSONFile = "teardown-coverage.json"
	TeardownMDFile   = "teardown-coverage.md"
)

// WriteTeardownMarkdown writes the teardown coverage of a sweep: per
// module, the statements covered in teardown functions and in the module
// as a whole, then every teardown function below 100% with its uncovered
// line ranges (file:line).
func WriteTeardownMarkdown(w io.Writer, name string, tc coverage.TeardownCoverage) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# Teardown coverage of Pion\n\nSweep %s. Statement coverage of Pion's modules during the sweep; *teardown* counts the functions named close, stop, abort, shutdown, teardown, graceful (any case) and the read, write and accept loops whose exits they drive (names ending in `loop`, `acceptDataChannels`, `handleInbound`).\n\n", mdCode(name))
	b.WriteString(teardownTable(tc))
	fmt.Fprintf(&b, "\n*Reachable* leaves out the teardown functions no sweep of two Pion PeerConnections over vnet can reach (marked unreachable below, each with the reason).\n\n## Teardown functions below 100%%\n\n| module | function | file:line | covered | uncovered lines | why |\n|---|---|---|---:|---|---|\n")
	for _, f := range tc.Teardown {
		if f.Covered == f.Statements {
			continue
		}
		var rs []string
		for _, r := range f.Uncovered {
			rs = append(rs, r.String())
		}
		why := f.Reason
		if f.Unreachable {
			why = "**unreachable**: " + why
		}
		fmt.Fprintf(&b, "| %s | %s | %s | %d/%d (%.0f%%) | %s | %s |\n", mdCode(shortModule(f.Module)), mdCode(f.Func),
			mdCode(fmt.Sprintf("%s:%d", strings.TrimPrefix(f.File, f.Module+"/"), f.Line)), f.Covered, f.Statements, f.Percent(), strings.Join(rs, ", "), mdText(why))
	}
	_, err := io.WriteString(w, b.String())
	return err
}

// teardownTable is the per-module table of a teardown coverage.
func teardownTable(tc coverage.TeardownCoverage) string {
	return moduleTable(append(tc.Modules[:len(tc.Modules):len(tc.Modules)], tc.Total()))
}

// moduleTable renders module coverage rows as a Markdown table.
func moduleTable(rows []coverage.ModuleCoverage) string {
	var b strings.Builder
	b.WriteString("| module | teardown functions | teardown statements covered | reachable teardown covered | module statements covered |\n|---|---:|---:|---:|---:|\n")
	for _, m := range rows {
		fmt.Fprintf(&b, "| %s | %d | %d/%d (%.1f%%) | %d/%d (%.1f%%) | %d/%d (%.1f%%) |\n", mdCode(shortModule(m.Module)), m.TeardownFuncs,
			m.TeardownCovered, m.TeardownStatements, m.TeardownPercent(), m.ReachableCovered, m.ReachableStatements, m.ReachablePercent(),
			m.Covered, m.Statements, m.Percent())
	}
	return b.String()
}

// shortModule drops the github.com/pion/ prefix.
func shortModule(m string) string { return strings.TrimPrefix(m, "github.com/pion/") }
