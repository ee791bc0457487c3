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

// Key is a key that no setting reads.
type Key struct {
	// Path is the key's dotted path in the configuration given to Unknown.
	Path string
	// Near is the path of a setting beside it whose name is one or two
	// edits away, for a "did you mean" hint, or empty.
	Near string
}

// String returns the path with its hint, if any.
func (k Key) String() string {
	if k.Near == "" {
		return k.Path
	}
	return k.Path + " (did you mean " + k.Near + "?)"
}

// Unknown returns every key in cfg that no field of the shapes reads,
// sorted by path. A shape is a struct, or a pointer to one, of the kind
// passed to cfg.Unpack.
//
// A field whose type is not a struct, or unpacks itself from anything but
// a configuration object, reads all the keys below it. A key that holds a
// list is checked only by its name.
func Unknown(cfg *conf.C, shapes ...any) []Key {
	root := &node{}
	for _, s := range shapes {
		if s == nil {
			continue
		}
		root.addStruct(reflect.TypeOf(s))
	}
	var out []Key
	root.collect(cfg, "", &out)
	sort.Slice(out, func(i, j int) bool { return out[i].Path < out[j].Path })
	return out
}

// Paths returns the paths of keys.
func Paths(keys []Key) []string {
	paths := make([]string, len(keys))
	for i, k := range keys {
		paths[i] = k.Path
	}
	return paths
}

// Join returns the keys with their hints, separated by commas.
func Join(keys []Key) string {
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k.String()
	}
	return strings.Join(parts, ", ")
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

func (n *node) collect(cfg *conf.C, prefix string, out *[]Key) {
	if n.open || cfg == nil || !cfg.IsDict() {
		return
	}
	for _, name := range cfg.GetFields() {
		c, ok := n.children[name]
		if !ok {
			key := Key{Path: prefix + name}
			if near := n.nearest(name); near != "" {
				key.Near = prefix + near
			}
			*out = append(*out, key)
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

// nearest returns the name of the child closest to name, if it is at most
// two edits away (one for names of four letters or fewer, where two edits
// would match unrelated words), else "".
func (n *node) nearest(name string) string {
	limit := 2
	if len(name) <= 4 {
		limit = 1
	}
	best, bestDistance := "", limit+1
	for child := range n.children {
		d := editDistance(name, child)
		if d < bestDistance || (d == bestDistance && child < best) {
			best, bestDistance = child, d
		}
	}
	if bestDistance > limit {
		return ""
	}
	return best
}

// editDistance counts the insertions, deletions, substitutions and swaps of
// two neighbouring letters that turn a into b (the optimal string alignment
// distance). It counts bytes, which suits the ASCII names of settings.
func editDistance(a, b string) int {
	// Three rows of the table: i-2, i-1 and i.
	before := make([]int, len(b)+1)
	previous := make([]int, len(b)+1)
	current := make([]int, len(b)+1)
	for j := range previous {
		previous[j] = j
	}
	for i := 1; i <= len(a); i++ {
		current[0] = i
		for j := 1; j <= len(b); j++ {
			cost := 1
			if a[i-1] == b[j-1] {
				cost = 0
			}
			current[j] = min(previous[j]+1, current[j-1]+1, previous[j-1]+cost)
			if i > 1 && j > 1 && a[i-1] == b[j-2] && a[i-2] == b[j-1] {
				current[j] = min(current[j], before[j-2]+1)
			}
		}
		before, previous, current = previous, current, before
	}
	return previous[len(b)]
}
