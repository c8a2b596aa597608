package config

import (
	"reflect"
	"strings"
	"testing"
)

func TestComposedNamesOverTheirLimitsStopSynthNamingTheKey(t *testing.T) {
	twenty := "abcdefghij0123456789"
	wantRefused(t, []refusal{
		{"long prefix", map[string]any{"resourcePrefix": twenty}, []string{`config key "resourcePrefix"`, "S3 bucket", "3 to 63"}},
		{"long stage", map[string]any{"stage": "a" + twenty[1:]}, []string{`config key "stage"`, "S3 bucket", "fo-to-dw-orders-landing-area-<account>-<region>"}},
		{"prefix and suffix", map[string]any{"resourcePrefix": "acme-data-platform-", "bucketNameSuffix": twenty},
			[]string{`config key "resourcePrefix" and "bucketNameSuffix"`, "S3 bucket"}},
		// Without a suffix the deploy-time account and region take up to 28 characters.
		{"prefix one character too long for the bucket", map[string]any{"resourcePrefix": "abcdefg-"},
			[]string{`config key "resourcePrefix"`, "abcdefg-fo-to-dw-orders-landing-area-<account>-<region>", "would be 64 characters", "3 to 63"}},
	})
	for _, prefix := range []string{"acme-", "abcdef-"} {
		if _, err := load(t, map[string]any{"resourcePrefix": prefix, "stage": "prod"}, ""); err != nil {
			t.Errorf("names with prefix %q refused: %v", prefix, err)
		}
	}
}

// A name added to Names must get its service's limit.
func TestEveryNameHasALimit(t *testing.T) {
	typ := reflect.TypeOf(Names{})
	for i := 0; i < typ.NumField(); i++ {
		if _, ok := NameLimits[typ.Field(i).Name]; !ok {
			t.Errorf("Names.%s has no entry in NameLimits", typ.Field(i).Name)
		}
	}
	for field := range NameLimits {
		if _, ok := typ.FieldByName(field); !ok {
			t.Errorf("NameLimits has %s, which Names does not", field)
		}
	}
}

// Each limit is enforced: a name of 300 characters fails every one, and
// one with a character no service takes fails the character check.
func TestEveryNameLimitIsChecked(t *testing.T) {
	typ := reflect.TypeOf(Names{})
	base := Defaults().Names()
	for i := 0; i < typ.NumField(); i++ {
		field := typ.Field(i).Name
		for _, bad := range []string{strings.Repeat("a", 300), "bad name!"} {
			n := base
			reflect.ValueOf(&n).Elem().Field(i).SetString(bad)
			errs := checkNames(n, Defaults())
			found := false
			for _, err := range errs {
				if strings.Contains(err.Error(), NameLimits[field].what) && strings.Contains(err.Error(), bad[:5]) {
					found = true
				}
			}
			if !found {
				t.Errorf("Names.%s = %.20q… passed: %v", field, bad, errs)
			}
		}
	}
}
