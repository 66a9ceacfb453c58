package fuzz

import (
	"flag"
	"os"
	"path/filepath"
	"testing"
)

var flagWriteCorpus = flag.Bool("closesim.writecorpus", false, "TestCorpusFiles: (re)write the seed corpus files from corpusFamilies")

// TestCorpusFiles checks that every catalogue family is in the seed corpus
// under testdata/fuzz/FuzzClose (so plain go test replays them as
// regression tests); with -closesim.writecorpus it writes them.
func TestCorpusFiles(t *testing.T) {
	dir := filepath.Join("testdata", "fuzz", "FuzzClose")
	for _, data := range corpusFamilies() {
		name, content := corpusFile(data)
		path := filepath.Join(dir, name)
		if *flagWriteCorpus {
			if err := os.MkdirAll(dir, 0o755); err != nil {
				t.Fatal(err)
			}
			if err := os.WriteFile(path, content, 0o644); err != nil {
				t.Fatal(err)
			}
			continue
		}
		got, err := os.ReadFile(path)
		if err != nil || string(got) != string(content) {
			t.Errorf("seed corpus file %s is missing or stale (run go test ./fuzz -run TestCorpusFiles -closesim.writecorpus)", path)
		}
	}
}
