// Package trunc shortens a caller's text for an error or log message, so a
// hostile or careless request cannot make a reply as large as itself.
package trunc
