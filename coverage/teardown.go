package coverage

import (
	"bufio"
	"cmp"
	"fmt"
	"go/ast"
	"go/parser"
	"go/token"
	"io"
	"maps"
	"path"
	"regexp"
	"slices"
	"strconv"
	"strings"
)

// Teardown coverage: Go statement coverage of Pion's modules during a
// sweep, measured in the functions where teardown happens. A test binary
// built with -cover -coverpkg=TeardownPackages() writes counters while it
// sweeps; go tool covdata turns them into a text profile, which
// AnalyzeProfile reads.

// pionModules are the modules whose coverage is measured, with the
// packages of each that count (nil: every package of the module). The
// transport module counts only its packetio, deadline, udp and vnet
// packages: the ones a PeerConnection's teardown runs through.
var pionModules = []struct {
	path     string
	packages []string
}{
	{"github.com/pion/webrtc/v4", nil},
	{"github.com/pion/ice/v4", nil},
	{"github.com/pion/dtls/v3", nil},
	{"github.com/pion/sctp", nil},
	{"github.com/pion/datachannel", nil},
	{"github.com/pion/srtp/v3", nil},
	{"github.com/pion/interceptor", nil},
	{"github.com/pion/transport/v5", []string{"packetio", "deadline", "udp", "vnet"}},
}

// TeardownPackages returns the -coverpkg patterns of the measured modules.
func TeardownPackages() []string {
	var out []string
	for _, m := range pionModules {
		if m.packages == nil {
			out = append(out, m.path+"/...")
			continue
		}
		for _, p := range m.packages {
			out = append(out, m.path+"/"+p)
		}
	}
	return out
}

// moduleOf returns the measured module that holds package pkg, or "".
func moduleOf(pkg string) string {
	for _, m := range pionModules {
		if pkg != m.path && !strings.HasPrefix(pkg, m.path+"/") {
			continue
		}
		if m.packages == nil {
			return m.path
		}
		for _, p := range m.packages {
			if pkg == m.path+"/"+p {
				return m.path
			}
		}
	}
	return ""
}

// teardownName matches the functions that tear something down (close,
// stop, abort, shutdown, teardown, graceful, in any case) and the loops
// whose exits a teardown drives (read, write and accept loops: names
// ending in "Loop" or "loop", and acceptDataChannels / handleInbound).
var teardownName = regexp.MustCompile(`(?i)(close|stop|abort|shutdown|teardown|graceful)|loop$|^acceptDataChannels$|^handleInbound$`)

// IsTeardown reports whether the function or method named name (without
// its receiver) counts as a teardown function.
func IsTeardown(name string) bool { return teardownName.MatchString(name) }

// LineRange is a range of source lines, inclusive.
type LineRange struct {
	From int `json:"from"`
	To   int `json:"to"`
}

// String renders the range as "12-15" or "12".
func (r LineRange) String() string {
	if r.From == r.To {
		return strconv.Itoa(r.From)
	}
	return fmt.Sprintf("%d-%d", r.From, r.To)
}

// FuncCoverage is the statement coverage of one function.
type FuncCoverage struct {
	Module string `json:"module"`
	// File is the file's import-path form, e.g.
	// "github.com/pion/webrtc/v4/peerconnection.go".
	File string `json:"file"`
	// Func is the function, "(*PeerConnection).Close" for a method.
	Func       string `json:"func"`
	Line       int    `json:"line"`
	Statements int    `json:"statements"`
	Covered    int    `json:"covered"`
	// Uncovered are the line ranges of its statements no run reached.
	Uncovered []LineRange `json:"uncovered,omitempty"`
	// Reason says why a function below 100% is not (fully) reached;
	// Unreachable marks the functions a sweep of two Pion PeerConnections
	// over vnet cannot reach at all (each with its reason).
	Reason      string `json:"reason,omitempty"`
	Unreachable bool   `json:"unreachable,omitempty"`
}

// Percent is Covered / Statements in percent (100 for none).
func (f FuncCoverage) Percent() float64 { return percent(f.Covered, f.Statements) }

// ModuleCoverage is one module's statement coverage: in its teardown
// functions and as a whole.
type ModuleCoverage struct {
	Module             string `json:"module"`
	TeardownFuncs      int    `json:"teardown_funcs"`
	TeardownStatements int    `json:"teardown_statements"`
	TeardownCovered    int    `json:"teardown_covered"`
	// ReachableStatements and ReachableCovered leave out the teardown
	// functions marked Unreachable.
	ReachableStatements int `json:"reachable_statements"`
	ReachableCovered    int `json:"reachable_covered"`
	Statements          int `json:"statements"`
	Covered             int `json:"covered"`
}

// ReachablePercent is the covered share of the reachable teardown
// statements, in percent.
func (m ModuleCoverage) ReachablePercent() float64 {
	return percent(m.ReachableCovered, m.ReachableStatements)
}

// TeardownPercent and Percent are the covered shares, in percent.
func (m ModuleCoverage) TeardownPercent() float64 {
	return percent(m.TeardownCovered, m.TeardownStatements)
}

// Percent is the module's covered share of all its statements.
func (m ModuleCoverage) Percent() float64 { return percent(m.Covered, m.Statements) }

func percent(n, d int) float64 {
	if d == 0 {
		return 100
	}
	return 100 * float64(n) / float64(d)
}

// TeardownCoverage is the teardown coverage of a sweep.
type TeardownCoverage struct {
	// Modules has one entry per measured module seen in the profile, in
	// pionModules order.
	Modules []ModuleCoverage `json:"modules"`
	// Teardown lists every teardown function, least covered first.
	Teardown []FuncCoverage `json:"teardown"`
}

// Total sums the modules.
func (t TeardownCoverage) Total() ModuleCoverage {
	var s ModuleCoverage
	s.Module = "all"
	for _, m := range t.Modules {
		s.TeardownFuncs += m.TeardownFuncs
		s.TeardownStatements += m.TeardownStatements
		s.TeardownCovered += m.TeardownCovered
		s.ReachableStatements += m.ReachableStatements
		s.ReachableCovered += m.ReachableCovered
		s.Statements += m.Statements
		s.Covered += m.Covered
	}
	return s
}

// block is one coverage block of a profile.
type block struct {
	startLine, startCol, endLine, endCol int
	stmts                                int
	covered                              bool
}

// AnalyzeProfile reads a Go coverage profile (go tool covdata textfmt, or
// go test -coverprofile) and returns the teardown coverage of the measured
// modules' files in it. dirOf maps a package import path to its source
// directory (go list -f {{.Dir}}), where each file is parsed to find its
// functions; files of other modules are skipped.
func AnalyzeProfile(profile io.Reader, dirOf func(pkg string) (string, error)) (TeardownCoverage, error) {
	blocks, err := parseProfile(profile)
	if err != nil {
		return TeardownCoverage{}, err
	}
	mods := map[string]*ModuleCoverage{}
	var funcs []FuncCoverage
	for _, file := range slices.Sorted(maps.Keys(blocks)) {
		pkg := path.Dir(file)
		mod := moduleOf(pkg)
		if mod == "" {
			continue
		}
		dir, err := dirOf(pkg)
		if err != nil {
			return TeardownCoverage{}, fmt.Errorf("teardown coverage: %s: %w", pkg, err)
		}
		spans, err := funcSpans(dir + "/" + path.Base(file))
		if err != nil {
			return TeardownCoverage{}, fmt.Errorf("teardown coverage: %w", err)
		}
		m := mods[mod]
		if m == nil {
			m = &ModuleCoverage{Module: mod}
			mods[mod] = m
		}
		for _, b := range blocks[file] {
			m.Statements += b.stmts
			if b.covered {
				m.Covered += b.stmts
			}
		}
		for _, sp := range spans {
			if !IsTeardown(sp.name) {
				continue
			}
			fc := FuncCoverage{Module: mod, File: file, Func: sp.display, Line: sp.start}
			for _, b := range blocks[file] {
				if b.startLine < sp.start || b.startLine > sp.end {
					continue
				}
				fc.Statements += b.stmts
				if b.covered {
					fc.Covered += b.stmts
				} else {
					fc.Uncovered = addRange(fc.Uncovered, LineRange{b.startLine, b.endLine})
				}
			}
			if fc.Statements == 0 {
				continue
			}
			if fc.Covered < fc.Statements {
				fc.Reason, fc.Unreachable = reasonFor(fc)
			}
			m.TeardownFuncs++
			m.TeardownStatements += fc.Statements
			m.TeardownCovered += fc.Covered
			if !fc.Unreachable {
				m.ReachableStatements += fc.Statements
				m.ReachableCovered += fc.Covered
			}
			funcs = append(funcs, fc)
		}
	}
	var out TeardownCoverage
	for _, pm := range pionModules {
		if m := mods[pm.path]; m != nil {
			out.Modules = append(out.Modules, *m)
		}
	}
	slices.SortStableFunc(funcs, func(a, b FuncCoverage) int {
		return cmp.Or(cmp.Compare(a.Percent(), b.Percent()), cmp.Compare(a.File, b.File), cmp.Compare(a.Line, b.Line))
	})
	out.Teardown = funcs
	return out, nil
}

// addRange appends r to rs, merging it with the last range when they touch.
func addRange(rs []LineRange, r LineRange) []LineRange {
	if n := len(rs); n > 0 && r.From <= rs[n-1].To+1 {
		rs[n-1].To = max(rs[n-1].To, r.To)
		return rs
	}
	return append(rs, r)
}

// parseProfile reads a text coverage profile into blocks per file; a block
// listed several times (several counter files) is covered if any says so.
func parseProfile(r io.Reader) (map[string][]block, error) {
	type key struct {
		file                 string
		sl, sc, el, ec, stmt int
	}
	seen := map[key]int{} // index in out[file]
	out := map[string][]block{}
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<16), 1<<20)
	n := 0
	for sc.Scan() {
		n++
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "mode:") {
			continue
		}
		// file:startLine.startCol,endLine.endCol numStmts count
		colon := strings.LastIndexByte(line, ':')
		if colon < 0 {
			return nil, fmt.Errorf("profile line %d: no file: %q", n, line)
		}
		file, rest := line[:colon], line[colon+1:]
		var b block
		var count int
		if _, err := fmt.Sscanf(rest, "%d.%d,%d.%d %d %d", &b.startLine, &b.startCol, &b.endLine, &b.endCol, &b.stmts, &count); err != nil {
			return nil, fmt.Errorf("profile line %d: %q: %w", n, line, err)
		}
		b.covered = count > 0
		k := key{file, b.startLine, b.startCol, b.endLine, b.endCol, b.stmts}
		if i, ok := seen[k]; ok {
			out[file][i].covered = out[file][i].covered || b.covered
			continue
		}
		seen[k] = len(out[file])
		out[file] = append(out[file], b)
	}
	// In source order, so that a function's uncovered ranges merge.
	for _, bs := range out {
		slices.SortFunc(bs, func(x, y block) int {
			return cmp.Or(cmp.Compare(x.startLine, y.startLine), cmp.Compare(x.startCol, y.startCol))
		})
	}
	return out, sc.Err()
}

// span is one function of a source file.
type span struct {
	name, display string
	start, end    int
}

// funcSpans lists the functions and methods of a Go file with their line
// spans (closures count as part of the function that holds them).
func funcSpans(filename string) ([]span, error) {
	fset := token.NewFileSet()
	f, err := parser.ParseFile(fset, filename, nil, parser.SkipObjectResolution)
	if err != nil {
		return nil, err
	}
	var out []span
	for _, d := range f.Decls {
		fd, ok := d.(*ast.FuncDecl)
		if !ok || fd.Body == nil {
			continue
		}
		display := fd.Name.Name
		if fd.Recv != nil && len(fd.Recv.List) > 0 {
			display = "(" + recvString(fd.Recv.List[0].Type) + ")." + display
		}
		out = append(out, span{name: fd.Name.Name, display: display,
			start: fset.Position(fd.Pos()).Line, end: fset.Position(fd.End()).Line})
	}
	return out, nil
}

// recvString renders a receiver type: "*PeerConnection", "Conn".
func recvString(e ast.Expr) string {
	switch t := e.(type) {
	case *ast.StarExpr:
		return "*" + recvString(t.X)
	case *ast.Ident:
		return t.Name
	case *ast.IndexExpr:
		return recvString(t.X)
	case *ast.IndexListExpr:
		return recvString(t.X)
	}
	return "?"
}
