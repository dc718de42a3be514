package dedupe

import bolt "go.etcd.io/bbolt"

// SweepBatch exposes the most entries one Put drops.
const SweepBatch = sweepBatch

// IndexLen commits what is pending and counts the keys of the time index.
func (s *BoltStore) IndexLen() (int, error) {
	if err := s.flush(); err != nil {
		return 0, err
	}
	n := 0
	err := s.db.View(func(tx *bolt.Tx) error {
		return tx.Bucket(bucketIndex).ForEach(func(_, _ []byte) error {
			n++
			return nil
		})
	})
	return n, err
}
