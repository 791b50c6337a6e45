//go:build !linux

package main

import (
	"errors"
	"os/exec"
)

var errNoProc = errors.New("needs Linux /proc")

func cpuSeconds(int) (float64, error) { return 0, errNoProc }

func peakRSSKB(int) (int64, error) { return 0, errNoProc }

func dieWithParent(*exec.Cmd) {}
