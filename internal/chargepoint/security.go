package chargepoint

import (
	"strings"
	"time"
	"unicode"
	"unicode/utf8"

	"github.com/evse-dev/evse/internal/config"
)

// SecurityEventType is a security event of the OCPP 1.6 security
// whitepaper (and OCPP 2.0.1's security events).
type SecurityEventType string

// The security events this charge point detects. The whitepaper's
// SecurityLogWasCleared, AttemptedReplayAttacks, TamperDetectionActivated,
// SettingSystemTime and CentralSystemFailedToAuthenticate have no source
// here: the log only rolls over, and the unit has no tamper switch and
// keeps the host's clock.
const (
	SecFirmwareUpdated                     SecurityEventType = "FirmwareUpdated"
	SecFailedToAuthenticateAtCentralSystem SecurityEventType = "FailedToAuthenticateAtCentralSystem"
	SecStartupOfTheDevice                  SecurityEventType = "StartupOfTheDevice"
	SecResetOrReboot                       SecurityEventType = "ResetOrReboot"
	SecReconfigurationOfSecurityParameters SecurityEventType = "ReconfigurationOfSecurityParameters"
	SecMemoryExhaustion                    SecurityEventType = "MemoryExhaustion"
	SecInvalidMessages                     SecurityEventType = "InvalidMessages"
	SecInvalidFirmwareSignature            SecurityEventType = "InvalidFirmwareSignature"
	SecInvalidFirmwareSigningCertificate   SecurityEventType = "InvalidFirmwareSigningCertificate"
	SecInvalidCentralSystemCertificate     SecurityEventType = "InvalidCentralSystemCertificate"
	SecInvalidChargePointCertificate       SecurityEventType = "InvalidChargePointCertificate"
	SecInvalidTLSVersion                   SecurityEventType = "InvalidTLSVersion"
	SecInvalidTLSCipherSuite               SecurityEventType = "InvalidTLSCipherSuite"
)

// Critical reports an event the central system must be told of (the
// whitepaper's "critical" column); every event goes to the security log.
func (t SecurityEventType) Critical() bool {
	switch t {
	case SecFirmwareUpdated, SecStartupOfTheDevice, SecResetOrReboot, SecMemoryExhaustion:
		return true
	}
	return false
}

// Told reports an event the central system is told of: the critical
// ones, and the refusals of what it sent (a charge point certificate, a
// firmware's signature or signing certificate), which the OCA's test
// cases expect to be told. The link's own failures (a central system
// certificate, TLS, Basic authentication) and malformed messages are
// only logged: a charge point that retries a refused connection for days
// must not pile them up for when it gets through.
func (t SecurityEventType) Told() bool {
	switch t {
	case SecInvalidChargePointCertificate, SecInvalidFirmwareSignature, SecInvalidFirmwareSigningCertificate:
		return true
	}
	return t.Critical()
}

// MaxTechInfo is the longest techInfo SecurityEventNotification carries,
// in bytes.
const MaxTechInfo = 255

// CleanTechInfo makes s a techInfo: valid UTF-8, control characters as
// spaces, at most MaxTechInfo bytes cut at a character's start.
func CleanTechInfo(s string) string {
	s = strings.ToValidUTF8(s, "?")
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if len(s) <= MaxTechInfo {
		return s
	}
	cut := MaxTechInfo
	for cut > 0 && !utf8.RuneStart(s[cut]) {
		cut--
	}
	return s[:cut]
}

// SecurityIncident is a security event detected outside the core: at the
// link (a central system's certificate, TLS version or cipher suite
// refused, Basic authentication refused), in a message (a malformed CALL,
// a certificate that does not fit), in a firmware's signature.
type SecurityIncident struct {
	Type     SecurityEventType
	TechInfo string
	// Tell: the central system is told of it even if the type is not
	// Told (a security profile that fell back).
	Tell bool
}

func (SecurityIncident) event() {}

// SecurityLogEntry is one event of the security log.
type SecurityLogEntry struct {
	Seq      uint64            `json:"seq"`
	At       time.Time         `json:"timestamp"`
	Type     SecurityEventType `json:"type"`
	TechInfo string            `json:"techInfo,omitempty"`
}

// SecurityLogged adds an event to the security log, which the store keeps
// as a ring of its latest events.
type SecurityLogged struct {
	Entry SecurityLogEntry
}

func (SecurityLogged) record() {}

// SecurityEventNotification tells the central system of a critical
// security event that could not be journaled (the store cannot write).
// The journaled ones go as a TxMessage of kind SecurityNote.
type SecurityEventNotification struct {
	Type     SecurityEventType
	At       time.Time
	TechInfo string
}

// securityEvent logs a security event; one the central system is told of
// (Told, or tell) is journaled, so that it reaches the central system
// once, after any outage, like a transaction's messages. While the store
// cannot write, it is sent at once instead (best effort): the journal
// could not keep it.
func (c *Core) securityEvent(t SecurityEventType, techInfo string) {
	c.securityEventTold(t, techInfo, false)
}

func (c *Core) securityEventTold(t SecurityEventType, techInfo string, tell bool) {
	techInfo = CleanTechInfo(techInfo)
	c.securityLogSeq++
	c.record(SecurityLogged{Entry: SecurityLogEntry{Seq: c.securityLogSeq, At: c.now, Type: t, TechInfo: techInfo}})
	tell = tell || t.Told()
	c.log.Info("security event", "type", t, "tech_info", techInfo, "told", tell)
	if !tell {
		return
	}
	if c.storeTrouble != "" {
		c.call(SecurityEventNotification{Type: t, At: c.now, TechInfo: techInfo}, pendingCall{kind: callOther})
		return
	}
	c.journal.append(c, 0, SecurityNote, TxEvent{At: c.now, Security: t, TechInfo: techInfo})
}

// securityChanges names the security settings that differ between two
// snapshots: a ReconfigurationOfSecurityParameters (values are not
// named: AuthorizationKey is a secret).
func securityChanges(old, s *config.Snapshot) string {
	var changed []string
	if old.SecurityProfile != s.SecurityProfile {
		changed = append(changed, "SecurityProfile")
	}
	if old.AuthorizationKey != s.AuthorizationKey {
		changed = append(changed, "AuthorizationKey")
	}
	if old.CpoName != s.CpoName {
		changed = append(changed, "CpoName")
	}
	return strings.Join(changed, ",")
}
