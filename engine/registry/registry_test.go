package registry

import (
	"errors"
	"os"
	"path/filepath"
	"testing"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/script"
)

const okJS = "function handle(m) { return 'js' }"

func write(t *testing.T, dir, name, src string) string {
	t.Helper()
	path := filepath.Join(dir, name)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(path, []byte(src), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

func load(t *testing.T, dir, toml string) (*Registry, *Report) {
	t.Helper()
	cfg, err := config.Parse([]byte(toml), filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	rp, err := r.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return r, rp
}

func TestRouting(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "scripts/+15550100002.js", okJS)
	write(t, dir, "scripts/+15550100003.lua", "function handle() return 'lua' end")
	write(t, dir, "scripts/whatsapp:+15550100004.js", okJS)
	write(t, dir, "scripts/notes.js", okJS)
	write(t, dir, "scripts/.+15550100005.js.swp", okJS)
	write(t, dir, "scripts/+15550100006.txt", "x")
	write(t, dir, "other/shop.js", okJS)
	write(t, dir, "other/default.lua", "function handle() end")
	r, rp := load(t, dir, `
default_script = "other/default.lua"
[numbers."+15550100002"]
script = "other/shop.js"
[numbers."+15550100003"]
fallback = "sorry"
`)
	if err := rp.Err(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		to, script, number string
	}{
		{"+15550100002", "shop.js", "+15550100002"},
		{"+15550100003", "+15550100003.lua", "+15550100003"},
		{"whatsapp:+15550100003", "+15550100003.lua", "+15550100003"},
		{"whatsapp:+15550100004", "whatsapp:+15550100004.js", "whatsapp:+15550100004"},
		{"+15550100004", "default.lua", "+15550100004"},
		{"notes", "default.lua", "notes"},
		{"+15550100005", "default.lua", "+15550100005"},
	}
	for _, tt := range tests {
		rt := r.Lookup(tt.to)
		if rt == nil {
			t.Errorf("%s: not routed", tt.to)
			continue
		}
		if got := filepath.Base(rt.Script.Path); got != tt.script || rt.Number != tt.number {
			t.Errorf("%s: routed to %s as %s, want %s as %s", tt.to, got, rt.Number,
				tt.script, tt.number)
		}
	}
	if got := r.Lookup("+15550100003").Settings.Fallback; got != "sorry" {
		t.Errorf("drop-in lost its config settings: fallback %q", got)
	}
}

func TestUnrouted(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "scripts/+15550100002.js", okJS)
	r, _ := load(t, dir, "")
	if rt := r.Lookup("+15550100009"); rt != nil {
		t.Errorf("routed to %v", rt.Script.Path)
	}
}

// TestAmbiguous: a second drop-in file for a number is a problem of that
// number only; the file that answered keeps answering.
func TestAmbiguous(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "scripts/+15550100002.js", okJS)
	write(t, dir, "scripts/+15550100003.js", okJS)
	r, rp := load(t, dir, "")
	write(t, dir, "scripts/+15550100002.lua", "function handle() end")
	write(t, dir, "scripts/+15550100004.js", okJS)
	write(t, dir, "scripts/+15550100004.lua", "function handle() end")
	rp, err := r.Load(r.Config())
	if err != nil {
		t.Fatal(err)
	}
	if !errors.Is(rp.Err(), ErrAmbiguous) || rp.OK() || len(rp.Problems) != 2 {
		t.Fatalf("got %v", rp.Err())
	}
	if rt := r.Lookup("+15550100002"); rt == nil || filepath.Ext(rt.Script.Path) != ".js" {
		t.Error("the number lost the script that answered it")
	}
	if r.Lookup("+15550100004") != nil {
		t.Error("a new number with two files was routed to one of them")
	}
	if r.Lookup("+15550100003") == nil {
		t.Error("another number was unrouted")
	}
}

// TestBrokenEdit: a script that stops compiling keeps its last good version
// serving; one that never compiled routes to its error; a deleted one
// unroutes its number.
func TestBrokenEdit(t *testing.T) {
	dir := t.TempDir()
	path := write(t, dir, "scripts/+15550100002.js", okJS)
	cfg, err := config.Parse(nil, filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	if _, err := r.Load(cfg); err != nil {
		t.Fatal(err)
	}
	good := r.Lookup("+15550100002").Script

	write(t, dir, "scripts/+15550100002.js", "function handle( {")
	rp, err := r.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	s := r.Lookup("+15550100002").Script
	if !errors.Is(rp.Err(), script.ErrCompile) || !s.Stale || s.Program != good.Program {
		t.Fatalf("broken edit: err %v stale %v", rp.Err(), s.Stale)
	}
	if len(rp.Changed) != 1 {
		t.Errorf("report %+v", rp)
	}

	if err := os.Remove(path); err != nil {
		t.Fatal(err)
	}
	rp, err = r.Load(cfg)
	if err != nil || r.Lookup("+15550100002") != nil || len(rp.Removed) != 1 {
		t.Fatalf("deleted script still routed (err %v, report %+v)", err, rp)
	}

	write(t, dir, "scripts/+15550100003.js", "function handle( {")
	if _, err := r.Load(cfg); err != nil {
		t.Fatal(err)
	}
	if s := r.Lookup("+15550100003").Script; s.Program != nil || s.Err == nil {
		t.Errorf("a script that never compiled: program %v err %v", s.Program, s.Err)
	}
}

func TestUnchangedIsReused(t *testing.T) {
	dir := t.TempDir()
	write(t, dir, "scripts/+15550100002.js", okJS)
	cfg, err := config.Parse(nil, filepath.Join(dir, "config.toml"))
	if err != nil {
		t.Fatal(err)
	}
	r := New()
	if _, err := r.Load(cfg); err != nil {
		t.Fatal(err)
	}
	first := r.Lookup("+15550100002").Script
	rp, err := r.Load(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if r.Lookup("+15550100002").Script != first || len(rp.Changed)+len(rp.Added) != 0 {
		t.Errorf("an unchanged script was compiled again: %+v", rp)
	}
}

func TestSourceCap(t *testing.T) {
	dir := t.TempDir()
	big := make([]byte, script.MaxSource+1)
	for i := range big {
		big[i] = ' '
	}
	write(t, dir, "scripts/+15550100002.js", string(big)+okJS)
	_, rp := load(t, dir, "")
	if !errors.Is(rp.Err(), script.ErrCompile) {
		t.Fatalf("got %v", rp.Err())
	}
}
