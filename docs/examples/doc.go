// Package examples holds every Go snippet of docs/GUIDE.md as compiled
// Example tests, so that the guide cannot show code that does not build.
// TestGuideSnippetsAreExamples fails when a snippet of the guide is not, line
// for line, in one of these files: change the example first, then copy it.
package examples
