// Package fleet runs many complete charge points in one process against
// a central system: each is what `evse run` runs (the charging core with
// every key and profile, its journal and open transactions in its part of
// one store, an OCPP-J link of its own, simulated hardware), and they
// share one runner, one store with group commit and one HTTP client.
//
// Around them: a fleet file of groups (spec.go), a ramp for connections
// (ramp.go), an automatic transaction generator reproducible from a seed
// (behaviour.go), faults on demand (faults.go), counters, Prometheus
// metrics and a report (stats.go), shards (spec.go) and an HTTP API
// (api.go).
package fleet
