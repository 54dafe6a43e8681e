// Package modbusmeter reads a three-phase meter's currents over Modbus
// (TCP, RTU on a serial port, RTU through a TCP gateway) with
// github.com/simonvetter/modbus, and keeps the latest reading for DLM.
package modbusmeter

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log"
	"log/slog"
	"math"
	"sync"
	"time"

	"github.com/simonvetter/modbus"

	"github.com/evse-dev/evse/internal/meter"
)

// Timing of the poller.
const (
	// Interval between readings.
	Interval = time.Second
	// Silence: a meter without a good reading this long has failed (its
	// fallback values apply).
	Silence = 5 * time.Second
	// timeout of one request.
	timeout = 2 * time.Second
)

// Reader reads one meter. It is not safe for concurrent use.
type Reader struct {
	cfg    meter.Config
	client *modbus.ModbusClient
	open   bool
}

// NewReader returns a reader for a configuration.
func NewReader(cfg meter.Config) (*Reader, error) {
	// The library's own log goes nowhere: Read's errors say it all.
	cc := &modbus.ClientConfiguration{URL: cfg.URL, Timeout: timeout, Speed: cfg.Baud, DataBits: 8, StopBits: 1,
		Logger: log.New(io.Discard, "", 0)}
	switch cfg.Parity {
	case "even":
		cc.Parity = modbus.PARITY_EVEN
	case "odd":
		cc.Parity = modbus.PARITY_ODD
	default:
		cc.Parity = modbus.PARITY_NONE
	}
	if cfg.Parity == "none" {
		cc.StopBits = 2 // Modbus RTU: 11 bits a character
	}
	c, err := modbus.NewClient(cc)
	if err != nil {
		return nil, fmt.Errorf("meter %s: %w", cfg, err)
	}
	return &Reader{cfg: cfg, client: c}, nil
}

// Read returns the current on L1, L2, L3, in A.
func (r *Reader) Read() ([3]float64, error) {
	var out [3]float64
	if !r.open {
		if err := r.client.Open(); err != nil {
			return out, fmt.Errorf("meter %s: %w", r.cfg.URL, err)
		}
		r.open = true
		r.client.SetUnitId(r.cfg.Unit)
		r.client.SetEncoding(modbus.BIG_ENDIAN, modbus.HIGH_WORD_FIRST)
	}
	regType := modbus.HOLDING_REGISTER
	if r.cfg.Regs.Input {
		regType = modbus.INPUT_REGISTER
	}
	for p, addr := range r.cfg.Regs.Addr {
		var v float64
		if r.cfg.Regs.Float {
			f, err := r.client.ReadFloat32(addr, regType)
			if err != nil {
				r.reset()
				return out, fmt.Errorf("meter %s: L%d: %w", r.cfg.URL, p+1, err)
			}
			v = float64(f) * r.cfg.Regs.Scale
		} else {
			u, err := r.client.ReadUint32(addr, regType)
			if err != nil {
				r.reset()
				return out, fmt.Errorf("meter %s: L%d: %w", r.cfg.URL, p+1, err)
			}
			v = float64(u) * r.cfg.Regs.Scale
		}
		if math.IsNaN(v) || math.IsInf(v, 0) || v < 0 || v > 100000 {
			return out, fmt.Errorf("meter %s: L%d reads %v A", r.cfg.URL, p+1, v)
		}
		out[p] = v
	}
	return out, nil
}

// reset closes the connection so that the next Read opens a new one.
func (r *Reader) reset() {
	if r.open {
		r.client.Close()
		r.open = false
	}
}

// Close ends the connection.
func (r *Reader) Close() { r.reset() }

// Poller reads a meter every Interval and keeps the latest good reading.
// It is safe for concurrent use.
type Poller struct {
	cfg meter.Config
	log *slog.Logger
	// Interval and Silence default to the package's constants; tests
	// shorten them.
	Interval, Silence time.Duration

	mu     sync.Mutex
	latest [3]float64
	at     time.Time // of the latest good reading
	err    error
}

// NewPoller returns a poller; Run starts it.
func NewPoller(cfg meter.Config, log *slog.Logger) *Poller {
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	return &Poller{cfg: cfg, log: log, err: errors.New("no reading yet"), Interval: Interval, Silence: Silence}
}

// Run reads the meter until ctx ends.
func (p *Poller) Run(ctx context.Context) error {
	r, err := NewReader(p.cfg)
	if err != nil {
		p.setErr(err)
		return err
	}
	defer r.Close()
	t := time.NewTicker(p.Interval)
	defer t.Stop()
	failing := false
	for {
		v, err := r.Read()
		p.mu.Lock()
		if err == nil {
			p.latest, p.at, p.err = v, time.Now(), nil
		} else {
			p.err = err
		}
		p.mu.Unlock()
		switch {
		case err != nil && !failing:
			p.log.Warn("external meter failed; DlmExtMeterDisconnectedFallback values apply after "+p.Silence.String(), "err", err)
			failing = true
		case err == nil && failing:
			p.log.Info("external meter back", "currents", v)
			failing = false
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func (p *Poller) setErr(err error) {
	p.mu.Lock()
	p.err = err
	p.mu.Unlock()
}

// Latest returns the latest reading, and false when there has been no
// good one for Silence (the meter failed or went silent).
func (p *Poller) Latest() ([3]float64, bool) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.at.IsZero() || time.Since(p.at) > p.Silence {
		return p.latest, false
	}
	return p.latest, true
}
