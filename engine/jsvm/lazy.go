package jsvm

import (
	"slices"

	"github.com/dop251/goja"
)

// lazy is a plain-looking object whose properties are made on first read:
// most handlers read two or three of the twenty-odd parameters a CPaaS
// sends, and building them all is a good part of a run's cost. Writes and
// deletes work as on any object and last for the run.
type lazy struct {
	vm    *goja.Runtime
	keys  func() []string // called when the keys are first listed
	list  []string
	make  func(key string) (goja.Value, bool)
	made  map[string]goja.Value
	gone  map[string]bool
	extra []string
}

// newLazy returns an object with the keys that keys lists, whose values
// make builds. Listing the keys is put off too: few scripts enumerate.
func newLazy(vm *goja.Runtime, keys func() []string,
	make func(string) (goja.Value, bool)) *goja.Object {
	return vm.NewDynamicObject(&lazy{vm: vm, keys: keys, make: make})
}

// Get implements goja.DynamicObject.
func (l *lazy) Get(key string) goja.Value {
	if v, ok := l.made[key]; ok {
		return v
	}
	if l.gone[key] {
		return nil
	}
	v, ok := l.make(key)
	if !ok {
		return nil
	}
	if l.made == nil {
		l.made = map[string]goja.Value{}
	}
	l.made[key] = v
	return v
}

// Set implements goja.DynamicObject.
func (l *lazy) Set(key string, val goja.Value) bool {
	if !l.Has(key) && !slices.Contains(l.extra, key) {
		l.extra = append(l.extra, key)
	}
	delete(l.gone, key)
	if l.made == nil {
		l.made = map[string]goja.Value{}
	}
	l.made[key] = val
	return true
}

// Has implements goja.DynamicObject. A property it finds is made, so that
// the value read next is the one it saw.
func (l *lazy) Has(key string) bool {
	return l.Get(key) != nil
}

// Delete implements goja.DynamicObject.
func (l *lazy) Delete(key string) bool {
	delete(l.made, key)
	if l.gone == nil {
		l.gone = map[string]bool{}
	}
	l.gone[key] = true
	return true
}

// Keys implements goja.DynamicObject.
func (l *lazy) Keys() []string {
	if l.list == nil {
		l.list = l.keys()
	}
	out := make([]string, 0, len(l.list)+len(l.extra))
	for _, k := range l.list {
		if !l.gone[k] {
			out = append(out, k)
		}
	}
	for _, k := range l.extra { // a listed key deleted and set again is listed once
		if !l.gone[k] && !slices.Contains(l.list, k) {
			out = append(out, k)
		}
	}
	return out
}
