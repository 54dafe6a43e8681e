package main

import "strings"

// definitionName names the Go type of a definition of the 2.0.1 schemas:
// an enumeration loses the suffix "EnumType" (RegistrationStatusEnumType
// becomes RegistrationStatus), an object the suffix "Type" (IdTokenType
// becomes IdToken). Where an enumeration would take the name of an object
// (IdTokenEnumType and IdTokenType, VPNEnumType and VPNType), the
// enumeration keeps "Enum": IdTokenEnum, VPNEnum. The generator fails if
// two types still get one name.
func definitionName(def string, enum bool) string {
	if enum {
		if keepsEnum[def] {
			return strings.TrimSuffix(def, "Type")
		}
		return strings.TrimSuffix(def, "EnumType")
	}
	return strings.TrimSuffix(def, "Type")
}

// keepsEnum are the enumerations whose name without "EnumType" is an
// object's.
var keepsEnum = map[string]bool{
	"IdTokenEnumType": true,
	"VPNEnumType":     true,
}

// stringPointers are the optional strings ("<Go struct>.<property>") whose
// empty value must be told apart from no value: the value of a variable,
// which may be "".
var stringPointers = map[string]bool{
	"VariableAttribute.value":          true,
	"GetVariableResult.attributeValue": true,
}
