package web

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// FleetSource is what the fleet dashboard reads and drives (the fleet
// implements it).
type FleetSource interface {
	// Totals counts the charge points by state, in display order.
	Totals() []Count
	// Answers are the central system's answer times by action.
	Answers() []AnswerRow
	// List returns a page of the charge points that match, and how many
	// match.
	List(f Filter, offset, limit int) (rows []ChargerRow, total int)
	// Groups and States name what the filters offer.
	Groups() []string
	States() []string
	// Fault applies a fault now and says how many charge points it hit.
	Fault(kind, group string, share float64, forDur, by time.Duration) (int, error)
	// Charger returns a charge point's page handler, mounted at base.
	Charger(id, base string) (http.Handler, bool)
}

// Count is a number of charge points in a state.
type Count struct {
	State string
	N     int
}

// AnswerRow is one action's numbers.
type AnswerRow struct {
	Action                 string
	Calls, Errors, Timeout int64
	P50, P95, P99          float64 // ms
}

// Filter selects charge points.
type Filter struct {
	State, Group string
	// Errors: only those whose last connection failed or ended with an
	// error.
	Errors bool
}

// ChargerRow is a charge point in the table.
type ChargerRow struct {
	ID, Group, State, LastError string
}

// Dashboard is the fleet's page: totals, answer times, the table of
// charge points, each one's page, and the fault controls.
type Dashboard struct {
	src   FleetSource
	title string
	mux   *http.ServeMux
}

// pageSize is the table's page.
const pageSize = 50

// NewDashboard returns the fleet dashboard.
func NewDashboard(src FleetSource, title string) *Dashboard {
	d := &Dashboard{src: src, title: title, mux: http.NewServeMux()}
	d.mux.HandleFunc("GET /{$}", d.page)
	d.mux.HandleFunc("GET /ui/fleet/events", d.events)
	d.mux.HandleFunc("GET /ui/fleet/chargers", d.table)
	d.mux.HandleFunc("POST /ui/fleet/faults", d.fault)
	d.mux.HandleFunc("/chargers/{id}/", d.charger)
	d.mux.Handle("/assets/", Assets())
	return d
}

func (d *Dashboard) ServeHTTP(w http.ResponseWriter, r *http.Request) { d.mux.ServeHTTP(w, r) }

type dashboardData struct {
	Title   string
	Totals  []Count
	Total   int
	Answers []AnswerRow
	Groups  []string
	States  []string
	Table   tableData
}

type tableData struct {
	Rows             []ChargerRow
	Filter           Filter
	Offset, Total    int
	From, To         int
	PrevURL, NextURL string // "": no such page
}

func (d *Dashboard) page(w http.ResponseWriter, r *http.Request) {
	data := d.totals()
	data.Title, data.Answers, data.Groups, data.States = d.title, d.src.Answers(), d.src.Groups(), d.src.States()
	data.Table = d.tableData(Filter{}, 0)
	render(w, "dashboard.html", data)
}

// totals are the counts by state and their sum.
func (d *Dashboard) totals() dashboardData {
	data := dashboardData{Totals: d.src.Totals()}
	for _, c := range data.Totals {
		data.Total += c.N
	}
	return data
}

func (d *Dashboard) tableData(f Filter, offset int) tableData {
	rows, total := d.src.List(f, offset, pageSize)
	t := tableData{Rows: rows, Filter: f, Offset: offset, Total: total, From: offset + 1, To: offset + len(rows)}
	page := func(at int) string {
		q := url.Values{}
		if f.State != "" {
			q.Set("state", f.State)
		}
		if f.Group != "" {
			q.Set("group", f.Group)
		}
		if f.Errors {
			q.Set("errors", "1")
		}
		q.Set("offset", strconv.Itoa(at))
		return "/ui/fleet/chargers?" + q.Encode()
	}
	if offset > 0 {
		t.PrevURL = page(max(offset-pageSize, 0))
	}
	if offset+len(rows) < total {
		t.NextURL = page(offset + pageSize)
	}
	return t
}

func (d *Dashboard) table(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, err := strconv.Atoi(q.Get("offset"))
	if err != nil || offset < 0 {
		offset = 0
	}
	f := Filter{State: q.Get("state"), Group: q.Get("group"), Errors: q.Get("errors") == "1" || q.Get("errors") == "on"}
	render(w, "table", d.tableData(f, offset))
}

// events streams the totals and the answer times when they change.
func (d *Dashboard) events(w http.ResponseWriter, r *http.Request) {
	stream(w, r, func(context.Context) []event {
		var out []event
		var b strings.Builder
		if templates.ExecuteTemplate(&b, "totals", d.totals()) == nil {
			out = append(out, event{name: "totals", data: b.String()})
		}
		b.Reset()
		if templates.ExecuteTemplate(&b, "answers", d.src.Answers()) == nil {
			out = append(out, event{name: "answers", data: b.String()})
		}
		return out
	})
}

func (d *Dashboard) fault(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	share, err := strconv.ParseFloat(strings.TrimSpace(r.PostFormValue("share")), 64)
	if err != nil {
		render(w, "message", "share: a number from 0 to 1")
		return
	}
	durations := map[string]time.Duration{}
	for _, name := range []string{"for", "by"} {
		if s := strings.TrimSpace(r.PostFormValue(name)); s != "" {
			v, err := time.ParseDuration(s)
			if err != nil {
				render(w, "message", name+": a duration such as 30s or 5m")
				return
			}
			durations[name] = v
		}
	}
	kind := r.PostFormValue("kind")
	n, err := d.src.Fault(kind, r.PostFormValue("group"), share, durations["for"], durations["by"])
	if err != nil {
		render(w, "message", err.Error())
		return
	}
	render(w, "message", fmt.Sprintf("%s: %d charge points hit", kind, n))
}

func (d *Dashboard) charger(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	h, ok := d.src.Charger(id, "/chargers/"+url.PathEscape(id))
	if !ok {
		http.NotFound(w, r)
		return
	}
	h.ServeHTTP(w, r)
}
