package scenarios

import (
	"fmt"
	"os"
	"strconv"
	"strings"
)

// ReadFile reads a scenario from a file: a scenario JSON file (Unmarshal),
// or a Go fuzz corpus file (go test fuzz v1) whose single []byte value
// FromFuzz decodes. It does not validate the scenario.
func ReadFile(path string) (Scenario, error) {
	data, err := os.ReadFile(path)
	if err != nil {
		return Scenario{}, fmt.Errorf("read scenario: %w", err)
	}
	text := string(data)
	if rest, ok := strings.CutPrefix(text, "go test fuzz v1\n"); ok {
		lit, ok := strings.CutPrefix(strings.TrimSpace(rest), "[]byte(")
		if !ok || !strings.HasSuffix(lit, ")") {
			return Scenario{}, fmt.Errorf("%s: corpus file must hold one []byte(...) value", path)
		}
		b, err := strconv.Unquote(strings.TrimSuffix(lit, ")"))
		if err != nil {
			return Scenario{}, fmt.Errorf("%s: corpus value: %w", path, err)
		}
		return FromFuzz([]byte(b)), nil
	}
	sc, err := Unmarshal(data)
	if err != nil {
		return Scenario{}, fmt.Errorf("%s: %w", path, err)
	}
	return sc, nil
}
