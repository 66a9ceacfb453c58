package sim

import "testing"

func TestScrubAddrs(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"abort [0x3ecc0319ca88] chunk", "abort [0x?] chunk"},
		{"id 0x10 stays", "id 0x10 stays"},
		{"no pointers", "no pointers"},
		{"two 0xc000123456,0xC0001234567", "two 0x?,0x?"},
	} {
		if got := scrubAddrs(tt.in); got != tt.want {
			t.Errorf("scrubAddrs(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}
