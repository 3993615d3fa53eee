package vault

import (
	"bytes"
	"testing"
)

func TestFieldADIsUnambiguous(t *testing.T) {
	refs := []struct {
		ref    Ref
		column string
	}{
		{Ref{TenantID: "a|b", Table: "c", RowID: "r"}, "x"},
		{Ref{TenantID: "a", Table: "|bc", RowID: "r"}, "x"},
		{Ref{TenantID: "a", Table: "b", RowID: "cr"}, "x"},
		{Ref{TenantID: "a", Table: "bc", RowID: "r"}, "x"},
		{Ref{TenantID: "ab", Table: "c", RowID: "r"}, "x"},
		{Ref{TenantID: "ab", Table: "c", RowID: "xr"}, ""},
	}
	seen := map[string]int{}
	for i, r := range refs {
		ad := appendFieldAD(nil, r.ref, r.column)
		if len(ad) != fieldADLen(r.ref, r.column) {
			t.Errorf("%d: fieldADLen = %d, len = %d", i, fieldADLen(r.ref, r.column), len(ad))
		}
		if !bytes.HasPrefix(ad, []byte("custos/v1")) {
			t.Errorf("%d: AD %q does not start with custos/v1", i, ad)
		}
		if j, ok := seen[string(ad)]; ok {
			t.Errorf("refs %d and %d share associated data %q", j, i, ad)
		}
		seen[string(ad)] = i
	}
}

func TestParseRejectsMalformed(t *testing.T) {
	for _, b := range [][]byte{nil, {}, {1}, {2, 1, 'a'}, {1, 0}, {1, 5, 'a'}} {
		if _, _, ok := parseEnvelope(b); ok {
			t.Errorf("parseEnvelope(%x) ok", b)
		}
	}
	for _, b := range [][]byte{{1, 1, 'a'}, {1, 1, 'a', 0}, {1, 1, 'a', 3, 'b'}} {
		if _, _, _, ok := parseWrappedRecordKey(b); ok {
			t.Errorf("parseWrappedRecordKey(%x) ok", b)
		}
	}
}
