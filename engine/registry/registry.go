// Package registry knows which script answers which number. It compiles
// every routed script, keeps the compiled versions in an immutable table,
// and swaps in a new table atomically when scripts or configuration change.
package registry

import (
	"crypto/sha256"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"regexp"
	"runtime"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/lamlhost/lamlhost/engine/config"
	"github.com/lamlhost/lamlhost/engine/jsvm"
	"github.com/lamlhost/lamlhost/engine/luavm"
	"github.com/lamlhost/lamlhost/engine/script"
)

// Compilers maps a file extension to the adapter that compiles it.
var Compilers = map[string]script.Compiler{
	".js":  jsvm.Compiler{},
	".lua": luavm.Compiler{},
}

// Script is one version of one script file: its program, or the error
// that kept it from compiling.
type Script struct {
	// Path is the file's path.
	Path string
	// Hash is the SHA-256 of the file's current content.
	Hash [32]byte
	// Program is what answers: the current content compiled, or, when that
	// fails, the last version that compiled (Stale). Nil when no version
	// ever compiled.
	Program script.Program
	// Err is why the current content does not compile, or nil.
	Err error
	// Stale reports that Program is an older version than Hash.
	Stale bool
}

// routable reports whether the file exists: a script that was deleted
// unroutes its number.
func (s *Script) routable() bool { return !errors.Is(s.Err, fs.ErrNotExist) }

// Version is a short form of the content hash, for logs.
func (s *Script) Version() string { return fmt.Sprintf("%x", s.Hash[:6]) }

// Route is what answers one number: the script and the number's settings.
type Route struct {
	// Number is the key the route was found under.
	Number string
	// Script is the script version that answers.
	Script *Script
	// Settings are the number's settings; never nil.
	Settings *config.Number
}

// Table is one immutable routing state.
type Table struct {
	cfg     *config.Config
	numbers map[string]*Route
	deflt   *Route
	scripts map[string]*Script
}

// Registry holds the current Table. Lookups are lock-free.
type Registry struct {
	cur atomic.Pointer[Table]
	mu  sync.Mutex
}

// New returns a registry with an empty table and the default config.
func New() *Registry {
	r := &Registry{}
	r.cur.Store(&Table{cfg: config.Defaults(), numbers: map[string]*Route{},
		scripts: map[string]*Script{}})
	return r
}

// Lookup finds the route for to: the exact string first, then, for a
// channel address such as "whatsapp:+15550100002", the bare number, then
// the default script. It returns nil when nothing routes to.
func (r *Registry) Lookup(to string) *Route {
	return r.cur.Load().Lookup(to)
}

// Lookup is Registry.Lookup on this table.
func (t *Table) Lookup(to string) *Route {
	if rt, ok := t.numbers[to]; ok {
		return rt
	}
	if _, bare, ok := strings.Cut(to, ":"); ok {
		if rt, ok := t.numbers[bare]; ok {
			return rt
		}
	}
	if t.deflt != nil {
		return &Route{Number: to, Script: t.deflt.Script, Settings: t.deflt.Settings}
	}
	return nil
}

// Scripts returns every script version of the current table, sorted by
// path.
func (r *Registry) Scripts() []*Script {
	t := r.cur.Load()
	list := make([]*Script, 0, len(t.scripts))
	for _, s := range t.scripts {
		list = append(list, s)
	}
	sort.Slice(list, func(i, j int) bool { return list[i].Path < list[j].Path })
	return list
}

// Numbers returns the routed numbers, sorted.
func (r *Registry) Numbers() []string {
	t := r.cur.Load()
	list := make([]string, 0, len(t.numbers))
	for n := range t.numbers {
		list = append(list, n)
	}
	sort.Strings(list)
	return list
}

// Config returns the configuration the current table was built from.
func (r *Registry) Config() *config.Config { return r.cur.Load().cfg }

// Load builds a table from cfg and swaps it in. Scripts whose content is
// unchanged since the current table keep their compiled version. A script
// that fails to compile still routes its number, to its error; Load
// reports those errors, joined, but swaps the table in regardless.
func (r *Registry) Load(cfg *config.Config) (*Report, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	start := time.Now()
	old := r.cur.Load()
	t, problems, err := build(cfg, old)
	if err != nil {
		return nil, err
	}
	r.cur.Store(t)
	rp := diff(old, t, time.Since(start))
	rp.Problems = problems
	return rp, nil
}

// build reads every routed script and compiles what changed.
func build(cfg *config.Config, old *Table) (*Table, []error, error) {
	paths, dropIns, problems, err := routedPaths(cfg, old)
	if err != nil {
		return nil, nil, err
	}
	t := &Table{cfg: cfg, numbers: map[string]*Route{}, scripts: compileAll(paths, old)}
	for num, path := range dropIns {
		settings := cfg.Numbers[num]
		if settings == nil {
			settings = defaultSettings(cfg)
		}
		t.numbers[num] = &Route{Number: num, Script: t.scripts[path], Settings: settings}
	}
	for num, n := range cfg.Numbers {
		if s := t.scripts[n.Script]; n.Script != "" && s.routable() {
			t.numbers[num] = &Route{Number: num, Script: s, Settings: n}
		}
	}
	if s := t.scripts[cfg.DefaultScript]; cfg.DefaultScript != "" && s.routable() {
		t.deflt = &Route{Script: t.scripts[cfg.DefaultScript],
			Settings: defaultSettings(cfg)}
	}
	return t, problems, nil
}

// defaultSettings are the settings of a number the config does not name.
func defaultSettings(cfg *config.Config) *config.Number {
	return &config.Number{Timeout: cfg.Timeout, MemoryLimit: cfg.MemoryLimit,
		Location: time.UTC}
}

// routedPaths lists every script file to load, and maps each number that
// has a drop-in file in scripts_dir to that file. A number with two
// drop-in files keeps the one that answered it in old, if any, and the
// conflict is returned as a problem instead of failing the whole load.
func routedPaths(cfg *config.Config, old *Table) (map[string]bool, map[string]string,
	[]error, error) {
	paths := map[string]bool{}
	dropIns := map[string]string{}
	entries, err := os.ReadDir(cfg.ScriptsDir)
	if err != nil && !errors.Is(err, fs.ErrNotExist) {
		return nil, nil, nil, fmt.Errorf("read scripts_dir: %w", err)
	}
	seen := map[string][]string{}
	for _, e := range entries {
		num, ok := DropInNumber(e.Name())
		if ok && !e.IsDir() {
			seen[num] = append(seen[num], filepath.Join(cfg.ScriptsDir, e.Name()))
		}
	}
	var problems []error
	for num, list := range seen {
		path := list[0]
		if len(list) > 1 {
			path = keep(old, num, list)
			problems = append(problems, fmt.Errorf("%w: %s all answer %s; %s",
				ErrAmbiguous, strings.Join(list, " and "), num, kept(path)))
		}
		if path != "" {
			paths[path] = true
			dropIns[num] = path
		}
	}
	for _, n := range cfg.Numbers {
		if n.Script != "" {
			paths[n.Script] = true
		}
	}
	if cfg.DefaultScript != "" {
		paths[cfg.DefaultScript] = true
	}
	return paths, dropIns, problems, nil
}

// keep returns the one of list that answered num in old, or "".
func keep(old *Table, num string, list []string) string {
	if rt, ok := old.numbers[num]; ok {
		for _, p := range list {
			if rt.Script.Path == p {
				return p
			}
		}
	}
	return ""
}

func kept(path string) string {
	if path == "" {
		return "the number is not routed until one is removed"
	}
	return "still serving " + filepath.Base(path) + " until one is removed"
}

// ErrAmbiguous: two or more drop-in files answer the same number.
var ErrAmbiguous = errors.New("ambiguous scripts")

// DropInNumber reads the number a drop-in file name stands for, such as
// "+15550100002" for "+15550100002.js". Files of other kinds, and hidden
// or temporary files, and names that are not numbers, are not drop-ins.
func DropInNumber(name string) (string, bool) {
	ext := filepath.Ext(name)
	if _, ok := Compilers[ext]; !ok || strings.HasPrefix(name, ".") {
		return "", false
	}
	num := strings.TrimSuffix(name, ext)
	return num, numberName.MatchString(num)
}

// numberName is an E.164 number, a short code, or a channel address such
// as "whatsapp:+15550100002".
var numberName = regexp.MustCompile(`^([a-z][a-z0-9-]*:)?\+?[0-9]{3,15}$`)

// compileAll loads every path, in parallel, reusing unchanged versions.
func compileAll(paths map[string]bool, old *Table) map[string]*Script {
	out := make(map[string]*Script, len(paths))
	var mu sync.Mutex
	work := make(chan string)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			for p := range work {
				s := loadScript(p, old.scripts[p])
				mu.Lock()
				out[p] = s
				mu.Unlock()
			}
		})
	}
	for p := range paths {
		work <- p
	}
	close(work)
	wg.Wait()
	return out
}

// loadScript reads and compiles one file, unless prev has the same content.
func loadScript(path string, prev *Script) *Script {
	s := &Script{Path: path}
	src, err := readSource(path)
	if err == nil {
		s.Hash = sha256.Sum256(src)
		if prev != nil && prev.Hash == s.Hash {
			return prev
		}
		s.Program, s.Err = Compile(path, src)
	} else {
		s.Err = err
	}
	gone := errors.Is(s.Err, fs.ErrNotExist)
	if s.Err != nil && !gone && prev != nil && prev.Program != nil {
		s.Program, s.Stale = prev.Program, true
	}
	return s
}

// Compile compiles src with the adapter that the extension of path names.
func Compile(path string, src []byte) (script.Program, error) {
	c := Compilers[filepath.Ext(path)]
	if c == nil {
		return nil, script.Errorf(script.ErrCompile, filepath.Base(path),
			"unknown script kind %q: use .js or .lua", filepath.Ext(path))
	}
	return c.Compile(filepath.Base(path), src)
}

// readSource reads a script, refusing files over the size cap before
// reading them whole.
func readSource(path string) ([]byte, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	if info.Size() > script.MaxSource {
		return nil, script.Errorf(script.ErrCompile, filepath.Base(path),
			"the file is %d bytes, over the limit of %d", info.Size(), script.MaxSource)
	}
	src := make([]byte, info.Size())
	if _, err := io.ReadFull(f, src); err != nil {
		return nil, fmt.Errorf("read script: %w", err)
	}
	return src, nil
}
