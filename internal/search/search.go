// Package search owns quick search: one box that finds the customers and
// contacts a viewer can see, by a fragment of their name or by an exact
// phone number or email through the blind indexes. It runs under the
// viewer's privacy rules like every other read.
package search

import (
	"context"
	"fmt"
	"strings"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/contact"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/predicate"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/apierr"
	"github.com/custos-crm/custos/internal/personal"
)

// Limit is how many customers and how many contacts a search returns.
const Limit = 20

// MaxQueryLength bounds the query text.
const MaxQueryLength = 100

// Results is what a search found.
type Results struct {
	Customers []*ent.Customer `json:"customers"`
	Contacts  []*ent.Contact  `json:"contacts"`
}

// Quick searches the customers and contacts the viewer in ctx can see.
func Quick(ctx context.Context, client *ent.Client, query string, limit int) (*Results, error) {
	q := strings.TrimSpace(query)
	if q == "" || len([]rune(q)) > MaxQueryLength {
		return nil, apierr.BadInput(apierr.Field("/query", "too_long", "max", fmt.Sprint(MaxQueryLength)))
	}
	tenantID := viewer.FromContext(ctx).TenantID
	customerOr := []predicate.Customer{customer.NameContainsFold(q)}
	contactOr := []predicate.Contact{contact.NameContainsFold(q)}
	for _, kind := range []personal.Kind{personal.Phone, personal.Email} {
		idx, ok, err := personal.QueryIndex(ctx, client, client.Vault, tenantID, kind, q)
		if err != nil {
			return nil, err
		}
		if !ok {
			continue
		}
		if kind == personal.Phone {
			customerOr = append(customerOr, customer.MobileBidx(idx), customer.TelephoneBidx(idx))
			contactOr = append(contactOr, contact.MobileBidx(idx), contact.TelephoneBidx(idx))
		} else {
			customerOr = append(customerOr, customer.EmailBidx(idx))
			contactOr = append(contactOr, contact.EmailBidx(idx))
		}
	}
	customers, err := client.Customer.Query().Where(customer.Or(customerOr...)).
		Order(ent.Asc(customer.FieldName)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	contacts, err := client.Contact.Query().Where(contact.Or(contactOr...)).
		Order(ent.Asc(contact.FieldName)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	return &Results{Customers: customers, Contacts: contacts}, nil
}
