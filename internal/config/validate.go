package config

import (
	"errors"
	"fmt"
	"net"
	"net/mail"
	"reflect"
	"regexp"
	"strconv"
	"strings"
)

var (
	nameRe         = regexp.MustCompile(`^[a-z][a-z0-9-]{0,19}$`)
	prefixRe       = regexp.MustCompile(`^([a-z0-9][a-z0-9-]{0,19})?$`)
	bucketRe       = regexp.MustCompile(`^([a-z0-9][a-z0-9.-]{1,61}[a-z0-9])?$`)
	identifierRe   = regexp.MustCompile(`^[a-z_][a-z0-9_]{0,62}$`)
	cronRe         = regexp.MustCompile(`^(cron\(\S+( \S+){5}\))?$`)
	azRe           = regexp.MustCompile(`^[a-z]{2}(-gov)?-[a-z]+-\d[a-z]$`)
	instanceTypeRe = regexp.MustCompile(`^[a-z]+\d+g[a-z]*\.[a-z0-9]+$`)
)

// formatRules say, per format tag, whether one value is well formed and what is allowed.
var formatRules = map[string]struct {
	ok      func(string) bool
	allowed string
}{
	"name":         {nameRe.MatchString, "lower-case letters, digits and '-', starting with a letter, at most 20 characters"},
	"prefix":       {prefixRe.MatchString, "empty, or lower-case letters, digits and '-', at most 20 characters"},
	"bucket":       {bucketRe.MatchString, "empty, or a valid S3 bucket name (3-63 lower-case letters, digits, '.', '-')"},
	"identifier":   {identifierRe.MatchString, "a lower-case SQL identifier (letters, digits, '_')"},
	"cron":         {cronRe.MatchString, "empty, or an EventBridge Scheduler expression like 'cron(0 6 ? * MON-FRI *)'"},
	"az":           {azRe.MatchString, "availability zone names like 'eu-west-1a'"},
	"instancetype": {instanceTypeRe.MatchString, "an ARM (Graviton) instance type like 't4g.nano'"},
	"email":        {isEmail, "email addresses like 'data-team@example.com'"},
	"cidr":         {isCIDR, "an IPv4 CIDR block with a prefix between /16 and /24, like '10.40.0.0/16'"},
}

func isEmail(s string) bool {
	a, err := mail.ParseAddress(s)
	return err == nil && a.Address == s && a.Name == "" && strings.Contains(s[strings.LastIndex(s, "@"):], ".")
}

func isCIDR(s string) bool {
	ip, n, err := net.ParseCIDR(s)
	if err != nil || ip.To4() == nil {
		return false
	}
	ones, _ := n.Mask.Size()
	return ones >= 16 && ones <= 24
}

// Validate checks every field against its tags, then the rules that span keys.
func (c Config) Validate() error {
	var errs []error
	v := reflect.ValueOf(c)
	for _, f := range Fields() {
		if err := f.check(v.Field(f.index)); err != nil {
			errs = append(errs, fmt.Errorf("config key %q: %w", f.Key, err))
		}
	}
	errs = append(errs, c.crossChecks()...)
	// Composed names only mean something once every key is well formed.
	if len(errs) == 0 {
		errs = c.nameErrors()
	}
	return errors.Join(errs...)
}

func (f Field) check(v reflect.Value) error {
	var values []string
	switch f.Kind {
	case reflect.String:
		values = []string{v.String()}
	case reflect.Slice:
		values = v.Interface().([]string)
	case reflect.Int:
		n := int(v.Int())
		if (f.Min != nil && n < *f.Min) || (f.Max != nil && n > *f.Max) {
			return fmt.Errorf("%d is out of range; allowed: %s", n, f.Range())
		}
		return nil
	default:
		return nil
	}
	for _, s := range values {
		if f.Enum != "" && !contains(strings.Split(f.Enum, ","), s) {
			return fmt.Errorf("%q is not allowed; allowed: %s", s, strings.ReplaceAll(f.Enum, ",", ", "))
		}
		if rule, ok := formatRules[f.Format]; ok && f.Format != "" && !rule.ok(s) {
			return fmt.Errorf("%q is not allowed; allowed: %s", s, rule.allowed)
		}
	}
	return nil
}

// Range renders an int field's bounds for messages and docs.
func (f Field) Range() string {
	switch {
	case f.Min != nil && f.Max != nil:
		return strconv.Itoa(*f.Min) + " to " + strconv.Itoa(*f.Max)
	case f.Min != nil:
		return "at least " + strconv.Itoa(*f.Min)
	case f.Max != nil:
		return "at most " + strconv.Itoa(*f.Max)
	}
	return "any whole number"
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// flushSeconds is the longest Firehose holds a record with dynamic
// partitioning on: 1.5 times the buffer interval, rounded up.
func flushSeconds(interval int) int { return (3*interval + 1) / 2 }

func (c Config) crossChecks() []error {
	var errs []error
	// The transformer stamps the closing run id for up to runIdCacheSeconds
	// after a rotation, and Firehose holds those records up to 1.5 times its
	// buffer interval before writing them (dynamic partitioning buffers in
	// stages; AWS documents the 1.5).
	if need := flushSeconds(c.FirehoseBufferIntervalSeconds) + c.RunIDCacheSeconds; c.WorkflowBatchWindowSeconds < need {
		errs = append(errs, fmt.Errorf("config key %q: %d must be at least 1.5 x firehoseBufferIntervalSeconds (%d) plus runIdCacheSeconds (%d), %d in all, or the workflow could start before Firehose has flushed the closing run",
			"workflowBatchWindowSeconds", c.WorkflowBatchWindowSeconds, c.FirehoseBufferIntervalSeconds, c.RunIDCacheSeconds, need))
	}
	if c.RedshiftBaseCapacityRpu%8 != 0 {
		errs = append(errs, fmt.Errorf("config key %q: %d is not allowed; allowed: a multiple of 8 from 8 to 1024", "redshiftBaseCapacityRpu", c.RedshiftBaseCapacityRpu))
	}
	if n := len(c.AvailabilityZones); n != 0 && n != 3 {
		errs = append(errs, fmt.Errorf("config key %q: got %d zones; allowed: empty or exactly three (Redshift Serverless needs three)", "availabilityZones", n))
	}
	switch c.WarehouseMode {
	case WarehouseExistingServerless:
		if c.ExistingWorkgroupName == "" {
			errs = append(errs, fmt.Errorf("config key %q: required when warehouseMode is existing-serverless", "existingWorkgroupName"))
		}
	case WarehouseExistingCluster:
		if c.ExistingClusterIdentifier == "" {
			errs = append(errs, fmt.Errorf("config key %q: required when warehouseMode is existing-cluster", "existingClusterIdentifier"))
		}
		if c.ExistingSecretArn == "" {
			errs = append(errs, fmt.Errorf("config key %q: required when warehouseMode is existing-cluster", "existingSecretArn"))
		}
	}
	if (c.ContinuousLoopEnableCron == "") != (c.ContinuousLoopDisableCron == "") {
		errs = append(errs, fmt.Errorf("config key %q: set both continuousLoopEnableCron and continuousLoopDisableCron, or neither", "continuousLoopDisableCron"))
	}
	if need := c.ContinuousLoopRpuHours(); c.TriggerMode == TriggerContinuous && c.WarehouseMode == WarehouseServerless && c.RedshiftDailyUsageLimitRpu < need {
		errs = append(errs, fmt.Errorf("config key %q: %d RPU-hours a day would deactivate the workgroup within hours of the continuous loop: "+
			"a loop run starts every %d minutes or so and keeps %d RPUs busy about %d minutes, about %d RPU-hours a day; "+
			"set redshiftDailyUsageLimitRpuHours to at least %d (a ceiling, not a charge), or use triggerMode=batch-completion",
			"redshiftDailyUsageLimitRpuHours", c.RedshiftDailyUsageLimitRpu, loopRunMinutes, c.RedshiftBaseCapacityRpu, loopRedshiftMinutes, need, need))
	}
	if c.ContinuousLoopEnableCron != "" && c.TriggerMode != TriggerContinuous {
		errs = append(errs, fmt.Errorf("config key %q: a loop schedule only applies with triggerMode=continuous", "continuousLoopEnableCron"))
	}
	return errs
}

// The continuous loop restarts the workflow as soon as its last job
// succeeds. Its shortest runs take about loopRunMinutes (crawler and job
// start-up), of which the Redshift jobs keep the workgroup computing about
// loopRedshiftMinutes (COPY, counts, enrich; Redshift Serverless bills at
// least a minute per statement).
const (
	loopRunMinutes      = 15
	loopRedshiftMinutes = 4
)

// ContinuousLoopRpuHours is the daily usage limit the continuous loop
// needs when it runs all day at the workgroup's base capacity, rounded up.
// A loop schedule shortens the day, but the limit is a ceiling, not a
// charge, so the loop is never cut off by it.
func (c Config) ContinuousLoopRpuHours() int {
	runsPerDay := 24 * 60 / loopRunMinutes
	rpuMinutes := runsPerDay * loopRedshiftMinutes * c.RedshiftBaseCapacityRpu
	return (rpuMinutes + 59) / 60
}
