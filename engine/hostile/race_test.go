//go:build race

package hostile

// raceEnabled widens the time slack: the race detector slows goja and
// gopher-lua several times over.
const raceEnabled = true
