package stix

import "strings"

// registryHives maps the root key names of the Windows registry, long and
// abbreviated, in upper case, to the abbreviation ECS uses in registry.hive
// (its example value is HKLM).
var registryHives = map[string]string{
	"HKEY_LOCAL_MACHINE":  "HKLM",
	"HKLM":                "HKLM",
	"HKEY_CURRENT_USER":   "HKCU",
	"HKCU":                "HKCU",
	"HKEY_CLASSES_ROOT":   "HKCR",
	"HKCR":                "HKCR",
	"HKEY_USERS":          "HKU",
	"HKU":                 "HKU",
	"HKEY_CURRENT_CONFIG": "HKCC",
	"HKCC":                "HKCC",
}

// splitRegistryKey splits a STIX windows-registry-key key, which includes the
// hive, into the ECS hive abbreviation and the hive-relative key. ok is false
// when the first path element is not a known hive, and key is then the whole
// text.
func splitRegistryKey(full string) (hive, key string, ok bool) {
	root, rest, found := strings.Cut(full, `\`)
	if len(root) > len("HKEY_CURRENT_CONFIG") {
		return "", full, false
	}
	var buf [len("HKEY_CURRENT_CONFIG")]byte
	upper := buf[:len(root)]
	for i := 0; i < len(root); i++ {
		c := root[i]
		if 'a' <= c && c <= 'z' {
			c -= 'a' - 'A'
		}
		upper[i] = c
	}
	hive, ok = registryHives[string(upper)]
	if !ok {
		return "", full, false
	}
	if !found {
		return hive, "", true
	}
	return hive, rest, true
}
