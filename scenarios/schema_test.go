package scenarios

import (
	"os"
	"reflect"
	"strings"
	"testing"
)

// TestSchemaDocumented keeps docs/scenario-schema.md complete: every JSON
// field of the scenario types and every enumerated value appears in it.
func TestSchemaDocumented(t *testing.T) {
	doc, err := os.ReadFile("../docs/scenario-schema.md")
	if err != nil {
		t.Fatal(err)
	}
	text := string(doc)
	var names []string
	var walk func(reflect.Type)
	seen := map[reflect.Type]bool{}
	walk = func(typ reflect.Type) {
		for typ.Kind() == reflect.Pointer || typ.Kind() == reflect.Slice {
			typ = typ.Elem()
		}
		if typ.Kind() != reflect.Struct || seen[typ] {
			return
		}
		seen[typ] = true
		for f := range typ.Fields() {
			if tag, _, _ := strings.Cut(f.Tag.Get("json"), ","); tag != "" && tag != "-" {
				names = append(names, tag)
			}
			walk(f.Type)
		}
	}
	walk(reflect.TypeFor[Scenario]())
	for _, k := range allKinds {
		names = append(names, string(k))
	}
	for _, c := range allCallbacks {
		names = append(names, string(c))
	}
	for _, s := range allStates {
		names = append(names, string(s))
	}
	for _, n := range allNATTypes {
		names = append(names, string(n))
	}
	for _, d := range allDirections[1:] {
		names = append(names, string(d))
	}
	for _, c := range allPacketClasses {
		names = append(names, string(c))
	}
	for _, n := range names {
		if !strings.Contains(text, "`"+n+"`") {
			t.Errorf("docs/scenario-schema.md does not document %q", n)
		}
	}
}
