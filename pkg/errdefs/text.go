package errdefs

import (
	"fmt"
	"strings"
)

// OneLine is s with its runs of white space (new lines among them) made
// one space: another program's message, quoted in one of ours.
func OneLine(s string) string { return strings.Join(strings.Fields(s), " ") }

// Plural is n and noun, the noun with an s unless n is 1: "1 claim",
// "2 claims".
func Plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
