package main

import (
	"fmt"
	"io"
)

// runRedact is replaced by the redaction dry run (issue 3) — placeholder so
// the command builds meanwhile.
func runRedact(_ []string, _ io.Reader, _, stderr io.Writer) int {
	fmt.Fprintln(stderr, "redact: not built yet")
	return 2
}
