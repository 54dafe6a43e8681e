package devicemodel

import (
	"runtime"
	"sync"
	"weak"

	"github.com/evse-dev/evse/internal/config"
)

// shared are the models Of made, by catalogue, while the catalogue
// lives.
var shared struct {
	mu     sync.Mutex
	models map[weak.Pointer[config.Catalogue]]*Model
}

// Of returns the device model of a catalogue, as New does, made once and
// shared by every caller while the catalogue lives: the charging
// stations of a fleet's group, which share their catalogue, share one
// model. A Model is never changed once made; it is safe for concurrent
// use.
func Of(cat *config.Catalogue) *Model {
	key := weak.Make(cat)
	shared.mu.Lock()
	defer shared.mu.Unlock()
	if m, ok := shared.models[key]; ok {
		return m
	}
	if shared.models == nil {
		shared.models = map[weak.Pointer[config.Catalogue]]*Model{}
	}
	m := New(cat)
	shared.models[key] = m
	runtime.AddCleanup(cat, func(k weak.Pointer[config.Catalogue]) {
		shared.mu.Lock()
		delete(shared.models, k)
		shared.mu.Unlock()
	}, key)
	return m
}
