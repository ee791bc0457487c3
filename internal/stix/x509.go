package stix

import "strings"

// dnAttribute is one attribute type of a distinguished name that ECS keeps
// in its own x509.issuer.* or x509.subject.* list.
type dnAttribute int

const (
	dnCommonName dnAttribute = iota
	dnOrganization
	dnOrganizationalUnit
	dnCountry
	dnStateOrProvince
	dnLocality
	dnAttributeCount
)

// dnFieldNames are the ECS field names under x509.issuer and x509.subject,
// indexed by dnAttribute.
var dnFieldNames = [dnAttributeCount]string{
	"common_name", "organization", "organizational_unit",
	"country", "state_or_province", "locality",
}

// dnAttributeOf returns the attribute for a DN attribute type such as "CN"
// or "ST" (case-insensitive). ECS describes state_or_province as ST, S or P.
func dnAttributeOf(name string) (dnAttribute, bool) {
	switch strings.ToUpper(name) {
	case "CN", "COMMONNAME":
		return dnCommonName, true
	case "O", "ORGANIZATIONNAME":
		return dnOrganization, true
	case "OU", "ORGANIZATIONALUNITNAME":
		return dnOrganizationalUnit, true
	case "C", "COUNTRYNAME":
		return dnCountry, true
	case "ST", "S", "P", "STATEORPROVINCENAME":
		return dnStateOrProvince, true
	case "L", "LOCALITYNAME":
		return dnLocality, true
	}
	return 0, false
}

// splitDN calls visit for each attribute of a distinguished name written as
// in RFC 4514 ("C=US, O=Example, CN=host") or as OpenSSL prints it
// ("/C=US/O=Example/CN=host"). Backslash escapes and double-quoted values
// are honoured, and values are trimmed of surrounding spaces.
func splitDN(dn string, visit func(attribute, value string)) {
	separators := ",;+"
	if strings.HasPrefix(dn, "/") {
		separators = "/"
		dn = dn[1:]
	}

	var value strings.Builder
	for len(dn) > 0 {
		// Read one "type=value" element up to an unescaped separator.
		i, quoted := 0, false
		value.Reset()
		eq := -1
		for ; i < len(dn); i++ {
			c := dn[i]
			if c == '\\' && i+1 < len(dn) {
				i++
				if eq >= 0 {
					value.WriteByte(dn[i])
				}
				continue
			}
			if c == '"' {
				quoted = !quoted
				continue
			}
			if !quoted && strings.IndexByte(separators, c) >= 0 {
				break
			}
			if eq < 0 && c == '=' {
				eq = i
				continue
			}
			if eq >= 0 {
				value.WriteByte(c)
			}
		}
		if eq > 0 {
			visit(strings.TrimSpace(dn[:eq]), strings.TrimSpace(value.String()))
		}
		if i >= len(dn) {
			break
		}
		dn = dn[i+1:]
	}
}

// normalizeSerial writes a certificate serial number in the form ECS
// specifies for x509.serial_number: upper-case hex without colons (or spaces).
func normalizeSerial(s string) string {
	if strings.IndexAny(s, ": ") >= 0 {
		s = strings.NewReplacer(":", "", " ", "").Replace(s)
	}
	return strings.ToUpper(s)
}
