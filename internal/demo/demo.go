// Package demo owns the demo tenant that `make run` creates in an empty
// database, so that someone trying Custos can sign in at once. Later modules
// add their sample data here.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"io"

	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/schema/pulid"
	"github.com/custos-crm/custos/ent/schema/secret"
	"github.com/custos-crm/custos/ent/schema/viewer"
	"github.com/custos-crm/custos/internal/tenancy"
)

// Slug is the demo tenant's slug.
const Slug = "demo"

// Credentials are the demo sign-ins, printed once when the tenant is made.
type Credentials struct {
	Tenant   string
	Password string
	Users    []DemoUser
}

// DemoUser is one demo account.
type DemoUser struct{ Email, Role string }

// Print writes the credentials for a person to read.
func (c *Credentials) Print(w io.Writer) {
	fmt.Fprintf(w, "\nDemo tenant %q created. Sign in at POST /auth/login with tenant %q and:\n", c.Tenant, c.Tenant)
	for _, u := range c.Users {
		fmt.Fprintf(w, "  %-26s (%s)\n", u.Email, u.Role)
	}
	fmt.Fprintf(w, "Password for all of them (shown only now): %s\n\n", c.Password)
}

// Seed creates the demo tenant when the database holds no tenant at all, and
// returns its credentials; it returns nil when there is already a tenant.
// ctx must be a system context for all tenants.
func Seed(ctx context.Context, client *ent.Client, hasher *password.Hasher) (*Credentials, error) {
	n, err := client.Tenant.Query().Count(ctx)
	if err != nil {
		return nil, fmt.Errorf("counting tenants: %w", err)
	}
	if n > 0 {
		return nil, nil
	}
	pw := rand.Text()[:16]
	hash, err := hasher.Hash(ctx, pw)
	if err != nil {
		return nil, err
	}
	created, err := tenancy.Create(ctx, client, tenancy.Spec{
		Slug: Slug, Name: "演示公司 Demo Co.", AdminEmail: "admin@demo.example", AdminName: "管理员 Admin", AdminPasswordHash: hash,
	})
	if err != nil {
		return nil, err
	}
	tctx := viewer.NewSystemContext(ctx, created.Tenant.ID, "seed demo tenant", client.Clock.Now())
	tx, err := client.Tx(tctx)
	if err != nil {
		return nil, err
	}
	if err := seedPeople(tctx, tx.Client(), created, hash); err != nil {
		_ = tx.Rollback()
		return nil, err
	}
	if err := tx.Commit(); err != nil {
		return nil, err
	}
	return &Credentials{Tenant: Slug, Password: pw, Users: []DemoUser{
		{"admin@demo.example", "admin"},
		{"manager@demo.example", "manager, leads 华东销售部 East"},
		{"li.na@demo.example", "sales, East, reports to the manager"},
		{"wang.wei@demo.example", "sales, West"},
	}}, nil
}

func seedPeople(ctx context.Context, c *ent.Client, created *tenancy.Created, hash string) error {
	root := created.Department.ID
	east, err := c.Department.Create().SetName("华东销售部 Sales East").SetParentID(root).Save(ctx)
	if err != nil {
		return err
	}
	west, err := c.Department.Create().SetName("华西销售部 Sales West").SetParentID(root).Save(ctx)
	if err != nil {
		return err
	}
	mk := func(email, name string, dept pulid.ID, boss *pulid.ID, roleKey string) (*ent.User, error) {
		u, err := c.User.Create().SetEmail(secret.Plain(email)).SetName(name).SetPasswordHash(hash).
			SetDepartmentID(dept).SetNillableReportsToID(boss).Save(ctx)
		if err != nil {
			return nil, err
		}
		_, err = c.RoleGrant.Create().SetTenantID(created.Tenant.ID).SetUserID(u.ID).SetRoleID(created.Roles[roleKey].ID).Save(ctx)
		return u, err
	}
	manager, err := mk("manager@demo.example", "张伟 Zhang Wei", east.ID, nil, tenancy.RoleManager)
	if err != nil {
		return err
	}
	if _, err := c.Department.UpdateOne(east).SetLeaderID(manager.ID).Save(ctx); err != nil {
		return err
	}
	li, err := mk("li.na@demo.example", "李娜 Li Na", east.ID, &manager.ID, tenancy.RoleSales)
	if err != nil {
		return err
	}
	wang, err := mk("wang.wei@demo.example", "王伟 Wang Wei", west.ID, nil, tenancy.RoleSales)
	if err != nil {
		return err
	}
	customers := []struct {
		name  string
		owner pulid.ID
	}{
		{"上海明远科技有限公司", li.ID},
		{"杭州青禾贸易有限公司", li.ID},
		{"Northwind Trading Ltd.", manager.ID},
		{"成都天府物流有限公司", wang.ID},
		{"Globex Corporation", wang.ID},
	}
	for _, cu := range customers {
		if _, err := c.Customer.Create().SetName(cu.name).SetOwnerID(cu.owner).Save(ctx); err != nil {
			return err
		}
	}
	return nil
}
