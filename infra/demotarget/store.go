package demotarget

import (
	"net/http"
	"strconv"
	"strings"
)

// Product is one catalogue entry.
type Product struct {
	ID       string  `json:"id"`
	Name     string  `json:"name"`
	Category string  `json:"category"`
	PriceUSD float64 `json:"price"`
	InStock  bool    `json:"inStock"`
}

// catalogue is the demo store's products (sku_1001..sku_1005).
var catalogue = [...]Product{
	{ID: "sku_1001", Name: "Wireless Headphones", Category: "electronics", PriceUSD: 129.99, InStock: true},
	{ID: "sku_1002", Name: "Mechanical Keyboard", Category: "electronics", PriceUSD: 89.50, InStock: true},
	{ID: "sku_1003", Name: "USB-C Hub", Category: "accessories", PriceUSD: 34.00, InStock: true},
	{ID: "sku_1004", Name: "4K Monitor", Category: "electronics", PriceUSD: 379.00, InStock: false},
	{ID: "sku_1005", Name: "Gaming Mouse", Category: "accessories", PriceUSD: 49.90, InStock: true},
}

// Limits of list endpoints.
const (
	defaultLimit = 20
	maxLimit     = 100
)

// findProduct returns the product with id, if any.
func findProduct(id string) (Product, bool) {
	for _, p := range catalogue {
		if p.ID == id {
			return p, true
		}
	}
	return Product{}, false
}

// parseLimit reads the "limit" query parameter (default 20, 1–100); it
// answers 400 and returns false when the value is bad.
func parseLimit(w http.ResponseWriter, r *http.Request) (int, bool) {
	s := r.URL.Query().Get("limit")
	if s == "" {
		return defaultLimit, true
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 1 || n > maxLimit {
		writeError(w, http.StatusBadRequest, "limit must be an integer from 1 to 100")
		return 0, false
	}
	return n, true
}

func (t *Target) listProducts(w http.ResponseWriter, r *http.Request) {
	limit, ok := parseLimit(w, r)
	if !ok {
		return
	}
	category := r.URL.Query().Get("category")
	items := []Product{}
	for _, p := range catalogue {
		if len(items) == limit {
			break
		}
		if category == "" || p.Category == category {
			items = append(items, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"items": items, "count": len(items), "nextCursor": nil})
}

func (t *Target) productDetail(w http.ResponseWriter, r *http.Request) {
	p, ok := findProduct(r.PathValue("id"))
	if !ok {
		writeError(w, http.StatusNotFound, "product not found")
		return
	}
	writeJSON(w, http.StatusOK, p)
}

// searchRequest is the body of POST /prod/search.
type searchRequest struct {
	Query   string `json:"query"`
	Filters struct {
		InStock  *bool    `json:"inStock"`
		PriceMin *float64 `json:"priceMin"`
		PriceMax *float64 `json:"priceMax"`
	} `json:"filters"`
	Sort  string `json:"sort"`
	Limit int    `json:"limit"`
}

func (t *Target) search(w http.ResponseWriter, r *http.Request) {
	var req searchRequest
	if !readJSON(w, r, &req) {
		return
	}
	if strings.TrimSpace(req.Query) == "" {
		writeError(w, http.StatusBadRequest, "query is required")
		return
	}
	if req.Limit <= 0 || req.Limit > maxLimit {
		req.Limit = defaultLimit
	}
	words := strings.Fields(strings.ToLower(req.Query))
	results := []Product{}
	for _, p := range catalogue {
		if len(results) == req.Limit {
			break
		}
		if matches(p, words) && passes(p, &req) {
			results = append(results, p)
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"query": req.Query, "results": results, "total": len(results)})
}

// matches reports whether any query word appears in the product's name or
// category.
func matches(p Product, words []string) bool {
	text := strings.ToLower(p.Name + " " + p.Category)
	for _, w := range words {
		if strings.Contains(text, w) {
			return true
		}
	}
	return false
}

// passes applies the search filters.
func passes(p Product, req *searchRequest) bool {
	f := req.Filters
	if f.InStock != nil && *f.InStock && !p.InStock {
		return false
	}
	if f.PriceMin != nil && p.PriceUSD < *f.PriceMin {
		return false
	}
	if f.PriceMax != nil && p.PriceUSD > *f.PriceMax {
		return false
	}
	return true
}
