package sim

import (
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/closesim/closesim/internal/gstack"
)

// Freeze detection samples a running bubble from outside. The first sample
// comes freezeStart after the run starts, the next ones freezePoll apart; a sample that finds the
// bubble busy doubles the wait before the next one (up to freezeMaxPoll),
// and any new trace event resets it, so a progressing run is sampled
// rarely and a frozen one is confirmed within a few milliseconds.
const (
	// freezeStart is when the first sample is taken: most runs are over
	// by then and never pay for a wake-up of the detector.
	freezeStart   = 3 * time.Millisecond
	freezePoll    = time.Millisecond
	freezeMaxPoll = 32 * time.Millisecond
	// freezeConfirm is how long the same frozen dump must persist: a
	// goroutine outside the bubble that is about to wake a waiter (user
	// code may wait on a channel made outside) gets that long to run.
	freezeConfirm = 5 * time.Millisecond
)

// wait blocks until the run finishes or is declared wedged: by freeze
// detection (unless disabled, and never for real-time runs, which have no
// bubble) or by the watchdog.
func (r *runner) wait() {
	watchdog := time.NewTimer(r.cfg.watchdog)
	defer watchdog.Stop()
	if r.cfg.realTime || r.cfg.noFreeze {
		select {
		case <-r.done:
		case why := <-r.hung:
			r.wedged(WedgeByDeadline, why)
		case <-watchdog.C:
			r.wedged(WedgeByWatchdog, fmt.Sprintf("no progress after %s of wall time", r.cfg.watchdog))
		}
		return
	}
	var (
		fd    freezeDetector
		poll  = freezePoll
		timer = time.NewTimer(freezeStart)
	)
	defer timer.Stop()
	defer func() {
		r.mu.Lock()
		r.obs.FreezeDumps = fd.dumps
		r.mu.Unlock()
	}()
	for {
		select {
		case <-r.done:
			return
		case why := <-r.hung:
			r.wedged(WedgeByDeadline, why)
			return
		case <-watchdog.C:
			r.wedged(WedgeByWatchdog, fmt.Sprintf("no progress after %s of wall time", r.cfg.watchdog))
			return
		case <-timer.C:
			var events int64 = -1
			if t := r.trace.Load(); t != nil {
				events = t.added.Load()
			}
			switch fd.sample(int(r.bubbleNo.Load()), events) {
			case sampleFrozen:
				r.wedged(WedgeByFreeze, fd.why())
				return
			case sampleBusy:
				poll = min(2*poll, freezeMaxPoll)
			case sampleMaybe:
				poll = freezeConfirm // one more dump, when it can confirm
			default:
				poll = freezePoll
			}
			timer.Reset(poll)
		}
	}
}

// sampleResult is what one sample of the freeze detector concluded.
type sampleResult int

const (
	sampleProgress sampleResult = iota // the trace grew, or nothing to sample yet
	sampleBusy                         // a goroutine of the bubble can run
	sampleMaybe                        // frozen once: confirm with the next sample
	sampleFrozen                       // frozen in two identical samples
)

// freezeDetector holds what the previous samples of one run saw.
type freezeDetector struct {
	events  int64 // trace length at the last sample
	last    []gstack.Header
	since   time.Time // when last was first seen
	waiters []gstack.Header
	buf     []byte
	dumps   int
}

// sample looks at the bubble once. events is the trace's length now. A
// bubble is frozen when consecutive dumps over freezeConfirm of wall time,
// with no trace event between them, show the same goroutines all blocked
// with at least one not durably: the later dumps rule out a goroutine
// outside the bubble that was about to wake a waiter (it would have
// changed something).
func (fd *freezeDetector) sample(bubble int, events int64) sampleResult {
	if bubble == 0 || events != fd.events {
		fd.events, fd.last = events, nil
		return sampleProgress
	}
	hs, buf := gstack.BubbleHeaders(bubble, fd.buf)
	fd.buf = buf
	fd.dumps++
	frozen, waiters := gstack.Frozen(hs)
	switch {
	case !frozen:
		fd.last = nil
		return sampleBusy
	case fd.last != nil && slices.Equal(fd.last, hs):
		if time.Since(fd.since) < freezeConfirm*9/10 {
			return sampleMaybe
		}
		fd.waiters = waiters
		return sampleFrozen
	}
	fd.last, fd.since = hs, time.Now()
	return sampleMaybe
}

// why describes the freeze for the trace and the diagnosis.
func (fd *freezeDetector) why() string {
	ws := make([]string, 0, len(fd.waiters))
	for _, w := range fd.waiters {
		ws = append(ws, fmt.Sprintf("goroutine %d [%s]", w.ID, w.State))
	}
	return fmt.Sprintf("frozen: all %d goroutines of the bubble blocked, not durably: %s (the fake clock can never advance)",
		len(fd.last), strings.Join(ws, ", "))
}
