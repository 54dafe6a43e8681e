package web

import (
	"encoding/json"
	"html/template"
	"io"
)

// SiteReport is what the site report shows: the day's data (the JSON
// the report's script draws: site.ReportData), the per-car summary and
// the summary lines (with and without load management).
type SiteReport struct {
	Title   string
	Summary []string
	Cars    []CarRow
	Data    any
}

// CarRow is one car of the day.
type CarRow struct {
	Connector         string
	Arrival, Departed string
	KWh               string
	Waiting           string
	Full              bool
}

// WriteSiteReport writes the site report: one self-contained HTML file
// (styles, scripts and data inline) that opens from a disk or a mail with
// no network.
func WriteSiteReport(w io.Writer, r SiteReport) error {
	data, err := json.Marshal(r.Data)
	if err != nil {
		return err
	}
	return templates.ExecuteTemplate(w, "report.html", struct {
		SiteReport
		CSS, UPlotCSS template.CSS
		UPlot, Script template.JS
		DataJSON      template.JS
	}{SiteReport: r, CSS: template.CSS(Asset("evse.css")), UPlotCSS: template.CSS(Asset("vendor/uPlot-1.6.32.min.css")),
		UPlot: template.JS(Asset("vendor/uPlot-1.6.32.iife.min.js")), Script: template.JS(Asset("report.js")),
		DataJSON: template.JS(data)})
}
