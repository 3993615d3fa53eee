package rule_test

import (
	"fmt"

	"github.com/custos-crm/custos/ent/schema/rule"
)

// An attachment names exactly one parent: the error names every parent's
// input when none is given, and the later ones when several are.
func ExampleAttachmentParentError() {
	for _, named := range [][3]bool{
		{true, false, false},
		{false, false, true},
		{false, false, false},
		{true, true, false},
		{false, true, true},
		{true, true, true},
	} {
		fmt.Println(rule.AttachmentParentError(named[0], named[1], named[2]))
	}
	// Output:
	// <nil>
	// <nil>
	// BAD_USER_INPUT /input/customerID:one_parent /input/ticketID:one_parent /input/projectID:one_parent
	// BAD_USER_INPUT /input/ticketID:one_parent
	// BAD_USER_INPUT /input/projectID:one_parent
	// BAD_USER_INPUT /input/ticketID:one_parent /input/projectID:one_parent
}
