//go:build race

package svs

const raceEnabled = true
