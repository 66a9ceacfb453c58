package invariants

import (
	"fmt"
	"strings"
)

// MarkdownTable renders every invariant (All's order) as a Markdown table
// with its ID, rule, reference and profiles. docs/invariants.md embeds it.
func MarkdownTable() string {
	var b strings.Builder
	b.WriteString("| ID | Rule | Reference | Profiles |\n")
	b.WriteString("|---|---|---|---|\n")
	for _, inv := range All() {
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", inv.ID, mdCell(inv.Rule), mdCell(inv.Ref), profileList(inv.Profiles))
	}
	return b.String()
}

// DocList renders every invariant as the list the package documentation
// embeds: one Go doc comment list item per invariant, without the "// "
// prefix.
func DocList() string {
	var b strings.Builder
	for i, inv := range All() {
		if i > 0 {
			b.WriteString("\n")
		}
		fmt.Fprintf(&b, "  - %s (%s): %s\n", inv.ID, profileList(inv.Profiles), inv.Rule)
		fmt.Fprintf(&b, "    Ref: %s.\n", strings.TrimSuffix(inv.Ref, "."))
	}
	return b.String()
}

func profileList(ps []Profile) string {
	s := make([]string, len(ps))
	for i, p := range ps {
		s[i] = string(p)
	}
	return strings.Join(s, ", ")
}

func mdCell(s string) string {
	return strings.ReplaceAll(s, "|", `\|`)
}
