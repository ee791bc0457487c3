package cel

import (
	"testing"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"

	"github.com/elastic/mito/lib"
)

// The replaced functions must give the same results as mito's through a
// real program, objects and the error of invalid text included.
func TestFasterJSONMatchesMito(t *testing.T) {
	faster, err := fasterJSON()
	if err != nil {
		t.Fatal(err)
	}
	mitoEnv, err := cel.NewEnv(cel.OptionalTypes(), lib.JSON(nil))
	if err != nil {
		t.Fatal(err)
	}
	oursEnv, err := cel.NewEnv(cel.OptionalTypes(), lib.JSON(nil), faster)
	if err != nil {
		t.Fatal(err)
	}
	programs := []string{
		`'{"objects":[{"id":"x--1","b":2,"a":"<&>"}],"more":false}'.decode_json().objects.map(o, o.encode_json())`,
		`b'[1, 2.5, "three", null]'.decode_json().encode_json()`,
		`decode_json('{"n": 1e400}')`,
		`decode_json('<html>')`,
		`{"k": [1, {"z": true}]}.encode_json()`,
		`encode_json(timestamp("2024-05-20T09:00:00Z"))`,
	}
	for _, src := range programs {
		want, wantErr := evalOnce(t, mitoEnv, src)
		got, err := evalOnce(t, oursEnv, src)
		if (err != nil) != (wantErr != nil) {
			t.Errorf("%s: error %v, mito's error %v", src, err, wantErr)
			continue
		}
		if err != nil {
			if err.Error() != wantErr.Error() {
				t.Errorf("%s: error %q, mito's %q", src, err, wantErr)
			}
			continue
		}
		if got.Equal(want) != types.True {
			t.Errorf("%s = %v, mito gives %v", src, got, want)
		}
	}
}

func evalOnce(t *testing.T, env *cel.Env, src string) (ref.Val, error) {
	t.Helper()
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		t.Fatalf("compile %s: %v", src, iss.Err())
	}
	prg, err := env.Program(ast)
	if err != nil {
		t.Fatalf("program %s: %v", src, err)
	}
	out, _, err := prg.Eval(cel.NoVars())
	return out, err
}
