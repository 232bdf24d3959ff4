package release

import (
	"crypto/sha256"
	"encoding/hex"
)

// contentName names an object by what it is for and a short hash of its
// input, so that every process that needs it computes the same name, and a
// different input never finds the object of another.
func contentName(prefix, input string) string {
	sum := sha256.Sum256([]byte(input))
	return prefix + "-" + hex.EncodeToString(sum[:])[:10]
}
