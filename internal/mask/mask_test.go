package mask_test

import (
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/custos-crm/custos/internal/mask"
)

func TestMask(t *testing.T) {
	cases := []struct {
		kind     mask.Kind
		in, want string
	}{
		// Phones.
		{mask.KindPhone, "13812345678", "138****5678"},
		{mask.KindPhone, "138-1234-5678", "138****5678"},
		{mask.KindPhone, "１３８１２３４５６７８", "138****5678"},
		{mask.KindPhone, "+86 138 1234 5678", "+86 138****5678"},
		{mask.KindPhone, "+8613812345678", "+86 138****5678"},
		{mask.KindPhone, "(+86)13812345678", "+86 138****5678"},
		{mask.KindPhone, "0086 138 1234 5678", "+86 138****5678"},
		{mask.KindPhone, "010-12345678", "010****5678"},
		{mask.KindPhone, "0571 8888 6666", "057*****6666"},
		{mask.KindPhone, "010-12345678 转 801", "010****5678"},
		{mask.KindPhone, "+1 (415) 555-2671", "+1 415***2671"},
		{mask.KindPhone, "+852 2123 4567", "+852 ****4567"},
		{mask.KindPhone, "88886666", "****6666"},
		{mask.KindPhone, "95588", "***88"},
		{mask.KindPhone, "110", "*10"},
		{mask.KindPhone, "12", "**"},
		{mask.KindPhone, "unknown", "***"},
		{mask.KindPhone, "", ""},

		// E-mail.
		{mask.KindEmail, "zhang.san@example.com", "z***@example.com"},
		{mask.KindEmail, "  Z@example.com ", "Z***@example.com"},
		{mask.KindEmail, "张三@例子.公司", "张***@例子.公司"},
		{mask.KindEmail, "not-an-address", "n**"},
		{mask.KindEmail, "@example.com", "@**"},

		// ID numbers.
		{mask.KindIDNumber, "110105199001011234", "110***********1234"},
		{mask.KindIDNumber, "11010519900101123X", "110***********123X"},
		{mask.KindIDNumber, "110105 19900101 1234", "110***********1234"},
		{mask.KindIDNumber, "110105900101123", "110********1123"},
		{mask.KindIDNumber, "E12345678", "*******78"},
		{mask.KindIDNumber, "A123", "****"},

		// Bank accounts.
		{mask.KindBankAccount, "6222021234561234", "**** **** **** 1234"},
		{mask.KindBankAccount, "6222 0212 3456 1234", "**** **** **** 1234"},
		{mask.KindBankAccount, "6222-0212-3456-1234-567", "**** **** **** 4567"},
		{mask.KindBankAccount, "1234567", "****"},

		// Text.
		{mask.KindText, "张三", "张**"},
		{mask.KindText, "张三丰", "张**"},
		{mask.KindText, "欧阳娜娜", "欧**"},
		{mask.KindText, "北京市朝阳区建国路88号", "北**"},
		{mask.KindText, "Alice Smith", "A**"},
		{mask.KindText, "张", "**"},
		{mask.KindText, "😀 smile", "😀**"},

		// WeChat.
		{mask.KindWeChat, "wxid_abc123", "wx***3"},
		{mask.KindWeChat, "zhangsan", "zh***n"},
		{mask.KindWeChat, "微信号码很长", "微信***长"},
		{mask.KindWeChat, "abc", "a***"},
		{mask.KindWeChat, "a", "***"},

		// Unknown kind hides everything.
		{mask.Kind("salary"), "10000", "***"},
		{mask.Kind(""), "secret", "***"},
		{mask.Kind("salary"), "", ""},
	}
	for _, tc := range cases {
		got := mask.Mask(tc.kind, tc.in)
		if got != tc.want {
			t.Errorf("Mask(%s, %q) = %q, want %q", tc.kind, tc.in, got, tc.want)
		}
		if !utf8.ValidString(got) {
			t.Errorf("Mask(%s, %q) = %q is not valid UTF-8", tc.kind, tc.in, got)
		}
	}
}

// TestMaskHides checks that no kind returns a long value whole.
func TestMaskHides(t *testing.T) {
	kinds := []mask.Kind{mask.KindPhone, mask.KindEmail, mask.KindIDNumber, mask.KindBankAccount, mask.KindText, mask.KindWeChat, "other"}
	values := []string{"13812345678", "zhang.san@example.com", "110105199001011234", "6222021234561234", "张三丰", "wxid_abc123", "a", "ab", "\xff\xfe"}
	for _, k := range kinds {
		for _, v := range values {
			got := mask.Mask(k, v)
			if !strings.Contains(got, "*") {
				t.Errorf("Mask(%s, %q) = %q hides nothing", k, v, got)
			}
			if got == v {
				t.Errorf("Mask(%s, %q) returned the value", k, v)
			}
		}
	}
}
