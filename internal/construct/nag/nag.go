// Package nag is the one way this project talks to cdk-nag: it puts the AWS
// Solutions rules on an app, and records suppressions, each with its reason.
package nag

import (
	"regexp"
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/aws-cdk-go/awscdk/v2/assertions"
	"github.com/aws/aws-cdk-go/awscdk/v2/cxapi"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddChecks puts cdk-nag's AWS Solutions rules on every construct of the app.
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// Rule is one suppression: a rule id, why the finding is acceptable, and
// optionally the findings it covers.
type Rule struct {
	id, reason string
	appliesTo  []string
}

// minReason is the shortest reason accepted; a reason shorter than this
// cannot say why.
const minReason = 20

// Suppression is a Rule. appliesTo entries written "regex:/pattern/" match
// findings by regular expression, for findings that name a resource by a
// token that renders differently depending on where the resource lives
// (this stack or another).
//
// Entries name the stack's partition, region and account as cdk-nag
// renders them in an environment-agnostic stack: <AWS::Partition>,
// <AWS::Region>, <AWS::AccountId>. Suppress makes such an entry match in a
// stack with a known environment too (see forStack).
func Suppression(id, reason string, appliesTo ...string) Rule {
	return Rule{id: id, reason: reason, appliesTo: appliesTo}
}

// Suppress records suppressions on c and its children. It panics on a
// reason too short to say why.
func Suppress(c constructs.IConstruct, rules ...Rule) {
	known := knownPseudoParameters(awscdk.Stack_Of(c))
	list := make([]*cdknag.NagPackSuppression, 0, len(rules))
	for _, r := range rules {
		if len(r.reason) < minReason {
			panic("cdk-nag suppression " + r.id + " needs a specific reason")
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(r.id), Reason: jsii.String(r.reason)}
		if len(r.appliesTo) > 0 {
			applies := make([]interface{}, len(r.appliesTo))
			for i, a := range r.appliesTo {
				applies[i] = forStack(a, known)
			}
			s.AppliesTo = &applies
		}
		list = append(list, s)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(true))
}

// pseudoParameter is one pseudo parameter as cdk-nag renders it while
// unresolved, and its value in a stack.
type pseudoParameter struct{ placeholder, value string }

// knownPseudoParameters are the pseudo parameters whose value stack knows
// at synth time: its partition, region and account when it targets an
// environment (the partition follows from a known region). None for an
// environment-agnostic stack.
func knownPseudoParameters(stack awscdk.Stack) []pseudoParameter {
	var known []pseudoParameter
	for _, p := range []struct {
		placeholder string
		value       *string
	}{
		{"<AWS::Partition>", stack.Partition()},
		{"<AWS::Region>", stack.Region()},
		{"<AWS::AccountId>", stack.Account()},
	} {
		if !*awscdk.Token_IsUnresolved(p.value) {
			known = append(known, pseudoParameter{p.placeholder, *p.value})
		}
	}
	return known
}

// forStack is appliesTo entry a as cdk-nag's suppression takes it: a
// string, or a RegexAppliesTo for "regex:/pattern/".
//
// A stack with a known environment renders its partition, region and
// account literally in the ARNs the CDK formats for it (arn:aws:logs:
// eu-west-1:123456789012:…), while ARNs built from the pseudo parameters
// themselves (Aws.PARTITION) keep the placeholder. There an entry naming
// a known placeholder becomes a regular expression in which the
// placeholder matches itself or the stack's value, and nothing else: the
// suppression covers the same resources as in an environment-agnostic
// stack. Entries without such placeholders, and every entry of an
// environment-agnostic stack, are kept as written.
func forStack(a string, known []pseudoParameter) interface{} {
	pattern, isRegex := strings.CutPrefix(a, "regex:")
	var present []pseudoParameter
	for _, p := range known {
		if strings.Contains(a, p.placeholder) {
			present = append(present, p)
		}
	}
	if len(present) == 0 {
		if isRegex {
			return &cdknag.RegexAppliesTo{Regex: jsii.String(pattern)}
		}
		return a
	}
	if !isRegex {
		pattern = "/^" + regexp.QuoteMeta(a) + "$/"
	}
	for _, p := range present {
		// A placeholder has no regular-expression metacharacters, so it
		// reads the same quoted or not.
		pattern = strings.ReplaceAll(pattern, p.placeholder, "(?:"+p.placeholder+"|"+regexp.QuoteMeta(p.value)+")")
	}
	return &cdknag.RegexAppliesTo{Regex: jsii.String(pattern)}
}

// Findings synthesizes stack and returns its unsuppressed cdk-nag errors
// and warnings, one "<level> <construct path>: <first line>" each. The app
// must have the checks (AddChecks).
func Findings(stack awscdk.Stack) []string {
	assertions.Template_FromStack(stack, nil) // runs the aspects
	ann := assertions.Annotations_FromStack(stack)
	pattern := assertions.Match_StringLikeRegexp(jsii.String("AwsSolutions-.*"))
	var msgs []string
	for _, m := range *ann.FindError(jsii.String("*"), pattern) {
		msgs = append(msgs, "error "+message(m))
	}
	for _, m := range *ann.FindWarning(jsii.String("*"), pattern) {
		msgs = append(msgs, "warning "+message(m))
	}
	return msgs
}

// message is "<construct path>: <first line>" of an annotation.
//
//lint:ignore SA1019 assertions.Annotations returns only this type, and its Go binding has no successor yet
func message(m *cxapi.SynthesisMessage) string {
	//lint:ignore SA1019 the same type's fields
	text, id := m.Entry.Data, m.Id
	s, _ := text.(string)
	first, _, _ := strings.Cut(s, "\n")
	return *id + ": " + first
}
