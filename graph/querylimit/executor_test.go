package querylimit_test

import (
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/99designs/gqlgen/graphql"
	"github.com/99designs/gqlgen/graphql/errcode"
	"github.com/99designs/gqlgen/graphql/executor"
	"github.com/vektah/gqlparser/v2"
	"github.com/vektah/gqlparser/v2/ast"
	"github.com/vektah/gqlparser/v2/gqlerror"

	"github.com/custos-crm/custos/graph/querylimit"
	"github.com/custos-crm/custos/internal/apierr"
)

// These tests drive gqlgen's executor the way its transports do (transport.POST
// calls CreateOperationContext, then DispatchError when that fails), since the
// handler and transport packages need modules this module does not list yet.

// stubSchema is an executable schema whose resolvers answer nothing: enough
// for gqlgen to parse, validate and run extensions.
type stubSchema struct{ schema *ast.Schema }

func (s stubSchema) Schema() *ast.Schema { return s.schema }

func (stubSchema) Complexity(context.Context, string, string, int, map[string]any) (int, bool) {
	return 0, false
}

func (stubSchema) Exec(context.Context) graphql.ResponseHandler {
	return graphql.OneShot(&graphql.Response{Data: json.RawMessage(`{}`)})
}

func newExecutor(t *testing.T, presenter graphql.ErrorPresenterFunc) *executor.Executor {
	t.Helper()
	schema, err := gqlparser.LoadSchema(&ast.Source{Input: `
		type Customer { name: String! }
		type CustomerEdge { node: Customer }
		type CustomerConnection { edges: [CustomerEdge] totalCount: Int! }
		type Query { customers(first: Int, last: Int): CustomerConnection! }
	`})
	if err != nil {
		t.Fatalf("load schema: %v", err)
	}
	exec := executor.New(stubSchema{schema: schema})
	exec.Use(querylimit.New(querylimit.Limits{MaxPageSize: 100, DefaultPageSize: 20, MaxDepth: 12, MaxCost: 50}))
	if presenter != nil {
		exec.SetErrorPresenter(presenter)
	}
	return exec
}

// run does what transport.POST does with a query and returns the response as
// the client would decode it, and whether the transport would answer 200.
func run(t *testing.T, exec *executor.Executor, query string) (map[string]any, bool) {
	t.Helper()
	ctx := graphql.StartOperationTrace(t.Context())
	rc, errs := exec.CreateOperationContext(ctx, &graphql.RawParams{Query: query})
	var resp *graphql.Response
	ok := true
	if errs != nil {
		ok = errcode.GetErrorKind(errs) == errcode.KindUser
		resp = exec.DispatchError(graphql.WithOperationContext(ctx, rc), errs)
	} else {
		handler, ctx := exec.DispatchOperation(ctx, rc)
		resp = handler(ctx)
	}
	b, err := json.Marshal(resp)
	if err != nil {
		t.Fatalf("marshal: %v", err)
	}
	var out map[string]any
	if err := json.Unmarshal(b, &out); err != nil {
		t.Fatalf("unmarshal: %v", err)
	}
	return out, ok
}

// projectPresenter stands in for the server's presenter: it renders any
// *apierr.Error in zh-CN with a request id.
func projectPresenter(_ context.Context, err error) *gqlerror.Error {
	body := apierr.Present(err, "zh-CN", "req-1")
	gqlErr := &gqlerror.Error{Message: body.Message, Extensions: body.Map()}
	var orig *gqlerror.Error
	if errors.As(err, &orig) {
		gqlErr.Path = orig.Path
		gqlErr.Locations = orig.Locations
	}
	return gqlErr
}

func firstError(t *testing.T, resp map[string]any) map[string]any {
	t.Helper()
	errs, _ := resp["errors"].([]any)
	if len(errs) != 1 {
		t.Fatalf("errors = %v, want one", resp["errors"])
	}
	return errs[0].(map[string]any)
}

func TestExecutorUsesErrorPresenter(t *testing.T) {
	tests := []struct {
		name    string
		query   string
		code    string
		pointer string
	}{
		// Both over page size and, at 1 + 101×3, over the cost of 50.
		{"page size before cost", `{ customers(first: 101) { edges { node { name } } } }`, "BAD_USER_INPUT", "/customers/first"},
		{"cost", `{ customers(first: 100) { edges { node { name } } } }`, "LIMIT_EXCEEDED", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			resp, ok := run(t, newExecutor(t, projectPresenter), tt.query)
			if !ok {
				t.Error("transport would not answer 200")
			}
			e := firstError(t, resp)
			ext, _ := e["extensions"].(map[string]any)
			if ext["code"] != tt.code || ext["requestId"] != "req-1" {
				t.Errorf("extensions = %v, want code %s from the presenter", ext, tt.code)
			}
			if tt.pointer == "" {
				return
			}
			items, _ := ext["errors"].([]any)
			if len(items) != 1 {
				t.Fatalf("items = %v, want one", items)
			}
			item := items[0].(map[string]any)
			if item["pointer"] != tt.pointer || item["message"] != "必须在 0 到 100 之间" {
				t.Errorf("item = %v, want pointer %s and the zh-CN message", item, tt.pointer)
			}
		})
	}
}

func TestExecutorDefaultPresenter(t *testing.T) {
	resp, _ := run(t, newExecutor(t, nil), `{ customers(first: 101) { totalCount } }`)
	e := firstError(t, resp)
	ext, _ := e["extensions"].(map[string]any)
	if e["message"] != "Some of the input is not valid." || ext["code"] != "BAD_USER_INPUT" {
		t.Errorf("error = %v, want the English fallback", e)
	}
}

func TestExecutorPasses(t *testing.T) {
	resp, _ := run(t, newExecutor(t, projectPresenter), `{ customers(first: 10) { totalCount } }`)
	if resp["errors"] != nil {
		t.Errorf("errors = %v, want none", resp["errors"])
	}
}

func TestUsePanicsOnBadLimits(t *testing.T) {
	defer func() {
		if recover() == nil {
			t.Error("Use did not panic")
		}
	}()
	executor.New(stubSchema{}).Use(querylimit.New(querylimit.Limits{}))
}
