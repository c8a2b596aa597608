// Package nag is the one way this project talks to cdk-nag: it puts the AWS
// Solutions rules on an app, and records suppressions, each with its reason.
package nag

import (
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
func Suppression(id, reason string, appliesTo ...string) Rule {
	return Rule{id: id, reason: reason, appliesTo: appliesTo}
}

// Suppress records suppressions on c and its children. It panics on a
// reason too short to say why.
func Suppress(c constructs.IConstruct, rules ...Rule) {
	list := make([]*cdknag.NagPackSuppression, 0, len(rules))
	for _, r := range rules {
		if len(r.reason) < minReason {
			panic("cdk-nag suppression " + r.id + " needs a specific reason")
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(r.id), Reason: jsii.String(r.reason)}
		if len(r.appliesTo) > 0 {
			applies := make([]interface{}, len(r.appliesTo))
			for i, a := range r.appliesTo {
				if pattern, ok := strings.CutPrefix(a, "regex:"); ok {
					applies[i] = &cdknag.RegexAppliesTo{Regex: jsii.String(pattern)}
					continue
				}
				applies[i] = a
			}
			s.AppliesTo = &applies
		}
		list = append(list, s)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(true))
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
