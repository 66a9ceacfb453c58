package coverage

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

func TestIsTeardown(t *testing.T) {
	for name, want := range map[string]bool{
		"Close": true, "GracefulClose": true, "closeIfOpen": true, "Stop": true, "Abort": true, "shutdown": true,
		"readLoop": true, "writeLoop": true, "acceptDataChannels": true, "handleInbound": true,
		"Write": false, "CreateOffer": false, "loopback": false, "Start": false,
	} {
		if got := IsTeardown(name); got != want {
			t.Errorf("IsTeardown(%q) = %v, want %v", name, got, want)
		}
	}
}

// TestAnalyzeProfile: statements are attributed to the function whose span
// holds them (closures included), teardown functions are counted apart,
// uncovered blocks become line ranges, a block listed twice is covered if
// either listing says so, and files of other modules are skipped.
func TestAnalyzeProfile(t *testing.T) {
	dir := t.TempDir()
	src := `package webrtc

type PeerConnection struct{}

func (pc *PeerConnection) Close() error {
	f := func() {
		_ = 1
	}
	f()
	if pc == nil {
		return nil
	}
	return nil
}

func Other() int {
	return 1
}
`
	if err := os.WriteFile(filepath.Join(dir, "peerconnection.go"), []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	const file = "github.com/pion/webrtc/v4/peerconnection.go"
	profile := strings.Join([]string{
		"mode: atomic",
		file + ":10.14,12.3 1 0", // return nil inside the if: never (profiles need not be in source order)
		file + ":5.41,6.13 1 1",  // Close: f := ...
		file + ":6.13,8.3 1 0",   // the closure body, never run
		file + ":9.2,10.14 2 1",  // f(); if
		file + ":10.14,12.3 1 0", // listed again by a second counter file
		file + ":13.2,13.12 1 1",
		file + ":16.18,18.2 1 0", // Other: never
		"github.com/other/mod/x.go:1.1,2.2 5 1",
	}, "\n")
	dirOf := func(pkg string) (string, error) {
		if pkg == "github.com/pion/webrtc/v4" {
			return dir, nil
		}
		return "", errors.New("no such package")
	}
	got, err := AnalyzeProfile(strings.NewReader(profile), dirOf)
	if err != nil {
		t.Fatal(err)
	}
	if len(got.Modules) != 1 {
		t.Fatalf("modules %+v, want webrtc only", got.Modules)
	}
	m := got.Modules[0]
	if m.Module != "github.com/pion/webrtc/v4" || m.Statements != 7 || m.Covered != 4 || m.TeardownFuncs != 1 || m.TeardownStatements != 6 || m.TeardownCovered != 4 {
		t.Errorf("module %+v, want 7 statements (4 covered), Close's 6 (4 covered)", m)
	}
	if len(got.Teardown) != 1 {
		t.Fatalf("teardown functions %+v, want Close", got.Teardown)
	}
	fc := got.Teardown[0]
	if fc.Func != "(*PeerConnection).Close" || fc.Line != 5 || len(fc.Uncovered) != 2 || fc.Uncovered[0] != (LineRange{6, 8}) || fc.Uncovered[1] != (LineRange{10, 12}) {
		t.Errorf("Close %+v, want uncovered 6-8 and 10-12", fc)
	}
	if _, err := AnalyzeProfile(strings.NewReader(file+":garbage"), dirOf); err == nil {
		t.Error("a malformed profile line was accepted")
	}
}

func TestTeardownPackages(t *testing.T) {
	pkgs := TeardownPackages()
	for _, want := range []string{"github.com/pion/webrtc/v4/...", "github.com/pion/sctp/...", "github.com/pion/transport/v5/vnet"} {
		found := false
		for _, p := range pkgs {
			found = found || p == want
		}
		if !found {
			t.Errorf("TeardownPackages() %v lacks %s", pkgs, want)
		}
	}
	if moduleOf("github.com/pion/transport/v5/stun") != "" || moduleOf("github.com/pion/transport/v5/vnet") != "github.com/pion/transport/v5" {
		t.Error("transport counts only packetio, deadline, udp and vnet")
	}
}

// TestReasons: a function no Pion peer can reach is marked unreachable with
// its reason, one that ran partly never is, and every other function below
// 100% still gets a reason.
func TestReasons(t *testing.T) {
	tests := []struct {
		f           FuncCoverage
		unreachable bool
		want        string
	}{
		{FuncCoverage{File: "github.com/pion/sctp/association.go", Func: "(*Association).Shutdown", Statements: 16}, true, "Abort"},
		{FuncCoverage{File: "github.com/pion/sctp/association.go", Func: "(*Association).handleShutdown", Statements: 26, Covered: 3}, false, "partly reached"},
		{FuncCoverage{File: "github.com/pion/dtls/v3/internal/net/udp/packet_conn.go", Func: "(*listener).Close", Statements: 23}, true, "listener"},
		{FuncCoverage{File: "github.com/pion/ice/v4/tcp_mux.go", Func: "(*TCPMuxDefault).Close", Statements: 14}, true, "ErrNotSupported"},
		{FuncCoverage{File: "github.com/pion/ice/v4/candidate_relay.go", Func: "(*CandidateRelay).close", Statements: 5}, false, "TURN"},
		{FuncCoverage{File: "github.com/pion/ice/v4/gather.go", Func: "(*Agent).closeRelayEndpoint", Statements: 5}, false, "IPv6 relay"},
		{FuncCoverage{File: "github.com/pion/webrtc/v4/mux.go", Func: "(*Mux).readLoop", Statements: 16, Covered: 8}, false, "error branches"},
	}
	for _, tt := range tests {
		why, unreachable := reasonFor(tt.f)
		if unreachable != tt.unreachable || !strings.Contains(why, tt.want) {
			t.Errorf("%s: unreachable %v, reason %q; want %v and %q", tt.f.Func, unreachable, why, tt.unreachable, tt.want)
		}
	}
}
