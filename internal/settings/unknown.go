// Package settings finds the configuration keys that no setting reads.
//
// go-ucfg, under every Beat's configuration, ignores keys that the target
// struct has no field for. A misspelt key therefore falls back to the
// default silently, which for a key such as initial_interval changes
// what a run fetches. Unknown lists those keys so that tibeat can name them.
package settings

import (
	"reflect"
	"sort"
	"strings"

	conf "github.com/elastic/elastic-agent-libs/config"
)

// Unknown returns the dotted path of every key in cfg that no field of the
// shapes reads, sorted. A shape is a struct, or a pointer to one, of the
// kind passed to cfg.Unpack.
//
// A field whose type unpacks itself, or is not a struct, reads all the keys
// below it. A key that holds a list is checked only by its name.
func Unknown(cfg *conf.C, shapes ...any) []string {
	root := &node{}
	for _, s := range shapes {
		if s == nil {
			continue
		}
		root.addStruct(reflect.TypeOf(s))
	}
	var out []string
	root.collect(cfg, "", &out)
	sort.Strings(out)
	return out
}

// node is the set of keys that a struct reads at one level.
type node struct {
	// open is set when the level reads any key, as a map or a type with
	// its own Unpack method does.
	open     bool
	children map[string]*node
}

const unpackerMethod = "Unpack"

func (n *node) addStruct(t reflect.Type) {
	for t.Kind() == reflect.Pointer {
		t = t.Elem()
	}
	if readsAnything(t) {
		n.open = true
		return
	}
	for i := 0; i < t.NumField(); i++ {
		f := t.Field(i)
		if !f.IsExported() {
			continue
		}
		name, opts, _ := strings.Cut(f.Tag.Get("config"), ",")
		inline := false
		for _, o := range strings.Split(opts, ",") {
			switch o {
			case "inline", "squash":
				inline = true
			}
		}
		if inline {
			n.addStruct(f.Type)
			continue
		}
		if name == "" {
			name = strings.ToLower(f.Name)
		}
		// go-ucfg reads a dotted name as a path of nested keys.
		child := n
		for _, part := range strings.Split(name, ".") {
			child = child.child(part)
		}
		child.addStruct(f.Type)
	}
}

func (n *node) child(name string) *node {
	if n.children == nil {
		n.children = map[string]*node{}
	}
	c, ok := n.children[name]
	if !ok {
		c = &node{}
		n.children[name] = c
	}
	return c
}

// readsAnything reports whether a field of type t takes whatever keys sit
// below it, so that none of them is unknown.
func readsAnything(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return true
	}
	_, onValue := t.MethodByName(unpackerMethod)
	_, onPointer := reflect.PointerTo(t).MethodByName(unpackerMethod)
	return onValue || onPointer
}

func (n *node) collect(cfg *conf.C, prefix string, out *[]string) {
	if n.open || cfg == nil || !cfg.IsDict() {
		return
	}
	for _, name := range cfg.GetFields() {
		c, ok := n.children[name]
		if !ok {
			*out = append(*out, prefix+name)
			continue
		}
		sub, err := cfg.Child(name, -1)
		if err != nil {
			// A scalar or a list where the shape has a struct: Unpack
			// reports that with the key's name.
			continue
		}
		c.collect(sub, prefix+name+".", out)
	}
}
