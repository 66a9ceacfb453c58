// Package gstack parses goroutine dumps as printed by runtime.Stack and
// diagnoses "wedges": goroutines blocked on a sync.Mutex or sync.RWMutex
// whose holder is parked in a timed wait.
//
// Inside a testing/synctest bubble such a wedge freezes the fake clock: a
// goroutine blocked on a mutex is not durably blocked (golang/go#77687), so
// the bubble never advances time, and the holder's timer never fires. A
// wall-clock watchdog outside the bubble can call [All] and [Diagnose] to
// explain which goroutine waits for which.
//
// The parser understands the Go 1.26 traceback format (see
// runtime/traceback.go): headers such as
//
//	goroutine 42 [sync.RWMutex.RLock, synctest bubble 3]:
//	goroutine 7 [select (durable), 2 minutes, synctest bubble 3]:
//
// followed by frame pairs
//
//	pkg.(*T).Method(0xc000123000, 0x10)
//		/path/file.go:123 +0x45
//
// and an optional "created by pkg.fn in goroutine 5" trailer. Everything is
// best effort: Parse never panics, and fields it cannot read stay zero.
//
// Limits: with the register ABI a frame's argument words are only
// meaningful while the function keeps them live; dead words are printed with
// a trailing "?" (see [Frame.Uncertain]) and are often 0 or garbage, and
// inlined frames print no words at all ("(...)"). So the lock address is
// usually visible for Mutex.Lock and RWMutex.Lock but not for RWMutex.RLock
// (unless built with -race, which disables that inlining), and a holder is
// only recognised by address if a non-inlined frame of its own code keeps
// the receiver live across the wait (a later use or a deferred Unlock is
// enough). A mutex does not record its owner: when two parked goroutines
// have the same receiver, Diagnose cannot tell which holds which lock and
// says so in Blocked.Why.
package gstack

import (
	"bytes"
	"runtime"
	"sort"
	"strconv"
	"strings"
)

// Frame is one stack frame of a goroutine.
type Frame struct {
	// Func is the function name as printed, e.g.
	// "github.com/pion/webrtc/v4.(*SCTPTransport).Stop".
	Func string
	// Args holds the argument words printed in the frame, flattened
	// (aggregate braces are dropped, "_" reads as 0, "..." is skipped).
	// Words the runtime marked as possibly stale ("0x4c4179?") are
	// included as printed and flagged in Uncertain. Args is nil when no
	// words were printed (for instance for inlined frames, printed as
	// "(...)") or when the list could not be parsed. With the register
	// ABI, a word is only reliable if the function keeps it live (spilled)
	// at the frame's PC.
	Args []uint64
	// Uncertain is parallel to Args: Uncertain[i] is true when Args[i]
	// was printed with a trailing "?", meaning the argument is no longer
	// live and the value may be stale or garbage. Uncertain is nil when no
	// word is uncertain.
	Uncertain []bool
	// File is the source file path of the frame.
	File string
	// Line is the source line of the frame, 0 if unknown.
	Line int
}

// Goroutine is one goroutine of a dump.
type Goroutine struct {
	// ID is the goroutine ID.
	ID int64
	// State is the wait reason or status, e.g. "chan receive",
	// "sync.Mutex.Lock", "select", "sleep", "running", without the
	// " (durable)", " (scan)", " (leaked)", minutes, thread, bubble and
	// label decorations.
	State string
	// Durable reports whether the header said "(durable)", that is the
	// goroutine is durably blocked inside a synctest bubble.
	Durable bool
	// WaitMinutes is the approximate time blocked, in minutes (0 when
	// the header did not say).
	WaitMinutes int
	// Bubble is the synctest bubble ID, 0 if the goroutine is in no bubble.
	Bubble int
	// Frames are the goroutine's frames, innermost first.
	Frames []Frame
	// CreatedBy is the "created by" frame (Args always nil), zero if absent.
	CreatedBy Frame
	// CreatorID is the ID of the creating goroutine, 0 if not printed.
	CreatorID int64
	// Raw is the goroutine's text block as printed, from its header line
	// through its last non-empty line.
	Raw string
}

// Parse parses a goroutine dump such as the output of runtime.Stack(buf,
// true) or a crash traceback. Text outside goroutine blocks is ignored. The
// result is sorted by goroutine ID (stable, so duplicate IDs keep their dump
// order). Parse never panics.
func Parse(dump []byte) []Goroutine {
	var (
		gs      []Goroutine
		cur     *Goroutine
		start   int  // offset of the current block's header
		rawEnd  int  // end offset of the current block's last non-empty line
		pending int  // index of the frame waiting for its file line; -1 none, -2 CreatedBy
		frozen  bool // no more frames: "created by" seen or ancestors started
	)
	finish := func() {
		if cur == nil {
			return
		}
		cur.Raw = string(dump[start:rawEnd])
		gs = append(gs, *cur)
		cur = nil
	}
	pos := 0
	for pos < len(dump) {
		next := len(dump)
		lineEnd := len(dump)
		if i := bytes.IndexByte(dump[pos:], '\n'); i >= 0 {
			lineEnd = pos + i
			next = lineEnd + 1
		}
		line := string(bytes.TrimSuffix(dump[pos:lineEnd], []byte("\r")))
		lineStart := pos
		pos = next

		if g, ok := parseHeader(line); ok {
			finish()
			cur = &g
			start, rawEnd = lineStart, next
			pending, frozen = -1, false
			continue
		}
		if cur == nil {
			continue
		}
		if strings.TrimSpace(line) == "" {
			finish()
			continue
		}
		switch {
		case line[0] == '\t' || strings.HasPrefix(line, "    "):
			file, ln := parseFileLine(line)
			switch {
			case pending == -2:
				cur.CreatedBy.File, cur.CreatedBy.Line = file, ln
			case pending >= 0 && pending < len(cur.Frames):
				cur.Frames[pending].File, cur.Frames[pending].Line = file, ln
			}
			pending = -1
		case strings.HasPrefix(line, "created by "):
			if !frozen {
				cur.CreatedBy, cur.CreatorID = parseCreatedBy(line)
				pending = -2
			} else {
				pending = -1
			}
			frozen = true
		case strings.HasPrefix(line, "[originating from goroutine "):
			frozen, pending = true, -1
		case strings.HasPrefix(line, "..."),
			strings.HasPrefix(line, "goroutine running on other thread"):
			pending = -1
		default:
			f, ok := parseFuncLine(line)
			if !ok {
				// Not part of a goroutine block: end it here.
				finish()
				continue
			}
			if frozen {
				pending = -1
			} else {
				cur.Frames = append(cur.Frames, f)
				pending = len(cur.Frames) - 1
			}
		}
		rawEnd = next
	}
	finish()
	sort.SliceStable(gs, func(i, j int) bool { return gs[i].ID < gs[j].ID })
	return gs
}

// All returns every goroutine of the process, from runtime.Stack(buf, true)
// with a buffer grown until the dump fits, parsed with [Parse].
func All() []Goroutine {
	buf := make([]byte, 64<<10)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			return Parse(buf[:n])
		}
		buf = make([]byte, 2*len(buf))
	}
}

// Current returns the goroutine ID and synctest bubble ID (0 if none) of the
// calling goroutine, read from the header of runtime.Stack(buf, false).
// It returns (0, 0) if the header cannot be parsed.
func Current() (id int64, bubble int) {
	buf := make([]byte, 1024)
	for {
		n := runtime.Stack(buf, false)
		if i := bytes.IndexByte(buf[:n], '\n'); i >= 0 || n < len(buf) || len(buf) >= 1<<20 {
			if i < 0 {
				i = n
			}
			g, ok := parseHeader(string(buf[:i]))
			if !ok {
				return 0, 0
			}
			return g.ID, g.Bubble
		}
		buf = make([]byte, 2*len(buf))
	}
}

// InBubble returns the goroutines of gs whose Bubble equals bubble, in their
// original order. InBubble(gs, 0) returns the goroutines in no bubble.
func InBubble(gs []Goroutine, bubble int) []Goroutine {
	var out []Goroutine
	for _, g := range gs {
		if g.Bubble == bubble {
			out = append(out, g)
		}
	}
	return out
}

// Top returns the first (innermost) frame that is not machinery of the
// runtime, sync, internal/... or time packages, that is the "interesting"
// site where the goroutine's own code is. If every frame is machinery it
// returns the innermost frame, and the zero Frame if there are no frames.
func (g Goroutine) Top() Frame {
	if i := g.topIndex(); i >= 0 {
		return g.Frames[i]
	}
	return Frame{}
}

// topIndex is the index of the frame Top returns, -1 if there are no frames.
func (g Goroutine) topIndex() int {
	for i, f := range g.Frames {
		if !isMachinery(f.Func) {
			return i
		}
	}
	if len(g.Frames) > 0 {
		return 0
	}
	return -1
}

// isMachinery reports whether fn belongs to the runtime, sync, internal/...
// or time packages, or is a panic frame, none of which is an interesting
// site by itself.
func isMachinery(fn string) bool {
	return strings.HasPrefix(fn, "runtime.") ||
		strings.HasPrefix(fn, "sync.") ||
		strings.HasPrefix(fn, "internal/") ||
		strings.HasPrefix(fn, "time.") ||
		fn == "panic"
}

// Lock names reported by MutexWait.
const (
	lockMutex   = "sync.(*Mutex).Lock"
	lockRWLock  = "sync.(*RWMutex).Lock"
	lockRWRLock = "sync.(*RWMutex).RLock"
)

// MutexWait reports whether g is blocked acquiring a sync.Mutex or
// sync.RWMutex. lock names the blocking call: "sync.(*Mutex).Lock",
// "sync.(*RWMutex).Lock" or "sync.(*RWMutex).RLock" (RWMutex.Lock is
// reported as such even while it waits on the embedded writer Mutex, whose
// wait reason is "sync.Mutex.Lock"). addr is the address of the Mutex or
// RWMutex when the dump shows it, else 0: with the register ABI it is
// usually visible for Mutex.Lock and RWMutex.Lock (through
// internal/sync.(*Mutex).lockSlow) but not for RWMutex.RLock, whose frame is
// inlined and whose semaphore call prints stale "0x0?" words. Words marked
// uncertain ("?") are never used as the address.
func (g Goroutine) MutexWait() (lock string, addr uint64, ok bool) {
	switch g.State {
	case "sync.Mutex.Lock":
		lock = lockMutex
	case "sync.RWMutex.Lock":
		lock = lockRWLock
	case "sync.RWMutex.RLock":
		lock = lockRWRLock
	case "semacquire":
		// Older runtimes: only the frames tell a mutex from other semaphores.
	default:
		return "", 0, false
	}
	// Walk the leading machinery frames, innermost first. The outermost
	// sync lock frame names the call; addresses are taken by preference.
	var fromSlow, fromLock, fromSema uint64
	frameLock := ""
	for _, f := range g.Frames {
		if !isMachinery(f.Func) {
			break
		}
		a := f.firstCertain()
		switch f.Func {
		case lockMutex, lockRWLock, lockRWRLock:
			frameLock = f.Func
			if a != 0 {
				fromLock = a
			}
		case "internal/sync.(*Mutex).lockSlow", "sync.(*Mutex).lockSlow":
			// sync.Mutex wraps internal/sync.Mutex at offset 0 and
			// RWMutex.w is its first field, so this is the lock itself.
			if a != 0 {
				fromSlow = a
			}
		case "internal/sync.runtime_SemacquireMutex", "sync.runtime_SemacquireMutex":
			if a >= 4 { // &m.sema, offset 4
				fromSema = a - 4
			}
		case "sync.runtime_SemacquireRWMutex":
			if a >= 8 { // &rw.writerSem, offset 8
				fromSema = a - 8
			}
		case "sync.runtime_SemacquireRWMutexR":
			if a >= 12 { // &rw.readerSem, offset 12
				fromSema = a - 12
			}
		}
	}
	if frameLock != "" {
		lock = frameLock
	} else if lock == "" {
		return "", 0, false // a semacquire that is not a mutex
	}
	switch {
	case fromSlow != 0:
		addr = fromSlow
	case fromLock != 0:
		addr = fromLock
	default:
		addr = fromSema
	}
	return lock, addr, true
}

// parkedStates are the wait reasons TimedWait accepts.
var parkedStates = map[string]bool{
	"sleep":                   true,
	"select":                  true,
	"select (no cases)":       true,
	"chan receive":            true,
	"chan receive (nil chan)": true,
	"chan send":               true,
	"chan send (nil chan)":    true,
	"sync.Cond.Wait":          true,
	"sync.WaitGroup.Wait":     true,
	"synctest.Wait":           true,
	"IO wait":                 true,
}

// TimedWait reports whether g is parked in a wait that is not a mutex
// acquisition: sleep, select, chan receive/send, sync.Cond.Wait,
// sync.WaitGroup.Wait, synctest.Wait or IO wait (timers are waited on with
// sleep, select or chan receive, so every timed wait is among them). site
// is where it waits, as returned by [Goroutine.Top].
func (g Goroutine) TimedWait() (site Frame, ok bool) {
	if !parkedStates[g.State] {
		return Frame{}, false
	}
	return g.Top(), true
}

// parseHeader parses a "goroutine N [...]:" line.
func parseHeader(line string) (Goroutine, bool) {
	const prefix = "goroutine "
	if !strings.HasPrefix(line, prefix) {
		return Goroutine{}, false
	}
	rest := line[len(prefix):]
	i := 0
	for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
		i++
	}
	if i == 0 {
		return Goroutine{}, false
	}
	id, err := strconv.ParseInt(rest[:i], 10, 64)
	if err != nil {
		return Goroutine{}, false
	}
	rest = rest[i:]
	lb := strings.Index(rest, " [")
	if lb < 0 || !strings.HasSuffix(rest, "]:") || lb+2 > len(rest)-2 {
		return Goroutine{}, false
	}
	// Between the ID and " [" there may be " gp=... m=..." (GOTRACEBACK>=2).
	if lb > 0 && rest[0] != ' ' {
		return Goroutine{}, false
	}
	inner := rest[lb+2 : len(rest)-2]
	if j := strings.Index(inner, " labels:{"); j >= 0 {
		inner = strings.TrimRight(inner[:j], ", ")
	}
	g := Goroutine{ID: id}
	parts := strings.Split(inner, ", ")
	status := parts[0]
	for _, p := range parts[1:] {
		switch {
		case strings.HasSuffix(p, " minutes"):
			if n, err := strconv.Atoi(strings.TrimSuffix(p, " minutes")); err == nil {
				g.WaitMinutes = n
			}
		case strings.HasPrefix(p, "synctest bubble "):
			if n, err := strconv.Atoi(strings.TrimPrefix(p, "synctest bubble ")); err == nil {
				g.Bubble = n
			}
		}
	}
	for {
		switch {
		case strings.HasSuffix(status, " (durable)"):
			status = strings.TrimSuffix(status, " (durable)")
			g.Durable = true
			continue
		case strings.HasSuffix(status, " (scan)"):
			status = strings.TrimSuffix(status, " (scan)")
			continue
		case strings.HasSuffix(status, " (leaked)"):
			status = strings.TrimSuffix(status, " (leaked)")
			continue
		}
		break
	}
	g.State = status
	return g, true
}

// parseFuncLine parses "pkg.f(0x1, {0x2, 0x3}, ...)" into a Frame.
func parseFuncLine(line string) (Frame, bool) {
	if line == "" || line[0] == ' ' || !strings.HasSuffix(line, ")") {
		return Frame{}, false
	}
	open := strings.LastIndexByte(line, '(')
	if open <= 0 {
		return Frame{}, false
	}
	args, unsure := parseArgs(line[open+1 : len(line)-1])
	return Frame{Func: line[:open], Args: args, Uncertain: unsure}, true
}

// parseArgs parses a traceback argument list into words and their
// uncertainty flags; both nil if empty or unparsable, unsure nil if no word
// is uncertain.
func parseArgs(s string) (args []uint64, unsure []bool) {
	anyUnsure := false
	for _, tok := range strings.Split(s, ",") {
		tok = strings.Trim(tok, " {}")
		switch tok {
		case "", "...":
			continue
		case "_":
			args, unsure = append(args, 0), append(unsure, false)
			continue
		}
		q := strings.HasSuffix(tok, "?")
		tok = strings.TrimSuffix(tok, "?")
		if !strings.HasPrefix(tok, "0x") {
			return nil, nil
		}
		v, err := strconv.ParseUint(tok[2:], 16, 64)
		if err != nil {
			return nil, nil
		}
		args, unsure = append(args, v), append(unsure, q)
		anyUnsure = anyUnsure || q
	}
	if !anyUnsure {
		unsure = nil
	}
	return args, unsure
}

// arg returns f.Args[i] and whether it is certain; (0, false) if absent.
func (f Frame) arg(i int) (v uint64, certain bool) {
	if i < 0 || i >= len(f.Args) {
		return 0, false
	}
	return f.Args[i], i >= len(f.Uncertain) || !f.Uncertain[i]
}

// firstCertain returns the first non-zero argument word of f not marked
// uncertain, 0 if none.
func (f Frame) firstCertain() uint64 {
	for i := range f.Args {
		if v, ok := f.arg(i); ok && v != 0 {
			return v
		}
	}
	return 0
}

// parseFileLine parses "\t/path/file.go:123 +0x45".
func parseFileLine(line string) (file string, ln int) {
	s := strings.TrimSpace(line)
	if i := strings.LastIndex(s, " +0x"); i >= 0 {
		s = s[:i]
	}
	if i := strings.LastIndexByte(s, ':'); i >= 0 {
		if n, err := strconv.Atoi(s[i+1:]); err == nil {
			return s[:i], n
		}
	}
	return s, 0
}

// parseCreatedBy parses "created by pkg.fn in goroutine 5".
func parseCreatedBy(line string) (Frame, int64) {
	s := strings.TrimPrefix(line, "created by ")
	var creator int64
	if i := strings.LastIndex(s, " in goroutine "); i >= 0 {
		if n, err := strconv.ParseInt(s[i+len(" in goroutine "):], 10, 64); err == nil {
			creator = n
			s = s[:i]
		}
	}
	return Frame{Func: s}, creator
}

// SelfID returns the goroutine ID in the header of a dump that starts with
// one goroutine ("goroutine 12 [running]:..."; runtime.Stack(buf, false)
// into a buffer of 64 bytes is enough), or 0 if there is none.
func SelfID(dump []byte) int64 {
	rest, ok := bytes.CutPrefix(dump, []byte("goroutine "))
	if !ok {
		return 0
	}
	var id int64
	for _, c := range rest {
		if c < '0' || c > '9' {
			break
		}
		id = id*10 + int64(c-'0')
	}
	return id
}
