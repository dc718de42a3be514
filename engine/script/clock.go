package script

import "time"

// Field is one named value handed to a script.
type Field struct {
	Key   string
	Value any // int64 or string
}

// Now describes the current time in loc the way scripts receive it as
// ctx.now: calendar fields, weekday (0 is Sunday), and the ISO 8601 form.
// It is a list, not a map, so that building it costs no hashing.
func Now(loc *time.Location) []Field {
	if loc == nil {
		loc = time.UTC
	}
	t := time.Now().In(loc)
	return []Field{
		{"year", int64(t.Year())}, {"month", int64(t.Month())}, {"day", int64(t.Day())},
		{"hour", int64(t.Hour())}, {"minute", int64(t.Minute())},
		{"second", int64(t.Second())}, {"weekday", int64(t.Weekday())},
		{"iso", t.Format(time.RFC3339)},
	}
}
