// Package runner runs charging cores (package chargepoint) for real: it
// steps them on one goroutine, applies their actuations to the hardware
// at once, makes their records durable off that goroutine (one write for
// many charge points' records), sends their messages through a protocol
// adapter's Link once the records they follow are durable, runs their
// downloads and uploads, and feeds every outcome back as an event.
//
// # Goroutines
//
// [Runner.Run] owns them all: the loop that steps the cores, the writer,
// and per charge point a reader of its hardware's events, a sender of its
// CALLs, and one goroutine per download or upload. Other goroutines
// reach a core only through [Unit.Post] and [Unit.Exec], which never
// block the loop.
//
// # Storage
//
// A unit's durable state is in a kv.Store, in the buckets store.go names;
// many units share one store through [Prefixed]. A write that fails is
// tried again until it succeeds, and what depends on it waits: nothing is
// acknowledged that is not durable.
package runner
