package modbusmeter

import (
	"context"
	"encoding/binary"
	"io"
	"log"
	"math"
	"net"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/simonvetter/modbus"

	"github.com/evse-dev/evse/internal/leakcheck"
	"github.com/evse-dev/evse/internal/meter"
)

func TestMain(m *testing.M) { leakcheck.Main(m) }

// fakeMeter serves a meter's registers: the model's phase currents.
type fakeMeter struct {
	mu    sync.Mutex
	regs  meter.Registers
	unit  uint8
	amps  [3]float64
	calls int
}

func (f *fakeMeter) set(a [3]float64) { f.mu.Lock(); f.amps = a; f.mu.Unlock() }

// registers returns the words of [addr, addr+n) of the given kind.
func (f *fakeMeter) registers(input bool, unit uint8, addr, n uint16) ([]uint16, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	if unit != f.unit || input != f.regs.Input {
		return nil, modbus.ErrIllegalFunction
	}
	out := make([]uint16, n)
	for i := range n {
		a := addr + i
		found := false
		for p, base := range f.regs.Addr {
			if a != base && a != base+1 {
				continue
			}
			var w uint32
			if f.regs.Float {
				w = math.Float32bits(float32(f.amps[p]))
			} else {
				w = uint32(math.Round(f.amps[p] / f.regs.Scale))
			}
			if a == base {
				out[i] = uint16(w >> 16)
			} else {
				out[i] = uint16(w)
			}
			found = true
		}
		if !found {
			return nil, modbus.ErrIllegalDataAddress
		}
	}
	return out, nil
}

func (f *fakeMeter) HandleCoils(*modbus.CoilsRequest) ([]bool, error) {
	return nil, modbus.ErrIllegalFunction
}
func (f *fakeMeter) HandleDiscreteInputs(*modbus.DiscreteInputsRequest) ([]bool, error) {
	return nil, modbus.ErrIllegalFunction
}
func (f *fakeMeter) HandleHoldingRegisters(r *modbus.HoldingRegistersRequest) ([]uint16, error) {
	if r.IsWrite {
		return nil, modbus.ErrIllegalFunction
	}
	return f.registers(false, r.UnitId, r.Addr, r.Quantity)
}
func (f *fakeMeter) HandleInputRegisters(r *modbus.InputRegistersRequest) ([]uint16, error) {
	return f.registers(true, r.UnitId, r.Addr, r.Quantity)
}

func freePort(t *testing.T) int {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().(*net.TCPAddr).Port
}

// serve starts a Modbus TCP server on loopback; the returned function
// stops it.
func serve(t *testing.T, port int, f *fakeMeter) func() {
	t.Helper()
	s, err := modbus.NewServer(&modbus.ServerConfiguration{URL: "tcp://127.0.0.1:" + strconv.Itoa(port), Timeout: 30 * time.Second,
		MaxClients: 4, Logger: log.New(io.Discard, "", 0)}, f)
	if err != nil {
		t.Fatal(err)
	}
	if err := s.Start(); err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stop := func() { once.Do(func() { s.Stop() }) }
	t.Cleanup(stop)
	return stop
}

func near(a, b [3]float64) bool {
	for i := range a {
		if math.Abs(a[i]-b[i]) > 0.011 {
			return false
		}
	}
	return true
}

// readOnce reads the meter at url once and checks it shows want; it
// returns the configuration.
func readOnce(t *testing.T, url string, want [3]float64) meter.Config {
	t.Helper()
	cfg, err := meter.Parse(url)
	if err != nil {
		t.Fatal(err)
	}
	r, err := NewReader(cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	got, err := r.Read()
	if err != nil || !near(got, want) {
		t.Fatalf("read %v, %v; want %v", got, err, want)
	}
	return cfg
}

func TestBothRegisterMapsReadOverModbusTCP(t *testing.T) {
	for _, model := range meter.Models() {
		t.Run(model, func(t *testing.T) {
			port := freePort(t)
			f := &fakeMeter{regs: meter.Maps[model], unit: 3, amps: [3]float64{12.5, 0.25, 63.04}}
			serve(t, port, f)
			cfg := readOnce(t, "tcp://127.0.0.1:"+strconv.Itoa(port)+"?map="+model+"&unit=3", f.amps)
			// The wrong unit answers with an exception: an error, not a
			// reading.
			cfg.Unit = 4
			r2, _ := NewReader(cfg)
			defer r2.Close()
			if v, err := r2.Read(); err == nil {
				t.Fatalf("unit 4 read %v", v)
			}
		})
	}
}

func TestThePollerReportsAFailedMeterAndItsReturn(t *testing.T) {
	port := freePort(t)
	f := &fakeMeter{regs: meter.Maps["sdm630"], unit: 1, amps: [3]float64{10, 20, 30}}
	stop := serve(t, port, f)
	cfg, _ := meter.Parse("tcp://127.0.0.1:" + strconv.Itoa(port) + "?map=sdm630")
	p := NewPoller(cfg, nil)
	p.Interval, p.Silence = 50*time.Millisecond, 300*time.Millisecond
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { p.Run(ctx); close(done) }()
	defer func() { cancel(); <-done }()
	wait := func(what string, cond func(v [3]float64, ok bool) bool) {
		t.Helper()
		for range 200 {
			if cond(p.Latest()) {
				return
			}
			time.Sleep(20 * time.Millisecond)
		}
		v, ok := p.Latest()
		t.Fatalf("%s: not within 4 s (%v, %v)", what, v, ok)
	}
	wait("first reading", func(v [3]float64, ok bool) bool { return ok && near(v, f.amps) })
	f.set([3]float64{11, 21, 31})
	wait("a change", func(v [3]float64, ok bool) bool { return ok && v[0] == 11 })
	stop()
	wait("failed once silent", func(_ [3]float64, ok bool) bool { return !ok })
	serve(t, port, f)
	wait("back", func(v [3]float64, ok bool) bool { return ok && v[2] == 31 })
}

// TestRTUFramesThroughAGateway reads the ABB map as RTU frames over TCP,
// against a small RTU responder written here (the library's server
// speaks Modbus TCP only).
func TestRTUFramesThroughAGateway(t *testing.T) {
	f := &fakeMeter{regs: meter.Maps["abb-b23"], unit: 5, amps: [3]float64{7.77, 8.88, 9.99}}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	defer func() { ln.Close(); wg.Wait() }()
	wg.Add(1)
	go func() {
		defer wg.Done()
		c, err := ln.Accept()
		if err != nil {
			return
		}
		defer c.Close()
		for {
			req := make([]byte, 8) // unit, function, addr, quantity, crc
			if _, err := io.ReadFull(c, req); err != nil {
				return
			}
			if crc16(req[:6]) != binary.LittleEndian.Uint16(req[6:]) {
				return
			}
			addr, n := binary.BigEndian.Uint16(req[2:]), binary.BigEndian.Uint16(req[4:])
			words, err := f.registers(req[1] == 4, req[0], addr, n)
			var resp []byte
			if err != nil {
				resp = []byte{req[0], req[1] | 0x80, 2}
			} else {
				resp = []byte{req[0], req[1], byte(2 * len(words))}
				for _, w := range words {
					resp = binary.BigEndian.AppendUint16(resp, w)
				}
			}
			resp = binary.LittleEndian.AppendUint16(resp, crc16(resp))
			if _, err := c.Write(resp); err != nil {
				return
			}
		}
	}()
	readOnce(t, "rtuovertcp://"+ln.Addr().String()+"?map=abb-b23&unit=5", f.amps)
}

// crc16 is Modbus RTU's CRC.
func crc16(b []byte) uint16 {
	crc := uint16(0xFFFF)
	for _, x := range b {
		crc ^= uint16(x)
		for range 8 {
			if crc&1 != 0 {
				crc = crc>>1 ^ 0xA001
			} else {
				crc >>= 1
			}
		}
	}
	return crc
}
