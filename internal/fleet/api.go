package fleet

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evse-dev/evse/internal/api"
	"github.com/evse-dev/evse/internal/web"
)

// Handler is the fleet's HTTP API: the fleet, its charge points (each
// driven as `evse run`'s API drives one, under /api/v1/chargers/{id}/),
// faults and /metrics. See docs/fleet.md.
func (f *Fleet) Handler(log *slog.Logger) http.Handler {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	f.registerGauges()
	mux := http.NewServeMux()
	mux.HandleFunc("GET /api/v1/fleet", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, f.Progress()) })
	mux.HandleFunc("GET /api/v1/report", func(w http.ResponseWriter, r *http.Request) { writeJSON(w, http.StatusOK, f.Report()) })
	mux.HandleFunc("GET /api/v1/chargers", f.list)
	mux.HandleFunc("POST /api/v1/faults", func(w http.ResponseWriter, r *http.Request) {
		var ft Fault
		dec := json.NewDecoder(http.MaxBytesReader(w, r.Body, 1<<20))
		dec.DisallowUnknownFields()
		if err := dec.Decode(&ft); err != nil {
			writeError(w, http.StatusBadRequest, "a fault: %v", err)
			return
		}
		n, err := f.Apply(ft)
		if err != nil {
			writeError(w, http.StatusBadRequest, "%v", err)
			return
		}
		log.Info("fault asked for through the API", "kind", ft.Kind, "chargers", n, "remote", r.RemoteAddr)
		writeJSON(w, http.StatusOK, map[string]any{"kind": ft.Kind, "chargers": n})
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(f.stats.reg, promhttp.HandlerOpts{}))
	mux.Handle("/", web.NewDashboard(&dashboardSource{f: f, log: log, pages: map[string]*web.Charger{}}, "evse fleet"))
	mux.HandleFunc("/api/v1/chargers/{id}/{rest...}", func(w http.ResponseWriter, r *http.Request) {
		c, ok := f.byID[r.PathValue("id")]
		if !ok {
			writeError(w, http.StatusNotFound, "no charge point %q in this fleet", r.PathValue("id"))
			return
		}
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/api/v1/" + r.PathValue("rest")
		r2.URL.RawPath = ""
		api.Handler(c, log.With("cp", c.ID)).ServeHTTP(w, r2)
	})
	return mux
}

// registerGauges adds the gauges computed on each scrape.
func (f *Fleet) registerGauges() {
	f.gaugeOnce.Do(func() {
		for _, s := range States {
			f.stats.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "evse_fleet_chargers",
				Help: "Charge points by state.", ConstLabels: prometheus.Labels{"state": string(s)}},
				func() float64 { return float64(f.Progress().States[s]) }))
		}
		f.stats.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "evse_fleet_journal_depth",
			Help: "Transaction messages journaled and not yet confirmed by the central system, all charge points."},
			func() float64 { return float64(f.journalDepth()) }))
		f.stats.reg.MustRegister(prometheus.NewGaugeFunc(prometheus.GaugeOpts{Name: "evse_fleet_energy_kwh",
			Help: "Energy the charge points' meters counted since the fleet started, in kWh."},
			func() float64 { return f.Report().EnergyKWh }))
	})
}

// journalDepth counts the journal entries of every charge point.
func (f *Fleet) journalDepth() int {
	n := 0
	for _, c := range f.chargers {
		n += c.cp.JournalDepth()
	}
	return n
}

// ChargerInfo is a charge point in the API's list.
type ChargerInfo struct {
	ID        string `json:"id"`
	Group     string `json:"group"`
	State     State  `json:"state"`
	LastError string `json:"lastError,omitempty"`
}

// list answers GET /api/v1/chargers?state=&group=&errors=1&offset=&limit=.
func (f *Fleet) list(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	offset, err1 := atoiDefault(q.Get("offset"), 0)
	limit, err2 := atoiDefault(q.Get("limit"), 100)
	if err1 != nil || err2 != nil || offset < 0 || limit < 1 || limit > 1000 {
		writeError(w, http.StatusBadRequest, "offset ≥ 0 and limit 1 to 1000")
		return
	}
	page, total := f.find(web.Filter{State: q.Get("state"), Group: q.Get("group"), Errors: q.Get("errors") == "1"}, offset, limit)
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": offset, "chargers": page})
}

// find returns a page of the charge points that match, in file order,
// and how many match (the API's list and the dashboard's table).
func (f *Fleet) find(flt web.Filter, offset, limit int) (page []ChargerInfo, total int) {
	page = []ChargerInfo{}
	for _, c := range f.chargers {
		info := ChargerInfo{ID: c.ID, Group: c.Group(), State: c.State(), LastError: c.LastError()}
		if (flt.State != "" && string(info.State) != flt.State) || (flt.Group != "" && info.Group != flt.Group) || (flt.Errors && info.LastError == "") {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, info)
		}
		total++
	}
	return page, total
}

func atoiDefault(s string, d int) (int, error) {
	if s == "" {
		return d, nil
	}
	return strconv.Atoi(s)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	json.NewEncoder(w).Encode(v)
}

func writeError(w http.ResponseWriter, code int, format string, args ...any) {
	writeJSON(w, code, map[string]string{"error": strings.TrimSpace(fmt.Sprintf(format, args...))})
}

// dashboardSource is the fleet as its dashboard sees it.
type dashboardSource struct {
	f     *Fleet
	log   *slog.Logger
	mu    sync.Mutex
	pages map[string]*web.Charger // made when first opened
}

var _ web.FleetSource = (*dashboardSource)(nil)

func (d *dashboardSource) Totals() []web.Count {
	p := d.f.Progress()
	out := make([]web.Count, 0, len(States))
	for _, s := range States {
		out = append(out, web.Count{State: string(s), N: p.States[s]})
	}
	return out
}

func (d *dashboardSource) Answers() []web.AnswerRow {
	var out []web.AnswerRow
	reports := d.f.stats.actionReports()
	mixed := false // both versions: the rows name theirs
	for _, a := range reports {
		mixed = mixed || a.OCPP != reports[0].OCPP
	}
	for _, a := range reports {
		if a.Direction == toCSMS {
			action := a.Action
			if mixed {
				action += " (" + a.OCPP + ")"
			}
			out = append(out, web.AnswerRow{Action: action, Calls: a.Calls, Errors: a.CallErrors, Timeout: a.Timeouts,
				P50: a.P50ms, P95: a.P95ms, P99: a.P99ms})
		}
	}
	return out
}

func (d *dashboardSource) List(flt web.Filter, offset, limit int) ([]web.ChargerRow, int) {
	page, total := d.f.find(flt, offset, limit)
	rows := make([]web.ChargerRow, len(page))
	for i, c := range page {
		rows[i] = web.ChargerRow{ID: c.ID, Group: c.Group, State: string(c.State), LastError: c.LastError}
	}
	return rows, total
}

func (d *dashboardSource) Groups() []string {
	var out []string
	for _, g := range d.f.spec.Groups {
		out = append(out, g.Name)
	}
	return out
}

func (d *dashboardSource) States() []string {
	out := make([]string, len(States))
	for i, s := range States {
		out[i] = string(s)
	}
	return out
}

func (d *dashboardSource) Fault(kind, group string, share float64, forDur, by time.Duration) (int, error) {
	n, err := d.f.Apply(Fault{Kind: kind, Group: group, Share: share, For: Duration(forDur), By: Duration(by)})
	if err == nil {
		d.log.Info("fault asked for through the dashboard", "kind", kind, "chargers", n)
	}
	return n, err
}

func (d *dashboardSource) Charger(id, base string) (http.Handler, bool) {
	c, ok := d.f.byID[id]
	if !ok {
		return nil, false
	}
	d.mu.Lock()
	defer d.mu.Unlock()
	p := d.pages[id]
	if p == nil {
		p = web.NewCharger(c, web.ChargerOptions{Title: id, Base: base, Back: "/", Logs: c.services, Logger: d.log.With("cp", id)})
		d.pages[id] = p
	}
	return p, true
}
