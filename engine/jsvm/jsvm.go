// Package jsvm runs JavaScript scripts in goja. A script is compiled once
// per version. Runs borrow a prepared runtime whose built-ins are frozen;
// the script's top level runs again in every run, and what a run adds to
// the global object is removed after it, so nothing one message leaves in
// globals or prototypes reaches the next.
package jsvm

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/dop251/goja"
	"github.com/dop251/goja/ast"
	"github.com/dop251/goja/parser"

	"github.com/lamlhost/lamlhost/engine/script"
)

// MaxCallStack is the deepest JavaScript call stack a run may build.
const MaxCallStack = 1000

// Compiler compiles JavaScript sources. It implements script.Compiler.
type Compiler struct{}

// Program is one compiled JavaScript script.
type Program struct {
	name  string
	prg   *goja.Program
	fresh bool // runs in an unfrozen runtime of its own (see changesBuiltins)
}

// Name implements script.Program.
func (p *Program) Name() string { return p.name }

// Compile parses src with source maps disabled, so that a
// sourceMappingURL comment cannot make the parser read files, and checks
// that the script defines handle.
func (Compiler) Compile(name string, src []byte) (script.Program, error) {
	if err := script.CheckSource(name, src); err != nil {
		return nil, err
	}
	tree, err := parser.ParseFile(nil, name, wrapSource(src), 0, parser.WithDisableSourceMaps)
	if err != nil {
		return nil, atEnd(compileError(name, err), src)
	}
	if err := contained(name, tree); err != nil {
		return nil, err
	}
	prg, err := goja.CompileAST(tree, false)
	if err != nil {
		return nil, atEnd(compileError(name, err), src)
	}
	p := &Program{name: name, prg: prg, fresh: changesBuiltins(src)}
	if err := p.checkHandle(); err != nil {
		return nil, err
	}
	return p, nil
}

// Runtimes serve many runs, so a script's top level must not declare
// globals that outlive its run: the source runs inside a function, whose
// result is the handle it defines. The prefix shares the first line, so
// line numbers stay those of the file; columns on line 1 are shifted back
// by position.
const (
	wrapPrefix = "(function () {"
	wrapSuffix = "\n;return typeof handle === \"function\" ? handle : undefined;\n})()"
)

func wrapSource(src []byte) string {
	return wrapPrefix + string(src) + wrapSuffix
}

// builtinChange matches source that may change built-in objects:
// prototypes, property definitions, freezing, reflection, code built at
// run time. Such scripts run in an unfrozen runtime of their own each time
// (about 0.3 ms more per run), so that changing a built-in works as in any
// JavaScript engine and is gone with the runtime. All others share frozen
// runtimes, where such a change fails and cannot outlive the run either.
var builtinChange = regexp.MustCompile(`prototype|__proto__|defineProperty|` +
	`setPrototypeOf|Object\.assign|Reflect|freeze|seal|preventExtensions|eval|Function`)

// privateName matches a class's private name (#field). goja lets a class
// add private fields to any object its constructor returns, frozen
// built-ins included, where they would outlive the run; a script with
// private names in a class therefore runs in a runtime of its own too.
var privateName = regexp.MustCompile(`#[\p{L}_$]`)

func changesBuiltins(src []byte) bool {
	return builtinChange.Match(src) ||
		bytes.Contains(src, []byte("class")) && privateName.Match(src)
}

// contained checks that the script stayed inside the function it is
// wrapped in. A source that closes it early ("})(); let x; (function(){")
// would declare names in the runtime's global scope, which outlive the
// run and could shadow built-ins for the scripts of other numbers.
func contained(name string, prg *ast.Program) error {
	if len(prg.Body) == 1 && len(prg.DeclarationList) == 0 {
		if _, ok := prg.Body[0].(*ast.ExpressionStatement); ok {
			return nil
		}
	}
	return script.Errorf(script.ErrCompile, name,
		"the script closes more brackets than it opens")
}

// position formats a location in the wrapped source as one in the file.
func position(name string, line, col int) string {
	if line == 1 {
		col = max(col-len(wrapPrefix), 1)
	}
	return fmt.Sprintf("%s:%d:%d", name, line, col)
}

// atEnd moves an error that the parser found in the wrapper's last lines,
// such as a missing closing brace, to the end of the file.
func atEnd(e *script.Error, src []byte) *script.Error {
	lines := bytes.Count(src, []byte("\n")) + 1
	var line, col int
	if _, err := fmt.Sscanf(strings.TrimPrefix(e.Location, e.Script+":"), "%d:%d",
		&line, &col); err != nil || line <= lines {
		return e
	}
	last := src[bytes.LastIndexByte(src, '\n')+1:]
	e.Location = fmt.Sprintf("%s:%d:%d", e.Script, lines, len(last)+1)
	e.Msg += " (at the end of the file: is something not closed?)"
	return e
}

// checkHandle runs the top level once in a fresh runtime, under the default
// time limit, and checks that it defines a function named handle.
func (p *Program) checkHandle() error {
	ctx, cancel := context.WithTimeout(context.Background(), script.DefaultTimeout)
	defer cancel()
	r := newRun(ctx, p, nil, boxes(p).take())
	defer r.close()
	if err := r.load(); err != nil {
		err.Kind = script.ErrCompile
		return err
	}
	return nil
}

func compileError(name string, err error) *script.Error {
	e := &script.Error{Kind: script.ErrCompile, Script: name}
	var list parser.ErrorList
	var syn *goja.CompilerSyntaxError
	switch {
	case errors.As(err, &list) && len(list) > 0:
		pos := list[0].Position
		e.Location = position(name, pos.Line, pos.Column)
		e.Msg = list[0].Message
	case errors.As(err, &syn) && syn.File != nil:
		pos := syn.File.Position(syn.Offset)
		e.Location = position(name, pos.Line, pos.Column)
		e.Msg = syn.Message
	default:
		e.Msg = err.Error()
	}
	return e
}

// Run implements script.Program in a runtime of its own.
func (p *Program) Run(ctx context.Context, msg *script.Message, env *script.Env) (
	any, error) {
	limits := env.Limits.WithDefaults()
	ctx, cancel := context.WithTimeout(ctx, limits.Timeout)
	defer cancel()
	r := newRun(ctx, p, env, boxes(p).take())
	defer r.close()
	return r.run(msg, env)
}

// run loads the script and calls handle. It never panics: a Go panic
// during the run, in goja or in a host function, is recovered here, in the
// goroutine that runs the VM.
func (r *run) run(msg *script.Message, env *script.Env) (result any, err error) {
	defer func() {
		if v := recover(); v != nil {
			result, err = nil, script.Errorf(script.ErrPanic, r.prg.name, "%v", v)
		}
	}()
	if e := r.load(); e != nil {
		return nil, e
	}
	return r.call(msg, env)
}

// jsError turns what goja returned into a typed script error.
func jsError(name string, err error, ctx context.Context) *script.Error {
	var intr *goja.InterruptedError
	if errors.As(err, &intr) {
		if e, ok := intr.Value().(*script.Error); ok {
			return e
		}
		return script.Errorf(script.ErrTimeout, name, "the run passed its time limit")
	}
	var so *goja.StackOverflowError
	if errors.As(err, &so) {
		return script.Errorf(script.ErrLimit, name,
			"call stack is deeper than %d frames", MaxCallStack)
	}
	if ctx != nil && ctx.Err() != nil {
		return script.Errorf(script.ErrTimeout, name, "the run passed its time limit")
	}
	e := &script.Error{Kind: script.ErrRuntime, Script: name,
		Msg: script.Abbrev(err.Error())}
	var exc *goja.Exception
	if errors.As(err, &exc) {
		e.Msg = script.Abbrev(exceptionText(exc))
		for _, f := range exc.Stack() {
			if f.SrcName() == name {
				pos := f.Position()
				e.Location = position(name, pos.Line, pos.Column)
				break
			}
		}
	}
	return e
}

// exceptionText is the thrown value as text, without goja's stack trace.
func exceptionText(exc *goja.Exception) string {
	v := exc.Value()
	if v == nil {
		return "exception"
	}
	if o, ok := v.(*goja.Object); ok {
		if s := o.Get("stack"); s != nil && !goja.IsUndefined(s) {
			first, _, _ := strings.Cut(s.String(), "\n")
			return first
		}
	}
	return v.String()
}
