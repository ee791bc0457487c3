package cel

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"time"

	"golang.org/x/time/rate"

	v2 "github.com/elastic/beats/v7/filebeat/input/v2"
	cursor "github.com/elastic/beats/v7/filebeat/input/v2/input-cursor"
	"github.com/elastic/beats/v7/libbeat/feature"
	"github.com/elastic/beats/v7/libbeat/statestore"
	"github.com/elastic/beats/v7/libbeat/version"
	conf "github.com/elastic/elastic-agent-libs/config"
	"github.com/elastic/elastic-agent-libs/logp"
	"github.com/elastic/go-concert/ctxtool"
	"github.com/elastic/mito/lib"

	"github.com/tibeat/tibeat/input/internal/publish"
	"github.com/tibeat/tibeat/internal/runmode"
)

const inputName = "cel"

// Plugin returns the cel input type. Its cursor manager keeps each input's
// cursor in store.
func Plugin(log *logp.Logger, store statestore.States) v2.Plugin {
	return v2.Plugin{
		Name:       inputName,
		Stability:  feature.Beta,
		Deprecated: false,
		Info:       "STIX objects from an API, fetched by a CEL program",
		Doc:        "Evaluates a CEL program written for Filebeat's CEL input, with the mito libraries, and publishes one event per STIX object it returns.",
		Manager: &cursor.InputManager{
			Logger:     log,
			StateStore: store,
			Type:       inputName,
			Configure:  configure,
		},
	}
}

func configure(cfg *conf.C, log *logp.Logger) ([]cursor.Source, cursor.Input, error) {
	c := defaultConfig()
	if err := cfg.Unpack(&c); err != nil {
		return nil, nil, err
	}
	id, _ := cfg.String("id", -1)
	if log == nil {
		log = logp.NewNopLogger()
	}
	log = log.With("input_id", id, "input_type", inputName)
	if c.Redact == nil {
		if secrets := likelySecrets(c.State, "state."); len(secrets) != 0 {
			slices.Sort(secrets)
			log.Warnw("The redact setting is missing although the state contains fields that look like secrets: "+
				"set redact.fields to the secret fields. Until then logs hide every state field whose name looks secret",
				"fields", secrets)
		}
	}
	for _, key := range []string{"failure_dump", "record_coverage"} {
		if cfg.HasField(key) {
			log.Warnw("Ignoring a Filebeat CEL setting that tibeat does not support", "setting", key)
		}
	}
	return []cursor.Source{source{name: redactURL(c.Resource.URL.URL)}}, &input{config: c}, nil
}

// source is the one cursor source of an input. input-cursor keys the
// registry entry by input id and this name, so a new resource.url starts
// from the program's initial state.
type source struct{ name string }

func (s source) Name() string { return s.name }

// input evaluates the program of one cel input.
type input struct {
	config config
	// clock is the time of now and now(); time.Now when nil. Tests fix it.
	clock func() time.Time
	// observe receives the result of every successful evaluation before the
	// input takes the events out of it. Tests record it.
	observe func(result map[string]any)
	// sleep waits for a rate limit or the next periodic run; tests replace
	// it to skip waiting.
	sleep func(ctx context.Context, d time.Duration) error
}

func (inp *input) Name() string { return inputName }

// Test accepts any configuration that passed validation: the API may be
// unreachable now and reachable when the input runs.
func (inp *input) Test(cursor.Source, v2.TestContext) error { return nil }

// Run evaluates the program every interval, or until want_more is false
// with --once, until the input is stopped.
func (inp *input) Run(ctx v2.Context, _ cursor.Source, cur cursor.Cursor, pub cursor.Publisher) error {
	var stored any
	if !cur.IsNew() {
		if err := cur.Unpack(&stored); err != nil {
			return fmt.Errorf("read the stored cursor: %w", err)
		}
	}
	return inp.run(ctx, stored, pub)
}

func (inp *input) now() time.Time {
	if inp.clock != nil {
		return inp.clock()
	}
	return time.Now()
}

func (inp *input) wait(ctx context.Context, d time.Duration) error {
	return sleepFor(ctx, d, inp.sleep)
}

func (inp *input) run(env v2.Context, stored any, pub cursor.Publisher) error {
	cfg := inp.config
	resourceURL := redactURL(cfg.Resource.URL.URL)
	log := env.Logger.With("url.original", resourceURL)
	ctx := ctxtool.FromCanceller(env.Cancelation)

	// The evaluation goroutine decodes the objects it returns ahead of the
	// processors, which convert them on the publishing goroutine.
	async := publish.NewAsync(pub)
	defer async.Close()
	r, err := inp.newRunner(ctx, env, log, stored, async)
	if err != nil {
		return err
	}
	defer r.close()

	for {
		start := inp.now()
		if err := r.period(ctx, start); err != nil {
			if errors.Is(err, context.Canceled) {
				log.Infow("Input stopped")
				return nil
			}
			return err
		}
		if runmode.Once() {
			log.Infow("Input ran once to the end of its data, done")
			return nil
		}
		if err := inp.wait(ctx, time.Until(start.Add(cfg.Interval))); err != nil {
			log.Infow("Input stopped")
			return nil
		}
	}
}

// runner holds what one Run of the input builds once: the program, its
// HTTP client and the state carried from one evaluation to the next.
type runner struct {
	inp      *input
	cfg      config
	log      *logp.Logger
	program  *compiledProgram
	limiter  *rate.Limiter
	metrics  *inputMetrics
	secrets  *scrubber
	redactor stateRedactor
	tracer   *tracer
	events   *eventPublisher

	state map[string]any
	// cursor is the cursor of the next evaluation: the last one the
	// program returned with a successful evaluation, or the stored one.
	cursor any
	url    string
	// retryAt delays the next evaluation after a 429 response or an
	// exhausted rate limit quota.
	retryAt time.Time
}

func (inp *input) newRunner(ctx context.Context, env v2.Context, log *logp.Logger, stored any, pub cursor.Publisher) (*runner, error) {
	cfg := inp.config
	metrics := newInputMetrics(env.MetricsRegistry, log)
	metrics.resource.Set(redactURL(cfg.Resource.URL.URL))
	secrets := newScrubber(configuredSecrets(cfg))

	var trace *tracer
	if t := cfg.Resource.Tracer; t != nil {
		path := t.path(env.IDWithoutName)
		if t.enabled() {
			var err error
			if trace, err = newTracer(t, env.IDWithoutName, secrets, log); err != nil {
				return nil, err
			}
		} else {
			removeTraces(path, log)
		}
	}

	limiter := newLimiter(cfg.Resource.RateLimit)
	agent := "tibeat/" + version.GetDefaultVersion()
	client, err := newHTTPClient(ctx, cfg, httpClientParts{log: log, metrics: metrics, tracer: trace, agent: agent, secrets: secrets})
	if err != nil {
		return nil, err
	}
	regexps, err := compileRegexps(cfg.Regexps)
	if err != nil {
		return nil, err
	}
	basic, token := cfg.Auth.libAuth()
	prg, err := compileProgram(cfg.Program, programOptions{
		ctx:    ctx,
		client: client,
		httpOptions: lib.HTTPOptions{
			Limiter:   limiter,
			BasicAuth: basic,
			TokenAuth: token,
			Headers:   cfg.Resource.Headers,
		},
		regexps:     regexps,
		xsds:        cfg.XSDs,
		environment: allowedEnvironment(cfg.AllowedEnvironment),
		userAgent:   agent,
		costLimit:   cfg.CostLimit,
		clock:       inp.now,
		debug:       debugHandler(log, secrets),
		applyRateLimit: func(m map[string]any, _ http.Header) map[string]any {
			applyRateLimit(log, m, limiter)
			return m
		},
	})
	if err != nil {
		return nil, err
	}

	state := map[string]any{}
	if cfg.State != nil {
		state = deepCopy(cfg.State).(map[string]any)
	}
	if stored != nil {
		state["cursor"] = stored
	}
	state["url"] = cfg.Resource.URL.String()

	return &runner{
		inp:      inp,
		cfg:      cfg,
		log:      log,
		program:  prg,
		limiter:  limiter,
		metrics:  metrics,
		secrets:  secrets,
		redactor: stateRedactor{cfg: cfg.Redact},
		tracer:   trace,
		events: &eventPublisher{
			pub:       pub,
			log:       log,
			metrics:   metrics,
			secrets:   secrets,
			url:       redactURL(cfg.Resource.URL.URL),
			published: state["cursor"],
			now:       time.Now,
		},
		state:  state,
		cursor: state["cursor"],
		url:    state["url"].(string),
	}, nil
}

func (r *runner) close() {
	if r.tracer != nil {
		if err := r.tracer.Close(); err != nil {
			r.log.Warnw("Failed to close the request trace file", "error", err)
		}
	}
}

// configuredSecrets are the secret values in the settings: credentials,
// the password of resource.url, the values of credential headers and of
// allowed environment variables whose names look secret.
func configuredSecrets(cfg config) []string {
	s := cfg.Auth.secrets()
	for name, v := range allowedEnvironment(cfg.AllowedEnvironment) {
		if isSecretKey(name) {
			s = append(s, v)
		}
	}
	if p, ok := cfg.Resource.URL.User.Password(); ok {
		s = append(s, p)
	}
	for k, vals := range cfg.Resource.Headers {
		if isSecretKey(k) {
			s = append(s, vals...)
		}
	}
	return s
}

func allowedEnvironment(names []string) map[string]string {
	env := map[string]string{}
	for _, name := range names {
		if v, ok := os.LookupEnv(name); ok {
			env[name] = v
		}
	}
	return env
}

// debugHandler logs the values a program passes to debug(), with secrets
// hidden.
func debugHandler(log *logp.Logger, secrets *scrubber) func(string, any) {
	log = log.Named("cel_debug")
	return func(tag string, value any) {
		if !log.IsDebug() {
			return
		}
		if err, ok := value.(error); ok {
			log.Debugw("CEL debug", "tag", tag, "error", secrets.scrub(err.Error()))
			return
		}
		log.Debugw("CEL debug", "tag", tag, "value", secrets.scrub(jsonText(redactValue(value))))
	}
}

func jsonText(v any) string {
	b, err := json.Marshal(v)
	if err != nil {
		return fmt.Sprint(v)
	}
	return string(b)
}

// period runs one periodic run: evaluations chained by want_more, at most
// max_executions of them. It returns only errors that stop the input.
func (r *runner) period(ctx context.Context, start time.Time) error {
	var published int
	for n := 1; ; n++ {
		if wait := time.Until(r.retryAt); wait > 0 {
			r.log.Infow("Waiting for the API's rate limit before the next evaluation", "until", r.retryAt.UTC())
			if err := r.inp.wait(ctx, wait); err != nil {
				return err
			}
		}
		if err := ctx.Err(); err != nil {
			return err
		}

		more, count, err := r.evaluateOnce(ctx, r.cfg.MaxExecutions-n)
		published += count
		if err != nil || !more {
			if err == nil {
				r.log.Infow("Periodic run finished", "evaluations", n, "events", published)
			}
			return err
		}
		if n >= r.cfg.MaxExecutions {
			r.metrics.executionsLimitHits.Inc()
			if runmode.Once() {
				// --once ends here too, so there is no next run to name.
				r.log.Warnw("The program still wants more after max_executions evaluations; --once stops here and the next start of tibeat continues from the stored cursor",
					"max_executions", r.cfg.MaxExecutions, "events", published)
				return nil
			}
			next := start.Add(r.cfg.Interval).UTC()
			r.log.Warnw("The program still wants more after max_executions evaluations; it continues at "+next.Format(time.RFC3339),
				"max_executions", r.cfg.MaxExecutions, "events", published, "next_run", next)
			return nil
		}
	}
}

// evaluateOnce evaluates the program, publishes its events and keeps its
// state for the next evaluation. It reports whether the program wants to
// run again at once and how many events it published.
func (r *runner) evaluateOnce(ctx context.Context, remaining int) (bool, int, error) {
	r.metrics.executions.Inc()
	r.secrets.update(r.redactor.secretValues(r.state))
	if r.log.IsDebug() {
		r.log.Debugw("CEL evaluation starting", "state", r.loggedState(r.state))
	}

	started := time.Now()
	result, err := r.program.evaluate(ctx, r.state, r.inp.now().UTC(), remaining)
	r.metrics.observeEvaluation(time.Since(started))
	if err != nil {
		if errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
			return false, 0, context.Canceled
		}
		// The state, and so the cursor, stay as they were: the next run
		// repeats this evaluation.
		r.metrics.evaluationErrors.Inc()
		return false, 0, r.events.publishFailure("failed evaluation: " + err.Error())
	}
	if r.inp.observe != nil {
		r.inp.observe(result)
	}
	result = shallowCopy(result)

	events, hasEvents := result["events"]
	delete(result, "events")
	if r.log.IsDebug() {
		r.log.Debugw("CEL evaluation finished", "state", r.loggedState(result), "events", countEvents(events))
	}
	if _, ok := result["url"]; !ok {
		result["url"] = r.url
	}

	status, hasStatus := r.handleResponseFields(result)
	switch {
	case hasStatus && status == http.StatusTooManyRequests:
		// Evaluate again after the wait that the response requested, without
		// publishing. This counts against max_executions.
		setCursor(result, r.cursor)
		r.state = result
		return true, 0, nil
	case hasStatus && (status < 200 || status > 299):
		events = errorEventMap(fmt.Sprintf("HTTP request failed with status %d %s", status, http.StatusText(status)))
	case !hasEvents:
		events = errorEventMap("the program returned no events field; return events: [] when there is nothing to publish")
	}

	var list []any
	failed := false
	switch e := events.(type) {
	case []any:
		list = e
	case map[string]any:
		list = []any{e}
		_, failed = e["error"]
	case nil:
	default:
		failed = true
		list = []any{errorEventMap(fmt.Sprintf("the program returned events as a %s, expected a list of STIX objects", jsonType(e)))}
	}
	r.metrics.eventsReceived.Add(uint64(len(list)))

	// A result with a single error event keeps the previous cursor, as in
	// Filebeat's CEL input, so that the next run requests the same data.
	var batchCursor any
	var perEvent []any
	if !failed {
		batchCursor, perEvent = r.cursorUpdates(result["cursor"], len(list))
	}
	if err := r.events.publish(list, batchCursor, perEvent); err != nil {
		return false, 0, err
	}
	switch {
	case batchCursor != nil:
		r.cursor = batchCursor
	case perEvent != nil:
		for _, c := range perEvent {
			if c != nil {
				r.cursor = c
			}
		}
	}
	// Like Filebeat, the next evaluation gets the last good cursor even when
	// this result left it out.
	setCursor(result, r.cursor)
	r.state = result

	more, _ := result["want_more"].(bool)
	return more, len(list), nil
}

func errorEventMap(msg string) map[string]any {
	return map[string]any{"error": map[string]any{"message": msg}}
}

// setCursor puts c into state, or removes the key when there is no cursor,
// so that has(state.cursor) stays false until there is one.
func setCursor(state map[string]any, c any) {
	if c == nil {
		delete(state, "cursor")
		return
	}
	state["cursor"] = c
}

// cursorUpdates reads the cursor of a result: one map for the batch, or a
// list with one map (or null) per event.
func (r *runner) cursorUpdates(c any, events int) (any, []any) {
	switch c := c.(type) {
	case nil:
		return nil, nil
	case map[string]any:
		return c, nil
	case []any:
		if len(c) != events {
			r.log.Errorw("The program returned a cursor list whose length differs from the events list; the cursor is not stored",
				"cursors", len(c), "events", events)
			return nil, nil
		}
		if events == 0 {
			return nil, nil
		}
		return nil, c
	}
	r.log.Errorw("The program returned a cursor that is neither a map nor a list; the cursor is not stored", "type", jsonType(c))
	return nil, nil
}

// handleResponseFields applies and removes the header, rate_limit and
// status_code fields that Filebeat's CEL input reads from a result, and
// returns the status code.
func (r *runner) handleResponseFields(result map[string]any) (int, bool) {
	header := headerValue(result["header"])
	delete(result, "header")
	if rl, ok := result["rate_limit"].(map[string]any); ok {
		if until := applyRateLimit(r.log, rl, r.limiter); until.After(r.retryAt) {
			r.retryAt = until
		}
	}
	delete(result, "rate_limit")
	status, ok := statusCodeValue(result["status_code"])
	delete(result, "status_code")
	if ok && status == http.StatusTooManyRequests {
		wait := r.cfg.Resource.Retry.WaitMin
		if d, found := retryAfter(header.Get("Retry-After"), time.Now()); found {
			wait = min(d, r.cfg.Resource.Retry.WaitMax)
		}
		r.retryAt = time.Now().Add(wait)
	}
	return status, ok
}

// loggedState renders a state for a debug log: redacted, scrubbed and
// without events, which are counted instead.
func (r *runner) loggedState(state map[string]any) string {
	s := shallowCopy(state)
	delete(s, "events")
	return r.secrets.scrub(jsonText(r.redactor.redact(s)))
}

func countEvents(v any) int {
	switch v := v.(type) {
	case []any:
		return len(v)
	case map[string]any:
		return 1
	}
	return 0
}

func shallowCopy(m map[string]any) map[string]any {
	c := make(map[string]any, len(m)+2)
	for k, v := range m {
		c[k] = v
	}
	return c
}
