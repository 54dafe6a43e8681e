// Package web is evse's pages: the charger's page (on `evse run`'s local
// API and for each charge point of a fleet), the fleet dashboard and the
// site report. Pages are rendered on the server (html/template); htmx
// posts the forms and swaps what the server sends back, its SSE
// extension swaps the live parts, and uPlot draws the charts. Every
// asset is embedded: the pages work with no internet.
package web

import (
	"embed"
	"html/template"
	"io/fs"
	"net/http"
	"strings"
	"time"
)

//go:embed assets templates
var files embed.FS

// assetsFS is the assets directory.
var assetsFS, _ = fs.Sub(files, "assets")

// Assets serves the embedded assets under /assets/ (mount it there).
func Assets() http.Handler {
	fileServer := http.StripPrefix("/assets/", http.FileServerFS(assetsFS))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// Versioned names: kept a day by the browser.
		w.Header().Set("Cache-Control", "public, max-age=86400")
		fileServer.ServeHTTP(w, r)
	})
}

// Asset returns an embedded asset's text, for a self-contained file (the
// site report).
func Asset(name string) string {
	b, err := fs.ReadFile(assetsFS, name)
	if err != nil {
		panic("web: no asset " + name) // embedded: a missing one is a bug
	}
	return string(b)
}

var templates = template.Must(template.New("").Funcs(template.FuncMap{
	"fmtA": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return trimFloat(*p, 1) + " A"
	},
	"fmtW": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return trimFloat(*p/1000, 2) + " kW"
	},
	"fmtWh": func(p *float64) string {
		if p == nil {
			return "–"
		}
		return trimFloat(*p/1000, 3) + " kWh"
	},
	"kWh":    func(wh float64) string { return trimFloat(wh/1000, 3) + " kWh" },
	"clock":  func(t time.Time) string { return t.Local().Format("15:04:05") },
	"stamp":  func(t time.Time) string { return t.Local().Format("2006-01-02 15:04") },
	"phases": func(c []float64) string { return phaseText(c) },
	"lower":  strings.ToLower,
}).ParseFS(files, "templates/*.html"))

func trimFloat(f float64, digits int) string {
	s := strings.TrimRight(strings.TrimRight(strconvFormat(f, digits), "0"), ".")
	if s == "-0" {
		return "0"
	}
	return s
}

// render writes a template, or a 500 naming it.
func render(w http.ResponseWriter, name string, data any) {
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	if err := templates.ExecuteTemplate(w, name, data); err != nil {
		http.Error(w, "page "+name+": "+err.Error(), http.StatusInternalServerError)
	}
}
