package sim

import (
	"fmt"

	"github.com/closesim/closesim/facts"
	"github.com/pion/logging"
)

// traceLoggerFactory puts Pion's warnings and errors into the trace as
// "log" events (kept out of the order-only trace) and drops the rest, which
// would cost more than the run itself.
type traceLoggerFactory struct {
	trace *Trace
	peer  string
}

// NewLogger implements logging.LoggerFactory.
func (f *traceLoggerFactory) NewLogger(scope string) logging.LeveledLogger {
	return &traceLogger{f: f, scope: scope}
}

type traceLogger struct {
	f     *traceLoggerFactory
	scope string
}

func (l *traceLogger) add(level, msg string) {
	l.f.trace.holdIfAbandoned() // only Pion's goroutines log
	l.f.trace.Add(l.f.peer, facts.KindLog, "%s %s: %s", level, l.scope, msg)
}

func (l *traceLogger) Trace(string)          {}
func (l *traceLogger) Tracef(string, ...any) {}
func (l *traceLogger) Debug(string)          {}
func (l *traceLogger) Debugf(string, ...any) {}
func (l *traceLogger) Info(string)           {}
func (l *traceLogger) Infof(string, ...any)  {}
func (l *traceLogger) Warn(msg string)       { l.add("WARN", msg) }
func (l *traceLogger) Warnf(format string, args ...any) {
	l.add("WARN", fmt.Sprintf(format, args...))
}
func (l *traceLogger) Error(msg string) { l.add("ERROR", msg) }
func (l *traceLogger) Errorf(format string, args ...any) {
	l.add("ERROR", fmt.Sprintf(format, args...))
}
