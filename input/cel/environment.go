package cel

import (
	"compress/gzip"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"io"
	"net/http"
	"reflect"
	"regexp"
	"strconv"
	"time"

	"github.com/google/cel-go/cel"
	"github.com/google/cel-go/common/decls"
	"github.com/google/cel-go/common/types"
	"github.com/google/cel-go/common/types/ref"
	"github.com/google/cel-go/common/types/traits"
	"github.com/google/cel-go/ext"
	"golang.org/x/time/rate"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/elastic/mito/lib"
)

// root is the name of the variable that holds the state.
const root = "state"

// interruptCheckFrequency is how many comprehension iterations run between
// checks of the context, so that a stopped input ends a long evaluation.
// NOTE: cel-go checks each comprehension on its own and keeps evaluating
// the outer ones after an inner one is interrupted. Nested comprehensions
// may therefore run on for a while, bounded by cost_limit.
const interruptCheckFrequency = 100

// mimeTypes are the decoders of the MIME library, the set Filebeat's CEL
// input registers.
var mimeTypes = map[string]any{
	"application/gzip":         func(r io.Reader) (io.Reader, error) { return gzip.NewReader(r) },
	"application/x-ndjson":     lib.NDJSON,
	"application/zip":          lib.Zip,
	"text/csv; header=absent":  lib.CSVNoHeader,
	"text/csv; header=present": lib.CSVHeader,
	"text/csv;header=absent":   lib.CSVNoHeader,
	"text/csv;header=present":  lib.CSVHeader,
}

// limitPolicies are the rate limit header policies of rate_limit().
var limitPolicies = map[string]lib.LimitPolicy{
	"okta":  lib.OktaRateLimit,
	"draft": lib.DraftRateLimit,
}

// programOptions are the settings and collaborators of a compiled program.
// The zero value compiles a program for checking only, with a client that
// is never called.
type programOptions struct {
	ctx         context.Context
	client      *http.Client
	httpOptions lib.HTTPOptions
	regexps     map[string]*regexp.Regexp
	xsds        map[string]string
	environment map[string]string
	userAgent   string
	costLimit   uint64
	// clock returns the time that now() returns; time.Now when nil.
	clock func() time.Time
	// debug receives the values the program passes to debug().
	debug func(tag string, value any)
	// applyRateLimit receives the result of every rate_limit() call.
	applyRateLimit func(map[string]any, http.Header) map[string]any
}

// compileProgram builds the CEL environment and compiles src. Errors name
// the line and column of the problem.
func compileProgram(src string, opts programOptions) (*compiledProgram, error) {
	if opts.ctx == nil {
		opts.ctx = context.Background()
	}
	if opts.client == nil {
		opts.client = &http.Client{}
	}
	if opts.clock == nil {
		opts.clock = time.Now
	}
	if opts.httpOptions.Limiter == nil {
		opts.httpOptions.Limiter = rate.NewLimiter(rate.Inf, 1)
	}

	xml, err := lib.XML(nil, opts.xsds)
	if err != nil {
		return nil, fmt.Errorf("invalid xsd setting: %w", err)
	}
	json, err := fasterJSON()
	if err != nil {
		return nil, err
	}
	envOpts := []cel.EnvOption{
		cel.VariableDecls(decls.NewVariable(root, types.DynType)),
		cel.OptionalTypes(cel.OptionalTypesVersion(lib.OptionalTypesVersion)),
		ext.TwoVarComprehensions(ext.TwoVarComprehensionsVersion(lib.OptionalTypesVersion)),
		lib.Collections(),
		lib.Crypto(),
		lib.JSON(nil),
		json,
		xml,
		lib.Printf(),
		lib.Strings(),
		lib.Time(),
		// mito's now() reads the system clock. Redefining the overload with
		// the same id and signature replaces its implementation, so that
		// tests can fix the time.
		cel.Function("now", cel.Overload("now_void", nil, cel.TimestampType,
			cel.FunctionBinding(func(...ref.Val) ref.Val { return types.Timestamp{Time: opts.clock().UTC()} }))),
		lib.Try(),
		lib.Debug(opts.debug),
		lib.MIME(mimeTypes),
		lib.HTTPWithContextOpts(opts.ctx, opts.client, opts.httpOptions),
		lib.LimitWithApply(limitPolicies, opts.applyRateLimit),
		lib.Globals(map[string]any{
			"useragent": opts.userAgent,
			"env":       opts.environment,
			// Replaced by the activation of every evaluation.
			"remaining_executions": 0,
		}),
	}
	if len(opts.regexps) != 0 {
		envOpts = append(envOpts, lib.Regexp(opts.regexps))
	}

	env, err := cel.NewEnv(envOpts...)
	if err != nil {
		return nil, fmt.Errorf("build the CEL environment: %w", err)
	}
	ast, iss := env.Compile(src)
	if iss.Err() != nil {
		return nil, fmt.Errorf("invalid program: %w", iss.Err())
	}

	costLimit := opts.costLimit
	if costLimit == 0 {
		costLimit = defaultCostLimit
	}
	prg, err := env.Program(ast,
		cel.CostLimit(costLimit),
		cel.InterruptCheckFrequency(interruptCheckFrequency),
	)
	if err != nil {
		return nil, fmt.Errorf("invalid program: %w", err)
	}
	return &compiledProgram{program: prg, ast: ast}, nil
}

type compiledProgram struct {
	program cel.Program
	ast     *cel.Ast
}

// evaluate runs the program once on state. now is the value of the now
// variable; remaining is remaining_executions. The result is the program's
// map with every number a float64, as JSON decoding gives. The next
// evaluation then gets the same types whether its state came from the
// program or from the registry.
func (p *compiledProgram) evaluate(ctx context.Context, state map[string]any, now time.Time, remaining int) (map[string]any, error) {
	out, _, err := p.program.ContextEval(ctx, map[string]any{
		root:                   state,
		"now":                  now,
		"remaining_executions": remaining,
	})
	if ctxErr := ctx.Err(); ctxErr != nil {
		return nil, ctxErr
	}
	if err != nil {
		// DecoratedError prefixes the line and column of the failing call.
		return nil, lib.DecoratedError{AST: p.ast, Err: err}
	}
	native, err := toNative(out)
	if err != nil {
		return nil, fmt.Errorf("convert the program's result: %w", err)
	}
	result, ok := native.(map[string]any)
	if !ok {
		return nil, fmt.Errorf("the program returned a %s, expected a map holding events", out.Type().TypeName())
	}
	return result, nil
}

var (
	structpbValueType = reflect.TypeOf((*structpb.Value)(nil))
	errOptionalNone   = errors.New("optional.none() cannot be converted")
)

// toNative converts a CEL value to JSON-like Go values: maps, lists,
// strings, float64 numbers, bools and nil. Values decoded by decode_json are
// reused without copying. Bytes become base64 text, timestamps RFC 3339
// text and durations seconds with an "s", as cel-go's JSON conversion gives.
func toNative(v ref.Val) (any, error) {
	switch v := v.(type) {
	case types.Null:
		return nil, nil
	case types.Bool:
		return bool(v), nil
	case types.Int:
		return float64(v), nil
	case types.Uint:
		return float64(v), nil
	case types.Double:
		return float64(v), nil
	case types.String:
		return string(v), nil
	case types.Bytes:
		return base64.StdEncoding.EncodeToString(v), nil
	case types.Timestamp:
		return v.Time.UTC().Format(time.RFC3339Nano), nil
	case types.Duration:
		return strconv.FormatFloat(v.Duration.Seconds(), 'f', -1, 64) + "s", nil
	case *types.Err:
		return nil, v
	case *types.Optional:
		if !v.HasValue() {
			return nil, errOptionalNone
		}
		return toNative(v.GetValue())
	case traits.Mapper:
		if m, ok := v.Value().(map[string]any); ok && isPlainJSON(m) {
			return m, nil
		}
		out := make(map[string]any)
		it := v.Iterator()
		for it.HasNext() == types.True {
			k := it.Next()
			key, ok := k.(types.String)
			if !ok {
				return nil, fmt.Errorf("map key %v is a %s, expected a string", k, k.Type().TypeName())
			}
			e, err := toNative(v.Get(k))
			if err != nil {
				return nil, fmt.Errorf("%s: %w", key, err)
			}
			out[string(key)] = e
		}
		return out, nil
	case traits.Lister:
		if l, ok := v.Value().([]any); ok && isPlainJSON(l) {
			return l, nil
		}
		n, _ := v.Size().(types.Int)
		out := make([]any, 0, int(n))
		it := v.Iterator()
		for i := 0; it.HasNext() == types.True; i++ {
			e, err := toNative(it.Next())
			if err != nil {
				return nil, fmt.Errorf("[%d]: %w", i, err)
			}
			out = append(out, e)
		}
		return out, nil
	}
	// Other types, such as protobuf messages, take cel-go's JSON path.
	pb, err := v.ConvertToNative(structpbValueType)
	if err != nil {
		return nil, err
	}
	return pb.(*structpb.Value).AsInterface(), nil
}

// isPlainJSON reports whether v holds only the types toNative produces.
func isPlainJSON(v any) bool {
	switch v := v.(type) {
	case nil, bool, float64, string:
		return true
	case map[string]any:
		for _, e := range v {
			if !isPlainJSON(e) {
				return false
			}
		}
		return true
	case []any:
		for _, e := range v {
			if !isPlainJSON(e) {
				return false
			}
		}
		return true
	}
	return false
}
