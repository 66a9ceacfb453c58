//go:build !race

package fuzz

// raceBuild reports whether the test binary was built with -race.
const raceBuild = false
