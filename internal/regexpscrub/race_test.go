//go:build race

package regexpscrub

// raceEnabled: under the race detector sync.Pool drops what it is given at
// random, so package regexp allocates a matcher per call and allocation
// counts say nothing about the scrubber.
const raceEnabled = true
