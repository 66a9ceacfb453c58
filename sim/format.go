package sim

import (
	"fmt"
	"strconv"
)

// sprintf is fmt.Sprintf for the few verbs the trace uses (%s, %v, %q, %d
// and %%, with no flags, width or precision) on strings, errors,
// fmt.Stringers, booleans and integers; anything else goes to fmt.Sprintf.
// It gives the same text as fmt.Sprintf (TestSprintfMatchesFmt) at a
// fraction of the cost: trace events are formatted on Pion's callback
// goroutines, whose small fresh stacks fmt's printer makes grow.
func sprintf(format string, args []any) (out string) {
	defer func() {
		if recover() != nil { // a String or Error method panicked (a nil receiver): fmt knows how to print that
			out = fmt.Sprintf(format, args...)
		}
	}()
	buf := make([]byte, 0, len(format)+16*len(args))
	n := 0
	for i := 0; i < len(format); i++ {
		c := format[i]
		if c != '%' {
			buf = append(buf, c)
			continue
		}
		if i+1 >= len(format) {
			return fmt.Sprintf(format, args...)
		}
		i++
		verb := format[i]
		if verb == '%' {
			buf = append(buf, '%')
			continue
		}
		if n >= len(args) {
			return fmt.Sprintf(format, args...)
		}
		var ok bool
		buf, ok = appendArg(buf, verb, args[n])
		if !ok {
			return fmt.Sprintf(format, args...)
		}
		n++
	}
	if n != len(args) {
		return fmt.Sprintf(format, args...)
	}
	return string(buf)
}

// appendArg appends arg formatted with verb, or reports false when it
// cannot do so exactly as fmt would.
func appendArg(buf []byte, verb byte, arg any) ([]byte, bool) {
	if _, ok := arg.(fmt.Formatter); ok {
		return buf, false
	}
	var s string
	switch a := arg.(type) {
	case string:
		s = a
	case error:
		if verb == 'd' {
			return buf, false
		}
		s = a.Error()
	case fmt.Stringer:
		if verb == 'd' {
			return buf, false
		}
		s = a.String()
	case nil:
		if verb != 'v' {
			return buf, false
		}
		return append(buf, "<nil>"...), true
	case bool:
		if verb != 'v' {
			return buf, false
		}
		return strconv.AppendBool(buf, a), true
	case int:
		return appendInt(buf, verb, int64(a))
	case int64:
		return appendInt(buf, verb, a)
	case int32:
		return appendInt(buf, verb, int64(a))
	case uint16:
		return appendInt(buf, verb, int64(a))
	case uint32:
		return appendInt(buf, verb, int64(a))
	default:
		return buf, false
	}
	switch verb {
	case 's', 'v':
		return append(buf, s...), true
	case 'q':
		return strconv.AppendQuote(buf, s), true
	}
	return buf, false
}

func appendInt(buf []byte, verb byte, v int64) ([]byte, bool) {
	if verb != 'd' && verb != 'v' {
		return buf, false
	}
	return strconv.AppendInt(buf, v, 10), true
}
