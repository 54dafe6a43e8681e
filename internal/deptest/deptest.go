// Package deptest holds a test that keeps the direction of dependencies:
// the domain packages import no WebSocket, HTTP or storage package.
package deptest
