// Package search owns quick search: one box that finds the customers and
// contacts a viewer can see, by an exact phone number or email through the
// blind indexes, or else by a fragment of their name (through the name
// tokens' index on PostgreSQL). It runs under the
// viewer's privacy rules like every other read.
package search

import (
	"context"
	"fmt"
	"strings"

	"entgo.io/ent/dialect"
	"entgo.io/ent/dialect/sql"

	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/contact"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/predicate"
	"github.com/custos-crm/custos/ent/schema/bigram"
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

// Quick searches the customers and contacts the viewer in ctx can see. A
// query that reads as a phone number or an email address is looked up
// through the blind indexes only (an index lookup); any other query matches
// a fragment of the name. The two are never ORed in one statement: the
// fragment match cannot use an index, and ORing it with the lookups would
// make the database scan every record of the tenant even for a phone number.
func Quick(ctx context.Context, client *ent.Client, query string, limit int) (*Results, error) {
	q := strings.TrimSpace(query)
	if q == "" || len([]rune(q)) > MaxQueryLength {
		return nil, apierr.BadInput(apierr.Field("/query", "too_long", "max", fmt.Sprint(MaxQueryLength)))
	}
	customerOr, contactOr, err := exactMatches(ctx, client, q)
	if err != nil {
		return nil, err
	}
	if len(customerOr) == 0 {
		customerOr = []predicate.Customer{customer.NameContainsFold(q)}
		contactOr = []predicate.Contact{contact.NameContainsFold(q)}
		if tokens := bigram.Of(q); len(tokens) > 0 && client.Dialect() == dialect.Postgres {
			// The GIN index over the name tokens finds the candidates;
			// the fragment match above keeps the exact meaning.
			customerOr = []predicate.Customer{customer.And(customerOr[0], tokensContain(tokens))}
			contactOr = []predicate.Contact{contact.And(contactOr[0], tokensContain(tokens))}
		}
	}
	customers, err := client.Customer.Query().Where(customer.Or(customerOr...)).
		Order(ent.Asc(customer.FieldName), ent.Asc(customer.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	contacts, err := client.Contact.Query().Where(contact.Or(contactOr...)).
		Order(ent.Asc(contact.FieldName), ent.Asc(contact.FieldID)).Limit(limit).All(ctx)
	if err != nil {
		return nil, err
	}
	return &Results{Customers: customers, Contacts: contacts}, nil
}

// exactMatches returns the blind-index predicates of q when it normalises
// as a phone number or an email address, and none otherwise.
func exactMatches(ctx context.Context, client *ent.Client, q string) ([]predicate.Customer, []predicate.Contact, error) {
	tenantID := viewer.FromContext(ctx).TenantID
	var (
		customerOr []predicate.Customer
		contactOr  []predicate.Contact
	)
	for _, kind := range []personal.Kind{personal.Phone, personal.Email} {
		idx, ok, err := personal.QueryIndex(ctx, client, client.Vault, tenantID, kind, q)
		if err != nil {
			return nil, nil, err
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
	return customerOr, contactOr, nil
}

// tokensContain matches records whose name tokens include all of tokens
// (PostgreSQL's array containment, which the GIN index answers).
func tokensContain(tokens bigram.Tokens) func(*sql.Selector) {
	return func(s *sql.Selector) {
		s.Where(sql.P(func(b *sql.Builder) {
			b.Ident(s.C("name_tokens")).WriteString(" @> ").Arg([]string(tokens)).WriteString("::text[]")
		}))
	}
}
