package gstack

import (
	"fmt"
	"path"
	"sort"
	"strings"
)

// holderWindow is how far (in bytes) above a frame's pointer argument a lock
// may sit and still count as a field of the object it points to.
const holderWindow = 4096

// Blocked describes one goroutine blocked acquiring a mutex and the best
// guess at the goroutine holding it.
type Blocked struct {
	// Waiter is the goroutine blocked on the mutex.
	Waiter Goroutine
	// Lock is the blocking call, e.g. "sync.(*RWMutex).RLock".
	Lock string
	// LockAddr is the address of the Mutex/RWMutex, 0 if the dump does not
	// show it (see [Goroutine.MutexWait]).
	LockAddr uint64
	// Site is the waiter's first frame outside runtime/sync/internal/time,
	// i.e. the code that called Lock/RLock.
	Site Frame
	// Holder is the most likely holder of the lock, nil if none was found.
	Holder *Goroutine
	// HolderSite is where the holder waits (its first frame outside
	// runtime/sync/internal/time); zero if Holder is nil.
	HolderSite Frame
	// Why says which heuristic chose Holder, with the evidence.
	Why string
}

// Diagnosis is the result of [Diagnose].
type Diagnosis struct {
	// Blocked lists every goroutine blocked on a mutex, sorted by waiter ID.
	Blocked []Blocked
	// Summary is a multi-line human-readable account naming the goroutine
	// IDs and functions of each waiter and its likely holder.
	Summary string
}

// Diagnose finds the goroutines of gs blocked on a sync.Mutex or
// sync.RWMutex and guesses, for each, which goroutine holds the lock. The
// holder heuristics, tried in order and named in Blocked.Why, are:
//
//  0. a goroutine, not itself waiting for a lock at the same place, that
//     is inside the waiter's locking function (Site) on the same receiver
//     (the same first argument, printed as live) further down its stack:
//     it passed the Lock call the waiter is stuck at and is now busy or
//     parked deeper in (a network write, a timed wait). The lowest ID wins.
//  1. a goroutine parked in a non-mutex wait (see [Goroutine.TimedWait])
//     with a frame, outside runtime/sync/internal/time, whose argument p
//     satisfies p <= LockAddr < p+4096 (the lock is a field of that
//     receiver). When the dump does not show the lock address (RLock), the
//     waiter's receiver (first argument of Site) stands in for it. Among
//     several matches the smallest offset wins, then an argument printed
//     as live over one printed as possibly stale ("0x...?"), then the same
//     bubble, then heuristic 2's score, then the lowest ID; Why lists
//     equally close rivals. If no parked goroutine
//     matches, a goroutine itself blocked on a different, known lock may
//     match the same way (a lock chain).
//  2. otherwise the parked goroutine whose frames share the most receiver
//     types (counted twice) and packages with the waiter's frames, the
//     same bubble first, then the lowest ID.
//  3. otherwise no holder (Holder is nil).
//
// The output is deterministic: goroutines are considered in ID order.
func Diagnose(gs []Goroutine) Diagnosis {
	sorted := append([]Goroutine(nil), gs...)
	sort.SliceStable(sorted, func(i, j int) bool { return sorted[i].ID < sorted[j].ID })

	ix := newIndex(sorted)
	var d Diagnosis
	for i, w := range sorted {
		in := ix.infos[i]
		if !in.mutex {
			continue
		}
		b := Blocked{Waiter: w, Lock: in.lock, LockAddr: in.addr, Site: w.Top()}
		ix.findHolder(&b, i)
		if note := reentrance(w, b); note != "" {
			if b.Why != "" {
				b.Why += "; "
			}
			b.Why += note
		}
		d.Blocked = append(d.Blocked, b)
	}
	d.Summary = summarize(d.Blocked)
	return d
}

// info caches per-goroutine facts for Diagnose.
type info struct {
	lock   string
	addr   uint64
	mutex  bool // MutexWait ok
	parked bool // TimedWait ok
	class  int  // index into index.classes
}

// ptrRef is a non-zero argument word of a non-machinery frame.
type ptrRef struct {
	p      uint64
	idx    int // goroutine index
	frame  string
	unsure bool
}

// h2Result is a cached heuristic 2 answer.
type h2Result struct {
	idx, score int
}

// index holds what Diagnose precomputes about a dump, so that many waiters
// do not cost a full scan each.
type index struct {
	gs      []Goroutine // sorted by ID
	infos   []info      // parallel to gs
	classes []featureSet
	refs    []ptrRef // sorted by p, then goroutine, then frame order
	sim     map[[2]int]int
	h2      map[[2]int]h2Result // key: waiter class, waiter bubble
}

func newIndex(gs []Goroutine) *index {
	ix := &index{gs: gs, infos: make([]info, len(gs)), sim: map[[2]int]int{}, h2: map[[2]int]h2Result{}}
	classOf := map[string]int{}
	for i, g := range gs {
		in := &ix.infos[i]
		in.lock, in.addr, in.mutex = g.MutexWait()
		_, in.parked = g.TimedWait()
		fs := features(g)
		key := fs.key()
		c, ok := classOf[key]
		if !ok {
			c = len(ix.classes)
			classOf[key] = c
			ix.classes = append(ix.classes, fs)
		}
		in.class = c
		for _, f := range g.Frames {
			if isMachinery(f.Func) {
				continue
			}
			for k := range f.Args {
				if p, certain := f.arg(k); p != 0 {
					ix.refs = append(ix.refs, ptrRef{p: p, idx: i, frame: f.Func, unsure: !certain})
				}
			}
		}
	}
	sort.SliceStable(ix.refs, func(a, b int) bool {
		if ix.refs[a].p != ix.refs[b].p {
			return ix.refs[a].p < ix.refs[b].p
		}
		return ix.refs[a].idx < ix.refs[b].idx
	})
	return ix
}

// similarity returns the heuristic 2 score of goroutines i and j.
func (ix *index) similarity(i, j int) int {
	a, b := ix.infos[i].class, ix.infos[j].class
	if a > b {
		a, b = b, a
	}
	s, ok := ix.sim[[2]int{a, b}]
	if !ok {
		s = similarity(ix.classes[a], ix.classes[b])
		ix.sim[[2]int{a, b}] = s
	}
	return s
}

// covering returns, per goroutine (in ID order), the closest argument p of
// its non-machinery frames with p <= target < p+holderWindow, preferring a
// certain word over an uncertain one at the same offset.
func (ix *index) covering(target uint64) []candidate {
	lo := uint64(0)
	if target >= holderWindow-1 {
		lo = target - (holderWindow - 1)
	}
	byIdx := map[int]candidate{}
	for k := sort.Search(len(ix.refs), func(k int) bool { return ix.refs[k].p >= lo }); k < len(ix.refs) && ix.refs[k].p <= target; k++ {
		r := ix.refs[k]
		off := target - r.p
		c, found := byIdx[r.idx]
		if !found || off < c.offset || (off == c.offset && c.unsure && !r.unsure) {
			byIdx[r.idx] = candidate{idx: r.idx, offset: off, p: r.p, frame: r.frame, unsure: r.unsure}
		}
	}
	out := make([]candidate, 0, len(byIdx))
	for _, c := range byIdx {
		out = append(out, c)
	}
	sort.Slice(out, func(a, b int) bool { return out[a].idx < out[b].idx })
	return out
}

// candidate is a possible holder with its ranking keys.
type candidate struct {
	idx        int
	offset     uint64 // target - p
	p          uint64
	frame      string
	unsure     bool // p was printed as possibly stale
	sameBubble bool
	score      int
}

// better reports whether a ranks before b for heuristic 1.
func (a candidate) better(b candidate) bool {
	if a.offset != b.offset {
		return a.offset < b.offset
	}
	if a.unsure != b.unsure {
		return !a.unsure
	}
	if a.sameBubble != b.sameBubble {
		return a.sameBubble
	}
	if a.score != b.score {
		return a.score > b.score
	}
	return a.idx < b.idx // gs is sorted by ID
}

// findHolder fills in b.Holder, b.HolderSite and b.Why for the waiter
// ix.gs[self].
func (ix *index) findHolder(b *Blocked, self int) {
	gs, infos := ix.gs, ix.infos
	w := gs[self]

	// Heuristic 0: another goroutine inside the same locking function on
	// the same receiver, past the Lock call.
	if recv, certain := b.Site.arg(0); recv != 0 && certain && receiverType(b.Site.Func) != "" {
		for i, g := range gs {
			if i == self || infos[i].mutex && g.Top().Func == b.Site.Func {
				continue // the waiter, or another goroutine queued at the same place
			}
			for _, f := range g.Frames {
				if f.Func != b.Site.Func {
					continue
				}
				if r, ok := f.arg(0); ok && r == recv {
					h := g
					b.Holder, b.HolderSite = &h, h.Top()
					b.Why = fmt.Sprintf("heuristic 0: goroutine %d is inside %s on the same receiver %#x, past the Lock call, and waits deeper in at %s",
						g.ID, shortFunc(b.Site.Func), recv, shortFunc(h.Top().Func))
					return
				}
			}
		}
	}

	// The address to look for: the lock itself, or else the waiter's receiver.
	target, approx, targetUnsure := b.LockAddr, false, false
	if recv, certain := b.Site.arg(0); target == 0 && recv != 0 && receiverType(b.Site.Func) != "" {
		target, approx, targetUnsure = recv, true, !certain
	}

	if target != 0 {
		var best, bestChain *candidate
		var all []candidate
		for _, c := range ix.covering(target) {
			i := c.idx
			if i == self {
				continue
			}
			chain := false
			if !infos[i].parked {
				// A lock chain needs both addresses known and different,
				// otherwise the other waiter may be queued on the same lock.
				if gaddr := infos[i].addr; !infos[i].mutex || approx || gaddr == 0 || gaddr == b.LockAddr {
					continue
				}
				chain = true
			}
			c.sameBubble = gs[i].Bubble == w.Bubble
			c.score = ix.similarity(self, i)
			all = append(all, c)
			if chain {
				if bestChain == nil || c.better(*bestChain) {
					cc := c
					bestChain = &cc
				}
			} else if best == nil || c.better(*best) {
				cc := c
				best = &cc
			}
		}
		kind := "heuristic 1"
		if best == nil && bestChain != nil {
			best, kind = bestChain, "heuristic 1 (lock chain)"
		}
		if best != nil {
			h := gs[best.idx]
			b.Holder = &h
			b.HolderSite = h.Top()
			argDesc := "argument"
			if best.unsure {
				argDesc = "possibly stale argument"
			}
			if approx {
				recvDesc := "receiver"
				if targetUnsure {
					recvDesc = "possibly stale receiver"
				}
				b.Why = fmt.Sprintf("%s: lock address not in the dump; the waiter's %s %#x (%s) lies at offset +%#x from %s %#x of %s in goroutine %d",
					kind, recvDesc, target, shortFunc(b.Site.Func), best.offset, argDesc, best.p, shortFunc(best.frame), h.ID)
			} else {
				b.Why = fmt.Sprintf("%s: lock %#x lies at offset +%#x from %s %#x of %s in goroutine %d",
					kind, target, best.offset, argDesc, best.p, shortFunc(best.frame), h.ID)
			}
			if ties := ix.equallyClose(all, *best); ties != "" {
				b.Why += "; equally close: " + ties
			}
			return
		}
	}

	// Heuristic 2: most shared receiver types and packages. The answer
	// depends only on the waiter's feature class and bubble (the waiter
	// itself is never parked), so it is cached.
	key := [2]int{infos[self].class, w.Bubble}
	r, ok := ix.h2[key]
	if !ok {
		r = h2Result{idx: -1}
		bestSame := false
		for i := range gs {
			if i == self || !infos[i].parked {
				continue
			}
			s := ix.similarity(self, i)
			if s == 0 {
				continue
			}
			same := gs[i].Bubble == w.Bubble
			if r.idx < 0 || (same && !bestSame) || (same == bestSame && s > r.score) {
				r, bestSame = h2Result{idx: i, score: s}, same
			}
		}
		ix.h2[key] = r
	}
	if r.idx >= 0 {
		h := gs[r.idx]
		b.Holder = &h
		b.HolderSite = h.Top()
		types, pkgs := shared(ix.classes[infos[self].class], ix.classes[infos[r.idx].class])
		b.Why = fmt.Sprintf("heuristic 2: parked goroutine sharing the most with the waiter (score %d; types: %s; packages: %s)",
			r.score, listOrNone(types), listOrNone(pkgs))
		return
	}
	if target == 0 {
		b.Why = "heuristic 3: lock address unknown and no parked goroutine shares receiver types or packages with the waiter"
	} else {
		b.Why = "heuristic 3: no parked goroutine has a frame argument covering the lock or shares receiver types or packages with the waiter"
	}
}

// equallyClose lists the other candidates of all with the same offset and
// kind (parked or chained) as best, as "goroutine 7, goroutine 9".
func (ix *index) equallyClose(all []candidate, best candidate) string {
	var ids []string
	for _, c := range all {
		if c.idx == best.idx || c.offset != best.offset || ix.infos[c.idx].parked != ix.infos[best.idx].parked {
			continue
		}
		ids = append(ids, fmt.Sprintf("goroutine %d", ix.gs[c.idx].ID))
	}
	return strings.Join(ids, ", ")
}

// featureSet holds the receiver types and packages of a goroutine's
// non-machinery frames.
type featureSet struct {
	types map[string]bool
	pkgs  map[string]bool
}

// key returns a canonical string for fs.
func (fs featureSet) key() string {
	var parts []string
	for t := range fs.types {
		parts = append(parts, "t:"+t)
	}
	for p := range fs.pkgs {
		parts = append(parts, "p:"+p)
	}
	sort.Strings(parts)
	return strings.Join(parts, "\x00")
}

// features collects the receiver types and packages of g's frames, leaving
// out machinery and the ubiquitous testing packages.
func features(g Goroutine) featureSet {
	fs := featureSet{types: map[string]bool{}, pkgs: map[string]bool{}}
	for _, f := range g.Frames {
		if isMachinery(f.Func) {
			continue
		}
		pkg := funcPackage(f.Func)
		if pkg == "" || pkg == "testing" || strings.HasPrefix(pkg, "testing/") {
			continue
		}
		fs.pkgs[pkg] = true
		if t := receiverType(f.Func); t != "" {
			fs.types[pkg+"."+t] = true
		}
	}
	return fs
}

// similarity scores two feature sets: shared types count twice, packages once.
func similarity(a, b featureSet) int {
	n := 0
	for t := range a.types {
		if b.types[t] {
			n += 2
		}
	}
	for p := range a.pkgs {
		if b.pkgs[p] {
			n++
		}
	}
	return n
}

// shared returns the sorted shared types and packages of a and b, in short form.
func shared(a, b featureSet) (types, pkgs []string) {
	for t := range a.types {
		if b.types[t] {
			types = append(types, shortFunc(t))
		}
	}
	for p := range a.pkgs {
		if b.pkgs[p] {
			pkgs = append(pkgs, strings.TrimSuffix(shortFunc(p+"."), "."))
		}
	}
	sort.Strings(types)
	sort.Strings(pkgs)
	return types, pkgs
}

func listOrNone(s []string) string {
	if len(s) == 0 {
		return "none"
	}
	return strings.Join(s, ", ")
}

// funcPackage returns the import path of a printed function name:
// everything up to the first dot after the last slash.
func funcPackage(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	dot := strings.IndexByte(fn[slash+1:], '.')
	if dot < 0 {
		return ""
	}
	return fn[:slash+1+dot]
}

// receiverType returns the receiver type of a method name, "" for plain
// functions and closures: "pkg.(*T).M" and "pkg.(*T[...]).M" give "T",
// "pkg.T.M" gives "T" when M is not a closure suffix.
func receiverType(fn string) string {
	pkg := funcPackage(fn)
	if pkg == "" {
		return ""
	}
	rest := fn[len(pkg)+1:]
	if strings.HasPrefix(rest, "(") {
		end := strings.IndexByte(rest, ')')
		if end < 0 {
			return ""
		}
		t := strings.TrimPrefix(rest[1:end], "*")
		if i := strings.IndexByte(t, '['); i >= 0 {
			t = t[:i]
		}
		return t
	}
	parts := strings.Split(rest, ".")
	if len(parts) < 2 || parts[0] == "" || parts[0][0] < 'A' || parts[0][0] > 'Z' || isClosureName(parts[1]) {
		return ""
	}
	t := parts[0]
	if i := strings.IndexByte(t, '['); i >= 0 {
		t = t[:i]
	}
	return t
}

// isClosureName reports whether s is a compiler-generated name part such
// as "func1", "gowrap2", "deferwrap1" or "3".
func isClosureName(s string) bool {
	for _, p := range []string{"func", "gowrap", "deferwrap"} {
		if strings.HasPrefix(s, p) {
			s = strings.TrimPrefix(s, p)
			break
		}
	}
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// shortFunc shortens a function name to its last path element, using the
// element before a major-version suffix: "github.com/pion/webrtc/v4.(*T).M"
// becomes "webrtc.(*T).M".
func shortFunc(fn string) string {
	slash := strings.LastIndexByte(fn, '/')
	if slash < 0 {
		return fn
	}
	last := fn[slash+1:]
	if dot := strings.IndexByte(last, '.'); dot > 1 && last[0] == 'v' && isDigits(last[1:dot]) {
		prev := fn[:slash]
		if s := strings.LastIndexByte(prev, '/'); s >= 0 {
			prev = prev[s+1:]
		}
		if prev != "" && !strings.Contains(prev, ".") {
			return prev + last[dot:]
		}
	}
	return last
}

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return false
		}
	}
	return true
}

// siteString formats a frame as "webrtc.(*T).M (file.go:123)".
func siteString(f Frame) string {
	if f.Func == "" {
		return "an unknown site"
	}
	if f.File == "" {
		return shortFunc(f.Func)
	}
	return fmt.Sprintf("%s (%s:%d)", shortFunc(f.Func), path.Base(strings.ReplaceAll(f.File, `\`, "/")), f.Line)
}

// callerOf returns the first non-machinery frame of g after the one at
// Top, if any.
func callerOf(g Goroutine) (Frame, bool) {
	i := g.topIndex()
	if i < 0 {
		return Frame{}, false
	}
	for _, f := range g.Frames[i+1:] {
		if !isMachinery(f.Func) {
			return f, true
		}
	}
	return Frame{}, false
}

// summarize renders the Summary of a Diagnosis.
func summarize(bs []Blocked) string {
	if len(bs) == 0 {
		return "no goroutine is blocked on a sync.Mutex or sync.RWMutex\n"
	}
	var sb strings.Builder
	fmt.Fprintf(&sb, "%d goroutine(s) blocked on sync mutexes:\n", len(bs))
	for _, b := range bs {
		w := b.Waiter
		fmt.Fprintf(&sb, "goroutine %d", w.ID)
		if w.Bubble != 0 {
			fmt.Fprintf(&sb, " (synctest bubble %d)", w.Bubble)
		}
		fmt.Fprintf(&sb, " waits in %s", b.Lock)
		if b.LockAddr != 0 {
			fmt.Fprintf(&sb, " on %#x", b.LockAddr)
		}
		fmt.Fprintf(&sb, " at %s", siteString(b.Site))
		if c, ok := callerOf(w); ok {
			fmt.Fprintf(&sb, " called from %s", shortFunc(c.Func))
		}
		h := b.Holder
		if h == nil {
			sb.WriteString("; holder not identified\n")
		} else {
			fmt.Fprintf(&sb, "; likely holder: goroutine %d, ", h.ID)
			if lock, _, ok := h.MutexWait(); ok {
				fmt.Fprintf(&sb, "itself blocked in %s at %s", lock, siteString(b.HolderSite))
			} else {
				fmt.Fprintf(&sb, "parked in %s at %s", h.State, siteString(b.HolderSite))
			}
			if c, ok := callerOf(*h); ok {
				fmt.Fprintf(&sb, " called from %s", shortFunc(c.Func))
			}
			switch {
			case h.State == "sync.Mutex.Lock" || h.State == "sync.RWMutex.Lock" || h.State == "sync.RWMutex.RLock":
				sb.WriteString(" — a chain of locks")
			case w.Bubble != 0:
				sb.WriteString(" — a lock held across a timed wait freezes synctest's fake clock")
			default:
				sb.WriteString(" — the lock is held across a blocking wait")
			}
			sb.WriteString("\n")
		}
		fmt.Fprintf(&sb, "    (%s)\n", b.Why)
	}
	return sb.String()
}

// reentrance notes when the waiter may hold the lock itself: a method of
// the lock site's receiver type further down its own stack, with the same
// receiver (or with receivers not in the dump). A mutex does not record its
// owner, so this is a possibility to check (a real-time rerun that also
// hangs confirms a deadlock), not a verdict: a method below may well have
// released the lock before calling on.
func reentrance(w Goroutine, b Blocked) string {
	rt := receiverType(b.Site.Func)
	if rt == "" {
		return ""
	}
	site, _ := b.Site.arg(0)
	below := false
	for _, f := range w.Frames {
		if f.Func == b.Site.Func && !below {
			below = true
			continue
		}
		if !below || isMachinery(f.Func) || receiverType(f.Func) != rt {
			continue
		}
		recv, certain := f.arg(0)
		if recv != 0 && certain && site != 0 && recv != site {
			continue // another object of the same type
		}
		return fmt.Sprintf("possible re-entrance: %s, a method of the same %s, is further down the waiter's own stack; if it holds the lock (e.g. Pion runs a callback with it held), the waiter deadlocks on itself", shortFunc(f.Func), rt)
	}
	return ""
}

// Headline picks the line of a diagnosis summary that says the most: the
// first goroutine that waits on a mutex ("... waits in ..."), else the
// first line.
func Headline(summary string) string {
	for line := range strings.Lines(summary) {
		if strings.Contains(line, " waits in ") {
			return strings.TrimSpace(line)
		}
	}
	first, _, _ := strings.Cut(strings.TrimSpace(summary), "\n")
	return first
}
