//go:build !race

package regexpscrub

const raceEnabled = false
