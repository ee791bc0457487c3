package cel

import (
	"fmt"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/elastic/mito/lib"

	"github.com/tibeat/tibeat/internal/jsonvalue"
)

// fasterJSON replaces the implementations of mito's decode_json and
// encode_json with faster ones that give the same values and text. A TAXII
// program spends most of its evaluation in these two functions: decoding the
// page and encoding every object for message. Redefining an overload with the
// same id and signature replaces its implementation, so fasterJSON must come
// after lib.JSON in the environment.
func fasterJSON() (cel.EnvOption, error) {
	encodeSlow, err := mitoEncodeJSON()
	if err != nil {
		return nil, err
	}
	encode := cel.UnaryBinding(recovered(func(v ref.Val) ref.Val { return encodeJSON(v, encodeSlow) }))
	decode := cel.UnaryBinding(recovered(decodeJSON))
	return cel.Lib(optionsLib{
		cel.Function("encode_json",
			cel.MemberOverload("dyn_encode_json", []*cel.Type{cel.DynType}, cel.StringType, encode),
			cel.Overload("encode_json_dyn", []*cel.Type{cel.DynType}, cel.StringType, encode),
		),
		cel.Function("decode_json",
			cel.MemberOverload("string_decode_json", []*cel.Type{cel.StringType}, cel.DynType, decode),
			cel.Overload("decode_json_string", []*cel.Type{cel.StringType}, cel.DynType, decode),
			cel.MemberOverload("bytes_decode_json", []*cel.Type{cel.BytesType}, cel.DynType, decode),
			cel.Overload("decode_json_bytes", []*cel.Type{cel.BytesType}, cel.DynType, decode),
		),
	}), nil
}

// optionsLib is a cel.Library made of compile options only.
type optionsLib []cel.EnvOption

func (l optionsLib) CompileOptions() []cel.EnvOption   { return l }
func (optionsLib) ProgramOptions() []cel.ProgramOption { return nil }

// mitoEncodeJSON returns mito's own encode_json, which handles every CEL
// value (protobuf messages, timestamps, durations...). The fast path covers
// only the JSON-like Go values that decode_json produces.
func mitoEncodeJSON() (func(ref.Val) ref.Val, error) {
	env, err := cel.NewEnv(lib.JSON(nil))
	if err != nil {
		return nil, fmt.Errorf("build mito's JSON library: %w", err)
	}
	fn, ok := env.Functions()["encode_json"]
	if !ok {
		return nil, fmt.Errorf("mito's JSON library has no encode_json")
	}
	bindings, err := fn.Bindings()
	if err != nil {
		return nil, err
	}
	for _, b := range bindings {
		if b.Operator == "dyn_encode_json" && b.Unary != nil {
			return b.Unary, nil
		}
	}
	return nil, fmt.Errorf("mito's encode_json has no dyn_encode_json overload")
}

func encodeJSON(val ref.Val, slow func(ref.Val) ref.Val) ref.Val {
	switch v := val.Value().(type) {
	case map[string]any, []any:
		b, err := jsonvalue.Append(nil, v)
		if err != nil {
			return types.NewErr("failed to marshal value to JSON: %v", err)
		}
		return types.String(b)
	default:
		return slow(val)
	}
}

func decodeJSON(val ref.Val) ref.Val {
	var data []byte
	switch msg := val.(type) {
	case types.Bytes:
		data = msg
	case types.String:
		data = []byte(msg)
	default:
		return types.NoSuchOverloadErr()
	}
	v, err := jsonvalue.Value(data)
	if err != nil {
		return types.NewErr("failed to unmarshal JSON message: %v", err)
	}
	return types.DefaultTypeAdapter.NativeToValue(v)
}

// recovered turns a panic in a binding into a CEL error, as mito does for
// its own functions, so that a bad value fails the evaluation rather than
// the Beat.
func recovered(fn func(ref.Val) ref.Val) func(ref.Val) ref.Val {
	return func(v ref.Val) (result ref.Val) {
		defer func() {
			if r := recover(); r != nil {
				result = types.NewErr("%v", r)
			}
		}()
		return fn(v)
	}
}
