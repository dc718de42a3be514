package main

import (
	"fmt"
	"io"
)

func check(args []string, stdout, stderr io.Writer) int {
	fs := flags("check", "check [-config FILE]", stderr)
	path := fs.String("config", "config.toml", "the configuration file to check")
	if code, stop := parse(fs, args); stop {
		return code
	}

	_, reg, rp, err := load(*path, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lamlhost check: %v\n", err)
		return 1
	}
	for _, s := range reg.Scripts() {
		if s.Err != nil {
			fmt.Fprintf(stdout, "FAIL %v\n", s.Err)
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s)\n", s.Path, s.Version())
	}
	if n := len(rp.Failed); n > 0 {
		fmt.Fprintf(stderr, "lamlhost check: %d of %d scripts have problems\n",
			n, len(reg.Scripts()))
		return 1
	}
	fmt.Fprintf(stdout, "%d scripts, %d numbers: all good\n",
		len(reg.Scripts()), len(reg.Numbers()))
	return 0
}
