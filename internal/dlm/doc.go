// Package dlm is Dynamic Load Management: sharing a site's grid connection
// among the EVs of a DLM master and its slaves, as Ensto's Dlm* keys
// describe.
//
// [Allocate] is the pure core: from what may be handed to EVs on each grid
// phase and the EVs ready to charge, it computes each EV's offer by Fair
// Trade (FIFO): equal shares on the phases an EV draws on, never between 0
// and its minimum, the earliest arrived charging and the later waiting
// when there is not enough for every minimum.
package dlm
