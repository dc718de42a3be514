package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"github.com/lamlhost/lamlhost/engine/registry"
	"github.com/lamlhost/lamlhost/engine/script"
	"github.com/lamlhost/lamlhost/engine/server"
)

func check(args []string, stdout, stderr io.Writer) int {
	fs := flags("check", "check [-config FILE]", stderr)
	path := fs.String("config", "config.toml", "the configuration file to check")
	if code, stop := parse(fs, args); stop {
		return code
	}

	cfg, reg, rp, err := load(*path, stderr)
	if err != nil {
		fmt.Fprintf(stderr, "lamlhost check: %v\n", err)
		return 1
	}
	for _, s := range reg.Scripts() {
		if s.Err != nil {
			fmt.Fprintf(stdout, "FAIL %s\n", failure(s))
			continue
		}
		fmt.Fprintf(stdout, "ok   %s (%s)\n", s.Path, s.Version())
	}
	problems := len(rp.Failed)
	for _, p := range rp.Problems {
		fmt.Fprintf(stdout, "FAIL %v\n", p)
		problems++
	}
	if err := server.CheckAuth(cfg, os.Getenv); err != nil {
		fmt.Fprintf(stdout, "FAIL %v\n", err)
		problems++
	}
	if problems > 0 {
		fmt.Fprintf(stderr, "lamlhost check: %d problems in %d scripts\n",
			problems, len(reg.Scripts()))
		return 1
	}
	fmt.Fprintf(stdout, "%d scripts, %d numbers: all good\n",
		len(reg.Scripts()), len(reg.Numbers()))
	return 0
}

// failure names a script's problem with its location inside the scripts'
// folder, so that the path can be pasted into an editor.
func failure(s *registry.Script) string {
	var se *script.Error
	if errors.As(s.Err, &se) && se.Location != "" {
		return fmt.Sprintf("%s: %v: %s", filepath.Join(filepath.Dir(s.Path), se.Location),
			se.Kind, se.Msg)
	}
	return fmt.Sprintf("%s: %v", s.Path, s.Err)
}
