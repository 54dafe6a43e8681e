package smartcharging

import "time"

// Profile is a charging profile as OCPP 1.6 and 2.0.1 both describe it:
// a schedule of current limits, its purpose, its kind and when it is valid.
// The protocol adapters convert their messages' profiles into it.
type Profile struct {
	ID         int        `json:"id"`
	StackLevel int        `json:"stackLevel"`
	Purpose    Purpose    `json:"purpose"`
	Kind       Kind       `json:"kind"`
	Recurrency Recurrency `json:"recurrency,omitempty"`
	// ValidFrom and ValidTo bound the profile; zero: unbounded.
	ValidFrom time.Time `json:"validFrom,omitzero"`
	ValidTo   time.Time `json:"validTo,omitzero"`
	// TransactionID, for a Tx profile, names the central system's
	// transaction it is for; nil: the connector's transaction, whichever.
	TransactionID *int     `json:"transactionId,omitempty"`
	Schedule      Schedule `json:"schedule"`
}

// Schedule is a profile's charging schedule.
type Schedule struct {
	// ID is the schedule's id (OCPP 2.0.1 names schedules; 0 in 1.6).
	ID int `json:"id,omitempty"`
	// Start is when an Absolute or Recurring schedule starts; zero: an
	// Absolute one counts from the start of the transaction.
	Start time.Time `json:"start,omitzero"`
	// Duration is the schedule's length in seconds; nil: it lasts.
	Duration *int `json:"duration,omitempty"`
	Unit     Unit `json:"unit"`
	// Periods start at increasing offsets.
	Periods []SchedulePeriod `json:"periods"`
	// MinRate is the least the EV charges at (minChargingRate), in the
	// schedule's unit; 0: not given.
	MinRate float64 `json:"minRate,omitempty"`
}

// SchedulePeriod is one period of a schedule.
type SchedulePeriod struct {
	// Start is the offset from the schedule's start, in seconds.
	Start int `json:"start"`
	// Limit is in the schedule's unit (A per phase, or W).
	Limit float64 `json:"limit"`
	// Phases is the number of phases the EV may use: 1, 2 or 3; 0: not
	// given (3).
	Phases int `json:"phases,omitempty"`
}

// Purpose is what a profile is for.
type Purpose string

// Purposes.
const (
	// ChargePointMax limits the whole charge point (connector 0 only).
	ChargePointMax Purpose = "ChargePointMax"
	// TxDefault applies to a connector's transactions unless a Tx profile
	// does.
	TxDefault Purpose = "TxDefault"
	// Tx applies to one transaction and ends with it.
	Tx Purpose = "Tx"
)

// Kind is how a profile's schedule is placed in time.
type Kind string

// Kinds of profile.
const (
	// Absolute: from Schedule.Start (or the transaction's start).
	Absolute Kind = "Absolute"
	// Recurring: from Schedule.Start, again every day or week.
	Recurring Kind = "Recurring"
	// Relative: from the start of the transaction.
	Relative Kind = "Relative"
)

// Recurrency is how often a Recurring profile starts again.
type Recurrency string

// Recurrencies.
const (
	Daily  Recurrency = "Daily"
	Weekly Recurrency = "Weekly"
)

// Every is the recurrency's period; 0 for none.
func (r Recurrency) Every() time.Duration {
	switch r {
	case Daily:
		return 24 * time.Hour
	case Weekly:
		return 7 * 24 * time.Hour
	}
	return 0
}

// Unit is the unit of a schedule's limits.
type Unit string

// Units.
const (
	Amperes Unit = "A"
	Watts   Unit = "W"
)
