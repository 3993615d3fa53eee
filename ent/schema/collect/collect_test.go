package collect

import (
	"reflect"
	"testing"
)

func TestMergeKeepsEveryMixinsFields(t *testing.T) {
	a := Field("mobile", "mobile", "data_key")
	merged := a.Merge(Field("customFields", "custom_fields")).(Columns)
	merged = merged.Merge(&Columns{Fields: map[string][]string{"mobile": {"tenant_id"}}}).(Columns)
	want := map[string][]string{
		"mobile":       {"mobile", "data_key", "tenant_id"},
		"customFields": {"custom_fields"},
	}
	if !reflect.DeepEqual(merged.Fields, want) {
		t.Fatalf("merged = %v, want %v", merged.Fields, want)
	}
	if got := a.Fields["mobile"]; !reflect.DeepEqual(got, []string{"mobile", "data_key"}) {
		t.Fatalf("merging changed the first annotation: %v", got)
	}
}
