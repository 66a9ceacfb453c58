package invariants_test

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/invariants"
)

// sctpStuck is a run whose closed peer A reports SCTP "connecting" after
// the answer was applied: one local.closed-states violation.
func sctpStuck() *facts.Observation {
	o := base()
	o.Final[0].SCTP = "connecting"
	return o
}

func TestJudge(t *testing.T) {
	issue := invariants.KnownIssue{
		ID: "sctp-stop-early", Invariant: "local.closed-states",
		Signature: `SCTP is "connecting" after close`, Note: "test",
	}
	for _, c := range []struct {
		name      string
		obs       *facts.Observation
		known     []invariants.KnownIssue
		wantKnown int
		wantFail  int
		notInPass string
	}{
		{name: "clean run", obs: base()},
		{name: "no known issues", obs: sctpStuck(), wantFail: 1, notInPass: "local.closed-states"},
		{name: "substring match", obs: sctpStuck(), known: []invariants.KnownIssue{issue}, wantKnown: 1, notInPass: "local.closed-states"},
		{name: "regexp match", obs: sctpStuck(), wantKnown: 1, notInPass: "local.closed-states",
			known: []invariants.KnownIssue{{ID: "re", Invariant: "local.closed-states", Signature: `re:^A?SCTP is "(connecting|new)"`, Note: "n"}}},
		{name: "regexp over evidence", obs: sctpStuck(), wantKnown: 1,
			known: []invariants.KnownIssue{{ID: "re", Invariant: "local.closed-states", In: "evidence", Signature: `re:(?m)^final A: .*sctp=connecting`, Note: "n"}}},
		{name: "evidence is not searched unless asked", obs: sctpStuck(), wantFail: 1,
			known: []invariants.KnownIssue{{ID: "re", Invariant: "local.closed-states", Signature: `re:(?m)^final A: .*sctp=connecting`, Note: "n"}}},
		{name: "other invariant", obs: sctpStuck(), wantFail: 1,
			known: []invariants.KnownIssue{{ID: "x", Invariant: "leak.sockets", Signature: "SCTP", Note: "n"}}},
		{name: "no match", obs: sctpStuck(), wantFail: 1,
			known: []invariants.KnownIssue{{ID: "x", Invariant: "local.closed-states", Signature: `DTLS is "failed"`, Note: "n"}}},
		{name: "invalid regexp matches nothing", obs: sctpStuck(), wantFail: 1,
			known: []invariants.KnownIssue{{ID: "x", Invariant: "local.closed-states", Signature: "re:(", Note: "n"}}},
		{name: "empty signature matches nothing", obs: sctpStuck(), wantFail: 1,
			known: []invariants.KnownIssue{{ID: "x", Invariant: "local.closed-states", Note: "n"}}},
		{name: "one known, one failing", wantKnown: 1, wantFail: 1, known: []invariants.KnownIssue{issue},
			obs: func() *facts.Observation { o := sctpStuck(); o.Final[0].DTLS = "failed"; return o }()},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := invariants.Judge(c.obs, invariants.Pion, c.known)
			if v.Profile != invariants.Pion {
				t.Errorf("Profile = %q", v.Profile)
			}
			if len(v.Known) != c.wantKnown || len(v.Fail) != c.wantFail {
				t.Fatalf("known %d, fail %d; want %d, %d\nfail:\n%s", len(v.Known), len(v.Fail), c.wantKnown, c.wantFail, dump(v.Fail))
			}
			if v.OK() != (c.wantFail == 0) {
				t.Errorf("OK() = %v", v.OK())
			}
			for _, l := range v.Known {
				if l.Issue.Invariant != l.Violation.Invariant {
					t.Errorf("labeled %s with an issue of %s", l.Violation.Invariant, l.Issue.Invariant)
				}
			}
			if c.notInPass != "" && slices.Contains(v.Pass, c.notInPass) {
				t.Errorf("%s is in Pass though it was violated", c.notInPass)
			}
			// Every expected invariant is accounted for exactly once.
			judged := map[string]bool{}
			for _, id := range append(v.Pass, v.NA...) {
				if judged[id] {
					t.Errorf("%s is in Pass or NA twice", id)
				}
				judged[id] = true
			}
			for _, l := range v.Known {
				judged[l.Violation.Invariant] = true
			}
			for _, f := range v.Fail {
				judged[f.Invariant] = true
			}
			for _, inv := range invariants.Of(invariants.Pion) {
				if !judged[inv.ID] {
					t.Errorf("%s is in neither Pass, Known nor Fail", inv.ID)
				}
			}
			if want := len(invariants.Of(invariants.Pion)); c.wantKnown+c.wantFail == 0 && len(v.Pass)+len(v.NA) != want {
				t.Errorf("Pass and NA have %d IDs, want %d", len(v.Pass)+len(v.NA), want)
			}
		})
	}
	if v := invariants.Judge(nil, "", nil); v.Profile != invariants.DefaultProfile || !v.OK() {
		t.Errorf("Judge(nil) = %+v", v)
	}
}

func TestLoadKnown(t *testing.T) {
	dir := t.TempDir()
	write := func(name, content string) string {
		p := filepath.Join(dir, name)
		if err := os.WriteFile(p, []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
		return p
	}
	good := `[
  {"id": "a", "invariant": "local.closed-states", "signature": "SCTP is \"connecting\"", "link": "https://example.invalid/1", "note": "why"},
  {"id": "b", "invariant": "leak.goroutines", "signature": "re:sctp\\.\\(\\*Association\\)", "note": "why"}
]`
	issues, err := invariants.LoadKnown(write("good.json", good))
	if err != nil {
		t.Fatal(err)
	}
	if len(issues) != 2 || issues[0].ID != "a" || issues[1].Signature != `re:sctp\.\(\*Association\)` || issues[0].Link == "" {
		t.Errorf("LoadKnown = %+v", issues)
	}
	if issues, err := invariants.LoadKnown(write("empty-array.json", " [ ]\n")); err != nil || len(issues) != 0 {
		t.Errorf("empty array: %v, %v", issues, err)
	}

	for _, c := range []struct {
		name, content string
		want          []string // substrings of the error
	}{
		{"empty file", "", []string{"empty file"}},
		{"blank file", " \n\t", []string{"empty file"}},
		{"null", "null", []string{"JSON array"}},
		{"object", `{"id": "a"}`, []string{"JSON array"}},
		{"malformed", `[{"id": "a",]`, []string{"JSON array"}},
		{"trailing data", `[] []`, []string{"JSON array"}},
		{"entry not an object", `[1]`, []string{"entry 0"}},
		{"unknown field", `[{"id": "a", "invariant": "leak.sockets", "signature": "x", "note": "n", "sig": "y"}]`, []string{"entry 0", "sig"}},
		{"wrong type", `[{"id": 7, "invariant": "leak.sockets", "signature": "x", "note": "n"}]`, []string{"entry 0", "id"}},
		{"missing id", `[{"invariant": "leak.sockets", "signature": "x", "note": "n"}]`, []string{"entry 0", "id: must not be empty"}},
		{"missing invariant", `[{"id": "a", "signature": "x", "note": "n"}]`, []string{`entry 0 ("a")`, "invariant: must not be empty"}},
		{"unknown invariant", `[{"id": "a", "invariant": "leak.threads", "signature": "x", "note": "n"}]`, []string{`entry 0 ("a")`, `invariant: no invariant "leak.threads"`}},
		{"missing signature", `[{"id": "a", "invariant": "leak.sockets", "note": "n"}]`, []string{"signature: must not be empty"}},
		{"bare re: prefix", `[{"id": "a", "invariant": "leak.sockets", "signature": "re:", "note": "n"}]`, []string{"signature: must not be empty"}},
		{"bad regexp", `[{"id": "a", "invariant": "leak.sockets", "signature": "re:(unclosed", "note": "n"}]`, []string{`entry 0 ("a")`, "signature:", "missing closing )"}},
		{"missing note", `[{"id": "a", "invariant": "leak.sockets", "signature": "x"}]`, []string{"note:"}},
		{"duplicate id", `[{"id": "a", "invariant": "leak.sockets", "signature": "x", "note": "n"},
		                   {"id": "a", "invariant": "leak.goroutines", "signature": "y", "note": "n"}]`, []string{`entry 1 ("a")`, "duplicate of entry 0"}},
		{"second entry bad", `[{"id": "a", "invariant": "leak.sockets", "signature": "x", "note": "n"}, {"id": "b"}]`, []string{`entry 1 ("b")`, "invariant"}},
		{"wedge by text", `[{"id": "a", "invariant": "harness.no-wedge", "signature": "sctp.(*Association).Abort", "note": "n"}]`, []string{"waiter or stuck", "text signature can match another wedge"}},
		{"wedge with a signature too", `[{"id": "a", "invariant": "harness.no-wedge", "waiter": ["x"], "signature": "y", "note": "n"}]`, []string{"signature: a wedge entry matches on waiter"}},
		{"waiter on another invariant", `[{"id": "a", "invariant": "leak.sockets", "waiter": ["x"], "note": "n"}]`, []string{"only for harness.no-wedge"}},
		{"holder without waiter", `[{"id": "a", "invariant": "harness.no-wedge", "stuck": ["x"], "holder": ["y"], "note": "n"}]`, []string{"holder: needs a waiter"}},
		{"seen more than run", `[{"id": "a", "invariant": "local.closed-states", "signature": "x", "seen": {"runs": 10, "hits": 11}, "note": "n"}]`, []string{"seen: want 0 <= hits <= runs"}},
		{"seen in no runs", `[{"id": "a", "invariant": "local.closed-states", "signature": "x", "seen": {"runs": 0, "hits": 0}, "note": "n"}]`, []string{"seen: want"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			p := write(strings.ReplaceAll(c.name, " ", "-")+".json", c.content)
			issues, err := invariants.LoadKnown(p)
			if err == nil {
				t.Fatalf("want an error, got %+v", issues)
			}
			for _, w := range append(c.want, p) {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not contain %q", err, w)
				}
			}
		})
	}
	if _, err := invariants.LoadKnown(filepath.Join(dir, "missing.json")); err == nil || !os.IsNotExist(unwrapAll(err)) {
		t.Errorf("missing file: %v", err)
	}
}

func unwrapAll(err error) error {
	for {
		u, ok := err.(interface{ Unwrap() error })
		if !ok || u.Unwrap() == nil {
			return err
		}
		err = u.Unwrap()
	}
}

// FuzzParseKnown: ParseKnown never panics, and what it accepts it accepts
// again after a round trip through Matches.
func FuzzParseKnown(f *testing.F) {
	for _, s := range []string{"", "[]", "null", `[{"id":"a","invariant":"leak.sockets","signature":"re:(","note":"n"}]`,
		`[{"id":"a","invariant":"leak.sockets","signature":"x","note":"n"}]`, `[{}]`, `[[]]`, `{"a":1}`} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		issues, err := invariants.ParseKnown(data)
		if err != nil {
			return
		}
		for _, k := range issues {
			_ = k.Matches(invariants.Violation{Invariant: k.Invariant, Message: "m", Evidence: []string{"e"}})
		}
	})
}

func TestJudgeWith(t *testing.T) {
	peersLeft := invariants.Invariant{
		ID: "service.peers-released", Rule: "the service tracks no peer after teardown", Ref: "test",
		Check: func(o *facts.Observation) []invariants.Violation {
			if n := o.Reports["peers"]; n != "0" {
				return []invariants.Violation{{Invariant: "service.peers-released", Message: "peers=" + n}}
			}
			return nil
		},
	}
	w3cOnly := peersLeft
	w3cOnly.ID, w3cOnly.Profiles = "service.w3c-only", []invariants.Profile{invariants.W3C}
	withReports := func(n string) *facts.Observation {
		o := base()
		o.Reports = map[string]string{"peers": n}
		return o
	}
	for _, c := range []struct {
		name             string
		obs              *facts.Observation
		extra            []invariants.Invariant
		known            []invariants.KnownIssue
		wantPass         []string
		wantFail         []string
		wantKnown        int
		wantNotJudgedIDs []string
	}{
		{name: "no extra", obs: withReports("1")},
		{name: "extra holds", obs: withReports("0"), extra: []invariants.Invariant{peersLeft}, wantPass: []string{"service.peers-released"}},
		{name: "extra fails", obs: withReports("2"), extra: []invariants.Invariant{peersLeft}, wantFail: []string{"service.peers-released"}},
		{name: "extra known", obs: withReports("2"), extra: []invariants.Invariant{peersLeft}, wantKnown: 1,
			known: []invariants.KnownIssue{{ID: "k", Invariant: "service.peers-released", Signature: "peers=2", Note: "n"}}},
		{name: "other profile only", obs: withReports("2"), extra: []invariants.Invariant{w3cOnly}, wantNotJudgedIDs: []string{"service.w3c-only"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := invariants.JudgeWith(c.obs, invariants.Pion, c.known, c.extra)
			var fails []string
			for _, f := range v.Fail {
				fails = append(fails, f.Invariant)
			}
			if !slices.Equal(fails, c.wantFail) || len(v.Known) != c.wantKnown {
				t.Fatalf("fail %v known %d, want %v %d", fails, len(v.Known), c.wantFail, c.wantKnown)
			}
			for _, id := range c.wantPass {
				if !slices.Contains(v.Pass, id) {
					t.Errorf("%s not in Pass %v", id, v.Pass)
				}
			}
			for _, id := range c.wantNotJudgedIDs {
				if slices.Contains(v.Pass, id) {
					t.Errorf("%s judged under pion", id)
				}
			}
			// closesim's own invariants are judged as Judge does.
			if got, want := len(invariants.Judge(c.obs, invariants.Pion, c.known).Pass), len(v.Pass)-len(c.wantPass); got != want {
				t.Errorf("Judge passes %d invariants, JudgeWith %d besides the extra ones", got, want)
			}
		})
	}
}

// TestKnownIssueForAUserInvariant: an entry for a test's own invariant is
// an error by default, valid WithInvariants (and then matches its
// violations), and valid under AnyInvariant.
func TestKnownIssueForAUserInvariant(t *testing.T) {
	own := invariants.Invariant{ID: "myservice.peers-released", Rule: "r", Check: func(*facts.Observation) []invariants.Violation {
		return []invariants.Violation{{Invariant: "myservice.peers-released", Message: "2 peers left"}}
	}}
	data := []byte(`[{"id": "S1", "invariant": "myservice.peers-released", "signature": "peers left", "note": "tracked in our tracker"}]`)
	for _, tc := range []struct {
		name string
		opts []invariants.KnownOption
		ok   bool
	}{
		{"default", nil, false},
		{"WithInvariants", []invariants.KnownOption{invariants.WithInvariants(own)}, true},
		{"AnyInvariant", []invariants.KnownOption{invariants.AnyInvariant()}, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			known, err := invariants.ParseKnown(data, tc.opts...)
			if (err == nil) != tc.ok {
				t.Fatalf("ParseKnown: %v, want ok=%v", err, tc.ok)
			}
			if err != nil {
				if !strings.Contains(err.Error(), `no invariant "myservice.peers-released"`) {
					t.Errorf("error %v does not name the invariant", err)
				}
				return
			}
			v := invariants.JudgeWith(&facts.Observation{Outcome: facts.OutcomeOK}, invariants.Pion, known, []invariants.Invariant{own})
			if len(v.Fail) != 0 || len(v.Known) != 1 || v.Known[0].Issue.ID != "S1" {
				t.Errorf("verdict fail %v known %v, want the violation known as S1", v.Fail, v.Known)
			}
		})
	}
}

// TestWedgeKnownIssuesArePrecise: a wedge is known only when its own wait
// matches the entry's waiter and holder frames, and every other wait of
// the wedge does too, waits on the same lock or for a lock such a waiter
// holds. A different wedge whose
// evidence mentions F1's frames is not absorbed by F1 (it once was, when a
// wedge was matched by a substring of its diagnosis).
func TestWedgeKnownIssuesArePrecise(t *testing.T) {
	f1 := invariants.KnownIssue{ID: "F1", Invariant: "harness.no-wedge", Note: "test",
		Waiter: []string{"(*SCTPTransport).onClose"}, Holder: []string{"sctp.(*Association).Abort"}}
	f10 := invariants.KnownIssue{ID: "F10", Invariant: "harness.no-wedge", Note: "test",
		Stuck: []string{"(*DataChannel).GracefulClose"}}
	f1Wait := facts.BlockedWait{Lock: "sync.(*RWMutex).RLock", Object: 0xc0001,
		Waiter: []string{"github.com/pion/webrtc/v4.(*SCTPTransport).onClose", "github.com/pion/webrtc/v4.(*SCTPTransport).acceptDataChannels"},
		Holder: []string{"github.com/pion/sctp.(*Association).Abort", "github.com/pion/webrtc/v4.(*SCTPTransport).Stop"}}
	// A conn's Close waiting on a mutex held by a writer parked in
	// WriteTo, while sctp's Abort is elsewhere in the dump: the case an
	// older Pion release showed.
	other := facts.BlockedWait{Lock: "sync.(*Mutex).Lock", Object: 0xc0002,
		Waiter: []string{"github.com/pion/transport/v5/vnet.(*UDPConn).Close", "github.com/pion/ice/v4.(*candidateBase).close"},
		Holder: []string{"github.com/pion/transport/v5/vnet.(*UDPConn).WriteTo", "github.com/pion/sctp.(*Association).writeLoop"}}
	sameLock := facts.BlockedWait{Lock: "sync.(*RWMutex).Lock", Object: 0xc0001,
		Waiter: []string{"github.com/pion/webrtc/v4.(*SCTPTransport).Start"}}
	f99 := invariants.KnownIssue{ID: "F99", Invariant: "harness.no-wedge", Note: "test",
		Waiter: []string{"(*candidateBase).abortIO"}, Holder: []string{"backpressure.(*sender).write"}}
	f99Wait := facts.BlockedWait{Lock: "sync.(*Mutex).Lock", Object: 0xc0009,
		Waiter: []string{"github.com/pion/ice/v4.(*candidateBase).abortIO"}, Holder: []string{"github.com/closesim/closesim/internal/backpressure.(*sender).write"}}
	f25 := invariants.KnownIssue{ID: "F25", Invariant: "harness.no-wedge", Note: "test",
		Stuck: []string{"sctp.(*Association).sendPayloadData", "(*world).sendMessages"}, NotStuck: []string{"sync.(*WaitGroup).Wait"}}
	writeStuck := []string{"github.com/pion/sctp.(*Association).sendPayloadData", "github.com/closesim/closesim/sim.(*world).sendMessages", "github.com/closesim/closesim/sim.(*runner).body"}
	// The next link of a chain: a wait for a lock F1's waiter holds.
	chained := facts.BlockedWait{Lock: "sync.(*Mutex).Lock", Object: 0xc0003,
		Waiter: []string{"github.com/closesim/closesim/sim.(*world).pump"}, Holder: f1Wait.Waiter}
	chainedElsewhere := chained
	chainedElsewhere.Holder = other.Waiter
	stuck := []string{"github.com/pion/webrtc/v4.(*DataChannel).close", "github.com/pion/webrtc/v4.(*DataChannel).GracefulClose", "github.com/closesim/closesim/sim.(*world).runStep"}
	wedge := func(w facts.Wedge) *facts.Observation {
		o := base()
		o.Outcome = facts.OutcomeWedge
		w.Diagnosis = "goroutine 1 waits ... likely holder parked in select at sctp.(*Association).Abort (association.go:1148)"
		o.Wedge = &w
		return o
	}
	for _, c := range []struct {
		name string
		obs  *facts.Observation
		want string // the known issue's ID, "" for a failure
	}{
		{"F1's own wait", wedge(facts.Wedge{Blocked: []facts.BlockedWait{f1Wait}}), "F1"},
		{"F1 and a wait behind the same lock", wedge(facts.Wedge{Blocked: []facts.BlockedWait{f1Wait, sameLock}}), "F1"},
		{"F1 and a wait for a lock F1's waiter holds", wedge(facts.Wedge{Blocked: []facts.BlockedWait{chained, f1Wait}}), "F1"},
		{"F1 and a wait for a lock another goroutine holds", wedge(facts.Wedge{Blocked: []facts.BlockedWait{chainedElsewhere, f1Wait}}), ""},
		{"another wait whose evidence names F1's frames", wedge(facts.Wedge{Blocked: []facts.BlockedWait{other}}), ""},
		{"F1 and another, different wait", wedge(facts.Wedge{Blocked: []facts.BlockedWait{f1Wait, other}}), ""},
		{"F1 and the wait of another known entry", wedge(facts.Wedge{Blocked: []facts.BlockedWait{f1Wait, f99Wait}}), "F1"},
		{"F1's waiter with another holder", wedge(facts.Wedge{Blocked: []facts.BlockedWait{{Lock: f1Wait.Lock, Object: 1, Waiter: f1Wait.Waiter, Holder: other.Holder}}}), ""},
		{"F10: stuck in GracefulClose, no mutex", wedge(facts.Wedge{Stuck: stuck}), "F10"},
		{"stuck in GracefulClose behind a mutex wait", wedge(facts.Wedge{Stuck: stuck, Blocked: []facts.BlockedWait{other}}), ""},
		{"stuck elsewhere", wedge(facts.Wedge{Stuck: []string{"github.com/pion/webrtc/v4.(*PeerConnection).Close"}}), ""},
		{"F25: a sync write stuck", wedge(facts.Wedge{Stuck: writeStuck}), "F25"},
		{"the same write in flight at a close (not_stuck)", wedge(facts.Wedge{Stuck: append(slices.Clone(writeStuck), "sync.(*WaitGroup).Wait")}), ""},
	} {
		t.Run(c.name, func(t *testing.T) {
			v := invariants.Judge(c.obs, invariants.Pion, []invariants.KnownIssue{f1, f10, f25, f99})
			var known []string
			for _, k := range v.Known {
				if k.Violation.Invariant == "harness.no-wedge" {
					known = append(known, k.Issue.ID)
				}
			}
			failed := slices.ContainsFunc(v.Fail, func(f invariants.Violation) bool { return f.Invariant == "harness.no-wedge" })
			switch {
			case c.want == "" && (!failed || len(known) > 0):
				t.Errorf("want the wedge failed, got known %v", known)
			case c.want != "" && (failed || !slices.Equal(known, []string{c.want})):
				t.Errorf("want known %s, got known %v, failed %v", c.want, known, failed)
			}
		})
	}
}

// TestKnownIssueReleases: an entry that lists releases applies only to them
// when loaded ForRelease; one that lists none applies to every release.
func TestKnownIssueReleases(t *testing.T) {
	data := []byte(`[
		{"id": "old", "invariant": "local.closed-states", "signature": "SCTP", "releases": ["v4.2.10"], "note": "fixed in v4.2.11"},
		{"id": "now", "invariant": "local.closed-states", "signature": "DTLS", "releases": ["v4.2.10", "v4.2.26"], "note": "n"},
		{"id": "any", "invariant": "local.closed-states", "signature": "ICE", "note": "n"}
	]`)
	tests := []struct {
		release string
		want    []string
	}{
		{"", []string{"old", "now", "any"}},
		{"v4.2.10", []string{"old", "now", "any"}},
		{"v4.2.26", []string{"now", "any"}},
		{"v4.2.27", []string{"any"}},
	}
	for _, tt := range tests {
		var opts []invariants.KnownOption
		if tt.release != "" {
			opts = append(opts, invariants.ForRelease(tt.release))
		}
		ks, err := invariants.ParseKnown(data, opts...)
		if err != nil {
			t.Fatalf("ParseKnown: %v", err)
		}
		var got []string
		for _, k := range ks {
			got = append(got, k.ID)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("release %q: entries %v, want %v", tt.release, got, tt.want)
		}
	}
	if _, err := invariants.ParseKnown([]byte(`[{"id": "x", "invariant": "local.closed-states", "signature": "S", "in": "stack", "note": "n"}]`)); err == nil {
		t.Error("in: \"stack\" was accepted")
	}
}

// TestVerdictSubjects: an invariant that reports its subjects records, in
// the verdict, the objects it judged in the run.
func TestVerdictSubjects(t *testing.T) {
	v := invariants.Judge(base(), invariants.W3C, nil)
	got := v.Subjects["close.states-at-return"]
	for _, want := range []string{invariants.ObjectDTLS, invariants.ObjectSCTP, invariants.ObjectDataChannel, invariants.ObjectSignaling} {
		if !slices.Contains(got, want) {
			t.Errorf("close.states-at-return subjects %v lack %q", got, want)
		}
	}
	if _, ok := v.Subjects["api.rejected-after-close"]; ok {
		t.Errorf("api.rejected-after-close had no probe to judge but reported subjects %v", v.Subjects["api.rejected-after-close"])
	}
}

// TestNothingToJudgeIsNA: a run that gives an invariant nothing to judge
// lists it in NA, never in Pass (the base run has no DisableCloseByDTLS, so
// no consent failure to expect, and no transceiver).
func TestNothingToJudgeIsNA(t *testing.T) {
	v := invariants.Judge(base(), invariants.W3C, nil)
	for _, id := range []string{"remote.consent-failure", "transceiver.stopped-at-return", "transceiver.rtcp-bye", "api.rejected-after-close"} {
		if !slices.Contains(v.NA, id) || slices.Contains(v.Pass, id) {
			t.Errorf("%s: in NA %v, in Pass %v; want n/a", id, slices.Contains(v.NA, id), slices.Contains(v.Pass, id))
		}
	}
	for _, id := range []string{"close.states-at-return", "local.closed-states", "events.none-after-close"} {
		if !slices.Contains(v.Pass, id) {
			t.Errorf("%s is not in Pass: %v", id, v.Pass)
		}
	}
}

// TestUnobservedIsNA: an invariant whose facts the run's world did not
// record (facts.Observation.Unobserved) is n/a, though its empty record
// would have passed; recorded, the same run passes it; and a violation
// found despite the gap still counts.
func TestUnobservedIsNA(t *testing.T) {
	for _, tt := range []struct {
		fact facts.Fact
		ids  []string
	}{
		{facts.FactGoroutines, []string{"leak.goroutines"}},
		{facts.FactSockets, []string{"leak.sockets"}},
		{facts.FactTimers, []string{"leak.timers"}},
		{facts.FactPanics, []string{"harness.no-panic"}},
		{facts.FactWedge, []string{"harness.no-wedge"}},
		{facts.FactCloserSide, []string{"close.states-at-return", "local.closed-states", "events.none-after-close", "close.returns-bounded"}},
	} {
		t.Run(string(tt.fact), func(t *testing.T) {
			seen := invariants.Judge(base(), invariants.W3C, nil)
			obs := base()
			obs.Unobserved = []facts.Fact{tt.fact}
			v := invariants.Judge(obs, invariants.W3C, nil)
			for _, id := range tt.ids {
				if !slices.Contains(seen.Pass, id) {
					t.Fatalf("%s does not pass the base run: %v", id, seen.Pass)
				}
				if !slices.Contains(v.NA, id) || slices.Contains(v.Pass, id) {
					t.Errorf("%s without %s: in NA %v, in Pass %v; want n/a", id, tt.fact, slices.Contains(v.NA, id), slices.Contains(v.Pass, id))
				}
			}
			if len(v.Pass)+len(v.NA) != len(seen.Pass)+len(seen.NA) {
				t.Errorf("judged %d invariants, want %d", len(v.Pass)+len(v.NA), len(seen.Pass)+len(seen.NA))
			}
		})
	}
	obs := base()
	obs.Unobserved = []facts.Fact{facts.FactGoroutines}
	obs.Outcome = facts.OutcomeLeak
	obs.Leaks = []facts.Goroutine{{ID: 7, State: "chan receive", Top: "x.y", Stack: "goroutine 7 [chan receive]:\nx.y()"}}
	if v := invariants.Judge(obs, invariants.W3C, nil); !slices.ContainsFunc(v.Fail, func(x invariants.Violation) bool { return x.Invariant == "leak.goroutines" }) {
		t.Errorf("a leak recorded despite the gap was hidden: %+v", v)
	}
}
