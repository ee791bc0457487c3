// Package cel implements the "cel" input: it evaluates a program in the
// Common Expression Language, with the libraries of github.com/elastic/mito,
// and publishes one event per STIX object the program returns. The settings,
// the libraries and the state follow Filebeat's CEL input (beats
// be9871f5dab9), so that a program and state written for Elastic Agent's
// Custom Threat Intelligence integration run unchanged.
//
// # Evaluation
//
// The program reads the state as state and the evaluation's start time as
// now. The globals remaining_executions, useragent and env (the variables
// named in allowed_environment) are defined too. state.url is resource.url, and
// state.cursor is the cursor stored in the registry when there is one, else
// the cursor of the configured state. The program returns a map with events,
// and it may return cursor, want_more and any other field. That map, less
// its events, is the state of the next evaluation, and a result without
// cursor keeps the previous one.
//
// Every interval the input evaluates the program, and again at once while
// it returns want_more: true, at most max_executions times; then it logs a
// warning with the time of the next run. With --once (runmode.Once) it
// evaluates until want_more is false or max_executions is reached, then Run
// returns.
//
// The fields header, rate_limit and status_code of a result are read as
// Filebeat reads them: rate_limit sets the rate limiter, a status_code of
// 429 evaluates again after Retry-After, and any other status outside 2xx
// replaces the events by an error.
//
// # Events
//
// An element of events is a STIX object (a map), a map with the object's
// JSON text or the object in message, or JSON text. Each is published with
// the object's JSON text in message and url.original (resource.url without
// credentials); an object is encoded once, text is passed on as it is. The
// decode_stix and stix_to_ecs processors convert it; see eventPublisher for
// why the input does not publish the decoded map.
//
// A map with an error key, unless it has the type and id of a STIX object,
// is logged at error level with its message and published as an error
// document: event.kind pipeline_error, error.message and url.original, and
// no threat field. So is a failed evaluation, whose message names the line
// and column of the failing call, and an element of any other type. The
// error documents and every log line pass through the scrubber first.
//
// # Cursor
//
// The input uses input-cursor with one source per input. A cursor is a map
// for the whole result, or a list with one map (or null) per event. A
// result's cursor travels with its last event, so it reaches the registry
// only after the output has acknowledged every event of the result. A
// result without events that changes the cursor publishes it on an event
// without fields: libbeat drops such an event before the processors but
// still acknowledges it in order. A failed evaluation, or a result whose
// events is a single error map, keeps the previous cursor. Events published
// but not acknowledged before a stop are fetched and published again after
// the restart, because the stored cursor is older than them.
//
// # HTTP
//
// The program's HTTP functions use one client built from resource.*:
// timeout (per attempt, reading the body included), ssl, proxy settings,
// keep_alive (off unless keep_alive.disable is false, as in Filebeat),
// redirect, retry (429 and 5xx other than 501, with backoff between wait_min
// and wait_max and Retry-After capped at wait_max), rate_limit,
// max_body_size (a larger body fails the call that reads it) and headers
// (added to every request that lacks them). As in Filebeat, auth.basic and
// auth.token are added by get, head and post only; a request built with
// request() carries the headers the program sets. auth.oauth2 (client
// credentials) adds its token to every request to the origin of
// resource.url, and to no other origin.
//
// # Secrets
//
// Values of auth.*, the password in resource.url, credential headers in
// resource.headers and the state fields named in redact.fields (or, without
// a redact setting, every state field whose name looks secret) are replaced
// in every log line, trace record and error document. Debug logs of the
// state hide the redacted fields; values passed to debug() and traced JSON
// or form bodies hide every key whose name looks secret; traced headers
// hide credential headers.
//
// # Differences from Filebeat's CEL input
//
// Programs cannot read files: the file library is absent and resource.url
// must be http or https. The AWS signing library, which reads credentials
// from the environment, is absent too. auth.digest, auth.aws, the OAuth2 providers and
// the OAuth2 password grant are rejected at load; failure_dump and
// record_coverage are ignored with a warning. tibeat adds cost_limit, a
// default max_body_size of 100 MiB, and stores the cursor of a result
// without events. auth.token.type defaults to Bearer.
package cel
