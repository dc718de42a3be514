package ratelimit

import (
	"fmt"
	"testing"
	"time"
)

type clock struct{ t time.Time }

func (c *clock) now() time.Time { return c.t }

func TestAllow(t *testing.T) {
	c := &clock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	l := New(0, c.now)
	for i := range 10 {
		if !l.Allow("a", 10, time.Minute) {
			t.Fatalf("event %d refused", i)
		}
	}
	if l.Allow("a", 10, time.Minute) {
		t.Fatal("11th event in a minute allowed")
	}
	if !l.Allow("b", 10, time.Minute) {
		t.Fatal("another key was limited")
	}
	c.t = c.t.Add(90 * time.Second) // half the old window still weighs
	allowed := 0
	for l.Allow("a", 10, time.Minute) {
		allowed++
	}
	if allowed != 5 {
		t.Errorf("after 1.5 periods %d allowed, want 5", allowed)
	}
	c.t = c.t.Add(3 * time.Minute)
	if !l.Allow("a", 10, time.Minute) {
		t.Error("still limited after the windows passed")
	}
}

func TestBoundedKeys(t *testing.T) {
	c := &clock{t: time.Unix(0, 0)}
	l := New(100, c.now)
	for i := range 1000 {
		l.Allow(fmt.Sprint(i), 1, time.Hour)
	}
	if n := l.Len(); n > 100 {
		t.Errorf("%d keys tracked, cap 100", n)
	}
}
