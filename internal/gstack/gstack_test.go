package gstack

import (
	"runtime"
	"testing"
)

func TestSelfID(t *testing.T) {
	for _, tt := range []struct {
		in   string
		want int64
	}{
		{"goroutine 12 [running]:\nmain.main()", 12},
		{"goroutine 7 [running, synctest bubble 3]:", 7},
		{"garbage", 0},
		{"", 0},
	} {
		if got := SelfID([]byte(tt.in)); got != tt.want {
			t.Errorf("SelfID(%q) = %d, want %d", tt.in, got, tt.want)
		}
	}
	var buf [64]byte
	if id := SelfID(buf[:runtime.Stack(buf[:], false)]); id <= 0 {
		t.Errorf("SelfID of this goroutine = %d", id)
	}
}
