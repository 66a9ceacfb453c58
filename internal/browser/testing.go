package browser

import (
	"errors"
	"testing"
)

// ForTest launches Chromium for t and closes it when t ends; it skips t,
// saying why, when no Chromium is found, so that go test works anywhere.
func ForTest(t testing.TB) *Browser {
	t.Helper()
	path, err := Find()
	if errors.Is(err, ErrNoChromium) {
		t.Skipf("browser tests need Chromium: %v", err)
	} else if err != nil {
		t.Fatal(err)
	}
	b, err := Launch(path)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = b.Close() })
	return b
}
