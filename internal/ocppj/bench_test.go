package ocppj

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/coder/websocket"
)

// echoServer is a minimal central system for benchmarks: it answers every
// CALL [2,"id",...] with [3,"id",{}] and parses only the id.
func echoServer(tb testing.TB) *httptest.Server {
	tb.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6"}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		ctx := r.Context()
		var out []byte
		for {
			_, data, err := conn.Read(ctx)
			if err != nil {
				return
			}
			id, ok := callID(data)
			if !ok {
				continue
			}
			out = append(out[:0], `[3,"`...)
			out = append(out, id...)
			out = append(out, `",{}]`...)
			if err := conn.Write(ctx, websocket.MessageText, out); err != nil {
				return
			}
		}
	}))
	tb.Cleanup(srv.Close)
	return srv
}

// callID returns the id of a frame that starts `[2,"id"`, ids without
// escapes only.
func callID(data []byte) ([]byte, bool) {
	rest, ok := bytes.CutPrefix(data, []byte(`[2,"`))
	if !ok {
		return nil, false
	}
	i := bytes.IndexByte(rest, '"')
	if i < 0 {
		return nil, false
	}
	return rest[:i], true
}

var benchPayload = json.RawMessage(`{"connectorId":1,"transactionId":42,"timestamp":"2025-01-01T00:00:00Z","meterValue":[{"timestamp":"2025-01-01T00:00:00Z","sampledValue":[{"value":"1234.5","measurand":"Energy.Active.Import.Register","unit":"Wh"}]}]}`)

// BenchmarkCallRoundTrip compares CALL round trips through Client.Call with
// a bare coder/websocket client doing the same writes and reads, against
// the same kind of server.
func BenchmarkCallRoundTrip(b *testing.B) {
	b.Run("bare", func(b *testing.B) {
		srv := echoServer(b)
		ctx := context.Background()
		conn, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):]+"/CP1", &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}})
		if err != nil {
			b.Fatal(err)
		}
		defer conn.CloseNow()
		var buf []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			buf = AppendCall(buf[:0], "bare-"+strconv.Itoa(i), "MeterValues", benchPayload)
			if err := conn.Write(ctx, websocket.MessageText, buf); err != nil {
				b.Fatal(err)
			}
			_, data, err := conn.Read(ctx)
			if err != nil {
				b.Fatal(err)
			}
			if len(data) == 0 || data[1] != '3' {
				b.Fatalf("answer %s", data)
			}
		}
	})
	// bare-reader is bare with a reader goroutine that hands each answer
	// to the caller over a channel: the least any client that keeps
	// reading between calls (for pongs and the central system's CALLs)
	// pays. The hand-off costs a goroutine wake-up per round trip.
	b.Run("bare-reader", func(b *testing.B) {
		srv := echoServer(b)
		ctx := context.Background()
		conn, _, err := websocket.Dial(ctx, "ws"+srv.URL[len("http"):]+"/CP1", &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}})
		if err != nil {
			b.Fatal(err)
		}
		answers := make(chan []byte, 1)
		done := make(chan struct{})
		go func() {
			defer close(done)
			for {
				_, data, err := conn.Read(ctx)
				if err != nil {
					return
				}
				answers <- data
			}
		}()
		defer func() { conn.CloseNow(); <-done }()
		var buf []byte
		b.ReportAllocs()
		b.ResetTimer()
		for i := 0; b.Loop(); i++ {
			buf = AppendCall(buf[:0], "bare-"+strconv.Itoa(i), "MeterValues", benchPayload)
			if err := conn.Write(ctx, websocket.MessageText, buf); err != nil {
				b.Fatal(err)
			}
			if data := <-answers; len(data) == 0 || data[1] != '3' {
				b.Fatalf("answer %s", data)
			}
		}
	})
	b.Run("ocppj", func(b *testing.B) {
		srv := echoServer(b)
		c, err := NewClient(Options{URL: "ws" + srv.URL[len("http"):], ID: "CP1"})
		if err != nil {
			b.Fatal(err)
		}
		stop := runClient(b, c)
		defer stop()
		ctx := context.Background()
		b.ReportAllocs()
		b.ResetTimer()
		for b.Loop() {
			if _, err := c.Call(ctx, "MeterValues", benchPayload); err != nil {
				b.Fatal(err)
			}
		}
	})
}

// BenchmarkIdleClientMemory connects clients to one server and reports the
// memory one idle connected client costs: heap and goroutine stacks, both
// sides of the loopback connection together, and the same for a bare
// coder/websocket connection for comparison.
func BenchmarkIdleClientMemory(b *testing.B) {
	const n = 200
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		conn, err := websocket.Accept(w, r, &websocket.AcceptOptions{Subprotocols: []string{"ocpp1.6"}})
		if err != nil {
			return
		}
		defer conn.CloseNow()
		for {
			if _, _, err := conn.Read(r.Context()); err != nil {
				return
			}
		}
	}))
	defer srv.Close()
	url := "ws" + srv.URL[len("http"):]

	measure := func(connect func(i int) (stop func())) (heap, stack float64) {
		before := memStats()
		stops := make([]func(), n)
		for i := range n {
			stops[i] = connect(i)
		}
		after := memStats()
		for _, stop := range stops {
			stop()
		}
		heap = float64(int64(after.HeapInuse)-int64(before.HeapInuse)) / n
		stack = float64(int64(after.StackInuse)-int64(before.StackInuse)) / n
		return heap, stack
	}

	var heapC, stackC, heapB, stackB float64
	for b.Loop() {
		heapB, stackB = measure(func(i int) func() {
			conn, _, err := websocket.Dial(context.Background(), url+"/bare"+strconv.Itoa(i), &websocket.DialOptions{Subprotocols: []string{"ocpp1.6"}})
			if err != nil {
				b.Fatal(err)
			}
			ctx, cancel := context.WithCancel(context.Background())
			done := make(chan struct{})
			go func() { // a reader, as every live connection needs
				defer close(done)
				conn.Read(ctx)
			}()
			return func() { cancel(); <-done; conn.CloseNow() }
		})
		heapC, stackC = measure(func(i int) func() {
			c, err := NewClient(Options{URL: url, ID: "CP" + strconv.Itoa(i), PingInterval: time.Minute})
			if err != nil {
				b.Fatal(err)
			}
			connected := make(chan struct{}, 1)
			c.opts.OnConnect = func() { connected <- struct{}{} }
			stop := runClient(b, c)
			<-connected
			return stop
		})
	}
	b.ReportMetric(heapC, "heap-B/client")
	b.ReportMetric(stackC, "stack-B/client")
	b.ReportMetric(heapB, "heap-B/bare-conn")
	b.ReportMetric(stackB, "stack-B/bare-conn")
}

func memStats() runtime.MemStats {
	var m runtime.MemStats
	for range 3 {
		runtime.GC()
	}
	runtime.ReadMemStats(&m)
	return m
}

// runClient runs c until the returned function is called, which waits for
// Run to return.
func runClient(tb testing.TB, c *Client) (stop func()) {
	tb.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- c.Run(ctx) }()
	stopped := false
	stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			tb.Errorf("Run: %v", err)
		}
	}
	tb.Cleanup(stop)
	return stop
}
