// Command gencontext rewrites the pipeline's keys in cdk.json's context to
// their defaults and prints the README's configuration reference, so both
// always match internal/config. `make config-docs` runs it.
package main

import (
	"bytes"
	"encoding/json"
	"fmt"
	"os"
	"regexp"

	"github.com/orders-pipeline/orders-pipeline/internal/config"
)

func main() {
	if len(os.Args) != 3 {
		fmt.Fprintln(os.Stderr, "usage: gencontext CDK_JSON README")
		os.Exit(2)
	}
	if err := run(os.Args[1], os.Args[2]); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

func run(cdkJSON, readme string) error {
	data, err := os.ReadFile(cdkJSON)
	if err != nil {
		return err
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		return err
	}
	ctx, _ := doc["context"].(map[string]any)
	if ctx == nil {
		ctx = map[string]any{}
	}
	for k, v := range config.DefaultContext() {
		ctx[k] = v
	}
	doc["context"] = ctx
	var out bytes.Buffer
	enc := json.NewEncoder(&out)
	enc.SetIndent("", "  ")
	enc.SetEscapeHTML(false)
	if err := enc.Encode(doc); err != nil {
		return err
	}
	if err := os.WriteFile(cdkJSON, out.Bytes(), 0o644); err != nil {
		return err
	}
	text, err := os.ReadFile(readme)
	if err != nil {
		return err
	}
	block := regexp.MustCompile(`(?s)(<!-- config-table:start -->\n).*?(<!-- config-table:end -->)`)
	if !block.Match(text) {
		return fmt.Errorf("%s has no <!-- config-table:start --> ... <!-- config-table:end --> block", readme)
	}
	text = block.ReplaceAll(text, []byte("${1}"+escapeDollar(config.ReferenceTable())+"${2}"))
	return os.WriteFile(readme, text, 0o644)
}

func escapeDollar(s string) string { return regexp.MustCompile(`\$`).ReplaceAllString(s, "$$$$") }
