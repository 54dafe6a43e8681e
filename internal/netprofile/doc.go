// Package netprofile is the station's network connection profiles of
// OCPP 2.0.1 (use cases B09 and B10): the central system's address and
// the security profile to reach it with, kept per configuration slot in
// the station's store, the rules a new profile must pass, and the order
// in which the station tries them (NetworkConfigurationPriority).
//
// # Basics
//
// Slot 0 ([InstallerSlot]) is the profile the installer gave: the
// --csms URL of `evse run` and the SecurityProfile key. It is never
// stored here and a central system cannot set it. Slots 1 to [LastSlot]
// are set with SetNetworkProfile ([Check], then [Put]). The station
// walks the slots of NetworkConfigurationPriority from its first at
// every boot ([Order]) and keeps which slot it uses ([SetActive]) and
// which one connected last ([SetConnected]).
//
// It is values, pure checks and a few reads and writes through kv.Store;
// it does no network I/O. Its functions are safe for concurrent use as
// far as the store is.
//
// # Caveats
//
// A profile keeps no password: profiles 1 and 2 use the station's
// AuthorizationKey (SecurityCtrlr.BasicAuthPassword), whichever slot
// connects. The APN and VPN of a profile are not kept (the station has
// one network interface).
package netprofile
