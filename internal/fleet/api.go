package fleet

import (
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/evse-dev/evse/internal/api"
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
	state, group, withErrors := q.Get("state"), q.Get("group"), q.Get("errors") == "1"
	var page []ChargerInfo
	total := 0
	for _, c := range f.chargers {
		info := ChargerInfo{ID: c.ID, Group: c.Group(), State: c.State(), LastError: c.LastError()}
		if (state != "" && string(info.State) != state) || (group != "" && info.Group != group) || (withErrors && info.LastError == "") {
			continue
		}
		if total >= offset && len(page) < limit {
			page = append(page, info)
		}
		total++
	}
	if page == nil {
		page = []ChargerInfo{}
	}
	writeJSON(w, http.StatusOK, map[string]any{"total": total, "offset": offset, "chargers": page})
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
