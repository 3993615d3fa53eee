// Package web owns the embedded pages: sign-in and account security.
package web

import "net/http"

// Pages serves /login, /account and /assets/.
func Pages() http.Handler { return http.NotFoundHandler() }
