package reload

import (
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"
)

// saveStyles are the ways editors and tools replace a file (case H1).
var saveStyles = map[string]func(t *testing.T, path, src string){
	"overwrite": func(t *testing.T, path, src string) { writeFile(t, path, src) },
	"temp then rename": func(t *testing.T, path, src string) {
		tmp := filepath.Join(filepath.Dir(path), ".tmp-"+filepath.Base(path))
		writeFile(t, tmp, src)
		must(t, os.Rename(tmp, path))
	},
	"vim rename and rewrite": func(t *testing.T, path, src string) {
		must(t, os.Rename(path, path+"~"))
		writeFile(t, filepath.Join(filepath.Dir(path), "4913"), "")
		must(t, os.Remove(filepath.Join(filepath.Dir(path), "4913")))
		writeFile(t, path, src)
		must(t, os.Remove(path+"~"))
	},
	"delete and re-create": func(t *testing.T, path, src string) {
		must(t, os.Remove(path))
		time.Sleep(20 * time.Millisecond)
		writeFile(t, path, src)
	},
}

func must(t *testing.T, err error) {
	t.Helper()
	if err != nil {
		t.Fatal(err)
	}
}

// TestSaveStyles: every save style is served in its new version, every
// time (case H1), and a broken save keeps the last good version (H2).
func TestSaveStyles(t *testing.T) {
	for name, save := range saveStyles {
		t.Run(name, func(t *testing.T) {
			b := newBench(t, "", map[string]string{"scripts/" + number + ".js": js("v0")})
			path := filepath.Join(b.dir, "scripts", number+".js")
			for i := 1; i <= 3; i++ {
				v := fmt.Sprintf("v%d", i)
				save(t, path, js(v))
				b.waitFor(t, number, v)
			}
			save(t, path, "function handle( {")
			deadline := time.Now().Add(5 * time.Second)
			for !b.logs.Contains("script does not compile") && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			if got := answer(b.reg, number); got != "v3" {
				t.Fatalf("after a broken save %q answers, want the last good v3", got)
			}
			if !b.logs.Contains(number+".js:1:") || !b.logs.Contains("last good version") {
				t.Errorf("the broken save was not logged with its location:\n%s", b.logs)
			}
			save(t, path, js("v4"))
			b.waitFor(t, number, "v4")
		})
	}
}

// TestDeleteUnroutes: deleting a script unroutes its number, or hands it to
// the default script (case H2).
func TestDeleteUnroutes(t *testing.T) {
	b := newBench(t, `default_script = "default.js"`, map[string]string{
		"scripts/" + number + ".js": js("own"), "default.js": js("default"),
		"scripts/+15550100003.js": js("other"),
	})
	must(t, os.Remove(filepath.Join(b.dir, "scripts", number+".js")))
	b.waitFor(t, number, "default")
	must(t, os.Remove(filepath.Join(b.dir, "default.js")))
	b.waitFor(t, number, "unrouted")
	if answer(b.reg, "+15550100003") != "other" {
		t.Error("another number was disturbed")
	}
}

// TestConfigMap: a Kubernetes ConfigMap volume swaps a ..data symlink; the
// scripts are symlinks through it.
func TestConfigMap(t *testing.T) {
	b := newBench(t, `scripts_dir = "cm"`, nil)
	cm := filepath.Join(b.dir, "cm")
	publish := func(i int) {
		stamp := fmt.Sprintf("..2026_12_04_10_00_0%d.000", i)
		writeFile(t, filepath.Join(cm, stamp, number+".js"), js(fmt.Sprintf("cm%d", i)))
		must(t, os.Symlink(stamp, filepath.Join(cm, "..data_tmp")))
		old, _ := os.Readlink(filepath.Join(cm, "..data"))
		must(t, os.Rename(filepath.Join(cm, "..data_tmp"), filepath.Join(cm, "..data")))
		if _, err := os.Lstat(filepath.Join(cm, number+".js")); err != nil {
			must(t, os.Symlink(filepath.Join("..data", number+".js"),
				filepath.Join(cm, number+".js")))
		}
		if old != "" {
			must(t, os.RemoveAll(filepath.Join(cm, old)))
		}
	}
	for i := 1; i <= 3; i++ {
		publish(i)
		b.waitFor(t, number, fmt.Sprintf("cm%d", i))
	}
}
