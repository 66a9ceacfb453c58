package sim

import (
	"fmt"
	"runtime"
	"slices"
	"strings"
	"sync/atomic"
	"time"

	"github.com/closesim/closesim/facts"

	"github.com/closesim/closesim/internal/gstack"
)

// Freeze detection samples a running bubble from outside with goroutine
// dumps, and only while the trace is quiet. A dump stops the world for as
// long as the process has goroutines to print, and a process that ran many
// scenarios (a fuzzing worker) keeps every wedged bubble's goroutines, so
// the detector scales its waits to what a dump costs (dumpCost, carried
// from run to run): a run must be quiet for max(freezeQuiet, 2 x cost)
// before the first dump, a busy dump pushes the next one back (doubling,
// at least 4 x cost), and a frozen dump is confirmed by a second one
// max(freezeConfirm, 2 x cost) later. In a fresh process a dump costs
// about 0.1 ms and a freeze is declared within about 5-10 ms of it.
const (
	// freezeStart is when the detector first looks: most runs are over
	// by then and never pay for a wake-up.
	freezeStart = 2 * time.Millisecond
	// freezeQuiet is the shortest quiet spell (no trace event) that is
	// worth a dump.
	freezeQuiet   = time.Millisecond
	freezeMaxPoll = 32 * time.Millisecond
	// freezeConfirm is how long the same frozen dump must persist: a
	// goroutine outside the bubble that is about to wake a waiter (user
	// code may wait on a channel made outside) gets that long to run.
	freezeConfirm = 3 * time.Millisecond
)

// dumpCost is the wall time of the last freeze-detection dump, in
// nanoseconds, across runs in this process.
var dumpCost atomic.Int64

// wait blocks until the run finishes or is declared wedged: by freeze
// detection (unless disabled, and never for real-time runs, which have no
// bubble) or by the watchdog.
func (r *runner) wait() {
	wd := r.newWatchdog()
	defer wd.timer.Stop()
	var frozen chan *freezeDetector // nil, never ready, without freeze detection
	if !r.cfg.realTime && !r.cfg.noFreeze {
		frozen = make(chan *freezeDetector, 1)
		stop, stopped := make(chan struct{}), make(chan struct{})
		r.helpers.Add(1)
		go func() {
			defer close(stopped)
			defer r.helpers.Add(-1)
			r.sampleFreezes(stop, frozen)
		}()
		defer func() {
			close(stop)
			<-stopped // it records its dump count
		}()
	}
	for {
		select {
		case <-r.done:
		case fd := <-frozen:
			r.wedgedFrom(facts.WedgeByFreeze, fd.why(), fd.buf)
		case why := <-r.hung:
			r.wedged(facts.WedgeByDeadline, why)
		case <-wd.timer.C:
			if !wd.fired() {
				continue
			}
			r.wedged(facts.WedgeByWatchdog, wd.why())
		}
		return
	}
}

// watchdogCap bounds, as a multiple of the watchdog, how long a run that
// keeps making progress may take: 6 s by default, under the 10 s after
// which go test -fuzz declares an input hung.
const watchdogCap = 2

// watchdog is the wall-clock backstop of a run: it fires when the run's
// trace has not grown for a whole watchdog period, or when the run has
// taken watchdogCap periods in all. A run that is merely slow (an SFU's
// handshakes under -race, on a machine running every package's tests at
// once) is not a wedge; one that stopped recording anything is, and so is
// one that never ends.
type watchdog struct {
	r      *runner
	timer  *time.Timer
	start  time.Time
	events int64 // the trace's length when the timer was last set
	capped bool
}

func (r *runner) newWatchdog() *watchdog {
	return &watchdog{r: r, timer: time.NewTimer(r.cfg.watchdog), start: time.Now(), events: r.traceLen()}
}

// traceLen is the length of the run's trace so far, -1 before it exists.
func (r *runner) traceLen() int64 {
	if t := r.trace.Load(); t != nil {
		return t.added.Load()
	}
	return -1
}

// fired is called when the timer fires: it reports whether the run is to
// be declared wedged, and otherwise sets the timer again.
func (wd *watchdog) fired() bool {
	left := watchdogCap*wd.r.cfg.watchdog - time.Since(wd.start)
	if left <= 0 {
		wd.capped = true
		return true
	}
	now := wd.r.traceLen()
	if now == wd.events {
		return true
	}
	wd.events = now
	wd.timer.Reset(min(left, wd.r.cfg.watchdog))
	return false
}

// why says why the watchdog fired, for the trace.
func (wd *watchdog) why() string {
	if wd.capped {
		return fmt.Sprintf("still running after %s of wall time", time.Since(wd.start).Round(time.Millisecond))
	}
	return fmt.Sprintf("no progress after %s of wall time", wd.r.cfg.watchdog)
}

// sampleFreezes runs freeze detection until stop is closed, and sends its
// detector on frozen when it finds the bubble frozen.
//
// It must not change the order in which the bubble's goroutines run. A
// goroutine woken by a timer (or by anything that readies it) takes the
// one P's "run next" slot and pushes the goroutine that held it to the back
// of the queue: a wake-up in the middle of a run reorders it, at a wall-clock
// moment, and replays agreed less often (152-164 of 180 against 164-167
// without freeze detection). So the sampler never sleeps: it yields with
// runtime.Gosched, which puts it on the global run queue, which the
// scheduler serves only when the P has nothing else to run, or once every
// 61 scheduling rounds, without touching the P's own queue. It costs
// next to nothing while the bubble runs, and spins while the bubble is
// frozen, which is when there is nothing else to run.
func (r *runner) sampleFreezes(stop <-chan struct{}, frozen chan<- *freezeDetector) {
	fd := &freezeDetector{events: -1, backoff: freezeQuiet}
	defer func() {
		r.mu.Lock()
		r.obs.FreezeDumps = fd.dumps
		r.mu.Unlock()
	}()
	next := time.Now().Add(freezeStart)
	for {
		select {
		case <-stop:
			return
		default:
		}
		if now := time.Now(); !now.Before(next) {
			wait, isFrozen := fd.sample(int(r.bubbleID.Load()), r.traceLen(), now)
			if isFrozen {
				frozen <- fd
				return
			}
			next = now.Add(wait)
		}
		runtime.Gosched()
	}
}

// freezeDetector holds what the previous samples of one run saw.
type freezeDetector struct {
	events    int64     // trace length at the last sample
	quietFrom time.Time // when the trace last grew
	notBefore time.Time // no dump before this (backoff after a busy dump)
	backoff   time.Duration
	last      []gstack.Header // the last dump, if it showed a freeze
	since     time.Time       // when last was taken
	buf       []byte          // the last dump
	dumps     int
}

// sample looks at the bubble once, at now, given the trace's length, and
// says when to look next, or that the bubble is frozen: two dumps, with no
// trace event between them and a confirmation delay apart, show the same
// goroutines all blocked with at least one not durably. The second dump
// rules out a goroutine outside the bubble that was about to wake a
// waiter (it would have changed something).
func (fd *freezeDetector) sample(bubble int, events int64, now time.Time) (next time.Duration, frozen bool) {
	cost := time.Duration(dumpCost.Load())
	quiet := max(freezeQuiet, 2*cost)
	if bubble == 0 || events != fd.events {
		fd.events, fd.quietFrom, fd.last = events, now, nil
		return quiet, false
	}
	if wait := max(fd.quietFrom.Add(quiet).Sub(now), fd.notBefore.Sub(now)); wait > 0 {
		return wait, false
	}
	hs, buf := gstack.BubbleHeaders(bubble, fd.buf)
	took := time.Since(now)
	dumpCost.Store(int64(took))
	fd.buf = buf
	fd.dumps++
	confirm := max(freezeConfirm, 2*took)
	isFrozen, _ := gstack.Frozen(hs)
	switch {
	case !isFrozen:
		fd.last = nil
		fd.backoff = min(2*fd.backoff, freezeMaxPoll)
		wait := max(fd.backoff, 4*took)
		fd.notBefore = now.Add(wait)
		return wait, false
	case fd.last != nil && slices.Equal(fd.last, hs) && now.Sub(fd.since) >= confirm*9/10:
		return 0, true
	case fd.last == nil || !slices.Equal(fd.last, hs):
		fd.last, fd.since = hs, now
	}
	return max(confirm-now.Sub(fd.since), time.Millisecond), false
}

// why describes the freeze for the trace and the diagnosis.
func (fd *freezeDetector) why() string {
	_, waiters := gstack.Frozen(fd.last)
	ws := make([]string, 0, len(waiters))
	for _, w := range waiters {
		ws = append(ws, fmt.Sprintf("goroutine %d [%s]", w.ID, w.State))
	}
	return fmt.Sprintf("frozen: all %d goroutines of the bubble blocked, not durably: %s (the fake clock can never advance)",
		len(fd.last), strings.Join(ws, ", "))
}
