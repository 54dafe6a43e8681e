package ftptest

import (
	"bufio"
	"net"
	"strings"
	"testing"
	"time"
)

// TestCloseEndsTransfersUnderWay: a session waiting for its data
// connection does not hold Close up.
func TestCloseEndsTransfersUnderWay(t *testing.T) {
	s, err := Start("u", "p")
	if err != nil {
		t.Fatal(err)
	}
	s.Put("/f", []byte("x"))
	c, err := net.Dial("tcp", s.Addr())
	if err != nil {
		t.Fatal(err)
	}
	defer c.Close()
	r := bufio.NewReader(c)
	r.ReadString('\n')
	for _, cmd := range []string{"USER u", "PASS p", "EPSV", "RETR f"} {
		c.Write([]byte(cmd + "\r\n"))
		if line, _ := r.ReadString('\n'); cmd == "RETR f" && !strings.HasPrefix(line, "150") {
			t.Fatalf("RETR: %q", line)
		}
	}
	start := time.Now()
	s.Close()
	if d := time.Since(start); d > 2*time.Second {
		t.Errorf("Close took %v with a transfer waiting", d)
	}
}
