package audit

// Attributes of the scanner's own "notified#<layer>" items. They are
// deliberately distinct from the audit item's attributes: the scanner's IAM
// policy allows UpdateItem on exactly these names (plus the keys), so it can
// never change or remove a record count written by an audit job.
const (
	NotifiedCountAttr   = "notified_count"    // N: the layer count the notification was about
	NotifiedLandingAttr = "notified_landing"  // N: the landing count it was compared with (absent: landing missing)
	NotifiedOutcomeAttr = "notified_outcome"  // S: SUCCESS or FAILURE
	NotifyStateAttr     = "notify_state"      // S: pending, sent or failed
	NotifyClaimAttr     = "notify_claim"      // S: stream event id that claimed the notification
	NotifyClaimedAtAttr = "notify_claimed_at" // N: Unix seconds of the claim
	NotifyMessageAttr   = "notify_message_id" // S: SNS message id once sent
	// S: stream sequence number of the record claimed last, zero-padded to
	// 40 digits so that string order is stream order.
	NotifiedSequenceAttr = "notified_sequence"
)

// NotifiedAttributes is every attribute name the scanner may write.
var NotifiedAttributes = []string{
	RunIDKey, LayerKey,
	NotifiedCountAttr, NotifiedLandingAttr, NotifiedOutcomeAttr,
	NotifyStateAttr, NotifyClaimAttr, NotifyClaimedAtAttr, NotifyMessageAttr,
	NotifiedSequenceAttr,
}

// NotifiedLayer is the sort key of the scanner's item for layer.
func NotifiedLayer(layer Layer) string { return NotificationPrefix + string(layer) }

// IsCompared reports whether layer is compared with the landing count.
func IsCompared(layer Layer) bool {
	for _, l := range ComparedLayers {
		if l == layer {
			return true
		}
	}
	return false
}
