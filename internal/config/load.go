package config

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"reflect"
	"regexp"
	"sort"
	"strconv"
	"strings"
)

// Sources are the layers a configuration is resolved from, lowest precedence
// first: the struct defaults, the optional stage file, then the app's context
// (`-c key=value`, ~/.cdk.json).
//
// cdk.json holds only the CDK's own context. The CDK CLI merges cdk.json and
// -c into one context before the app sees either, so a pipeline key in
// cdk.json could not be told from a -c value equal to it, and the stage file
// could not sit between the two. Load refuses pipeline keys there.
type Sources struct {
	// CDKJSONContext is the "context" object of cdk.json.
	CDKJSONContext map[string]any
	// Context is the app's whole context (App.Node().GetAllContext()).
	Context map[string]any
	// StageDir holds optional <stage>.json files; empty disables them.
	StageDir string
}

// ownKey tells this project's keys from the CDK's own context entries
// (feature flags like "@aws-cdk/...", "aws:cdk:...", lookup caches with ':',
// "acknowledged-issue-numbers"): ours are plain camelCase words.
var ownKey = regexp.MustCompile(`^[a-z][A-Za-z0-9]*$`)

// Load resolves and validates the configuration. Every error names the key.
func Load(src Sources) (Config, error) {
	cfg := Defaults()
	if err := refusePipelineKeys(src.CDKJSONContext); err != nil {
		return cfg, err
	}
	overrides := src.Context
	stage := cfg.Stage
	if v, ok := overrides["stage"]; ok {
		stage = fmt.Sprint(v)
	}
	if src.StageDir != "" && stage != "" && !strings.ContainsAny(stage, `/\.`) {
		path := filepath.Join(src.StageDir, stage+".json")
		data, err := os.ReadFile(path)
		switch {
		case err == nil:
			var values map[string]any
			if err := json.Unmarshal(data, &values); err != nil {
				return cfg, fmt.Errorf("config file %s: %w", path, err)
			}
			if err := apply(&cfg, values, path); err != nil {
				return cfg, err
			}
		case !errors.Is(err, os.ErrNotExist):
			return cfg, fmt.Errorf("config file %s: %w", path, err)
		}
	}
	if err := apply(&cfg, overrides, "context (-c)"); err != nil {
		return cfg, err
	}
	return cfg, cfg.Validate()
}

// Defaults returns the configuration with every field at its documented default.
func Defaults() Config {
	var cfg Config
	for _, f := range Fields() {
		if err := f.set(&cfg, f.Default); err != nil {
			panic(fmt.Sprintf("config: default of %s: %v", f.Key, err))
		}
	}
	return cfg
}

func refusePipelineKeys(cdkJSON map[string]any) error {
	var errs []error
	for _, k := range sortedKeys(cdkJSON) {
		if ownKey.MatchString(k) {
			errs = append(errs, fmt.Errorf("config key %q is set in cdk.json, where a -c value equal to it could not override "+
				"the stage file: set it in config/<stage>.json or with -c %s=…", k, k))
		}
	}
	return errors.Join(errs...)
}

func sortedKeys(values map[string]any) []string {
	keys := make([]string, 0, len(values))
	for k := range values {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	return keys
}

func apply(cfg *Config, values map[string]any, origin string) error {
	var errs []error
	for _, k := range sortedKeys(values) {
		if !ownKey.MatchString(k) {
			continue
		}
		f, ok := fieldByKey(k)
		if !ok {
			errs = append(errs, fmt.Errorf("config key %q (from %s) is unknown%s", k, origin, suggest(k)))
			continue
		}
		if err := f.set(cfg, values[k]); err != nil {
			errs = append(errs, fmt.Errorf("config key %q (from %s): %w", k, origin, err))
		}
	}
	return errors.Join(errs...)
}

func suggest(key string) string {
	lower := strings.ToLower(key)
	for _, f := range Fields() {
		if strings.ToLower(f.Key) == lower || strings.Contains(strings.ToLower(f.Key), lower) {
			return fmt.Sprintf("; did you mean %q?", f.Key)
		}
	}
	return "; see the configuration reference in README.md"
}

// Field describes one configuration key.
type Field struct {
	Key, Default, Enum, Format, Doc string
	Min, Max                        *int
	Kind                            reflect.Kind
	index                           int
}

// Fields lists every key in declaration order.
func Fields() []Field {
	t := reflect.TypeOf(Config{})
	out := make([]Field, 0, t.NumField())
	for i := 0; i < t.NumField(); i++ {
		sf := t.Field(i)
		f := Field{
			Key: sf.Tag.Get("key"), Default: sf.Tag.Get("default"), Enum: sf.Tag.Get("enum"),
			Format: sf.Tag.Get("format"), Doc: sf.Tag.Get("doc"), Kind: sf.Type.Kind(), index: i,
		}
		f.Min, f.Max = intTag(sf.Tag.Get("min")), intTag(sf.Tag.Get("max"))
		out = append(out, f)
	}
	return out
}

func intTag(s string) *int {
	if s == "" {
		return nil
	}
	n, err := strconv.Atoi(s)
	if err != nil {
		panic(fmt.Sprintf("config: bad numeric tag %q", s))
	}
	return &n
}

func fieldByKey(key string) (Field, bool) {
	for _, f := range Fields() {
		if f.Key == key {
			return f, true
		}
	}
	return Field{}, false
}

// set parses raw (a string from -c, or a JSON value from a file) into the field.
func (f Field) set(cfg *Config, raw any) error {
	v := reflect.ValueOf(cfg).Elem().Field(f.index)
	switch f.Kind {
	case reflect.String:
		s, ok := scalar(raw)
		if !ok {
			return fmt.Errorf("want a string, got %v", raw)
		}
		v.SetString(s)
	case reflect.Int:
		s, ok := scalar(raw)
		n, err := strconv.Atoi(strings.TrimSpace(s))
		if !ok || err != nil {
			return fmt.Errorf("want a whole number, got %q", fmt.Sprint(raw))
		}
		v.SetInt(int64(n))
	case reflect.Bool:
		s, ok := scalar(raw)
		b, err := strconv.ParseBool(strings.TrimSpace(s))
		if !ok || err != nil {
			return fmt.Errorf("want true or false, got %q", fmt.Sprint(raw))
		}
		v.SetBool(b)
	case reflect.Slice:
		list, err := stringList(raw)
		if err != nil {
			return err
		}
		v.Set(reflect.ValueOf(list))
	default:
		return fmt.Errorf("unsupported kind %s", f.Kind)
	}
	return nil
}

func scalar(raw any) (string, bool) {
	switch x := raw.(type) {
	case string:
		return x, true
	case bool:
		return strconv.FormatBool(x), true
	case float64:
		if x != float64(int64(x)) {
			return strconv.FormatFloat(x, 'f', -1, 64), true
		}
		return strconv.FormatInt(int64(x), 10), true
	case int:
		return strconv.Itoa(x), true
	case json.Number:
		return x.String(), true
	}
	return "", false
}

// stringList accepts a JSON array of strings or a comma-separated string (as -c gives).
func stringList(raw any) ([]string, error) {
	out := []string{}
	switch x := raw.(type) {
	case nil:
	case string:
		for _, part := range strings.Split(x, ",") {
			if p := strings.TrimSpace(part); p != "" {
				out = append(out, p)
			}
		}
	case []any:
		for _, item := range x {
			s, ok := item.(string)
			if !ok {
				return nil, fmt.Errorf("want a list of strings, got %v", raw)
			}
			out = append(out, strings.TrimSpace(s))
		}
	case []string:
		out = append(out, x...)
	default:
		return nil, fmt.Errorf("want a list of strings or a comma-separated string, got %v", raw)
	}
	return out, nil
}
