package fleet

import (
	"fmt"

	"github.com/evse-dev/evse/internal/kv"
)

// kvConfig keeps a charge point's configuration values in its part of
// the fleet's store (config.Storage).
type kvConfig struct{ store kv.Store }

const (
	bucketConfig   = "config"
	maxConfigValue = 64 << 10 // no key's value comes near; a larger one is damage
)

func (k kvConfig) LoadConfig() (map[string]string, error) {
	values := map[string]string{}
	err := k.store.View(func(tx kv.Tx) error {
		return tx.ForEach(bucketConfig, func(key string, v []byte) error {
			if len(v) > maxConfigValue || len(key) > maxConfigValue {
				return fmt.Errorf("a configuration value of %d bytes: the store is damaged", len(v))
			}
			values[key] = string(v)
			return nil
		})
	})
	return values, err
}

func (k kvConfig) SaveConfig(values map[string]string) error {
	return k.store.Update(func(tx kv.Tx) error {
		for key, v := range values {
			if err := tx.Put(bucketConfig, key, []byte(v)); err != nil {
				return err
			}
		}
		return nil
	})
}
