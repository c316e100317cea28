package engine

import (
	"strings"
	"testing"
)

func BenchmarkTemplateAppend(b *testing.B) {
	for _, bc := range []struct{ name, src string }{
		{"static", "/api/v1/products?category=shoes&sort=price"},
		{"one_var", "/api/v1/users/{{ name }}/orders"},
		{"pick_randomInt", `/products/{{ pick "a" "b" "c" }}?page={{ randomInt 1 50 }}`},
		{"uuid_urlencode", "/s?id={{ uuid }}&q={{ q | urlencode }}"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			tm, err := ParseTemplate(bc.src)
			if err != nil {
				b.Fatal(err)
			}
			sc := seededScope(1)
			buf := make([]byte, 0, 256)
			b.ReportAllocs()
			for b.Loop() {
				buf = tm.Append(buf[:0], sc)
			}
		})
	}
}

func BenchmarkCompileJSONRender(b *testing.B) {
	tm, err := CompileJSON(map[string]any{
		"user":     map[string]any{"name": "{{ name }}", "id": "{{ user }}", "email": `{{ data "users" "email" }}`},
		"items":    []any{map[string]any{"sku": `{{ pick "A1" "B2" "C3" }}`, "qty": "{{ randomInt 1 5 }}"}},
		"note":     "{{ quote }}",
		"currency": "EUR",
		"express":  true,
	})
	if err != nil {
		b.Fatal(err)
	}
	sc := seededScope(1)
	buf := make([]byte, 0, 512)
	b.ReportAllocs()
	for b.Loop() {
		buf = tm.Append(buf[:0], sc)
	}
}

func BenchmarkDocCheck(b *testing.B) {
	var sb strings.Builder
	sb.WriteString(`{"id":"job-1","state":"completed","code":200,"items":[`)
	for i := range 20 {
		if i > 0 {
			sb.WriteByte(',')
		}
		sb.WriteString(`{"id":12,"name":"product name","price":19.99,"tags":["a","b"]}`)
	}
	sb.WriteString(`]}`)
	body := []byte(sb.String())
	c, err := CompileExpect(&Expect{
		Status:       []int{200},
		BodyContains: `"state"`,
		JSON: []Cond{
			{Path: "$.state", In: []any{"queued", "completed"}},
			{Path: "$.items[-1].price", Equals: 19.99},
		},
	})
	if err != nil {
		b.Fatal(err)
	}
	x, err := CompileCapture(Capture{Var: "job", From: CaptureJSON, Expr: "$.id"})
	if err != nil {
		b.Fatal(err)
	}
	var d Doc
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		d.Reset(200, body, nil)
		if ok, _ := c.Check(&d); !ok {
			b.Fatal("check failed")
		}
		if v, ok := x.Extract(&d); !ok || v != "job-1" {
			b.Fatal("capture failed")
		}
	}
}
