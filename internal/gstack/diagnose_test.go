package gstack

import (
	"strings"
	"testing"
)

// TestDiagnoseSCTPFixture runs Diagnose on testdata/sctp_wedge.txt, shaped
// like the pion/webrtc v4.2.26 wedge: SCTPTransport.Stop holds r.lock while
// sctp.(*Association).Abort waits on a timer, and acceptDataChannels ->
// onClose blocks in r.lock.RLock().
func TestDiagnoseSCTPFixture(t *testing.T) {
	gs := Parse(readFixture(t, "sctp_wedge.txt"))
	if len(gs) != 10 {
		t.Fatalf("parsed %d goroutines, want 10", len(gs))
	}
	d := Diagnose(gs)
	tests := []struct {
		waiter     int64
		lock       string
		lockAddr   uint64
		site       string
		holder     int64
		holderSite string
		why        string
	}{
		{42, lockRWRLock, 0, "github.com/pion/webrtc/v4.(*SCTPTransport).onClose", 37,
			"github.com/pion/sctp.(*Association).Abort", "heuristic 1: lock address not in the dump"},
		{48, lockRWLock, 0xc0001f4000, "github.com/pion/webrtc/v4.(*SCTPTransport).OnDataChannel", 37,
			"github.com/pion/sctp.(*Association).Abort", "heuristic 1: lock 0xc0001f4000 lies at offset +0x0"},
	}
	if len(d.Blocked) != len(tests) {
		t.Fatalf("got %d blocked, want %d:\n%s", len(d.Blocked), len(tests), d.Summary)
	}
	for i, tt := range tests {
		b := d.Blocked[i]
		if b.Waiter.ID != tt.waiter || b.Lock != tt.lock || b.LockAddr != tt.lockAddr || b.Site.Func != tt.site {
			t.Errorf("blocked[%d] = waiter %d lock %s %#x site %s; want %d %s %#x %s",
				i, b.Waiter.ID, b.Lock, b.LockAddr, b.Site.Func, tt.waiter, tt.lock, tt.lockAddr, tt.site)
		}
		if b.Holder == nil || b.Holder.ID != tt.holder || b.HolderSite.Func != tt.holderSite {
			t.Errorf("blocked[%d]: holder %v site %q, want %d %q", i, b.Holder, b.HolderSite.Func, tt.holder, tt.holderSite)
		}
		if !strings.HasPrefix(b.Why, tt.why) || strings.Contains(b.Why, "equally") {
			t.Errorf("blocked[%d]: why %q, want prefix %q", i, b.Why, tt.why)
		}
	}
	for _, want := range []string{
		"goroutine 42 (synctest bubble 3) waits in sync.(*RWMutex).RLock at webrtc.(*SCTPTransport).onClose (sctptransport.go:397) called from webrtc.(*SCTPTransport).acceptDataChannels",
		"likely holder: goroutine 37, parked in select at sctp.(*Association).Abort (association.go:1148) called from webrtc.(*SCTPTransport).Stop — a lock held across a timed wait freezes synctest's fake clock",
		"goroutine 48 (synctest bubble 3) waits in sync.(*RWMutex).Lock on 0xc0001f4000 at webrtc.(*SCTPTransport).OnDataChannel (sctptransport.go:409)",
	} {
		if !strings.Contains(d.Summary, want) {
			t.Errorf("summary lacks %q:\n%s", want, d.Summary)
		}
	}
	if Diagnose(gs).Summary != d.Summary {
		t.Error("Diagnose is not deterministic")
	}
	// Shuffled input gives the same answer.
	rev := append([]Goroutine(nil), gs...)
	for i, j := 0, len(rev)-1; i < j; i, j = i+1, j-1 {
		rev[i], rev[j] = rev[j], rev[i]
	}
	if got := Diagnose(rev).Summary; got != d.Summary {
		t.Errorf("order-dependent summary:\n%s\nvs\n%s", got, d.Summary)
	}
	if bubble := InBubble(gs, 3); len(bubble) != 8 {
		t.Errorf("InBubble(3) = %d goroutines, want 8", len(bubble))
	}
}

// TestDiagnoseHeuristics covers heuristics 1 (chain), 2 and 3 on small
// hand-written dumps.
func TestDiagnoseHeuristics(t *testing.T) {
	const waiterRLock = `goroutine 10 [sync.RWMutex.RLock, synctest bubble 1]:
sync.runtime_SemacquireRWMutexR(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:100 +0x25
sync.(*RWMutex).RLock(...)
	/go/src/sync/rwmutex.go:74
example.com/pkg.(*Conn).state(0x0?)
	/src/pkg/conn.go:40 +0x3d
`
	tests := []struct {
		name   string
		dump   string
		holder int64 // 0: none
		why    string
	}{
		{"heuristic 0: inside the same locking function on the same receiver", `goroutine 30 [sync.Mutex.Lock]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000050010)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/dtls.(*Conn).writePackets(0xc000050000, {0x1, 0x2})
	/src/dtls/conn.go:554 +0x3c
example.com/dtls.(*Conn).notify(0xc000050000)
	/src/dtls/conn.go:1285 +0x3c

goroutine 31 [select]:
example.com/dtls.(*Conn).handshake(0xc000050000)
	/src/dtls/conn.go:900 +0x2d

goroutine 32 [select]:
example.com/bp.(*sender).write(0xc000090000)
	/src/bp/conn.go:168 +0x2d
example.com/dtls.(*Conn).writePackets(0xc000050000, {0x3, 0x4})
	/src/dtls/conn.go:600 +0x3c
example.com/sctp.(*Association).writeLoop(0xc000070000)
	/src/sctp/association.go:700 +0x3c
`, 32, "heuristic 0: goroutine 32 is inside dtls.(*Conn).writePackets on the same receiver 0xc000050000"},
		{"heuristic 2 by shared receiver type", waiterRLock + `
goroutine 11 [sleep, synctest bubble 1]:
time.Sleep(0x3b9aca00)
	/go/src/runtime/time.go:363 +0x165
example.com/other.retry(...)
	/src/other/retry.go:9
example.com/pkg.(*Conn).close(0x0?)
	/src/pkg/conn.go:80 +0x2d

goroutine 12 [select, synctest bubble 1]:
example.com/pkg.run(0xc000010000)
	/src/pkg/run.go:12 +0x2d

goroutine 13 [select]:
example.com/pkg.(*Conn).loop(0xc000020000)
	/src/pkg/conn.go:99 +0x2d
`, 11, "heuristic 2: parked goroutine sharing the most with the waiter (score 3; types: pkg.Conn; packages: pkg)"},
		{"heuristic 2 prefers the same bubble", waiterRLock + `
goroutine 9 [select, synctest bubble 2]:
example.com/pkg.(*Conn).loop(0xc000020000)
	/src/pkg/conn.go:99 +0x2d

goroutine 12 [select, synctest bubble 1]:
example.com/pkg.run(0xc000010000)
	/src/pkg/run.go:12 +0x2d
`, 12, "heuristic 2: parked goroutine sharing the most with the waiter (score 1; types: none; packages: pkg)"},
		{"heuristic 3", waiterRLock + `
goroutine 12 [select, synctest bubble 1]:
example.com/unrelated.run(0xc000010000)
	/src/unrelated/run.go:12 +0x2d

goroutine 13 [sync.Mutex.Lock, synctest bubble 1]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000030008)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/pkg.(*Conn).write(0x0?)
	/src/pkg/conn.go:50 +0x3c
`, 0, "heuristic 3: lock address unknown"},
		{"heuristic 1 lock chain", `goroutine 20 [sync.Mutex.Lock]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000040010)
	/go/src/internal/sync/mutex.go:149 +0x15d
internal/sync.(*Mutex).Lock(...)
	/go/src/internal/sync/mutex.go:70
sync.(*Mutex).Lock(...)
	/go/src/sync/mutex.go:46
example.com/a.(*A).f(0x0?)
	/src/a/a.go:10 +0x3c

goroutine 21 [sync.Mutex.Lock]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000050000)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/b.(*B).g(0xc000050000)
	/src/b/b.go:20 +0x3c
example.com/a.(*A).h(0xc000040000)
	/src/a/a.go:30 +0x3c

goroutine 22 [sync.Mutex.Lock]:
internal/sync.runtime_SemacquireMutex(0x0?, 0x0?, 0x0?)
	/go/src/runtime/sema.go:95 +0x25
internal/sync.(*Mutex).lockSlow(0xc000040010)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/a.(*A).f(0xc000040000)
	/src/a/a.go:10 +0x3c
`, 21, "heuristic 1 (lock chain): lock 0xc000040010 lies at offset +0x10 from argument 0xc000040000 of a.(*A).h in goroutine 21"},
		{"heuristic 1 with a possibly stale holder argument", `goroutine 40 [sync.Mutex.Lock]:
internal/sync.(*Mutex).lockSlow(0xc000070020)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/e.(*E).f(0x0?)
	/src/e/e.go:1 +0x1

goroutine 41 [sleep]:
time.Sleep(0x3b9aca00)
	/go/src/runtime/time.go:363 +0x165
example.com/e.(*E).g(0xc000070000?)
	/src/e/e.go:9 +0x1
`, 41, "heuristic 1: lock 0xc000070020 lies at offset +0x20 from possibly stale argument 0xc000070000 of e.(*E).g in goroutine 41"},
		{"heuristic 1 ignores machinery frames", `goroutine 30 [sync.Mutex.Lock]:
internal/sync.(*Mutex).lockSlow(0xc000060008)
	/go/src/internal/sync/mutex.go:149 +0x15d
example.com/c.f()
	/src/c/c.go:1 +0x1

goroutine 31 [sync.Cond.Wait]:
sync.runtime_notifyListWait(0xc000060000, 0x0)
	/go/src/runtime/sema.go:606 +0x15d
sync.(*Cond).Wait(0xc000060000)
	/go/src/sync/cond.go:71 +0x85
example.com/d.g()
	/src/d/d.go:1 +0x1
`, 0, "heuristic 3: no parked goroutine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := Diagnose(Parse([]byte(tt.dump)))
			if len(d.Blocked) == 0 {
				t.Fatalf("nothing blocked:\n%s", d.Summary)
			}
			b := d.Blocked[0]
			switch {
			case tt.holder == 0 && b.Holder != nil:
				t.Errorf("holder %d, want none (%s)", b.Holder.ID, b.Why)
			case tt.holder != 0 && (b.Holder == nil || b.Holder.ID != tt.holder):
				t.Errorf("holder %v, want %d (%s)", b.Holder, tt.holder, b.Why)
			}
			if !strings.HasPrefix(b.Why, tt.why) {
				t.Errorf("why %q, want prefix %q", b.Why, tt.why)
			}
			if tt.holder == 0 && !strings.Contains(d.Summary, "holder not identified") {
				t.Errorf("summary: %s", d.Summary)
			}
		})
	}
}

func TestDiagnoseNothingBlocked(t *testing.T) {
	d := Diagnose(Parse([]byte("goroutine 1 [running]:\nmain.main()\n\t/x/main.go:3 +0x1\n")))
	if len(d.Blocked) != 0 || d.Summary != "no goroutine is blocked on a sync.Mutex or sync.RWMutex\n" {
		t.Errorf("got %+v", d)
	}
	if d := Diagnose(nil); len(d.Blocked) != 0 {
		t.Errorf("Diagnose(nil) = %+v", d)
	}
}

func TestMutexWaitAndTimedWait(t *testing.T) {
	tests := []struct {
		name   string
		g      Goroutine
		lock   string
		addr   uint64
		parked bool
		site   string
	}{
		{"old runtime semacquire mutex", Goroutine{State: "semacquire", Frames: []Frame{
			{Func: "sync.runtime_SemacquireMutex", Args: []uint64{0xc000010004}},
			{Func: "sync.(*Mutex).lockSlow", Args: []uint64{0xc000010000}},
			{Func: "sync.(*Mutex).Lock"},
			{Func: "main.f"}}}, lockMutex, 0xc000010000, false, ""},
		{"semaphore address fallback", Goroutine{State: "sync.RWMutex.RLock", Frames: []Frame{
			{Func: "sync.runtime_SemacquireRWMutexR", Args: []uint64{0xc00001000c}},
			{Func: "sync.(*RWMutex).RLock"},
			{Func: "main.f"}}}, lockRWRLock, 0xc000010000, false, ""},
		{"RWMutex.Lock on writerSem", Goroutine{State: "sync.RWMutex.Lock", Frames: []Frame{
			{Func: "sync.runtime_SemacquireRWMutex", Args: []uint64{0, 0, 0}},
			{Func: "sync.(*RWMutex).Lock", Args: []uint64{0xc000020000}},
			{Func: "main.f"}}}, lockRWLock, 0xc000020000, false, ""},
		{"stale words are not addresses", Goroutine{State: "sync.Mutex.Lock", Frames: []Frame{
			{Func: "internal/sync.runtime_SemacquireMutex", Args: []uint64{0x1000a4090, 0xf4, 1}, Uncertain: []bool{true, true, true}},
			{Func: "sync.(*Mutex).Lock", Args: []uint64{0x4c58b1}, Uncertain: []bool{true}},
			{Func: "main.f"}}}, lockMutex, 0, false, ""},
		{"plain semacquire is not a mutex", Goroutine{State: "semacquire", Frames: []Frame{
			{Func: "sync.runtime_Semacquire"}, {Func: "main.f"}}}, "", 0, false, ""},
		{"state without frames", Goroutine{State: "sync.Mutex.Lock"}, lockMutex, 0, false, ""},
		{"sleep", Goroutine{State: "sleep", Frames: []Frame{{Func: "time.Sleep"}, {Func: "main.g"}}}, "", 0, true, "main.g"},
		{"cond wait", Goroutine{State: "sync.Cond.Wait", Frames: []Frame{
			{Func: "sync.runtime_notifyListWait"}, {Func: "sync.(*Cond).Wait"}, {Func: "main.h"}}}, "", 0, true, "main.h"},
		{"only machinery", Goroutine{State: "chan receive", Frames: []Frame{{Func: "runtime.chanrecv1"}}}, "", 0, true, "runtime.chanrecv1"},
		{"running", Goroutine{State: "running", Frames: []Frame{{Func: "main.main"}}}, "", 0, false, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			lock, addr, ok := tt.g.MutexWait()
			if lock != tt.lock || addr != tt.addr || ok != (tt.lock != "") {
				t.Errorf("MutexWait = %q, %#x, %v; want %q, %#x", lock, addr, ok, tt.lock, tt.addr)
			}
			site, parked := tt.g.TimedWait()
			if parked != tt.parked || site.Func != tt.site {
				t.Errorf("TimedWait = %q, %v; want %q, %v", site.Func, parked, tt.site, tt.parked)
			}
		})
	}
	if f := (Goroutine{}).Top(); f.Func != "" || f.Args != nil || f.File != "" || f.Line != 0 {
		t.Error("Top of no frames is not zero")
	}
}

func TestNames(t *testing.T) {
	tests := []struct {
		fn, pkg, recv, short string
	}{
		{"github.com/pion/webrtc/v4.(*SCTPTransport).onClose", "github.com/pion/webrtc/v4", "SCTPTransport", "webrtc.(*SCTPTransport).onClose"},
		{"github.com/pion/sctp.(*Association).Abort", "github.com/pion/sctp", "Association", "sctp.(*Association).Abort"},
		{"main.main.func1.2", "main", "", "main.main.func1.2"},
		{"example.com/p.Fn.func1", "example.com/p", "", "p.Fn.func1"},
		{"example.com/p.T.Method", "example.com/p", "T", "p.T.Method"},
		{"example.com/p.(*List[...]).Push", "example.com/p", "List", "p.(*List[...]).Push"},
		{"gopkg.in/yaml%2ev3.(*decoder).unmarshal", "gopkg.in/yaml%2ev3", "decoder", "yaml%2ev3.(*decoder).unmarshal"},
		{"example.com/v2.F", "example.com/v2", "", "v2.F"},
		{"panic", "", "", "panic"},
	}
	for _, tt := range tests {
		if got := funcPackage(tt.fn); got != tt.pkg {
			t.Errorf("funcPackage(%q) = %q, want %q", tt.fn, got, tt.pkg)
		}
		if got := receiverType(tt.fn); got != tt.recv {
			t.Errorf("receiverType(%q) = %q, want %q", tt.fn, got, tt.recv)
		}
		if got := shortFunc(tt.fn); got != tt.short {
			t.Errorf("shortFunc(%q) = %q, want %q", tt.fn, got, tt.short)
		}
	}
}

func TestHeadline(t *testing.T) {
	for _, tc := range []struct{ in, want string }{
		{"wedge\n  goroutine 5 waits in sync.(*Mutex).Lock at x\nmore", "goroutine 5 waits in sync.(*Mutex).Lock at x"},
		{"  first line\nsecond", "first line"},
		{"", ""},
	} {
		if got := Headline(tc.in); got != tc.want {
			t.Errorf("Headline(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
}
