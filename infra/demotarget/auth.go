package demotarget

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"
)

// tokenRequest is the body of POST /auth/token (OAuth client credentials).
type tokenRequest struct {
	ClientID     string `json:"client_id"`
	ClientSecret string `json:"client_secret"`
	Audience     string `json:"audience"`
	GrantType    string `json:"grant_type"`
}

func (t *Target) issueToken(w http.ResponseWriter, r *http.Request) {
	var req tokenRequest
	if !readJSON(w, r, &req) {
		return
	}
	if req.GrantType != "" && req.GrantType != "client_credentials" {
		writeJSON(w, http.StatusBadRequest, map[string]any{"error": "unsupported_grant_type"})
		return
	}
	if req.ClientID == "" || req.ClientSecret == "" {
		writeJSON(w, http.StatusUnauthorized, map[string]any{"error": "invalid_client"})
		return
	}
	exp := time.Now().Add(TokenLifetime)
	writeJSON(w, http.StatusOK, map[string]any{
		"access_token": t.sign(req.ClientID, exp),
		"token_type":   "Bearer",
		"expires_in":   int(TokenLifetime / time.Second),
	})
}

// sign makes a stateless token: base64(client "\n" expiry) "." base64(HMAC).
func (t *Target) sign(client string, exp time.Time) string {
	payload := []byte(client + "\n" + strconv.FormatInt(exp.Unix(), 10))
	enc := base64.RawURLEncoding
	return enc.EncodeToString(payload) + "." + enc.EncodeToString(t.mac(payload))
}

func (t *Target) mac(payload []byte) []byte {
	m := hmac.New(sha256.New, t.tokenKey)
	m.Write(payload)
	return m.Sum(nil)[:16]
}

// verify returns the client a token was issued to, if t issued it and it
// has not expired.
func (t *Target) verify(token string, now time.Time) (string, error) {
	p64, m64, ok := strings.Cut(token, ".")
	if !ok {
		return "", fmt.Errorf("malformed token")
	}
	enc := base64.RawURLEncoding
	payload, err1 := enc.DecodeString(p64)
	sum, err2 := enc.DecodeString(m64)
	if err1 != nil || err2 != nil || !hmac.Equal(sum, t.mac(payload)) {
		return "", fmt.Errorf("invalid token")
	}
	client, expS, _ := strings.Cut(string(payload), "\n")
	exp, err := strconv.ParseInt(expS, 10, 64)
	if err != nil || now.Unix() >= exp {
		return "", fmt.Errorf("expired token")
	}
	return client, nil
}

// clientKey is the context key of the authenticated client id.
type clientKey struct{}

// authed wraps h: it answers 401 unless the request carries a bearer token
// that t issued; h finds the client id in the request's context.
func (t *Target) authed(h http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		token, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer ")
		if !ok {
			w.Header().Set("WWW-Authenticate", `Bearer realm="serverless-store-api"`)
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		client, err := t.verify(strings.TrimSpace(token), time.Now())
		if err != nil {
			w.Header().Set("WWW-Authenticate", `Bearer error="invalid_token"`)
			writeError(w, http.StatusUnauthorized, "Unauthorized")
			return
		}
		h(w, r.WithContext(context.WithValue(r.Context(), clientKey{}, client)))
	}
}

func (t *Target) profile(w http.ResponseWriter, r *http.Request) {
	client, _ := r.Context().Value(clientKey{}).(string)
	writeJSON(w, http.StatusOK, map[string]any{
		"userId": "user_" + client,
		"email":  client + "@example.com",
		"tier":   "gold",
	})
}

// order is one entry of GET /prod/account/orders.
type order struct {
	OrderID  string  `json:"orderId"`
	Status   string  `json:"status"`
	TotalUSD float64 `json:"total"`
	Items    int     `json:"items"`
}

func (t *Target) orders(w http.ResponseWriter, r *http.Request) {
	limit, ok := parseLimit(w, r)
	if !ok {
		return
	}
	n := min(limit, 25) // the demo account has 25 orders
	orders := make([]order, n)
	for i := range orders {
		p := catalogue[i%len(catalogue)]
		orders[i] = order{
			OrderID:  fmt.Sprintf("ord_%05d", 20000-i),
			Status:   [...]string{"delivered", "shipped", "processing"}[i%3],
			TotalUSD: p.PriceUSD * float64(1+i%3),
			Items:    1 + i%3,
		}
	}
	writeJSON(w, http.StatusOK, map[string]any{"orders": orders, "count": n})
}

// cartItem is the body of POST /prod/cart/items.
type cartItem struct {
	ProductID string `json:"productId"`
	Quantity  int    `json:"quantity"`
	Currency  string `json:"currency"`
}

func (t *Target) addCartItem(w http.ResponseWriter, r *http.Request) {
	var item cartItem
	if !readJSON(w, r, &item) {
		return
	}
	p, ok := findProduct(item.ProductID)
	if !ok {
		writeError(w, http.StatusNotFound, "product not found")
		return
	}
	if item.Quantity < 1 || item.Quantity > 99 {
		writeError(w, http.StatusBadRequest, "quantity must be from 1 to 99")
		return
	}
	if item.Currency == "" {
		item.Currency = "USD"
	}
	writeJSON(w, http.StatusCreated, map[string]any{
		"productId": p.ID,
		"quantity":  item.Quantity,
		"currency":  item.Currency,
		"lineTotal": p.PriceUSD * float64(item.Quantity),
	})
}
