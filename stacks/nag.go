package stacks

import (
	"strings"

	"github.com/aws/aws-cdk-go/awscdk/v2"
	"github.com/aws/constructs-go/constructs/v10"
	"github.com/aws/jsii-runtime-go"
	"github.com/cdklabs/cdk-nag-go/cdknag/v2"
)

// AddChecks puts cdk-nag's AWS Solutions rules on every construct of the app.
func AddChecks(app awscdk.App) {
	awscdk.Aspects_Of(app).Add(cdknag.NewAwsSolutionsChecks(&cdknag.NagPackProps{Verbose: jsii.Bool(true)}), nil)
}

// nagRule is one cdk-nag suppression; every one must say why.
type nagRule struct {
	id, reason string
	appliesTo  []string
}

// rule builds a suppression. An appliesTo entry "regex:/.../" is an
// ECMA-262 pattern, for findings that spell a cross-stack reference.
func rule(id, reason string, appliesTo ...string) nagRule {
	return nagRule{id: id, reason: reason, appliesTo: appliesTo}
}

// suppress records suppressions on one construct and its children.
func suppress(c constructs.IConstruct, rules ...nagRule) {
	var list []*cdknag.NagPackSuppression
	for _, r := range rules {
		if len(r.reason) < 20 {
			panic("cdk-nag suppression " + r.id + " needs a specific reason")
		}
		s := &cdknag.NagPackSuppression{Id: jsii.String(r.id), Reason: jsii.String(r.reason)}
		if len(r.appliesTo) > 0 {
			applies := make([]interface{}, len(r.appliesTo))
			for i, a := range r.appliesTo {
				applies[i] = a
				if re, ok := strings.CutPrefix(a, "regex:"); ok {
					applies[i] = &cdknag.RegexAppliesTo{Regex: jsii.String(re)}
				}
			}
			s.AppliesTo = &applies
		}
		list = append(list, s)
	}
	cdknag.NagSuppressions_AddResourceSuppressions(c, &list, jsii.Bool(true))
}
