package config

import (
	"reflect"
	"strings"
)

// Changed returns the dotted keys whose values differ between a and b, in
// the order of the schema: a scalar's key (log.level), a list's key as a
// whole (faces.udp.listen), an array of tables' name as a whole (group). An
// empty list and a missing one are equal.
func Changed(a, b Config) []string {
	var keys []string
	var walk func(path string, x, y reflect.Value)
	walk = func(path string, x, y reflect.Value) {
		if x.Kind() == reflect.Struct && x.Type() != reflect.TypeFor[Duration]() {
			t := x.Type()
			for i := range t.NumField() {
				name, _, _ := strings.Cut(t.Field(i).Tag.Get("toml"), ",")
				if name == "" || name == "-" {
					continue
				}
				walk(joinKey(path, name), x.Field(i), y.Field(i))
			}
			return
		}
		if x.Kind() == reflect.Slice && x.Len() == 0 && y.Len() == 0 {
			return
		}
		if !reflect.DeepEqual(x.Interface(), y.Interface()) {
			keys = append(keys, path)
		}
	}
	walk("", reflect.ValueOf(a), reflect.ValueOf(b))
	return keys
}
