package config

import (
	"fmt"
	"reflect"
	"regexp"
	"strings"
)

// nameLimit is what one service accepts as a name.
type nameLimit struct {
	what     string
	min, max int
	allowed  *regexp.Regexp
	charset  string // allowed, in words
}

var (
	s3Chars        = regexp.MustCompile(`^[a-z0-9][a-z0-9.-]*[a-z0-9]$`)
	lambdaChars    = regexp.MustCompile(`^[a-zA-Z0-9_-]+$`)
	dynamoChars    = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	glueChars      = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	glueLowerChars = regexp.MustCompile(`^[a-z0-9_-]+$`)
	ruleChars      = regexp.MustCompile(`^[a-zA-Z0-9_.-]+$`)
	redshiftChars  = regexp.MustCompile(`^[a-z0-9-]+$`)
	stackChars     = regexp.MustCompile(`^[a-zA-Z][a-zA-Z0-9-]*$`)
	logGroupChars  = regexp.MustCompile(`^[a-zA-Z0-9_./#-]+$`)
	aliasChars     = regexp.MustCompile(`^alias/[a-zA-Z0-9/_-]+$`)
)

// NameLimits are the limits of every name in Names, by field. The
// services' documented limits: S3 bucket 3-63, Lambda function 64, Glue
// job, crawler, workflow, trigger, security configuration, database and
// table 255, DynamoDB table 3-255, Kinesis stream 128, Firehose stream 64,
// EventBridge rule 64, Athena workgroup 128, Redshift Serverless namespace
// and workgroup 3-64 lower-case, CloudFormation stack 128.
var NameLimits = map[string]nameLimit{
	"Stream":                    {"Kinesis stream", 1, 128, dynamoChars, "letters, digits, '_', '.', '-'"},
	"DeliveryStream":            {"Firehose stream", 1, 64, dynamoChars, "letters, digits, '_', '.', '-'"},
	"Database":                  {"Glue database", 1, 255, glueLowerChars, "lower-case letters, digits, '_', '-'"},
	"LandingTable":              {"Glue table", 1, 255, glueLowerChars, "lower-case letters, digits, '_', '-'"},
	"StagingTablePrefix":        {"Glue table prefix", 1, 128, glueLowerChars, "lower-case letters, digits, '_', '-'"},
	"StagingTable":              {"Glue table", 1, 255, glueLowerChars, "lower-case letters, digits, '_', '-'"},
	"Workflow":                  {"Glue workflow", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"EventBridgeRule":           {"EventBridge rule", 1, 64, ruleChars, "letters, digits, '_', '.', '-'"},
	"InfiniteLoopRule":          {"EventBridge rule", 1, 64, ruleChars, "letters, digits, '_', '.', '-'"},
	"LandingCrawler":            {"Glue crawler", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"StagingCrawler":            {"Glue crawler", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"LandingAuditJob":           {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"LandingToStagingJob":       {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"StagingAuditJob":           {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"StagingToRedshiftJob":      {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"RedshiftStagingAuditJob":   {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"RedshiftStagingToFinalJob": {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"RedshiftFinalAuditJob":     {"Glue job", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"AuditTable":                {"DynamoDB table", 3, 255, dynamoChars, "letters, digits, '_', '.', '-'"},
	"AuditScannerFunction":      {"Lambda function", 1, 64, lambdaChars, "letters, digits, '_', '-'"},
	"TransformerFunction":       {"Lambda function", 1, 64, lambdaChars, "letters, digits, '_', '-'"},
	"LandingBucketSeed":         {"S3 bucket", 3, 63, s3Chars, "lower-case letters, digits, '.', '-', starting and ending with a letter or digit"},
	"StagingBucketSeed":         {"S3 bucket", 3, 63, s3Chars, "lower-case letters, digits, '.', '-', starting and ending with a letter or digit"},
	"GlueSecurity":              {"Glue security configuration", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
	"AthenaWorkgroup":           {"Athena workgroup", 1, 128, glueChars, "letters, digits, '_', '.', '-'"},
	"Pipeline":                  {"CloudFormation stack", 1, 128 - len("-orchestration"), stackChars, "letters, digits, '-', starting with a letter"},
	"Warehouse":                 {"Redshift Serverless namespace and workgroup", 3, 64, redshiftChars, "lower-case letters, digits, '-'"},
}

// Names derived from others, checked with them: each one's longest form.
var derivedNames = []struct {
	from  string
	limit nameLimit
	of    func(n Names) string
}{
	{"Workflow", nameLimit{"Glue trigger", 1, 255, glueChars, "letters, digits, '_', '.', '-'"},
		func(n Names) string { return n.StepTrigger(n.RedshiftStagingToFinalJob) }},
	{"Pipeline", nameLimit{"CloudWatch log group", 1, 512, logGroupChars, "letters, digits, '_', '.', '/', '#', '-'"},
		func(n Names) string { return n.LogGroup(LambdaLogs, "shared-modules-deployment") }},
	{"Pipeline", nameLimit{"KMS alias", 7, 256, aliasChars, "letters, digits, '/', '_', '-'"},
		func(n Names) string { return n.DataKeyAlias() }},
	{"Warehouse", nameLimit{"KMS alias", 7, 256, aliasChars, "letters, digits, '/', '_', '-'"},
		func(n Names) string { return n.WarehouseKeyAlias() }},
}

// Longest account id and region name a bucket name gets at deploy time
// when bucketNameSuffix is empty ("-<account>-<region>").
const (
	accountChars = 12
	regionChars  = len("ap-southeast-5")
)

// BucketName is the full name of a data bucket as text: the override, or
// the seed name and bucketNameSuffix, or the seed name with the account
// and region the stack deploys to (placeholders here), with the length it
// will have at most.
func (c Config) BucketName(seed, override string) (name string, length int) {
	switch {
	case override != "":
		return override, len(override)
	case c.BucketNameSuffix != "":
		name = seed + "-" + c.BucketNameSuffix
		return name, len(name)
	}
	return seed + "-<account>-<region>", len(seed) + 2 + accountChars + regionChars
}

// deployTimePlaceholders stand for what a name gets at deploy time, for
// the character check.
var deployTimePlaceholders = strings.NewReplacer("<account>", "123456789012", "<region>", "eu-west-1")

// nameKeys are the config keys a name is composed from.
func (c Config) nameKeys(field string) string {
	prefix := "stage"
	if c.ResourcePrefix != "" {
		prefix = "resourcePrefix"
	}
	switch field {
	case "LandingTable", "StagingTable", "StagingTablePrefix":
		return "stage"
	case "Pipeline", "Warehouse":
		return "resourcePrefix and stage"
	case "LandingBucketSeed", "StagingBucketSeed":
		if c.BucketNameSuffix != "" {
			return prefix + " and bucketNameSuffix"
		}
	}
	return prefix
}

// nameErrors checks every composed name against its service's limits.
func (c Config) nameErrors() []error {
	return checkNames(c.Names(), c)
}

func checkNames(n Names, c Config) []error {
	var errs []error
	check := func(field, name string, length int, l nameLimit) {
		key := c.nameKeys(field)
		switch {
		case length > l.max || length < l.min:
			errs = append(errs, fmt.Errorf("config key %s: the %s name %q would be %d characters; %s names take %d to %d",
				quoteKeys(key), l.what, name, length, l.what, l.min, l.max))
		case !l.allowed.MatchString(deployTimePlaceholders.Replace(name)):
			errs = append(errs, fmt.Errorf("config key %s: the %s name %q has characters %s names do not take; allowed: %s",
				quoteKeys(key), l.what, name, l.what, l.charset))
		}
	}
	v := reflect.ValueOf(n)
	for i := 0; i < v.NumField(); i++ {
		field := v.Type().Field(i).Name
		name := v.Field(i).String()
		length := len(name)
		switch field {
		case "LandingBucketSeed":
			name, length = c.BucketName(name, c.LandingBucketName)
		case "StagingBucketSeed":
			name, length = c.BucketName(name, c.StagingBucketName)
		}
		check(field, name, length, NameLimits[field])
	}
	for _, d := range derivedNames {
		name := d.of(n)
		check(d.from, name, len(name), d.limit)
	}
	return errs
}

func quoteKeys(keys string) string {
	parts := strings.Split(keys, " and ")
	for i, p := range parts {
		parts[i] = fmt.Sprintf("%q", p)
	}
	return strings.Join(parts, " and ")
}
