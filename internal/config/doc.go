package config

import (
	"fmt"
	"strings"
)

// ReferenceTable is the README's configuration reference, generated from the struct tags.
func ReferenceTable() string {
	var b strings.Builder
	b.WriteString("| Key | Default | Allowed | Description |\n|---|---|---|---|\n")
	for _, f := range Fields() {
		allowed := ""
		switch {
		case f.Enum != "":
			allowed = "`" + strings.ReplaceAll(f.Enum, ",", "`, `") + "`"
		case f.Kind.String() == "int":
			allowed = f.Range()
		case f.Kind.String() == "bool":
			allowed = "`true`, `false`"
		case f.Format != "":
			allowed = formatRules[f.Format].allowed
		}
		if f.Kind.String() == "slice" {
			allowed = "list (JSON array, or comma-separated with -c) of " + allowed
		}
		def := "`" + f.Default + "`"
		if f.Default == "" {
			def = "(empty)"
		}
		fmt.Fprintf(&b, "| `%s` | %s | %s | %s |\n", f.Key, def, allowed, f.Doc)
	}
	return b.String()
}
