package gstack

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
)

func TestParseHeader(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want Goroutine
	}{
		{"running", "goroutine 1 [running]:", true, Goroutine{ID: 1, State: "running"}},
		{"mutex in bubble", "goroutine 42 [sync.RWMutex.RLock, synctest bubble 3]:", true,
			Goroutine{ID: 42, State: "sync.RWMutex.RLock", Bubble: 3}},
		{"durable reason minutes bubble", "goroutine 7 [select (durable), 2 minutes, synctest bubble 3]:", true,
			Goroutine{ID: 7, State: "select", Durable: true, WaitMinutes: 2, Bubble: 3}},
		{"appended durable", "goroutine 9 [sleep (durable), synctest bubble 12]:", true,
			Goroutine{ID: 9, State: "sleep", Durable: true, Bubble: 12}},
		{"nil chan keeps qualifier", "goroutine 3 [chan receive (nil chan), 15 minutes]:", true,
			Goroutine{ID: 3, State: "chan receive (nil chan)", WaitMinutes: 15}},
		{"no cases durable", "goroutine 4 [select (no cases) (durable), synctest bubble 1]:", true,
			Goroutine{ID: 4, State: "select (no cases)", Durable: true, Bubble: 1}},
		{"locked to thread", "goroutine 5 [syscall, 3 minutes, locked to thread]:", true,
			Goroutine{ID: 5, State: "syscall", WaitMinutes: 3}},
		{"scan and leaked", "goroutine 6 [chan send (leaked) (scan)]:", true,
			Goroutine{ID: 6, State: "chan send"}},
		{"labels with tricky text", `goroutine 8 [IO wait, synctest bubble 2 labels:{"k": "a, synctest bubble 9]"}]:`, true,
			Goroutine{ID: 8, State: "IO wait", Bubble: 2}},
		{"gp and m (GOTRACEBACK=system)", "goroutine 17 gp=0xc000003340 m=nil [GC worker (idle)]:", true,
			Goroutine{ID: 17, State: "GC worker (idle)"}},
		{"CRLF trimmed by caller", "goroutine 10 [semacquire]:", true, Goroutine{ID: 10, State: "semacquire"}},
		{"not a header", "goroutine running on other thread; stack unavailable", false, Goroutine{}},
		{"no id", "goroutine [running]:", false, Goroutine{}},
		{"junk after id", "goroutine 12x [running]:", false, Goroutine{}},
		{"missing colon", "goroutine 1 [running]", false, Goroutine{}},
		{"empty brackets", "goroutine 1 []:", true, Goroutine{ID: 1}},
		{"overflow id", "goroutine 99999999999999999999 [running]:", false, Goroutine{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseHeader(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}
}

func TestParseFrames(t *testing.T) {
	tests := []struct {
		name string
		line string
		ok   bool
		want Frame
	}{
		{"method", "main.(*T).M(0xc000123000, 0x10)", true, Frame{Func: "main.(*T).M", Args: []uint64{0xc000123000, 0x10}}},
		{"inlined", "sync.(*RWMutex).RLock(...)", true, Frame{Func: "sync.(*RWMutex).RLock"}},
		{"no args", "main.main()", true, Frame{Func: "main.main"}},
		{"stale words", "sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x1?)", true,
			Frame{Func: "sync.runtime_SemacquireMutex", Args: []uint64{0, 0, 1}, Uncertain: []bool{true, true, true}}},
		{"mixed certainty", "main.f(0xc000010000, 0x4c4179?)", true,
			Frame{Func: "main.f", Args: []uint64{0xc000010000, 0x4c4179}, Uncertain: []bool{false, true}}},
		{"aggregates and ellipsis", "testing.runTests({0x0, 0x0}, 0xc00001, {0x0, 0x0, ...})", true,
			Frame{Func: "testing.runTests", Args: []uint64{0, 0, 0xc00001, 0, 0}}},
		{"empty struct", "runtime.goexit({})", true, Frame{Func: "runtime.goexit"}},
		{"offset too large", "pkg.f(0x1, _, 0x2)", true, Frame{Func: "pkg.f", Args: []uint64{1, 0, 2}}},
		{"generic", "pkg.(*List[...]).Push(0xc0000a0000, {0x5d2f80, 0xc0000b4000})", true,
			Frame{Func: "pkg.(*List[...]).Push", Args: []uint64{0xc0000a0000, 0x5d2f80, 0xc0000b4000}}},
		{"panic", "panic({0x4a1b20?, 0x5379c0?})", true, Frame{Func: "panic", Args: []uint64{0x4a1b20, 0x5379c0}, Uncertain: []bool{true, true}}},
		{"unparsable args", "pkg.f(hello)", true, Frame{Func: "pkg.f"}},
		{"not a call", "exit status 2", false, Frame{}},
		{"no func", "(0x1)", false, Frame{}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := parseFuncLine(tt.line)
			if ok != tt.ok {
				t.Fatalf("ok = %v, want %v", ok, tt.ok)
			}
			if ok && !reflect.DeepEqual(got, tt.want) {
				t.Errorf("got %+v, want %+v", got, tt.want)
			}
		})
	}

	fileTests := []struct {
		line string
		file string
		ln   int
	}{
		{"\t/usr/local/go/src/sync/rwmutex.go:74", "/usr/local/go/src/sync/rwmutex.go", 74},
		{"\t/tmp/x/main.go:32 +0xd7", "/tmp/x/main.go", 32},
		{"\tC:/work/x.go:7 +0x1", "C:/work/x.go", 7},
		{"\t?:0", "?", 0},
		{"\tweird", "weird", 0},
	}
	for _, tt := range fileTests {
		if f, l := parseFileLine(tt.line); f != tt.file || l != tt.ln {
			t.Errorf("parseFileLine(%q) = %q, %d; want %q, %d", tt.line, f, l, tt.file, tt.ln)
		}
	}
}

func TestParseDump(t *testing.T) {
	dump := "panic: boom\n\n" +
		"goroutine 12 [chan receive (durable), 2 minutes, synctest bubble 4]:\r\n" +
		"main.worker(0xc000010000)\r\n" +
		"\t/src/main.go:10 +0x1d\r\n" +
		"...additional frames elided...\r\n" +
		"created by main.start in goroutine 3\r\n" +
		"\t/src/main.go:5 +0x2a\r\n" +
		"\r\n" +
		"goroutine 3 [running]:\n" +
		"main.start()\n" +
		"\t/src/main.go:6 +0x40\n" +
		"[originating from goroutine 1]:\n" +
		"main.main()\n" +
		"\t/src/main.go:2 +0x10\n" +
		"goroutine 4 [runnable]:\n" +
		"main.spin(...)\n" +
		"\t/src/main.go:20\n" +
		"exit status 2\n" +
		"main.notAFrame()\n"
	gs := Parse([]byte(dump))
	if len(gs) != 3 {
		t.Fatalf("got %d goroutines, want 3: %+v", len(gs), gs)
	}
	want := []Goroutine{
		{ID: 3, State: "running", Frames: []Frame{{Func: "main.start", File: "/src/main.go", Line: 6}},
			Raw: "goroutine 3 [running]:\nmain.start()\n\t/src/main.go:6 +0x40\n[originating from goroutine 1]:\nmain.main()\n\t/src/main.go:2 +0x10\n"},
		{ID: 4, State: "runnable", Frames: []Frame{{Func: "main.spin", File: "/src/main.go", Line: 20}},
			Raw: "goroutine 4 [runnable]:\nmain.spin(...)\n\t/src/main.go:20\n"},
		{ID: 12, State: "chan receive", Durable: true, WaitMinutes: 2, Bubble: 4,
			Frames:    []Frame{{Func: "main.worker", Args: []uint64{0xc000010000}, File: "/src/main.go", Line: 10}},
			CreatedBy: Frame{Func: "main.start", File: "/src/main.go", Line: 5}, CreatorID: 3,
			Raw: "goroutine 12 [chan receive (durable), 2 minutes, synctest bubble 4]:\r\nmain.worker(0xc000010000)\r\n\t/src/main.go:10 +0x1d\r\n...additional frames elided...\r\ncreated by main.start in goroutine 3\r\n\t/src/main.go:5 +0x2a\r\n"},
	}
	for i := range want {
		if !reflect.DeepEqual(gs[i], want[i]) {
			t.Errorf("goroutine %d:\n got %+v\nwant %+v", i, gs[i], want[i])
		}
	}
}

// TestParseRealFixture checks a dump captured from a real Go 1.26 program
// (testdata/go126_real.txt): an RWMutex held across a select, RLock and
// Lock waiters, a Mutex held across a sleep, and a wedged synctest bubble.
func TestParseRealFixture(t *testing.T) {
	gs := Parse(readFixture(t, "go126_real.txt"))
	byID := map[int64]Goroutine{}
	for i, g := range gs {
		if i > 0 && gs[i-1].ID > g.ID {
			t.Errorf("not sorted by ID at %d", i)
		}
		byID[g.ID] = g
	}
	tests := []struct {
		id       int64
		state    string
		durable  bool
		bubble   int
		top      string
		lock     string
		lockAddr bool // whether MutexWait finds an address
		parked   bool
		creator  int64
	}{
		{1, "running", false, 0, "main.main", "", false, false, 0},
		{19, "select", false, 0, "main.(*Assoc).Abort", "", false, true, 1},
		{5, "sync.RWMutex.RLock", false, 0, "main.(*Transport).onClose", lockRWRLock, false, false, 1},
		{6, "sync.Mutex.Lock", false, 0, "main.(*Transport).write", lockRWLock, true, false, 1},
		{7, "sleep", false, 0, "main.(*Transport).m1", "", false, true, 1},
		{20, "sync.Mutex.Lock", false, 0, "main.(*Transport).m2", lockMutex, true, false, 1},
		{22, "synctest.Run", true, 1, "testing/synctest.Test", "", false, false, 21},
		{25, "select", true, 1, "main.(*Assoc).Abort", "", false, true, 24},
		{26, "sync.RWMutex.RLock", false, 1, "main.(*Transport).onClose", lockRWRLock, false, false, 24},
	}
	for _, tt := range tests {
		g, ok := byID[tt.id]
		if !ok {
			t.Errorf("goroutine %d missing", tt.id)
			continue
		}
		if g.State != tt.state || g.Durable != tt.durable || g.Bubble != tt.bubble || g.CreatorID != tt.creator {
			t.Errorf("goroutine %d: state %q durable %v bubble %d creator %d; want %q %v %d %d",
				tt.id, g.State, g.Durable, g.Bubble, g.CreatorID, tt.state, tt.durable, tt.bubble, tt.creator)
		}
		if got := g.Top().Func; got != tt.top {
			t.Errorf("goroutine %d: Top = %q, want %q", tt.id, got, tt.top)
		}
		lock, addr, isMutex := g.MutexWait()
		if lock != tt.lock || isMutex != (tt.lock != "") || (addr != 0) != tt.lockAddr {
			t.Errorf("goroutine %d: MutexWait = %q, %#x, %v", tt.id, lock, addr, isMutex)
		}
		if _, parked := g.TimedWait(); parked != tt.parked {
			t.Errorf("goroutine %d: TimedWait ok = %v, want %v", tt.id, parked, tt.parked)
		}
		if !strings.HasPrefix(g.Raw, "goroutine ") || strings.HasSuffix(g.Raw, "\n\n") {
			t.Errorf("goroutine %d: bad Raw %q", tt.id, g.Raw)
		}
	}
	// Every waiter finds a holder through heuristic 1.
	d := Diagnose(gs)
	if len(d.Blocked) != 4 {
		t.Fatalf("got %d blocked, want 4:\n%s", len(d.Blocked), d.Summary)
	}
	for _, b := range d.Blocked {
		if b.Holder == nil || !strings.HasPrefix(b.Why, "heuristic 1") {
			t.Fatalf("waiter %d: holder %v, why %q", b.Waiter.ID, b.Holder, b.Why)
		}
		if b.Waiter.Bubble == 0 && b.Holder.ID != 7 && b.Holder.ID != 19 {
			t.Errorf("waiter %d: holder %d, want 7 or 19", b.Waiter.ID, b.Holder.ID)
		}
	}
	// Goroutines 7 (sleeping, holds the Mutex) and 19 (in select, holds the
	// RWMutex) have the same receiver, which contains both locks; the dump
	// cannot tell which holds which, and Why says so.
	if b := d.Blocked[2]; b.Waiter.ID != 20 || b.Holder.ID != 7 || !strings.Contains(b.Why, "equally close: goroutine 19") {
		t.Errorf("waiter %d: why %q", b.Waiter.ID, b.Why)
	}
	if b := d.Blocked[3]; b.Waiter.ID != 26 || b.Holder.ID != 25 || strings.Contains(b.Why, "equally") {
		t.Errorf("bubble waiter/holder = %d/%v (%s), want 26/25\n%s", b.Waiter.ID, b.Holder, b.Why, d.Summary)
	}
	if bubble := InBubble(gs, 1); len(bubble) != 5 {
		t.Errorf("InBubble(1) has %d goroutines, want 5", len(bubble))
	}
	if outside := InBubble(gs, 0); len(outside) != len(gs)-5 {
		t.Errorf("InBubble(0) has %d goroutines, want %d", len(outside), len(gs)-5)
	}
}

func readFixture(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestParseRaceFixture checks a dump of the same program built with -race
// (testdata/go126_race_real.txt): sync frames are not inlined there, and
// some print stale non-zero words ("0x4c4179?") that must not be taken for
// lock addresses.
func TestParseRaceFixture(t *testing.T) {
	gs := Parse(readFixture(t, "go126_race_real.txt"))
	tests := []struct {
		id     int64
		lock   string
		addr   uint64
		holder int64
	}{
		{5, lockRWRLock, 0xc0000a4090, 7}, // 7 and 20 are equally close; 7 has the lower ID
		{6, lockRWLock, 0xc0000a4090, 7},
		{8, lockMutex, 0xc0000a40a8, 7},
		{14, lockRWRLock, 0xc00006a910, 13},
	}
	d := Diagnose(gs)
	if len(d.Blocked) != len(tests) {
		t.Fatalf("got %d blocked, want %d:\n%s", len(d.Blocked), len(tests), d.Summary)
	}
	for i, tt := range tests {
		b := d.Blocked[i]
		if b.Waiter.ID != tt.id || b.Lock != tt.lock || b.LockAddr != tt.addr {
			t.Errorf("blocked[%d] = %d %s %#x, want %d %s %#x", i, b.Waiter.ID, b.Lock, b.LockAddr, tt.id, tt.lock, tt.addr)
		}
		if b.Holder == nil || b.Holder.ID != tt.holder || !strings.HasPrefix(b.Why, "heuristic 1: lock ") {
			t.Errorf("blocked[%d]: holder %v (%s), want %d", i, b.Holder, b.Why, tt.holder)
		}
	}
}
