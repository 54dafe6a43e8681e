package fleet

import (
	"os"
	"strconv"
)

// envInt reads an integer from the environment, or d.
func envInt(name string, d int) int {
	if v, err := strconv.Atoi(os.Getenv(name)); err == nil && v > 0 {
		return v
	}
	return d
}
