package vault

// RecordKeyCacheLen returns how many record keys v holds unwrapped.
func (v *Vault) RecordKeyCacheLen() int { return v.records.len() }
