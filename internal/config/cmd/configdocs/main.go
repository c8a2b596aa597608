// Command configdocs writes the configuration reference, generated from
// internal/config's struct tags, between the config-table markers of a
// Markdown file, so the docs always match the code. `make config-docs` runs it.
package main

import (
	"fmt"
	"os"
	"regexp"

	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: configdocs MARKDOWN_FILE")
		os.Exit(2)
	}
	if err := run(os.Args[1]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

var block = regexp.MustCompile(`(?s)(<!-- config-table:start -->\n).*?(<!-- config-table:end -->)`)

func run(path string) error {
	text, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	if !block.Match(text) {
		return fmt.Errorf("%s has no <!-- config-table:start --> ... <!-- config-table:end --> block", path)
	}
	table := config.ReferenceTable()
	text = block.ReplaceAllFunc(text, func(m []byte) []byte {
		return []byte("<!-- config-table:start -->\n" + table + "<!-- config-table:end -->")
	})
	return os.WriteFile(path, text, 0o644)
}
