package protocol

import (
	"regexp"
	"testing"
)

func TestRunPattern(t *testing.T) {
	for _, tt := range []struct {
		name, match, noMatch string
	}{
		{"TestSweep", "TestSweep", "TestSweepMore"},
		{"TestX/sub.case", "TestX/sub.case", "TestX/subXcase"},
	} {
		p := RunPattern(tt.name)
		ok := true
		parts := regexp.MustCompile("/").Split(p, -1)
		names := regexp.MustCompile("/").Split(tt.match, -1)
		bad := regexp.MustCompile("/").Split(tt.noMatch, -1)
		for i := range parts {
			re := regexp.MustCompile(parts[i])
			ok = ok && re.MatchString(names[i])
			if i == len(parts)-1 && re.MatchString(bad[i]) {
				t.Errorf("%s: pattern %q matches %q", tt.name, p, tt.noMatch)
			}
		}
		if !ok {
			t.Errorf("%s: pattern %q does not match %q", tt.name, p, tt.match)
		}
	}
}

func TestPionVersion(t *testing.T) {
	if got := PionVersion("v4.2.26"); got != "pion/webrtc v4.2.26" {
		t.Errorf("got %q", got)
	}
	if got := PionVersion(""); got != "pion/webrtc (version unknown)" {
		t.Errorf("got %q", got)
	}
}
