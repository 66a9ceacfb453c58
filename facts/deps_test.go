package facts_test

import (
	"os/exec"
	"strings"
	"testing"
)

// TestJudgesAndViewsDoNotLinkPion keeps the layering true in the imports:
// what reads an Observation (the judges, the reports, the CLI) links
// neither Pion's webrtc nor the testing packages the world runs in.
func TestJudgesAndViewsDoNotLinkPion(t *testing.T) {
	if testing.Short() {
		t.Skip("runs go list; -short skips it")
	}
	pkgs := []string{"../facts", "../invariants", "../report", "../coverage", "../cmd/closesim"}
	out, err := exec.Command("go", append([]string{"list", "-deps"}, pkgs...)...).CombinedOutput()
	if err != nil {
		t.Fatalf("go list -deps: %v\n%s", err, out)
	}
	deps := strings.Fields(string(out))
	if len(deps) < len(pkgs) {
		t.Fatalf("go list -deps listed %d packages, want at least %d", len(deps), len(pkgs))
	}
	for _, d := range deps {
		if strings.HasPrefix(d, "github.com/pion/") || d == "testing" || strings.HasPrefix(d, "testing/") {
			t.Errorf("%s links %s", strings.Join(pkgs, " "), d)
		}
	}
}
