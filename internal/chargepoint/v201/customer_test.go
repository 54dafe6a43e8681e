package v201

import (
	"context"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	"github.com/evse-dev/evse/internal/hw/sim"
	"github.com/evse-dev/evse/internal/ocpp201"
)

// customerReport is the data of the NotifyCustomerInformations of a
// request, joined.
func customerReport(t *testing.T, csms *fakeCSMS, requestID int) string {
	var parts []string
	for _, c := range csms.sent("NotifyCustomerInformation") {
		if n := decode[ocpp201.NotifyCustomerInformationRequest](t, c); n.RequestId == requestID {
			parts = append(parts, n.Data)
		}
	}
	return strings.Join(parts, "\n")
}

// N09, N10: CustomerInformation of an idToken reports its cache entry
// and its transaction under way and clears the cache entry, but neither
// the transaction nor its messages; of a customer identifier or
// certificate the station holds nothing; a request naming no customer,
// or two, or asking nothing, is Invalid.
func TestN09N10CustomerInformation(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		csms, r := quietRig(t, map[string]string{"AuthorizationCacheEnabled": "true"})
		defer r.stop()
		r.board.Present("TAG1", 1)
		time.Sleep(2 * time.Second)
		r.board.Plug(1, sim.EV{})
		time.Sleep(time.Minute)
		if k, _ := r.cp.Unit().Auth().Lookup("TAG1"); k.Cache == nil {
			t.Fatal("the token is not in the cache")
		}
		a := mustCall(t, r.cp, "CustomerInformation", `{"requestId":1,"report":true,"clear":true,"idToken":{"idToken":"TAG1","type":"ISO14443"}}`)
		if status(a) != "Accepted" {
			t.Fatalf("CustomerInformation: %v", a)
		}
		time.Sleep(time.Second)
		got := customerReport(t, csms, 1)
		for _, want := range []string{"Authorization cache: idToken TAG1, status Accepted", "(cleared)", "Transaction EVSE-1 under way on EVSE 1"} {
			if !strings.Contains(got, want) {
				t.Errorf("the report %q lacks %q", got, want)
			}
		}
		if k, _ := r.cp.Unit().Auth().Lookup("TAG1"); k.Cache != nil {
			t.Error("the cache entry is still there")
		}
		st, err := r.cp.Status(context.Background())
		if err != nil || st.Connectors[1].Transaction == nil {
			t.Errorf("the transaction was touched: %v", err)
		}
		// Again: nothing left but the transaction.
		mustCall(t, r.cp, "CustomerInformation", `{"requestId":2,"report":true,"clear":false,"idToken":{"idToken":"TAG1","type":"ISO14443"}}`)
		time.Sleep(time.Second)
		if got := customerReport(t, csms, 2); strings.Contains(got, "cache") || !strings.Contains(got, "Transaction EVSE-1") {
			t.Errorf("the second report: %q", got)
		}
		mustCall(t, r.cp, "CustomerInformation", `{"requestId":3,"report":true,"clear":true,"customerIdentifier":"customer-42"}`)
		time.Sleep(time.Second)
		if got := customerReport(t, csms, 3); !strings.Contains(got, "No customer identifier") {
			t.Errorf("a customer identifier: %q", got)
		}
		for _, bad := range []string{
			`{"requestId":4,"report":true,"clear":false}`,
			`{"requestId":5,"report":true,"clear":false,"customerIdentifier":"c","idToken":{"idToken":"TAG1","type":"ISO14443"}}`,
			`{"requestId":6,"report":false,"clear":false,"customerIdentifier":"c"}`,
		} {
			if a := mustCall(t, r.cp, "CustomerInformation", bad); status(a) != "Invalid" {
				t.Errorf("%s: %v", bad, a)
			}
		}
	})
}

func TestCustomerChunksKeepLinesWhole(t *testing.T) {
	long := strings.Repeat("x", 700)
	got := customerChunks([]string{"a", "b", long, strings.Repeat("y", 500), "c"})
	want := []string{"a\nb", strings.Repeat("x", 512), strings.Repeat("x", 188), strings.Repeat("y", 500) + "\nc"}
	if strings.Join(got, "|") != strings.Join(want, "|") {
		t.Errorf("chunks: %d of %v", len(got), func() (n []int) {
			for _, c := range got {
				n = append(n, len(c))
			}
			return n
		}())
	}
	for _, c := range got {
		if len(c) > customerDataChars {
			t.Errorf("a chunk of %d characters", len(c))
		}
	}
}
