package web

import (
	"context"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/evse-dev/evse/internal/display"
	"github.com/evse-dev/evse/internal/hw/sim"
)

func TestHTMLText(t *testing.T) {
	for _, tt := range []struct{ in, want string }{
		{"plain", "plain"},
		{"<b>Free</b> charging<br>today", "Free charging today"},
		{"<p>Tom &amp; Jerry</p><p>&lt;3</p>", "Tom & Jerry <3"},
		{"before<script>alert(1)</script>after", "before after"},
		{`<style type="text/css">p{}</style><p>styled</p>`, "styled"},
		{"open <b tag never closed", "open"},
		{"<SCRIPT>x</SCRIPT >kept", "kept"},
	} {
		if got := htmlText(tt.in); got != tt.want {
			t.Errorf("htmlText(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

// shows is a page's backend whose display shows msgs.
type shows struct {
	board
	msgs []display.Message
}

func (s shows) Display(context.Context) ([]display.Message, error) { return s.msgs, nil }

// TestThePageShowsTheDisplayEscaped: the display's messages are on the
// page as text, whatever their format: markup in a message never
// becomes the page's.
func TestThePageShowsTheDisplayEscaped(t *testing.T) {
	msgs := []display.Message{
		{ID: 1, Priority: display.InFront, Format: display.UTF8, Language: "en", Content: `Fish & <script>alert("x")</script>`},
		{ID: 2, Priority: display.InFront, Format: display.HTML, Content: `<b onclick="evil()">Bold</b> <img src=x onerror=alert(1)>offer`},
		{ID: 3, Priority: display.InFront, Format: display.URI, Content: "https://example.com/tariff?a=1&b=2"},
		{ID: 4, Priority: display.InFront, Format: display.URI, Content: "javascript:alert(1)"},
	}
	page := NewCharger(shows{board{sim.New(sim.Options{})}, msgs}, ChargerOptions{})
	w := httptest.NewRecorder()
	page.ServeHTTP(w, httptest.NewRequest("GET", "/", nil))
	body := w.Body.String()
	for _, want := range []string{
		`<li id="display-1" class="display-message" data-priority="InFront" lang="en">Fish &amp; &lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;</li>`,
		`<li id="display-2" class="display-message" data-priority="InFront">Bold offer</li>`,
		`<a href="https://example.com/tariff?a=1&amp;b=2" rel="noopener noreferrer">https://example.com/tariff?a=1&amp;b=2</a>`,
		`<li id="display-4" class="display-message" data-priority="InFront">javascript:alert(1)</li>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, bad := range []string{`<script>alert("x")`, "onclick", "onerror", `href="javascript`} {
		if strings.Contains(body, bad) {
			t.Errorf("the page carries %s from a message", bad)
		}
	}
}
