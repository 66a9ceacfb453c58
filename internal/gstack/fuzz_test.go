package gstack

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that Parse, the Goroutine methods and Diagnose never
// panic, that Raw blocks come from the input, and that output is sorted.
// The seed corpus is every fixture in testdata plus a few edge cases.
func FuzzParse(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*.txt"))
	if err != nil {
		f.Fatal(err)
	}
	for _, name := range files {
		b, err := os.ReadFile(name)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	for _, s := range []string{
		"",
		"goroutine 1 [running]:\n",
		"goroutine 1 []:\n(\n\t:\ncreated by  in goroutine \n",
		"goroutine 2 [sync.Mutex.Lock]:\ninternal/sync.(*Mutex).lockSlow(0x8)\nx.(*T).f(0x0)\n",
		"goroutine 3 [select (durable), 99999999999999999999 minutes, synctest bubble -1 labels:{]:\nf({{,}, _, ...})\n\tfile.go:-1 +0xzz\n",
		"goroutine 4 [semacquire]:\nsync.(*RWMutex).RLock(0xffffffffffffffff)\n.(*)(0x1)\n",
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		gs := Parse(data)
		for i, g := range gs {
			if i > 0 && gs[i-1].ID > g.ID {
				t.Fatalf("not sorted at %d", i)
			}
			if !strings.HasPrefix(g.Raw, "goroutine ") || !strings.Contains(string(data), g.Raw) {
				t.Fatalf("Raw %q is not a block of the input", g.Raw)
			}
			g.Top()
			g.MutexWait()
			g.TimedWait()
		}
		InBubble(gs, 0)
		d := Diagnose(gs)
		if len(d.Blocked) > len(gs) || d.Summary == "" {
			t.Fatalf("bad diagnosis %+v", d)
		}
	})
}
