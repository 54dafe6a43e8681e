package daemon

import (
	"context"
	"net/http"
	"testing"
)

// TestStoppingTheAPIEndsItsLiveStreams: a request that lasts as long as
// its context (a page's event stream) is ended by stop, which then
// returns, rather than holding the charge point's stop.
func TestStoppingTheAPIEndsItsLiveStreams(t *testing.T) {
	started, ended := make(chan struct{}), make(chan struct{})
	handler := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.WriteHeader(200)
		w.(http.Flusher).Flush()
		close(started)
		<-r.Context().Done()
		close(ended)
	})
	var addr string
	stop, err := ServeAPI("127.0.0.1:0", t.TempDir(), handler, nil, func(a string) { addr = a })
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	req, _ := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/stream", nil)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	<-started
	stop()
	select {
	case <-ended:
	default:
		t.Error("stop returned with the stream's request still running")
	}
}
