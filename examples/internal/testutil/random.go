package testutil

import (
	"math/rand/v2"
	"strings"
)

// RandomStrings returns n strings of minLen to maxLen characters drawn
// from alphabet, the same for the same seed: corpora for differential
// tests of parsers against the implementation they follow.
func RandomStrings(seed uint64, n, minLen, maxLen int, alphabet string) []string {
	rng := rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15))
	chars := []rune(alphabet)
	out := make([]string, n)
	for i := range out {
		var b strings.Builder
		for range minLen + rng.IntN(maxLen-minLen+1) {
			b.WriteRune(chars[rng.IntN(len(chars))])
		}
		out[i] = b.String()
	}
	return out
}
