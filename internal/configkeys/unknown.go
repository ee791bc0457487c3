// Package configkeys finds the configuration keys that no setting reads.
//
// go-ucfg, under every Beat's configuration, ignores keys that the target
// struct has no field for. A misspelt key therefore falls back to the
// default silently, which for a key such as initial_interval changes
// what a run fetches. Unknown lists those keys so that tibeat can name them.
package configkeys

import (
	"reflect"
	"sort"
	"strings"

	conf "github.com/elastic/elastic-agent-libs/config"
	ucfg "github.com/elastic/go-ucfg"
)

// Unknown returns the dotted path of every key in cfg that no field of the
// shapes reads, sorted. A shape is a struct, or a pointer to one, of the
// kind passed to cfg.Unpack.
//
// A field whose type is not a struct, or unpacks itself from anything but
// a configuration object, reads all the keys below it. A key that holds a list is checked only by its name.
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
	// open is set when the level reads any key, as a map does, or a type
	// whose Unpack method takes a string, a number or any value.
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
// below it, so that none of them is unknown. A struct whose Unpack method
// takes a configuration object is not such a field: the ones Beats use, such
// as httpcommon.HTTPTransportSettings, read the keys their own fields name.
func readsAnything(t reflect.Type) bool {
	if t.Kind() != reflect.Struct {
		return true
	}
	m, ok := reflect.PointerTo(t).MethodByName(unpackerMethod)
	if !ok {
		return false
	}
	param := m.Type.In(1)
	return param != configType && param != ucfgType
}

var (
	configType = reflect.TypeOf((*conf.C)(nil))
	ucfgType   = reflect.TypeOf((*ucfg.Config)(nil))
)

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
