package web

import (
	"html"
	"net/url"
	"strings"

	"github.com/evse-dev/evse/internal/display"
)

// displayLine is a display message as the charger's page shows it: as
// text, which the template escapes, never as markup.
type displayLine struct {
	ID       int
	Priority display.Priority
	Language string
	Text     string
	// Link is the URL of a URI message of http or https, "" otherwise
	// (its Text is then the URI).
	Link string
}

// screen is what the display shows, as lines.
func screen(msgs []display.Message) []displayLine {
	var out []displayLine
	for _, m := range msgs {
		l := displayLine{ID: m.ID, Priority: m.Priority, Language: m.Language, Text: m.Content}
		switch m.Format {
		case display.HTML:
			l.Text = htmlText(m.Content)
		case display.URI:
			if u, err := url.Parse(m.Content); err == nil && (u.Scheme == "http" || u.Scheme == "https") {
				l.Link = u.String()
			}
		}
		out = append(out, l)
	}
	return out
}

// htmlText is the text an HTML message reads as: its tags (and what
// script and style elements hold) left out, its character references
// decoded, its white space collapsed. The page escapes the result: an
// HTML message never becomes markup of the page.
func htmlText(s string) string {
	var b strings.Builder
	skipUntil := "" // the closing tag of a script or style element
	for len(s) > 0 {
		lt := strings.IndexByte(s, '<')
		if lt < 0 {
			if skipUntil == "" {
				b.WriteString(s)
			}
			break
		}
		if skipUntil == "" {
			b.WriteString(s[:lt])
		}
		s = s[lt:]
		gt := strings.IndexByte(s, '>')
		if gt < 0 {
			break // an unfinished tag: nothing after it is text
		}
		tag := strings.ToLower(strings.TrimSpace(strings.Trim(s[1:gt], "/ ")))
		name, _, _ := strings.Cut(tag, " ")
		closing := strings.HasPrefix(s, "</")
		switch {
		case skipUntil != "" && closing && name == skipUntil:
			skipUntil = ""
			b.WriteByte(' ')
		case skipUntil == "" && !closing && (name == "script" || name == "style"):
			skipUntil = name
		case skipUntil == "":
			b.WriteByte(' ') // a tag separates words (<br>, </p>)
		}
		s = s[gt+1:]
	}
	return strings.Join(strings.Fields(html.UnescapeString(b.String())), " ")
}
