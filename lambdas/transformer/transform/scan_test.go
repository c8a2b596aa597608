package transform

import (
	"encoding/binary"
	"testing"
)

// hasSpecial must agree with charClass on every byte in every position.
func TestHasSpecialMatchesCharClass(t *testing.T) {
	for c := 0; c < 256; c++ {
		for pos := 0; pos < 8; pos++ {
			var word [8]byte
			for i := range word {
				word[i] = 'a'
			}
			word[pos] = byte(c)
			if got := hasSpecial(binary.LittleEndian.Uint64(word[:])); got != charClass[c] {
				t.Fatalf("byte %#x at %d: hasSpecial %v, charClass %v", c, pos, got, charClass[c])
			}
		}
	}
}
