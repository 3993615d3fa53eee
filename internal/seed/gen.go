package seed

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"time"

	"github.com/custos-crm/custos/ent/schema/caldate"
)

// Generator makes the plain content of seeded records. It is a pure
// function of the seed and a record's position: the same seed always gives
// the same customers, contacts and follow-ups, whatever the batch size.
type Generator struct {
	seed uint64
}

// NewGenerator returns the generator of seed.
func NewGenerator(seed uint64) Generator { return Generator{seed: seed} }

// The streams a generator draws from, one per kind of record, so that
// adding a field to one kind does not change the others.
const (
	streamCustomer = iota + 1
	streamContact
	streamFollowUp
	streamPeople
	streamID
)

// rng returns the random stream of one record.
func (g Generator) rng(stream uint64, i, j int) *rand.Rand {
	return rand.New(rand.NewPCG(g.seed*0x9E3779B97F4A7C15+stream, uint64(i)<<16|uint64(j)))
}

// Epoch is when the first seeded customer was created; seeded records are
// spread over the two years after it.
var Epoch = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// span is the time over which seeded records are created.
const span = 2 * 365 * 24 * time.Hour

// Customer is the plain content of a seeded customer.
type Customer struct {
	Name, Kind                                       string
	Mobile, Telephone, WeChat, Email, Address, Notes string
	Province, City, District                         string
	Level, Source, Industry                          string
	// Owner picks the owner among the seeded sales people (modulo their
	// number).
	Owner     int
	CreatedAt time.Time
}

// Contact is the plain content of a seeded contact.
type Contact struct {
	Name, Title                      string
	Mobile, Telephone, WeChat, Email string
}

// FollowUp is the plain content of a seeded follow-up.
type FollowUp struct {
	Type, Content string
	// Contact is the index of the customer's contact it was with, or -1.
	Contact   int
	CreatedAt time.Time
	// NextOn is the next follow-up date, zero when none.
	NextOn caldate.Date
}

// region is a province, a city in it and a district in the city (GB/T
// 2260) with the city's telephone area code.
type region struct {
	province, city, district string
	cityName, districtName   string
	areaCode                 string
	streets                  []string
}

var regions = []region{
	{"310000", "310100", "310115", "上海", "浦东新区", "021", []string{"张江路", "世纪大道", "陆家嘴环路", "金科路"}},
	{"110000", "110100", "110105", "北京", "朝阳区", "010", []string{"建国路", "望京街", "酒仙桥路", "三里屯路"}},
	{"440000", "440300", "440305", "深圳", "南山区", "0755", []string{"科技园路", "深南大道", "后海大道", "高新南一道"}},
	{"440000", "440100", "440106", "广州", "天河区", "020", []string{"天河路", "体育西路", "珠江新城华夏路", "中山大道"}},
	{"330000", "330100", "330106", "杭州", "西湖区", "0571", []string{"文三路", "天目山路", "学院路", "古墩路"}},
	{"320000", "320500", "320505", "苏州", "虎丘区", "0512", []string{"狮山路", "长江路", "塔园路", "金山路"}},
	{"510000", "510100", "510104", "成都", "锦江区", "028", []string{"春熙路", "红星路", "东大街", "天府大道"}},
	{"420000", "420100", "420106", "武汉", "武昌区", "027", []string{"中南路", "武珞路", "中北路", "和平大道"}},
	{"370000", "370200", "370202", "青岛", "市南区", "0532", []string{"香港中路", "东海西路", "山东路", "闽江路"}},
	{"610000", "610100", "610113", "西安", "雁塔区", "029", []string{"高新路", "小寨东路", "长安南路", "科技路"}},
}

var (
	brandSyllables = []string{"华", "明", "远", "青", "禾", "天", "府", "瑞", "泰", "嘉", "恒", "信", "盛", "通", "达", "博", "创", "锦", "宏", "新", "东", "方", "海", "星", "智", "云", "金", "源", "德", "安"}
	industryWords  = map[string][]string{
		"manufacturing": {"机械制造", "精密仪器", "电子元件", "汽车配件"},
		"retail":        {"贸易", "商贸", "百货", "连锁超市"},
		"it":            {"科技", "软件", "信息技术", "网络科技"},
		"finance":       {"投资管理", "融资租赁", "资产管理", "保险代理"},
		"logistics":     {"物流", "供应链管理", "货运代理", "仓储"},
		"other":         {"文化传媒", "餐饮管理", "教育咨询", "医疗器械"},
	}
	industries     = []string{"manufacturing", "retail", "it", "finance", "logistics", "other"}
	levels         = []string{"key_account", "regular", "regular", "prospect", "prospect"}
	sources        = []string{"referral", "exhibition", "website", "cold_call", "wechat"}
	followUpTypes  = []string{"call", "visit", "wechat", "email", "note"}
	englishFirst   = []string{"Anne", "Brian", "Clara", "David", "Emma", "Frank", "Grace", "Henry", "Irene", "James", "Karen", "Liam", "Mia", "Noah", "Olivia", "Peter"}
	englishLast    = []string{"Smith", "Johnson", "Dodsworth", "Fuller", "Leverling", "Peacock", "Buchanan", "Suyama", "King", "Callahan", "Davolio", "Walker", "Turner", "Harris"}
	englishBrands  = []string{"Northwind", "Contoso", "Fabrikam", "Tailspin", "Adventure Works", "Litware", "Proseware", "Wingtip", "Alpine", "Blue Yonder", "Coho", "Humongous"}
	englishKinds   = []string{"Trading Ltd.", "Logistics Co.", "Software Inc.", "Manufacturing GmbH", "Retail Pte. Ltd.", "Capital LLC"}
	surnames       = []string{"王", "李", "张", "刘", "陈", "杨", "黄", "赵", "吴", "周", "徐", "孙", "马", "朱", "胡", "郭", "何", "高", "林", "罗"}
	givenNames     = []string{"伟", "芳", "娜", "敏", "静", "丽", "强", "磊", "军", "洋", "勇", "艳", "杰", "娟", "涛", "明", "超", "秀英", "霞", "平", "刚", "桂英", "建华", "晓东", "思远", "子涵", "雨桐", "浩然"}
	titles         = []string{"总经理", "采购总监", "采购经理", "IT 经理", "财务主管", "运营总监", "销售经理", "行政主管", "Buyer", "Operations Manager", "CFO"}
	mobilePrefixes = []string{"130", "131", "132", "133", "135", "136", "137", "138", "139", "150", "151", "152", "155", "157", "158", "159", "177", "180", "181", "186", "187", "188", "189", "199"}
	chineseNotes   = []string{"对价格比较敏感，需要分期付款方案。", "年底有预算，关注数据安全。", "老客户介绍，决策链较短。", "需要上门演示，周三下午方便。", "希望与现有 ERP 对接。"}
	englishNotes   = []string{"Prefers e-mail over calls.", "Budget approved for next quarter.", "Needs a demo for the regional team.", "Asked about multi-currency invoices."}
	chineseContent = []string{"电话沟通需求，客户计划下月试用。", "上门拜访，演示了报价和审批流程。", "微信发送了产品资料和价格表。", "邮件确认了合同条款，等待盖章。", "客户反馈试用体验良好，准备采购。", "跟进回款进度，财务说本周付款。"}
	englishContent = []string{"Intro call, interested in the multi-currency quotes.", "Visited the warehouse to discuss fleet management.", "Sent the proposal and price list by e-mail.", "Follow-up on the trial: positive feedback from the team."}
)

func pick[T any](r *rand.Rand, xs []T) T { return xs[r.IntN(len(xs))] }

// chineseName returns a Chinese person's name.
func chineseName(r *rand.Rand) string { return pick(r, surnames) + pick(r, givenNames) }

// englishName returns an English person's name.
func englishName(r *rand.Rand) string { return pick(r, englishFirst) + " " + pick(r, englishLast) }

// mobile returns a Chinese mobile number, written as people write it.
func mobile(r *rand.Rand) string {
	digits := fmt.Sprintf("%s%08d", pick(r, mobilePrefixes), r.IntN(100000000))
	switch r.IntN(4) {
	case 0:
		return "+86 " + digits[:3] + " " + digits[3:7] + " " + digits[7:]
	case 1:
		return digits[:3] + "-" + digits[3:7] + "-" + digits[7:]
	}
	return digits
}

// landline returns a telephone number in the region's area.
func landline(r *rand.Rand, reg region) string {
	n := 8
	if len(reg.areaCode) == 4 {
		n = 7 + r.IntN(2)
	}
	first := 2 + r.IntN(7)
	rest := fmt.Sprintf("%0*d", n-1, r.IntN(pow10(n-1)))
	return fmt.Sprintf("%s-%d%s", reg.areaCode, first, rest)
}

func pow10(n int) int {
	p := 1
	for range n {
		p *= 10
	}
	return p
}

// Customer returns customer i.
func (g Generator) Customer(i int) Customer {
	r := g.rng(streamCustomer, i, 0)
	reg := pick(r, regions)
	industry := pick(r, industries)
	c := Customer{
		Kind: "company", Province: reg.province, City: reg.city, District: reg.district,
		Level: pick(r, levels), Source: pick(r, sources), Industry: industry,
		Owner: r.IntN(1 << 30),
	}
	tag := fmt.Sprintf("%x", i)
	switch n := r.IntN(10); {
	case n < 7: // a Chinese company
		c.Name = reg.cityName + pick(r, brandSyllables) + pick(r, brandSyllables) + pick(r, industryWords[industry]) + "有限公司"
		c.Email = "info@c" + tag + ".example.cn"
		c.Notes = pick(r, chineseNotes)
	case n < 9: // an English-named company
		c.Name = pick(r, englishBrands) + " " + pick(r, englishKinds)
		c.Email = "sales@c" + tag + ".example.com"
		c.Notes = pick(r, englishNotes)
	default: // a person
		c.Kind = "individual"
		c.Name = chineseName(r)
		c.Email = "p" + tag + "@mail.example.cn"
		c.WeChat = "wx_" + tag
	}
	c.Mobile = mobile(r)
	if c.Kind == "company" {
		c.Telephone = landline(r, reg)
	}
	c.Address = fmt.Sprintf("%s%s%d 号", reg.districtName, pick(r, reg.streets), 1+r.IntN(999))
	c.CreatedAt = Epoch.Add(time.Duration(r.Int64N(int64(span)))).Truncate(time.Microsecond)
	return c
}

// Contact returns contact j of customer i.
func (g Generator) Contact(i, j int) Contact {
	r := g.rng(streamContact, i, j)
	tag := fmt.Sprintf("%x.%d", i, j)
	c := Contact{Title: pick(r, titles), Mobile: mobile(r)}
	if r.IntN(5) == 0 {
		c.Name = englishName(r)
		c.Email = strings.ToLower(strings.ReplaceAll(c.Name, " ", ".")) + "." + tag + "@example.com"
	} else {
		c.Name = chineseName(r)
		c.Email = "contact." + tag + "@example.cn"
		if r.IntN(2) == 0 {
			c.WeChat = "wx_" + strings.ReplaceAll(tag, ".", "_")
		}
	}
	if r.IntN(3) == 0 {
		c.Telephone = landline(r, pick(r, regions))
	}
	return c
}

// FollowUp returns follow-up j of customer i, which was created at
// customerCreated and has contacts contacts. Follow-ups of a customer come
// later than it and in order of j.
func (g Generator) FollowUp(i, j, contacts int, customerCreated time.Time) FollowUp {
	r := g.rng(streamFollowUp, i, j)
	f := FollowUp{Type: pick(r, followUpTypes), Contact: -1}
	if r.IntN(5) == 0 {
		f.Content = pick(r, englishContent)
	} else {
		f.Content = pick(r, chineseContent)
	}
	if contacts > 0 && r.IntN(3) > 0 {
		f.Contact = r.IntN(contacts)
	}
	// Follow-up j lands in the j-th of a series of up to 30-day steps.
	step := time.Duration(1+r.IntN(30*24)) * time.Hour
	f.CreatedAt = customerCreated.Add(time.Duration(j+1) * 30 * 24 * time.Hour).Add(-step).Truncate(time.Microsecond)
	if r.IntN(2) == 0 {
		f.NextOn = caldate.Of(f.CreatedAt, time.UTC).AddDays(1 + r.IntN(14))
	}
	return f
}
