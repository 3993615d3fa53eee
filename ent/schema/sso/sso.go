// Package sso owns the value types of single sign-on settings stored with an
// identity provider. It is a leaf package for the schema and GraphQL.
package sso

import "github.com/custos-crm/custos/ent/schema/pulid"

// GroupRole grants a role to users whose identity provider reports them in
// a group.
type GroupRole struct {
	Group  string   `json:"group"`
	RoleID pulid.ID `json:"roleID"`
}
