//go:build !linux

package password

// lowerThreadPriority does nothing where threads have no priority of their
// own that Custos knows how to set.
func lowerThreadPriority() {}
