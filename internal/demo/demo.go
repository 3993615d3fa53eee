// Package demo owns the demo tenant that `make run` creates in an empty
// database, so that someone trying Custos can sign in at once. Later modules
// add their sample data here.
package demo

import (
	"context"
	"crypto/rand"
	"fmt"
	"github.com/custos-crm/custos/ent/tenant"
	"github.com/custos-crm/custos/internal/vault"
	"github.com/custos-crm/custos/internal/workitems"
	"io"
	"time"

	"github.com/custos-crm/custos/authn"
	"github.com/custos-crm/custos/authn/password"
	"github.com/custos-crm/custos/ent"
	"github.com/custos-crm/custos/ent/customer"
	"github.com/custos-crm/custos/ent/schema/caldate"
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
	return seedCustomers(ctx, c, map[string]*ent.User{"manager": manager, "li": li, "wang": wang})
}

// seedCustomers adds customers with contacts and follow-ups, each written
// as its owner would write it.
func seedCustomers(ctx context.Context, c *ent.Client, users map[string]*ent.User) error {
	type contact struct{ name, title, mobile, email string }
	customers := []struct {
		owner, name, kind, mobile, phone, email, address, level, source, industry, province, city string
		contacts                                                                                  []contact
		followUps                                                                                 []string
	}{
		{"li", "上海明远科技有限公司", "company", "13812345678", "021-5888 1234", "info@mingyuan.example", "浦东新区张江路 88 号", "key_account", "exhibition", "it", "310000", "310100",
			[]contact{{"陈静", "采购总监", "13911112222", "chen.jing@mingyuan.example"}, {"刘洋", "IT 经理", "13733334444", "liu.yang@mingyuan.example"}},
			[]string{"首次拜访，介绍 CRM 方案", "报价已发出，等待采购审批"}},
		{"li", "杭州青禾贸易有限公司", "company", "15867891234", "0571-8888 6666", "sales@qinghe.example", "西湖区文三路 200 号", "regular", "referral", "retail", "330000", "330100",
			[]contact{{"周敏", "总经理", "15800001111", "zhou.min@qinghe.example"}},
			[]string{"电话沟通续约事宜"}},
		{"manager", "Northwind Trading Ltd.", "company", "+44 20 7946 0958", "", "orders@northwind.example", "12 Harbour Road, London", "prospect", "website", "logistics", "", "",
			[]contact{{"Anne Dodsworth", "Buyer", "+44 7700 900123", "anne@northwind.example"}},
			[]string{"Intro call, interested in the multi-currency quotes"}},
		{"wang", "成都天府物流有限公司", "company", "18628001234", "028-8555 6677", "contact@tianfu.example", "高新区天府大道 1000 号", "key_account", "cold_call", "logistics", "510000", "510100",
			[]contact{{"王芳", "运营总监", "18600002222", "wang.fang@tianfu.example"}},
			[]string{"到访仓库，了解车队管理需求"}},
		{"wang", "赵六", "individual", "13500135000", "", "zhao.liu@example.com", "锦江区春熙路 8 号", "prospect", "wechat", "other", "510000", "510100",
			nil, []string{"微信咨询个人版价格"}},
	}
	now := c.Clock.Now()
	for i, cu := range customers {
		owner := users[cu.owner]
		loaded, err := authn.LoadViewer(ctx, c, owner.TenantID, owner.ID, now)
		if err != nil {
			return err
		}
		octx := viewer.NewContext(ctx, loaded.Viewer)
		create := c.Customer.Create().SetName(cu.name).SetKind(customer.Kind(cu.kind)).
			SetMobile(secret.Plain(cu.mobile)).SetEmail(secret.Plain(cu.email)).SetAddress(secret.Plain(cu.address)).
			SetLevel(cu.level).SetSource(cu.source).SetIndustry(cu.industry)
		if cu.phone != "" {
			create.SetTelephone(secret.Plain(cu.phone))
		}
		if cu.province != "" {
			create.SetRegionProvince(cu.province).SetRegionCity(cu.city)
		}
		saved, err := create.Save(octx)
		if err != nil {
			return fmt.Errorf("customer %s: %w", cu.name, err)
		}
		var firstContact *ent.Contact
		for _, ct := range cu.contacts {
			made, err := c.Contact.Create().SetCustomerID(saved.ID).SetName(ct.name).SetTitle(ct.title).
				SetMobile(secret.Plain(ct.mobile)).SetEmail(secret.Plain(ct.email)).Save(octx)
			if err != nil {
				return fmt.Errorf("contact %s: %w", ct.name, err)
			}
			if firstContact == nil {
				firstContact = made
			}
		}
		for j, content := range cu.followUps {
			next := caldate.Of(now, time.UTC).AddDays(3 + i + j)
			f := c.FollowUp.Create().SetCustomerID(saved.ID).SetType([]string{"visit", "call", "wechat"}[j%3]).
				SetContent(secret.Plain(content)).SetNextFollowUpOn(next)
			if firstContact != nil {
				f.SetContactID(firstContact.ID)
			}
			if _, err := f.Save(octx); err != nil {
				return fmt.Errorf("follow-up: %w", err)
			}
		}
	}
	return nil
}

// SeedWork gives the demo tenant sample tickets and projects once its
// workflows exist: each created, and some moved along, by the user who
// would do it. It does nothing when the tenant is absent or already has
// tickets.
func SeedWork(ctx context.Context, client *ent.Client, items *workitems.Service) error {
	now := client.Clock.Now()
	all := viewer.NewSystemContext(ctx, "", "find the demo tenant", now)
	t, err := client.Tenant.Query().Where(tenant.Slug(Slug)).Only(all)
	if ent.IsNotFound(err) {
		return nil
	}
	if err != nil {
		return err
	}
	sys := viewer.NewSystemContext(ctx, t.ID, "seed demo tickets and projects", now)
	if n, err := client.Ticket.Query().Count(sys); err != nil || n > 0 {
		return err
	}
	users, err := client.User.Query().All(sys)
	if err != nil {
		return err
	}
	as := func(email string) (context.Context, error) {
		for _, u := range users {
			ref := vault.Ref{TenantID: string(t.ID), Table: "User", RowID: string(u.ID)}
			if addr, err := client.Vault.OpenString(sys, ref, u.DataKey, "email", u.Email.Ciphertext()); err == nil && addr == email {
				loaded, err := authn.LoadViewer(ctx, client, t.ID, u.ID, now)
				if err != nil {
					return nil, err
				}
				return viewer.NewContext(ctx, loaded.Viewer), nil
			}
		}
		return nil, fmt.Errorf("demo user %s not found", email)
	}
	work := []struct {
		who, kind, title string
		moves            []string
	}{
		{"li.na@demo.example", workitems.Ticket, "打印机卡纸 Printer jams on every job", []string{"start"}},
		{"li.na@demo.example", workitems.Ticket, "开票信息有误 Wrong invoice details", []string{"start", "resolve"}},
		{"wang.wei@demo.example", workitems.Ticket, "新员工开通账号 Account for a new hire", nil},
		{"li.na@demo.example", workitems.Project, "华东展会 East China trade fair", []string{"submit"}},
		{"manager@demo.example", workitems.Project, "CRM 上线 CRM roll-out", nil},
	}
	for _, w := range work {
		uctx, err := as(w.who)
		if err != nil {
			return err
		}
		tx, err := client.Tx(uctx)
		if err != nil {
			return err
		}
		var id pulid.ID
		if w.kind == workitems.Ticket {
			tk, err := items.CreateTicket(uctx, tx, workitems.NewItem{Title: w.title})
			if err != nil {
				_ = tx.Rollback()
				return err
			}
			id = tk.ID
		} else {
			p, err := items.CreateProject(uctx, tx, workitems.NewItem{Title: w.title})
			if err != nil {
				_ = tx.Rollback()
				return err
			}
			id = p.ID
		}
		for _, m := range w.moves {
			if _, err := items.Transition(uctx, tx, w.kind, id, workitems.Move{Transition: m}); err != nil {
				_ = tx.Rollback()
				return fmt.Errorf("demo %s %s: %w", w.title, m, err)
			}
		}
		if err := tx.Commit(); err != nil {
			return err
		}
	}
	return nil
}
