package invariants

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"regexp"
	"slices"
	"strings"

	"github.com/closesim/closesim/facts"
)

// KnownIssue is a violation that is understood and tracked: a run whose
// violation matches it is labeled "known" instead of "fail".
type KnownIssue struct {
	// ID names the issue, unique within a file.
	ID string `json:"id"`
	// Invariant is the ID of the invariant whose violations it covers.
	Invariant string `json:"invariant"`
	// Signature is matched against the violation's Message (or the field In
	// names): a plain substring, or with the prefix "re:" a regular
	// expression (Go RE2 syntax), e.g. "re:sctp.*Abort". Entries for
	// harness.no-wedge match on Waiter, Holder and Stuck instead, and leave
	// it empty.
	Signature string `json:"signature,omitempty"`
	// In names what Signature is matched against: "" or "message" (the
	// violation's one-line Message), "evidence" (its evidence lines, joined
	// by newlines). Matching text anywhere in the evidence once labelled a
	// different bug known, so the evidence is searched only on request.
	In string `json:"in,omitempty"`
	// Releases lists the pion/webrtc releases the issue was seen on (e.g.
	// "v4.2.26"); empty means every release. Loaded with ForRelease, an
	// entry whose list leaves out the release under test is dropped.
	Releases []string `json:"releases,omitempty"`
	// Seen is how often the issue appeared in the reference sweep of
	// closesim's own suite on the pinned release (closesim run -n Runs
	// from seed 0, profile pion): closesim run warns when a sweep of that
	// suite that should have met it a few times met it never, as when a
	// Pion upgrade fixed it. Nil: no reference, no warning.
	Seen *SeenRate `json:"seen,omitempty"`
	// Waiter, for a wedge (harness.no-wedge), lists substrings that must all
	// appear among the function names of one goroutine blocked on a mutex
	// (facts.Wedge.Blocked), e.g. "(*SCTPTransport).onClose". Every other
	// blocked goroutine of the wedge must match too, wait on the same lock
	// as one that does (the same Object), wait for a lock whose likely
	// holder is one that does (a chain of locks behind it), or be the wait
	// of another known wedge entry: a second wait that no entry names is a
	// different bug and leaves the wedge failed.
	Waiter []string `json:"waiter,omitempty"`
	// Holder lists substrings that must all appear among the functions of
	// that waiter's likely holder (empty: any holder, or none).
	Holder []string `json:"holder,omitempty"`
	// Stuck, for a wedge with no goroutine blocked on a mutex, lists
	// substrings that must all appear among the functions of the harness's
	// own goroutine (facts.Wedge.Stuck): the call that never returned, e.g.
	// "(*DataChannel).GracefulClose".
	Stuck []string `json:"stuck,omitempty"`
	// NotStuck, with Stuck, lists substrings none of which may appear among
	// those functions: what tells the issue's own wedge from another that
	// stops in the same call (the harness waiting for an async step,
	// "sync.(*WaitGroup).Wait", says the call was in flight at a close).
	NotStuck []string `json:"not_stuck,omitempty"`
	// Link points at the upstream issue or discussion, if there is one.
	Link string `json:"link,omitempty"`
	// Note says why the violation is accepted.
	Note string `json:"note"`
}

// regexpPrefix marks a Signature that is a regular expression.
const regexpPrefix = "re:"

// matcher returns the function that matches a violation's text, or an
// error if the signature is an invalid regular expression.
func (k KnownIssue) matcher() (func(string) bool, error) {
	if pat, ok := strings.CutPrefix(k.Signature, regexpPrefix); ok {
		re, err := regexp.Compile(pat)
		if err != nil {
			return nil, err
		}
		return re.MatchString, nil
	}
	sig := k.Signature
	return func(s string) bool { return strings.Contains(s, sig) }, nil
}

// wedgeEntry reports whether k matches wedges by their typed facts.
func (k KnownIssue) wedgeEntry() bool {
	return len(k.Waiter) > 0 || len(k.Stuck) > 0
}

// matchesWedge reports whether wedge w is an instance of k (see Waiter,
// Holder and Stuck).
func (k KnownIssue) matchesWedge(w *facts.Wedge, known []KnownIssue) bool {
	if w == nil {
		return false
	}
	if len(k.Stuck) > 0 && (len(w.Blocked) > 0 || !containsAll(w.Stuck, k.Stuck) || containsAny(w.Stuck, k.NotStuck)) {
		return false
	}
	if len(k.Waiter) == 0 {
		return len(k.Stuck) > 0
	}
	own := func(b facts.BlockedWait) bool { return k.ownWait(b) }
	// A wait that another known wedge entry names is that issue's (two
	// known bugs behind one blocked write, say), not a new one.
	otherKnown := func(b facts.BlockedWait) bool {
		return slices.ContainsFunc(known, func(o KnownIssue) bool {
			return o.ID != k.ID && o.Invariant == idNoWedge && len(o.Waiter) > 0 && o.ownWait(b)
		})
	}
	objects := map[uint64]bool{}
	for _, b := range w.Blocked {
		if own(b) && b.Object != 0 {
			objects[b.Object] = true
		}
	}
	// A wait whose likely holder is itself one of the issue's waiters
	// (the same stack) is the next link of a chain of locks behind it.
	behindOwn := func(b facts.BlockedWait) bool {
		return len(b.Holder) > 0 && slices.ContainsFunc(w.Blocked, func(o facts.BlockedWait) bool {
			return own(o) && slices.Equal(o.Waiter, b.Holder)
		})
	}
	matched := false
	for _, b := range w.Blocked {
		switch {
		case own(b):
			matched = true
		case b.Object != 0 && objects[b.Object]:
			// Waits behind the same lock: a consequence of the same bug.
		case behindOwn(b):
			// Waits for a lock an issue's waiter holds: a consequence too.
		case otherKnown(b):
		default:
			return false
		}
	}
	return matched
}

// ownWait reports whether b is the wait k names: its waiter and holder
// frames.
func (k KnownIssue) ownWait(b facts.BlockedWait) bool {
	return len(k.Waiter) > 0 && containsAll(b.Waiter, k.Waiter) && (len(k.Holder) == 0 || containsAll(b.Holder, k.Holder))
}

// containsAny reports whether some one of subs is a substring of some
// element of names.
func containsAny(names, subs []string) bool {
	return slices.ContainsFunc(subs, func(sub string) bool { return containsAll(names, []string{sub}) })
}

// containsAll reports whether every one of subs is a substring of some
// element of names.
func containsAll(names, subs []string) bool {
	for _, sub := range subs {
		found := false
		for _, n := range names {
			if strings.Contains(n, sub) {
				found = true
				break
			}
		}
		if !found {
			return false
		}
	}
	return true
}

// Matches reports whether v is an instance of the known issue, judged by
// its text. A wedge entry (Waiter or Stuck set) matches through the
// Observation only (see Judge), never here; an issue with an empty or
// invalid signature matches nothing.
func (k KnownIssue) Matches(v Violation) bool {
	if k.Invariant != v.Invariant || k.Signature == "" || k.wedgeEntry() {
		return false
	}
	m, err := k.matcher()
	if err != nil {
		return false
	}
	return m(k.matchText(v))
}

// matchText is the text of v that k's signature is matched against.
func (k KnownIssue) matchText(v Violation) string {
	if k.In == matchInEvidence {
		return strings.Join(v.Evidence, "\n")
	}
	return v.Message
}

// Values of KnownIssue.In.
const (
	matchInMessage  = "message"
	matchInEvidence = "evidence"
)

// LoadKnownFiles reads several known-issues files (see LoadKnown) and
// returns their entries in order; an ID used in two files is an error.
func LoadKnownFiles(paths []string, opts ...KnownOption) ([]KnownIssue, error) {
	var out []KnownIssue
	from := map[string]string{}
	for _, p := range paths {
		ks, err := LoadKnown(p, opts...)
		if err != nil {
			return nil, err
		}
		for _, k := range ks {
			if f, dup := from[k.ID]; dup {
				return nil, fmt.Errorf("known issues: %s: id %q: already used in %s", p, k.ID, f)
			}
			from[k.ID] = p
		}
		out = append(out, ks...)
	}
	return out, nil
}

// LoadKnown reads a known-issues file: a JSON array of KnownIssue objects
// (an empty array is fine). Unknown fields, a missing id, invariant,
// signature or note, an invariant that does not exist, an invalid regular
// expression and a duplicate id are errors naming the entry and the field.
func LoadKnown(path string, opts ...KnownOption) ([]KnownIssue, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return nil, fmt.Errorf("known issues: %w", err)
	}
	issues, err := ParseKnown(data, opts...)
	if err != nil {
		return nil, fmt.Errorf("known issues %s: %w", path, err)
	}
	return issues, nil
}

// KnownOption adjusts how LoadKnown and ParseKnown validate entries.
type KnownOption func(*knownConfig)

type knownConfig struct {
	extra   map[string]bool // more invariant IDs to accept
	any     bool            // accept any invariant ID
	release string          // the pion/webrtc release under test, "" for any
}

// ForRelease keeps only the entries that apply to pion/webrtc release v
// (e.g. "v4.2.26"): those whose Releases list it, or list none.
func ForRelease(v string) KnownOption {
	return func(c *knownConfig) { c.release = v }
}

// WithInvariants makes entries for invs valid too: a test's own invariants,
// judged with JudgeWith, can then have known issues.
func WithInvariants(invs ...Invariant) KnownOption {
	return func(c *knownConfig) {
		for _, inv := range invs {
			c.extra[inv.ID] = true
		}
	}
}

// AnyInvariant accepts entries for invariants this package does not know,
// for a front end that checks a file before handing it to the test binary
// that knows the user's invariants (and validates it again).
func AnyInvariant() KnownOption { return func(c *knownConfig) { c.any = true } }

// ParseKnown decodes and validates the contents of a known-issues file (see
// LoadKnown).
func ParseKnown(data []byte, opts ...KnownOption) ([]KnownIssue, error) {
	cfg := knownConfig{extra: map[string]bool{}}
	for _, o := range opts {
		o(&cfg)
	}
	if len(bytes.TrimSpace(data)) == 0 {
		return nil, errors.New("empty file: want a JSON array of known issues ([] for none)")
	}
	var raw []json.RawMessage
	if err := json.Unmarshal(data, &raw); err != nil {
		return nil, fmt.Errorf("want a JSON array of known issues: %w", err)
	}
	if raw == nil { // JSON null
		return nil, errors.New("want a JSON array of known issues ([] for none), got null")
	}
	issues := make([]KnownIssue, 0, len(raw))
	seen := map[string]int{}
	for i, r := range raw {
		var k KnownIssue
		dec := json.NewDecoder(bytes.NewReader(r))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&k); err != nil {
			return nil, fmt.Errorf("entry %d: %w", i, err)
		}
		name := fmt.Sprintf("entry %d", i)
		if k.ID != "" {
			name = fmt.Sprintf("entry %d (%q)", i, k.ID)
		}
		switch {
		case strings.TrimSpace(k.ID) == "":
			return nil, fmt.Errorf("%s: id: must not be empty", name)
		case k.Invariant == "":
			return nil, fmt.Errorf("%s: invariant: must not be empty", name)
		case k.wedgeEntry() && k.Invariant != idNoWedge:
			return nil, fmt.Errorf("%s: waiter, stuck: only for %s", name, idNoWedge)
		case k.wedgeEntry() && k.Signature != "":
			return nil, fmt.Errorf("%s: signature: a wedge entry matches on waiter, holder and stuck, not on text", name)
		case !k.wedgeEntry() && k.Invariant == idNoWedge:
			return nil, fmt.Errorf("%s: waiter or stuck: a %s entry must name the frames of its wait (a text signature can match another wedge's evidence)", name, idNoWedge)
		case len(k.Holder) > 0 && len(k.Waiter) == 0:
			return nil, fmt.Errorf("%s: holder: needs a waiter", name)
		case k.Seen != nil && (k.Seen.Runs < 1 || k.Seen.Hits < 0 || k.Seen.Hits > k.Seen.Runs):
			return nil, fmt.Errorf("%s: seen: want 0 <= hits <= runs and runs >= 1, got %d of %d", name, k.Seen.Hits, k.Seen.Runs)
		case len(k.NotStuck) > 0 && len(k.Stuck) == 0:
			return nil, fmt.Errorf("%s: not_stuck: needs stuck", name)
		case !k.wedgeEntry() && (k.Signature == "" || k.Signature == regexpPrefix):
			return nil, fmt.Errorf("%s: signature: must not be empty", name)
		case strings.TrimSpace(k.Note) == "":
			return nil, fmt.Errorf("%s: note: must say why the violation is accepted", name)
		case k.In != "" && k.In != matchInMessage && k.In != matchInEvidence:
			return nil, fmt.Errorf("%s: in: %q, want %q or %q", name, k.In, matchInMessage, matchInEvidence)
		case k.In != "" && k.wedgeEntry():
			return nil, fmt.Errorf("%s: in: a wedge entry has no signature", name)
		}
		if cfg.release != "" && len(k.Releases) > 0 && !slices.Contains(k.Releases, cfg.release) {
			continue
		}
		if _, ok := Lookup(k.Invariant); !ok && !cfg.any && !cfg.extra[k.Invariant] {
			return nil, fmt.Errorf("%s: invariant: no invariant %q", name, k.Invariant)
		}
		if _, err := k.matcher(); err != nil {
			return nil, fmt.Errorf("%s: signature: %w", name, err)
		}
		if j, dup := seen[k.ID]; dup {
			return nil, fmt.Errorf("%s: id: duplicate of entry %d", name, j)
		}
		seen[k.ID] = i
		issues = append(issues, k)
	}
	return issues, nil
}

// SeenRate is how many of a reference sweep's runs a known issue covered.
type SeenRate struct {
	Runs int `json:"runs"` // the sweep's size
	Hits int `json:"hits"` // the runs the issue covered
}

// Labeled is a violation that matched a known issue.
type Labeled struct {
	// Violation is the violation as Check reported it.
	Violation Violation `json:"violation"`
	// Issue is the first known issue that matched it.
	Issue KnownIssue `json:"issue"`
}

// Verdict is the judgement of one run under one profile.
type Verdict struct {
	// Profile is the profile the run was judged under.
	Profile Profile `json:"profile"`
	// Pass lists the IDs of the invariants that held, in All's order: the
	// run gave them something to judge and they found nothing wrong.
	Pass []string `json:"pass"`
	// NA lists the IDs of the invariants the run gave nothing to judge
	// (Invariant.Applies), in All's order: neither passed nor failed.
	NA []string `json:"na,omitempty"`
	// Subjects holds, per invariant that reports them (Invariant.Subjects)
	// and applied, what it judged in this run.
	Subjects map[string][]string `json:"subjects,omitempty"`
	// Known lists the violations that matched a known issue.
	Known []Labeled `json:"known,omitempty"`
	// Fail lists the violations that matched none.
	Fail []Violation `json:"fail,omitempty"`
}

// OK reports whether nothing failed (known issues aside).
func (v Verdict) OK() bool { return len(v.Fail) == 0 }

// Judge checks obs against every invariant profile p expects and sorts the
// outcome into pass, n/a (nothing to judge), known (a violation matching
// one of known, the first that matches) and fail. An invariant whose every
// violation is known is in neither Pass, NA nor Fail.
func Judge(obs *facts.Observation, p Profile, known []KnownIssue) Verdict {
	return JudgeWith(obs, p, known, nil)
}

// JudgeWith is Judge with extra invariants, such as a user's rules about
// their own service (see facts.Observation.Reports): each is judged after
// closesim's own when its Profiles include p or are empty (an extra
// invariant with no profiles holds under every profile). Known issues
// apply to their violations as to any other.
func JudgeWith(obs *facts.Observation, p Profile, known []KnownIssue, extra []Invariant) Verdict {
	if p == "" {
		p = DefaultProfile
	}
	v := Verdict{Profile: p}
	type compiled struct {
		issue KnownIssue
		match func(string) bool
	}
	var ms []compiled
	for _, k := range known {
		if k.wedgeEntry() {
			var w *facts.Wedge
			if obs != nil {
				w = obs.Wedge
			}
			ms = append(ms, compiled{k, func(string) bool { return k.matchesWedge(w, known) }})
			continue
		}
		if k.Signature == "" {
			continue
		}
		if m, err := k.matcher(); err == nil {
			ms = append(ms, compiled{k, m})
		}
	}
	judged := Of(p)
	for _, inv := range extra {
		if len(inv.Profiles) == 0 || inv.In(p) {
			judged = append(judged, inv)
		}
	}
	for _, inv := range judged {
		var vs []Violation
		if obs != nil {
			vs = inv.Check(obs)
			if inv.Subjects != nil && (len(vs) > 0 || inv.AppliesTo(obs)) {
				if v.Subjects == nil {
					v.Subjects = map[string][]string{}
				}
				v.Subjects[inv.ID] = inv.Subjects(obs)
			}
		}
		if len(vs) == 0 {
			if obs == nil || !inv.AppliesTo(obs) {
				v.NA = append(v.NA, inv.ID)
			} else {
				v.Pass = append(v.Pass, inv.ID)
			}
			continue
		}
	violations:
		for _, viol := range vs {

			for _, m := range ms {
				if m.issue.Invariant == viol.Invariant && m.match(m.issue.matchText(viol)) {
					v.Known = append(v.Known, Labeled{Violation: viol, Issue: m.issue})
					continue violations
				}
			}
			v.Fail = append(v.Fail, viol)
		}
	}
	return v
}
