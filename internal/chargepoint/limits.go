package chargepoint

import (
	"math"
	"time"
)

// limited is load management's limit of a connector's running
// transaction, when it is under what the hardware offers; negative: it
// does not limit one (nor does the nothing a managed connector waits at
// for its first share).
func (c *Core) limited(cn *connector) float64 {
	if cn.tx == nil || cn.tx.Silent || cn.limit < 0 || cn.limit >= c.cfg.MaxCurrent || c.cfg.Managed && !cn.shared {
		return -1
	}
	return math.Floor(cn.limit*10) / 10
}

// tellLimits tells the central system (TellsLimits) when load management
// limits a running transaction under what the hardware offers, when the
// limit moves by a whole ampere or more, and when it no longer applies
// (lifted, or the transaction ended): each once it has held for
// Rules.LimitSettle, as load management reallocates every few seconds.
// Nothing is told offline; what holds then is told once the link is
// back.
func (c *Core) tellLimits() {
	if !c.cfg.TellsLimits {
		return
	}
	for _, cn := range c.conns {
		if l := c.limited(cn); l != cn.limitNow {
			cn.limitNow, cn.limitSince = l, c.now
		}
		if !c.online() || c.now.Sub(cn.limitSince) < c.rules.LimitSettle {
			continue
		}
		switch l := cn.limitNow; {
		case l >= 0 && (cn.limitTold < 0 || math.Abs(l-cn.limitTold) >= 1):
			c.call(ChargingLimitSet{Connector: cn.id, Limit: l, At: cn.limitSince}, pendingCall{kind: callOther})
			cn.limitTold = l
		case l < 0 && cn.limitTold >= 0:
			c.call(ChargingLimitCleared{Connector: cn.id}, pendingCall{kind: callOther})
			cn.limitTold = -1
		}
	}
}

// limitDeadline is when a connector's limit has held long enough to be
// told, zero when nothing is to tell.
func (c *Core) limitDeadline(cn *connector) time.Time {
	if !c.cfg.TellsLimits || !c.online() || cn.limitNow == cn.limitTold || cn.limitNow >= 0 && cn.limitTold >= 0 && math.Abs(cn.limitNow-cn.limitTold) < 1 {
		return time.Time{}
	}
	return cn.limitSince.Add(c.rules.LimitSettle)
}
