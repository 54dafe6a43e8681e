package web

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/evse-dev/evse/internal/api"
	"github.com/evse-dev/evse/internal/chargepoint"
	"github.com/evse-dev/evse/internal/config"
	"github.com/evse-dev/evse/internal/hw/sim"
)

// LogSource gives a charge point's recent log lines, newest last.
type LogSource interface {
	RecentLog(n int) []string
}

// ChargerOptions configure a charger's page.
type ChargerOptions struct {
	// Title names the charge point (its id).
	Title string
	// Base is the path the page is mounted at, without a trailing slash
	// ("" for evse run's /; "/chargers/CP-00001" in a fleet).
	Base string
	// Logs gives the recent log; nil: the page shows none.
	Logs   LogSource
	Logger *slog.Logger
	// Back, when set, is a link back (the fleet dashboard).
	Back string
	// Site, when set, tells what a DLM master had available and offered
	// on each grid phase (ok false when this charger is none).
	Site func() (available, offered [3]float64, ok bool)
}

// Charger is a charge point's page: status, configuration, load
// management, local list, reservations and profiles, the log, and the
// simulated hardware.
type Charger struct {
	b    api.Backend
	opts ChargerOptions
	log  *slog.Logger
	mux  *http.ServeMux

	mu      sync.Mutex
	samples []Sample // the last hour, oldest first
}

// Sample is the charge point's current and offer at a moment, summed over
// its connectors, for the chart.
type Sample struct {
	T       int64      `json:"t"` // Unix seconds
	Drawn   [3]float64 `json:"drawn"`
	Offered float64    `json:"offered"`
	// EnergyWh is the registers' sum.
	EnergyWh float64 `json:"energyWh"`
	// SiteAvailable and SiteOffered are a DLM master's, per grid phase.
	SiteAvailable *[3]float64 `json:"siteAvailable,omitempty"`
	SiteOffered   *[3]float64 `json:"siteOffered,omitempty"`
}

// Samples are taken every sampleEvery and kept for an hour.
const (
	sampleEvery = 2 * time.Second
	keepSamples = int(time.Hour / sampleEvery)
)

// NewCharger returns the page of a charge point.
func NewCharger(b api.Backend, opts ChargerOptions) *Charger {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	c := &Charger{b: b, opts: opts, log: opts.Logger, mux: http.NewServeMux()}
	base := opts.Base
	c.mux.HandleFunc("GET "+base+"/{$}", c.page)
	c.mux.HandleFunc("GET "+base+"/ui/events", c.events)
	c.mux.HandleFunc("POST "+base+"/ui/config/{key}", c.setKey)
	c.mux.HandleFunc("GET "+base+"/ui/locallist", c.lookup)
	c.mux.HandleFunc("GET "+base+"/ui/log", c.logPart)
	c.mux.HandleFunc("POST "+base+"/ui/hw/{n}/{action}", c.hardware)
	c.mux.HandleFunc("POST "+base+"/ui/rfid", c.rfid)
	c.mux.HandleFunc("POST "+base+"/ui/inputs/{n}", c.input)
	return c
}

func (c *Charger) ServeHTTP(w http.ResponseWriter, r *http.Request) { c.mux.ServeHTTP(w, r) }

// Run samples the charge point for the chart until ctx ends, so that the
// page shows the last hour when it opens. Without Run, the chart starts
// when a page is open.
func (c *Charger) Run(ctx context.Context) {
	t := time.NewTicker(sampleEvery)
	defer t.Stop()
	for {
		c.sample(ctx)
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// sample takes a sample (at most one every sampleEvery) and returns the
// newest.
func (c *Charger) sample(ctx context.Context) (Sample, bool) {
	now := time.Now().Unix()
	c.mu.Lock()
	if n := len(c.samples); n > 0 && now-c.samples[n-1].T < int64(sampleEvery/time.Second) {
		s := c.samples[n-1]
		c.mu.Unlock()
		return s, false
	}
	c.mu.Unlock()
	st, err := c.b.Status(ctx)
	if err != nil {
		return Sample{}, false
	}
	s := Sample{T: now}
	for _, cs := range st.Connectors {
		for i, a := range cs.CurrentA {
			if i < 3 {
				s.Drawn[i] += a
			}
		}
		if cs.OfferedA != nil {
			s.Offered += *cs.OfferedA
		}
		if cs.EnergyWh != nil {
			s.EnergyWh += *cs.EnergyWh
		}
	}
	if c.opts.Site != nil {
		if avail, offered, ok := c.opts.Site(); ok {
			s.SiteAvailable, s.SiteOffered = &avail, &offered
		}
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if n := len(c.samples); n > 0 && s.T-c.samples[n-1].T < int64(sampleEvery/time.Second) {
		return c.samples[n-1], false // another took it meanwhile
	}
	c.samples = append(c.samples, s)
	if len(c.samples) > keepSamples {
		c.samples = append(c.samples[:0], c.samples[len(c.samples)-keepSamples:]...)
	}
	return s, true
}

// pageData is what the page template gets.
type pageData struct {
	Title, Base, Back string
	Status            statusData
	Sections          []section
	Connectors        []int
	FaultCodes        []string
	Samples           string // JSON
	Log               []string
	ListVersion       int
	ListSize          int
	HasList           bool
}

type statusData struct {
	chargepoint.Status
	Err string
	DLM string
	Now time.Time
	// Display is what the charge point's display shows now.
	Display []displayLine
}

// section is a group of keys as the appendix groups them.
type section struct {
	Name string
	Rows []keyRow
}

// keyRow is a key as the page shows it.
type keyRow struct {
	Base     string
	Name     string
	Value    string
	Type     string
	Range    string
	Default  string
	Access   string
	ReadOnly bool
	Computed bool
	Effect   string
	Unit     string
	Desc     string
	// After an edit: the reason it was refused, or what was saved.
	Error, Saved string
}

func (c *Charger) statusData(ctx context.Context) statusData {
	st, err := c.b.Status(ctx)
	d := statusData{Status: st, Now: time.Now()}
	if err != nil {
		d.Err = err.Error()
	}
	if msgs, err := c.b.Display(ctx); err == nil {
		d.Display = screen(msgs)
	}
	if s := c.b.Settings(); s != nil {
		v, _ := s.Get("DlmState")
		d.DLM = v.Value
	}
	return d
}

func (c *Charger) page(w http.ResponseWriter, r *http.Request) {
	d := pageData{Title: c.opts.Title, Base: c.opts.Base, Back: c.opts.Back, Status: c.statusData(r.Context()),
		FaultCodes: faultCodes}
	for n := range c.b.Board().Connectors() {
		d.Connectors = append(d.Connectors, n+1)
	}
	if s := c.b.Settings(); s != nil {
		d.Sections = c.sections(s)
	}
	c.sample(r.Context())
	c.mu.Lock()
	raw, _ := json.Marshal(c.samples)
	c.mu.Unlock()
	d.Samples = string(raw)
	if c.opts.Logs != nil {
		d.Log = c.opts.Logs.RecentLog(50)
	}
	if l := c.b.LocalList(); l != nil {
		if v, n, err := l.LocalListInfo(); err == nil {
			d.ListVersion, d.ListSize, d.HasList = v, n, true
		}
	}
	render(w, "charger.html", d)
}

// sections lists the keys by the appendix's groups, write-only keys left
// out.
func (c *Charger) sections(s *config.Settings) []section {
	var out []section
	index := map[config.Section]int{}
	for _, v := range s.All() {
		if v.Key.Access == config.WriteOnly {
			continue
		}
		i, ok := index[v.Key.Section]
		if !ok {
			i = len(out)
			index[v.Key.Section] = i
			out = append(out, section{Name: v.Key.Section.String()})
		}
		out[i].Rows = append(out[i].Rows, c.row(v))
	}
	return out
}

func (c *Charger) row(v config.Value) keyRow {
	k := v.Key
	row := keyRow{Base: c.opts.Base, Name: k.Name, Value: v.Value, Type: k.PrintedType, Range: k.RangeText(),
		Default: k.DefaultText(), Access: k.Access.String(), ReadOnly: k.Access == config.ReadOnly,
		Computed: !k.Stored(), Effect: k.Effect.String(), Unit: k.Unit, Desc: k.Description}
	return row
}

// setKey answers an edit of one key with its row: the value saved, or the
// reason it was refused (and the value unchanged).
func (c *Charger) setKey(w http.ResponseWriter, r *http.Request) {
	s := c.b.Settings()
	if s == nil {
		http.Error(w, "the charge point is starting", http.StatusServiceUnavailable)
		return
	}
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	name := r.PathValue("key")
	v, err := s.Get(name)
	if err != nil || v.Key.Access == config.WriteOnly {
		http.Error(w, fmt.Sprintf("no key %q", name), http.StatusNotFound)
		return
	}
	value := r.PostFormValue("value")
	res, err := s.Set(name, value, config.ActorInstaller)
	v, _ = s.Get(name)
	row := c.row(v)
	if err != nil {
		row.Error = err.Error()
		render(w, "keyrow", row)
		return
	}
	c.log.Info("installer changed a key through the page", "key", v.Key.Name, "value", v.Value, "remote", r.RemoteAddr)
	row.Saved = "saved"
	if res.Effect == config.Reboot {
		row.Saved = "saved; takes effect after a reboot"
	}
	for _, p := range res.Also {
		row.Saved += fmt.Sprintf("; %s set to %s with it", p.Key, p.Value)
	}
	render(w, "keyrow", row)
}

// events streams the live parts: the status (HTML, when it changed) and
// the chart's samples (JSON), about every second, until the client goes.
func (c *Charger) events(w http.ResponseWriter, r *http.Request) {
	sent := time.Now().Unix() // the page came with the samples before
	stream(w, r, func(ctx context.Context) []event {
		var out []event
		var b strings.Builder
		if templates.ExecuteTemplate(&b, "status", c.statusData(ctx)) == nil {
			out = append(out, event{name: "status", data: b.String()})
		}
		c.sample(ctx)
		for _, s := range c.samplesAfter(sent) {
			raw, _ := json.Marshal(s)
			out = append(out, event{name: "sample", data: string(raw), always: true})
			sent = s.T
		}
		return out
	})
}

// event is a server-sent event; one not always sent goes only when its
// data differs from what was last sent under its name.
type event struct {
	name, data string
	always     bool
}

// stream serves server-sent events: about every second it sends what
// next returns, until the client goes or streamLife has passed (the page
// reconnects). Beyond maxStreams at once it answers 503.
func stream(w http.ResponseWriter, r *http.Request, next func(ctx context.Context) []event) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "no streaming", http.StatusInternalServerError)
		return
	}
	release, ok := takeStream(w)
	if !ok {
		return
	}
	defer release()
	// The server's write timeout would end the stream: this one lasts
	// as long as the page is open, up to streamLife.
	http.NewResponseController(w).SetWriteDeadline(time.Time{})
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-store")
	ctx, cancel := context.WithTimeout(r.Context(), streamLife)
	defer cancel()
	t := time.NewTicker(time.Second)
	defer t.Stop()
	last := map[string]string{}
	for {
		for _, e := range next(ctx) {
			if !e.always && last[e.name] == e.data {
				continue
			}
			last[e.name] = e.data
			writeEvent(w, e.name, e.data)
		}
		flusher.Flush()
		select {
		case <-t.C:
		case <-ctx.Done():
			return
		}
	}
}

// Live pages are bounded: at most maxStreams event streams at once in a
// process (more get 503 and their page tries again), each for at most
// streamLife (then the page reconnects), so open pages never hold the
// API's connections for good.
const (
	maxStreams = 8
	streamLife = 5 * time.Minute
)

var streams = make(chan struct{}, maxStreams)

// takeStream takes a place for an event stream, or answers 503.
func takeStream(w http.ResponseWriter) (release func(), ok bool) {
	select {
	case streams <- struct{}{}:
		return func() { <-streams }, true
	default:
		w.Header().Set("Retry-After", "5")
		http.Error(w, "too many live pages open: close one", http.StatusServiceUnavailable)
		return nil, false
	}
}

// samplesAfter returns the samples taken after t (Unix seconds).
func (c *Charger) samplesAfter(t int64) []Sample {
	c.mu.Lock()
	defer c.mu.Unlock()
	i := len(c.samples)
	for i > 0 && c.samples[i-1].T > t {
		i--
	}
	return slices.Clone(c.samples[i:])
}

// writeEvent writes one server-sent event; every line of data is
// prefixed.
func writeEvent(w http.ResponseWriter, name, data string) {
	fmt.Fprintf(w, "event: %s\n", name)
	for _, line := range strings.Split(data, "\n") {
		fmt.Fprintf(w, "data: %s\n", line)
	}
	fmt.Fprint(w, "\n")
}

func (c *Charger) lookup(w http.ResponseWriter, r *http.Request) {
	tag := strings.TrimSpace(r.URL.Query().Get("tag"))
	l := c.b.LocalList()
	var msg string
	switch {
	case tag == "" || len(tag) > 20:
		msg = "give an idTag of 1 to 20 characters"
	case l == nil:
		msg = "the charge point is starting"
	default:
		info, ok, err := l.LocalListEntry(tag)
		switch {
		case err != nil:
			msg = "the list cannot be read: " + err.Error()
		case !ok:
			msg = tag + " is not in the local list"
		default:
			msg = fmt.Sprintf("%s: %s", tag, info.Status)
			if info.ParentIdTag != "" {
				msg += ", parent " + info.ParentIdTag
			}
			if info.ExpiryDate != nil {
				msg += fmt.Sprintf(", expires %v", *info.ExpiryDate)
			}
		}
	}
	render(w, "message", msg)
}

func (c *Charger) logPart(w http.ResponseWriter, r *http.Request) {
	var lines []string
	if c.opts.Logs != nil {
		lines = c.opts.Logs.RecentLog(50)
	}
	render(w, "log", lines)
}

// faultCodes are the hardware faults the page offers (OCPP 1.6
// ChargePointErrorCode values a simulated board can raise).
var faultCodes = []string{"GroundFailure", "HighTemperature", "OverCurrentFailure", "OverVoltage", "UnderVoltage",
	"PowerMeterFailure", "PowerSwitchFailure", "ConnectorLockFailure", "EVCommunicationError", "InternalError", "OtherError"}

// hardware drives a connector of the simulated board from a form.
func (c *Charger) hardware(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	n, err := strconv.Atoi(r.PathValue("n"))
	board := c.b.Board()
	if err != nil || n < 1 || n > len(board.Connectors()) {
		http.Error(w, "no such connector", http.StatusNotFound)
		return
	}
	switch r.PathValue("action") {
	case "plug":
		ev := sim.EV{}
		for _, f := range []struct {
			name string
			dst  *float64
		}{{"maxCurrent", &ev.MaxCurrent}, {"capacityWh", &ev.CapacityWh}, {"socPercent", &ev.SoCPercent}} {
			if s := r.PostFormValue(f.name); s != "" {
				if *f.dst, err = strconv.ParseFloat(s, 64); err != nil || math.IsNaN(*f.dst) || math.IsInf(*f.dst, 0) {
					render(w, "message", f.name+": not a number")
					return
				}
			}
		}
		if s := r.PostFormValue("phases"); s != "" {
			if ev.Phases, err = strconv.Atoi(s); err != nil {
				render(w, "message", "phases: 1 or 3")
				return
			}
		}
		err = board.Plug(n, ev)
	case "unplug":
		err = board.Unplug(n)
	case "remove-cable":
		err = board.RemoveCable(n)
	case "fault":
		code := r.PostFormValue("code")
		known := false
		for _, f := range faultCodes {
			known = known || f == code
		}
		if !known {
			render(w, "message", "unknown fault "+code)
			return
		}
		err = board.SetFault(n, code)
	case "clear":
		err = board.SetFault(n, "")
	default:
		http.Error(w, "no such action", http.StatusNotFound)
		return
	}
	if err != nil {
		render(w, "message", err.Error())
		return
	}
	render(w, "message", fmt.Sprintf("connector %d: %s done", n, r.PathValue("action")))
}

func (c *Charger) rfid(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	tag := strings.TrimSpace(r.PostFormValue("idTag"))
	n, _ := strconv.Atoi(r.PostFormValue("connector"))
	if tag == "" || len(tag) > 20 {
		render(w, "message", "give an idTag of 1 to 20 characters")
		return
	}
	if err := c.b.Board().Present(tag, n); err != nil {
		render(w, "message", err.Error())
		return
	}
	render(w, "message", "presented "+tag)
}

func (c *Charger) input(w http.ResponseWriter, r *http.Request) {
	r.Body = http.MaxBytesReader(w, r.Body, 64<<10)
	n, _ := strconv.Atoi(r.PathValue("n"))
	high := r.PostFormValue("high") == "1"
	if err := c.b.Board().SetInput(n, high); err != nil {
		render(w, "message", err.Error())
		return
	}
	render(w, "message", fmt.Sprintf("input %d %s", n, map[bool]string{true: "high", false: "low"}[high]))
}
