// Package protocol is the one definition of the protocol between closesim's
// CLI and the test binaries it drives (a suite's worker mode), and of the
// go test conventions both sides name: the lines a worker writes, the
// -test.run pattern that selects a suite test, and how the Pion release
// under test is written. It imports no Pion: the CLI links it without
// linking the world.
package protocol

import (
	"regexp"
	"strings"
)

// ResultPrefix starts every result line a worker writes on stdout,
// followed by a report.Result as JSON.
const ResultPrefix = "closesim-result "

// FilePrefix starts a job line that names a scenario file (a scenario
// JSON file or a Go fuzz corpus file, by absolute path) instead of a seed:
// "file /abs/path.json". Every other job line is a seed in decimal.
const FilePrefix = "file "

// ReadyLine is the line a worker writes on stdout once it has started,
// before it reads its first seed.
const ReadyLine = "closesim-ready"

// RunPattern returns the -test.run pattern that selects exactly the test
// named name (a t.Name(), with "/" between subtest levels).
func RunPattern(name string) string {
	parts := strings.Split(name, "/")
	for i, p := range parts {
		parts[i] = "^" + regexp.QuoteMeta(p) + "$"
	}
	return strings.Join(parts, "/")
}

// PionModule is the module path of the Pion release under test.
const PionModule = "github.com/pion/webrtc/v4"

// PionVersion writes the release under test as reports show it,
// "pion/webrtc v4.2.26", or "pion/webrtc (version unknown)" for "".
func PionVersion(version string) string {
	if version == "" {
		return "pion/webrtc (version unknown)"
	}
	return "pion/webrtc " + version
}
