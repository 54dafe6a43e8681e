// Package config is the configuration-key model of an Ensto charge point:
// the catalogue of every key (name, type, range, default, accessibility,
// when a change takes effect, DLM scope), the validation of values, and the
// live values with their change events.
//
// # Basics
//
// [Catalogue] describes the keys; [NewCatalogue] builds the appendix's
// catalogue, optionally with other defaults from a model file. [Settings]
// holds the values of one charge point on top of a [Storage]; [Settings.Set]
// validates a value, stores it durably and only then applies it and tells
// the subscribers.
//
// Values are strings in their read-back form: what GetConfiguration shows.
// Standard OCPP booleans read back "true"/"false"; Ensto and DLM enums read
// back their number; see docs/keys.md for every key.
//
// # Who may write
//
// Over OCPP ([ActorOCPP]) read-only keys answer [ErrReadOnly]. The installer
// ([ActorInstaller]: evse config, the local API) may set any key that is
// stored, through the same validation.
//
// # Caveats
//
// This package imports no storage, network or protocol package; the OCPP
// edge translates its errors into ChangeConfiguration statuses.
package config
