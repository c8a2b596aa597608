package transform

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"unicode/utf8"

	"github.com/orders-pipeline/orders-pipeline/internal/orders"
)

// maxDepth matches encoding/json: deeper nesting is refused, not recursed
// into. A depth is the nesting level of the object or array being read,
// the outermost one's 1, as encoding/json counts.
const maxDepth = 10000

// order is what scanning one record found: where its closing brace is,
// whether the object has members (to know if the splice needs a comma) and,
// when it is unusable, why.
type order struct {
	close   int
	members bool
	reason  Reason
	idLen   int // encoded length of the record id, for the size accounting
}

// charClass marks the bytes a string scan must stop at: the quote, the
// backslash, control characters and the start of multi-byte UTF-8.
var charClass = func() (t [256]bool) {
	for c := 0; c < 0x20; c++ {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	for c := 0x80; c < 0x100; c++ {
		t[c] = true
	}
	return t
}()

// scanOrder checks that data is exactly one JSON object (RFC 8259, UTF-8,
// surrounding whitespace allowed) without building it, and that the object
// does not already carry a field the transformer stamps.
func scanOrder(data []byte) order {
	s := scanner{data: data}
	s.space()
	if s.i >= len(s.data) {
		return order{reason: NotJSON}
	}
	if s.data[s.i] != '{' {
		if !s.value(0) {
			return order{reason: NotJSON}
		}
		s.space()
		if s.i != len(s.data) {
			return order{reason: NotJSON}
		}
		return order{reason: NotObject}
	}
	s.i++
	members, ok := s.object(1, true)
	if !ok {
		return order{reason: NotJSON}
	}
	close := s.i - 1
	s.space()
	if s.i != len(s.data) {
		return order{reason: NotJSON}
	}
	if s.reserved {
		return order{reason: ReservedField}
	}
	return order{close: close, members: members}
}

type scanner struct {
	data     []byte
	i        int
	reserved bool
}

func (s *scanner) space() {
	for s.i < len(s.data) {
		switch s.data[s.i] {
		case ' ', '\t', '\n', '\r':
			s.i++
		default:
			return
		}
	}
}

// value scans one value starting at s.i (whitespace already skipped)
// inside depth levels of objects and arrays.
func (s *scanner) value(depth int) bool {
	if s.i >= len(s.data) {
		return false
	}
	switch c := s.data[s.i]; {
	case c == '{':
		s.i++
		_, ok := s.object(depth+1, false)
		return ok
	case c == '[':
		s.i++
		return s.array(depth + 1)
	case c == '"':
		s.i++
		return s.str()
	case c == '-' || (c >= '0' && c <= '9'):
		return s.number()
	case c == 't':
		return s.literal("true")
	case c == 'f':
		return s.literal("false")
	case c == 'n':
		return s.literal("null")
	}
	return false
}

// object scans members after the opening brace up to and including the
// closing one; top marks the order itself, whose keys are checked.
func (s *scanner) object(depth int, top bool) (members bool, ok bool) {
	if depth > maxDepth {
		return false, false
	}
	s.space()
	if s.i < len(s.data) && s.data[s.i] == '}' {
		s.i++
		return false, true
	}
	for {
		if s.i >= len(s.data) || s.data[s.i] != '"' {
			return false, false
		}
		s.i++
		start := s.i
		if !s.str() {
			return false, false
		}
		if top && isStampedField(s.data[start-1:s.i]) {
			s.reserved = true
		}
		s.space()
		if s.i >= len(s.data) || s.data[s.i] != ':' {
			return false, false
		}
		s.i++
		s.space()
		if !s.value(depth) {
			return false, false
		}
		if done, ok := s.next('}'); done || !ok {
			return done, ok
		}
	}
}

func (s *scanner) array(depth int) bool {
	if depth > maxDepth {
		return false
	}
	s.space()
	if s.i < len(s.data) && s.data[s.i] == ']' {
		s.i++
		return true
	}
	for {
		if !s.value(depth) {
			return false
		}
		if done, ok := s.next(']'); done || !ok {
			return ok
		}
	}
}

// next reads what follows a member or an element: a comma and the space
// after it, or the closing byte of its object or array (done).
func (s *scanner) next(closing byte) (done, ok bool) {
	s.space()
	if s.i >= len(s.data) {
		return false, false
	}
	switch s.data[s.i] {
	case ',':
		s.i++
		s.space()
		return false, true
	case closing:
		s.i++
		return true, true
	}
	return false, false
}

// str scans a string body after its opening quote, through the closing one.
func (s *scanner) str() bool {
	d := s.data
	i := s.i
	for {
		// Plain ASCII is the bulk of an order and all of base64 text: skip
		// it eight bytes at a time, then byte by byte up to what stopped it.
		for i+8 <= len(d) && !hasSpecial(binary.LittleEndian.Uint64(d[i:])) {
			i += 8
		}
		for i < len(d) && !charClass[d[i]] {
			i++
		}
		if i >= len(d) {
			return false
		}
		switch c := d[i]; {
		case c == '"':
			s.i = i + 1
			return true
		case c == '\\':
			if i+1 >= len(d) {
				return false
			}
			switch d[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(d) || !isHex(d[i+2]) || !isHex(d[i+3]) || !isHex(d[i+4]) || !isHex(d[i+5]) {
					return false
				}
				i += 6
			default:
				return false
			}
		case c < 0x20:
			return false
		default:
			r, size := utf8.DecodeRune(d[i:])
			if r == utf8.RuneError && size <= 1 {
				return false
			}
			i += size
		}
	}
}

const lsb, msb = 0x0101010101010101, 0x8080808080808080

// hasSpecial reports whether any of the eight bytes in x is one charClass
// marks: a control character, a quote, a backslash or a byte ≥ 0x80. Each
// term sets a byte's top bit exactly when some byte matches (the usual
// "has zero byte" / "has byte less than" word tricks).
func hasSpecial(x uint64) bool {
	q := x ^ (lsb * '"')
	b := x ^ (lsb * '\\')
	return (((x-lsb*0x20)&^x)|((q-lsb)&^q)|((b-lsb)&^b)|x)&msb != 0
}

func isHex(c byte) bool {
	return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F')
}

func (s *scanner) number() bool {
	d := s.data
	i := s.i
	if d[i] == '-' {
		i++
	}
	if i >= len(d) {
		return false
	}
	switch {
	case d[i] == '0':
		i++
	case d[i] >= '1' && d[i] <= '9':
		i = digits(d, i)
	default:
		return false
	}
	if i < len(d) && d[i] == '.' {
		end := digits(d, i+1)
		if end == i+1 {
			return false
		}
		i = end
	}
	if i < len(d) && (d[i] == 'e' || d[i] == 'E') {
		i++
		if i < len(d) && (d[i] == '+' || d[i] == '-') {
			i++
		}
		end := digits(d, i)
		if end == i {
			return false
		}
		i = end
	}
	s.i = i
	return true
}

// digits returns the index after the run of decimal digits starting at i.
func digits(d []byte, i int) int {
	for i < len(d) && d[i] >= '0' && d[i] <= '9' {
		i++
	}
	return i
}

func (s *scanner) literal(word string) bool {
	if !bytes.HasPrefix(s.data[s.i:], []byte(word)) {
		return false
	}
	s.i += len(word)
	return true
}

// isStampedField reports whether a quoted top-level key names a field the
// transformer adds; a second copy would make the landing row ambiguous. The
// comparison ignores case because the OpenX SerDe lower-cases keys.
func isStampedField(quoted []byte) bool {
	key := quoted[1 : len(quoted)-1]
	if bytes.IndexByte(key, '\\') >= 0 {
		// An escaped spelling of a key (rare): compare the decoded name.
		var decoded string
		if json.Unmarshal(quoted, &decoded) != nil {
			return false
		}
		key = []byte(decoded)
	}
	return bytes.EqualFold(key, []byte(orders.ProcessingTimestampField)) || bytes.EqualFold(key, []byte(orders.RunIDField))
}
