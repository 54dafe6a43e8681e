package daemon

import (
	"context"
	"fmt"
	"log/slog"
	"unicode/utf8"
)

// maxLogged bounds every string a log record carries: its message and each
// attribute's value. A central system or a LAN neighbour chooses many of
// the strings that are logged (a firmware location, an idTag, an error
// from a parser); none of them may make a log line, the console or the
// diagnostics ring grow with it.
const maxLogged = 512

// capHandler cuts every string of a record to maxLogged bytes, saying how
// long it was.
type capHandler struct{ inner slog.Handler }

func newCapHandler(inner slog.Handler) slog.Handler { return capHandler{inner} }

func (h capHandler) Enabled(ctx context.Context, l slog.Level) bool { return h.inner.Enabled(ctx, l) }

func (h capHandler) Handle(ctx context.Context, r slog.Record) error {
	c := slog.NewRecord(r.Time, r.Level, capString(r.Message), r.PC)
	r.Attrs(func(a slog.Attr) bool {
		c.AddAttrs(capAttr(a))
		return true
	})
	return h.inner.Handle(ctx, c)
}

func (h capHandler) WithAttrs(as []slog.Attr) slog.Handler {
	capped := make([]slog.Attr, len(as))
	for i, a := range as {
		capped[i] = capAttr(a)
	}
	return capHandler{h.inner.WithAttrs(capped)}
}

func (h capHandler) WithGroup(name string) slog.Handler {
	return capHandler{h.inner.WithGroup(capString(name))}
}

// capAttr cuts an attribute's strings, in groups too; a value that prints
// itself (an error, a Stringer, a LogValuer) is printed and cut.
func capAttr(a slog.Attr) slog.Attr {
	a.Key = capString(a.Key)
	v := a.Value.Resolve()
	switch v.Kind() {
	case slog.KindString:
		a.Value = slog.StringValue(capString(v.String()))
	case slog.KindGroup:
		attrs := v.Group()
		capped := make([]slog.Attr, len(attrs))
		for i, g := range attrs {
			capped[i] = capAttr(g)
		}
		a.Value = slog.GroupValue(capped...)
	case slog.KindAny:
		a.Value = slog.StringValue(capString(fmt.Sprint(v.Any())))
	default:
		a.Value = v
	}
	return a
}

// capString cuts s to maxLogged bytes, on a rune boundary.
func capString(s string) string {
	if len(s) <= maxLogged {
		return s
	}
	cut := maxLogged
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return fmt.Sprintf("%s…(%d bytes)", s[:cut], len(s))
}
