package registry

import (
	"errors"
	"sort"
	"time"
)

// Report says what a Load changed.
type Report struct {
	// Added, Changed and Removed list script paths.
	Added, Changed, Removed []string
	// Failed lists the scripts that do not compile, with their errors.
	Failed []*Script
	// Problems are errors of the routing itself, such as two drop-in
	// files for one number.
	Problems []error
	// Duration is how long the load took.
	Duration time.Duration
}

// Err joins the errors of the scripts that failed and the problems, or
// returns nil.
func (rp *Report) Err() error {
	errs := append([]error(nil), rp.Problems...)
	for _, s := range rp.Failed {
		errs = append(errs, s.Err)
	}
	return errors.Join(errs...)
}

// OK reports whether nothing failed.
func (rp *Report) OK() bool { return len(rp.Failed) == 0 && len(rp.Problems) == 0 }

func diff(old, cur *Table, took time.Duration) *Report {
	rp := &Report{Duration: took}
	for p, s := range cur.scripts {
		prev, ok := old.scripts[p]
		switch {
		case !ok:
			rp.Added = append(rp.Added, p)
		case prev.Hash != s.Hash:
			rp.Changed = append(rp.Changed, p)
		}
		if s.Err != nil {
			rp.Failed = append(rp.Failed, s)
		}
	}
	for p := range old.scripts {
		if _, ok := cur.scripts[p]; !ok {
			rp.Removed = append(rp.Removed, p)
		}
	}
	sort.Strings(rp.Added)
	sort.Strings(rp.Changed)
	sort.Strings(rp.Removed)
	sort.Slice(rp.Failed, func(i, j int) bool { return rp.Failed[i].Path < rp.Failed[j].Path })
	return rp
}
