// Command esc-eval evaluates ESC environment definitions with the official evaluator
// (github.com/pulumi/esc/eval), for esc-sync's loopback ESC server and its differential tests.
//
// It is a long-lived process speaking JSON lines: one request per line on stdin, one response per
// line on stdout, in order. A request carries the definition to open and every definition its
// imports may name (the caller owns the store); nothing is read from disk or the network.
//
//	request:  {"id": 1, "name": "app/dev", "yaml": "...", "environments": {"app/base": "...", ...}}
//	response: {"id": 1, "properties": {...}, "diagnostics": [{"range": ..., "summary": ..., "severity": ...}]}
//
// `properties` is exactly what Pulumi Cloud serialises for an open session (esc.Value with its
// omitempty fields: a null is a node with no "value" key). Providers (fn::open, fn::rotate) are
// refused, and so is ciphertext: the caller sends definitions with plaintext secrets.
package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"

	"github.com/hashicorp/hcl/v2"
	"github.com/pulumi/esc"
	"github.com/pulumi/esc/eval"
	"github.com/pulumi/esc/syntax"
)

type request struct {
	ID           int64             `json:"id"`
	Name         string            `json:"name"`
	YAML         string            `json:"yaml"`
	Environments map[string]string `json:"environments"`
}

// diagnostic is the API's shape (range/summary/detail/severity), plus the document path, which
// the service includes when it knows it.
type diagnostic struct {
	Range    *esc.Range `json:"range,omitempty"`
	Summary  string     `json:"summary,omitempty"`
	Detail   string     `json:"detail,omitempty"`
	Severity string     `json:"severity,omitempty"`
	Path     string     `json:"path,omitempty"`
}

type response struct {
	ID          int64                `json:"id"`
	Properties  map[string]esc.Value `json:"properties"`
	Diagnostics []diagnostic         `json:"diagnostics"`
	// Error is set when the request itself could not be handled (not an evaluation problem).
	Error string `json:"error,omitempty"`
}

// environments resolves imports from the definitions sent with the request: `project/name` as
// written; a bare name in the importing root's project, then in `default`.
type environments struct {
	project string
	defs    map[string]string
}

func (l environments) LoadEnvironment(_ context.Context, name string) ([]byte, eval.Decrypter, error) {
	candidates := []string{name}
	if !strings.Contains(name, "/") {
		candidates = []string{l.project + "/" + name, "default/" + name}
	}
	for _, c := range candidates {
		if yaml, ok := l.defs[c]; ok {
			return []byte(yaml), refuse{}, nil
		}
	}
	return nil, nil, fmt.Errorf("environment %q not found", name)
}

type refuse struct{}

func (refuse) Decrypt(context.Context, []byte) ([]byte, error) {
	return nil, errors.New("ciphertext is not supported here: send plaintext secrets")
}

func (refuse) LoadProvider(_ context.Context, name string) (esc.Provider, error) {
	return nil, fmt.Errorf("provider %q is not available in this evaluator", name)
}

func (refuse) LoadRotator(_ context.Context, name string) (esc.Rotator, error) {
	return nil, fmt.Errorf("rotator %q is not available in this evaluator", name)
}

func evaluate(ctx context.Context, req request) response {
	resp := response{ID: req.ID, Properties: map[string]esc.Value{}, Diagnostics: []diagnostic{}}
	decl, diags, err := eval.LoadYAMLBytes(req.Name, []byte(req.YAML))
	if err != nil {
		resp.Error = err.Error()
		return resp
	}
	if !diags.HasErrors() {
		project := "default"
		if i := strings.Index(req.Name, "/"); i > 0 {
			project = req.Name[:i]
		}
		loader := environments{project: project, defs: req.Environments}
		execContext, err := esc.NewExecContext(map[string]esc.Value{})
		if err != nil {
			resp.Error = err.Error()
			return resp
		}
		env, evalDiags := eval.EvalEnvironment(ctx, req.Name, decl, refuse{}, refuse{}, loader, execContext)
		diags = append(diags, evalDiags...)
		if env != nil && env.Properties != nil {
			resp.Properties = env.Properties
		}
	}
	for _, d := range diags {
		resp.Diagnostics = append(resp.Diagnostics, toAPI(d))
	}
	return resp
}

func toAPI(d *syntax.Diagnostic) diagnostic {
	out := diagnostic{Summary: d.Summary, Detail: d.Detail, Path: d.Path, Severity: "error"}
	if d.Severity == hcl.DiagWarning {
		out.Severity = "warning"
	}
	if r := d.Subject; r != nil {
		out.Range = &esc.Range{
			Environment: r.Filename,
			Begin:       esc.Pos{Line: r.Start.Line, Column: r.Start.Column, Byte: r.Start.Byte},
			End:         esc.Pos{Line: r.End.Line, Column: r.End.Column, Byte: r.End.Byte},
		}
	}
	return out
}

func main() {
	in := bufio.NewScanner(os.Stdin)
	in.Buffer(make([]byte, 0, 1<<20), 64<<20)
	out := bufio.NewWriter(os.Stdout)
	enc := json.NewEncoder(out)
	ctx := context.Background()
	for in.Scan() {
		var req request
		var resp response
		if err := json.Unmarshal(in.Bytes(), &req); err != nil {
			resp = response{Error: "invalid request: " + err.Error()}
		} else {
			resp = evaluate(ctx, req)
		}
		if err := enc.Encode(resp); err != nil {
			fmt.Fprintln(os.Stderr, "esc-eval:", err)
			os.Exit(1)
		}
		if err := out.Flush(); err != nil {
			os.Exit(1)
		}
	}
	if err := in.Err(); err != nil {
		fmt.Fprintln(os.Stderr, "esc-eval:", err)
		os.Exit(1)
	}
}
