package kv_test

import (
	"testing"

	"github.com/evse-dev/evse/internal/kv"
	"github.com/evse-dev/evse/internal/kv/kvtest"
)

func TestMem(t *testing.T) {
	kvtest.Run(t, func(*testing.T) kv.Store { return &kv.Mem{} })
}
