package pulid

import (
	"bytes"
	"testing"
)

func TestMarshalGQL(t *testing.T) {
	for id, want := range map[ID]string{"cus01M8JYVF7T43H03Q7F5Y3YBBTB": `"cus01M8JYVF7T43H03Q7F5Y3YBBTB"`, "": "null"} {
		var buf bytes.Buffer
		id.MarshalGQL(&buf)
		if buf.String() != want {
			t.Errorf("MarshalGQL(%q) wrote %s, want %s", id, buf.String(), want)
		}
	}
}
