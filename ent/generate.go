// Package ent holds the generated ent client; only schema/ and entc.go are
// written by hand.
package ent

//go:generate go run -mod=mod entc.go
