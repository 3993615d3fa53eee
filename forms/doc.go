// Package forms owns form definitions' validation: JSON Schema draft-07
// through a Validator interface, compiled once per form version and cached,
// with external references refused, errors as JSON Pointers with localized
// messages, and the registry of plugins forms may name.
//
// A schema reaches a Validator through Compiler.Compile, which parses it
// strictly (no duplicate keys, no trailing data, valid UTF-8), pins draft-07,
// refuses every `$ref` that is not a local fragment ("#" or "#/…") and every
// `$id` below the root, and refuses property keys that are not identifiers
// (^[A-Za-z_][A-Za-z0-9_]{0,63}$) so that error locations are unambiguous.
// Besides that static check, the loader handed to gojsonschema can never
// fetch anything: its reference factory refuses every URL (or, in tests only,
// asks a RefLoader). Compile also refuses schemas gojsonschema would choke on:
// reference cycles that never descend into the document (they overflow the
// stack and end the process), schemas applying more than 1000 subschemas to
// one value at any depth (shared references in a recursion grow the work
// exponentially), and numbers with exponents beyond ±400 (big.Rat). Documents
// are parsed the same strict way, at most 1 MiB and 200 levels deep by
// default. Cache keeps compiled validators by form-version id and compiles
// each at most once.
//
// Validation failures come back as a *ValidationError whose Items carry a
// JSON Pointer (RFC 6901), the JSON Schema keyword, a message key "form.<keyword>",
// the keyword's parameters and the message rendered in zh-CN and en from this
// package's own catalogue (see Messages); gojsonschema's process-wide locale
// is never used. APIError turns a *ValidationError into the project's
// BAD_USER_INPUT error.
//
// Plugins (formats, field types, record validators, and the workflow
// engine's actions and approver resolvers) live in a Registry built
// explicitly at start-up: DefaultRegistry returns the built-in set. Record
// validators (RecordValidator) are named by a property's "x-validators" and
// run by Form.Process on records the schema accepts. Plugins that are
// Provisioners prepare what a version needs when it is published
// (Form.Provision, in the publishing transaction): the select field types
// make sure the tenant's picklist exists. gojsonschema keeps its format checkers in one
// process-wide map, so Registry.InstallFormats must be called once by the
// server at start-up; Registry.CheckSchema refuses format names that would
// otherwise pass validation silently, and is run when a form is published.
//
// Conformance: of the 927 required tests of the official
// JSON-Schema-Test-Suite (draft-07, the copy in ../shared/conformance), 875
// pass. Of the other 52, 8 belong to four groups whose schemas this package
// refuses on purpose (property keys that are not identifiers, such as "$ref"
// and "foo\"bar"), and 44 are known failures of gojsonschema v1.2.0: 30
// `format` checks on numbers (its built-in formats reject non-strings; the
// "email" format is this package's own and accepts them, as draft-07 asks),
// 12 integer keywords written as decimals (such as "minLength": 2.0), and 2
// `$ref` beside an `$id`. TestJSONSchemaTestSuite lists every one of them
// and fails when the numbers change.
package forms
